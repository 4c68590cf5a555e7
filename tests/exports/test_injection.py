"""Spreadsheet formula injection: user text that a spreadsheet would evaluate comes out as plain text, both formats."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import date
from typing import Any

from openpyxl.utils.escape import unescape
from sqlalchemy import select

from pipeline.accounts.models import Account
from pipeline.auth.models import Team
from pipeline.deals import services
from pipeline.extensions import db
from pipeline.reports.scope import ReportScope
from tests.conftest import People
from tests.exports.conftest import HARMLESS, TITLES, W10, csv_bytes, make_export, mar, open_book, xlsx_bytes


def formula_like(text: str) -> bool:
    return text.lstrip(" ").startswith(("=", "+", "-", "@", "\t", "\r"))


def test_xlsx_never_holds_a_formula_and_quotes_formula_like_text(hostile: dict[str, list[str]]) -> None:
    book = open_book(xlsx_bytes(make_export()))
    seen: set[str] = set()
    for ws in book.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (ws.title, cell.coordinate, cell.value)
                # XlsxWriter writes a CR as OOXML's _x000D_, which Excel reads as CR and openpyxl leaves as is.
                text = unescape(cell.value) if isinstance(cell.value, str) else None
                if text is not None and formula_like(text):
                    assert cell.data_type == "s", (ws.title, cell.coordinate)
                    assert cell.quotePrefix, (ws.title, cell.coordinate, cell.value)
                    seen.add(text)
    # Every hostile text reached a cell (titles, accounts, next steps, owners, the team, a move's reason).
    assert set(hostile["text"]) <= seen


def test_xlsx_leaves_ordinary_text_and_numbers_alone(hostile: dict[str, list[str]]) -> None:
    ws = open_book(xlsx_bytes(make_export()))["商机"]
    harmless = set(hostile["harmless"])
    found = 0
    for row in ws.iter_rows(min_row=2):
        assert row[8].data_type == "n" and row[8].value == 2000  # the amount: a number, not text
        assert row[11].data_type == "n" and row[11].value == 500
        assert row[0].data_type == "n" and row[7].data_type == "n"
        for cell in row:
            if cell.value in harmless:
                assert cell.data_type == "s" and not cell.quotePrefix, cell.value
                found += 1
    assert found >= len(harmless)


def test_the_summary_quotes_a_formula_like_scope_name(hostile: dict[str, list[str]]) -> None:
    team = db.session.scalar(select(Team).where(Team.name == "=团队!A1"))
    export = make_export(ReportScope(team_id=team.id))
    export = type(export)(export.scope, W10, team.name, export.made_at, export.locale)
    ws = open_book(xlsx_bytes(export))["汇总"]
    cell = next(row[1] for row in ws.iter_rows(min_row=2) if row[0].value == "谁的商机")
    assert (cell.value, cell.data_type, cell.quotePrefix) == ("=团队!A1", "s", True)


def test_csv_puts_an_apostrophe_before_formula_like_text_only(hostile: dict[str, list[str]]) -> None:
    text = csv_bytes(make_export()).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    header, body = rows[0], rows[1:]
    assert len(body) == len(TITLES) + len(HARMLESS)
    cells = [cell for row in body for cell in row]
    for original in hostile["text"]:
        if original == "=2*3 原因":  # a move's reason is not on the Deals sheet
            continue
        assert "'" + original in cells, repr(original)
        assert original not in cells, repr(original)
    for original in hostile["harmless"]:
        assert original in cells, original
    for cell in cells:
        assert not formula_like(cell) or cell.startswith("'"), repr(cell)
    for row in body:
        assert row[0].isdigit() and row[8] == "2000.00" and row[11] == "500.00" and row[10] == "25"
    assert header[0] == "商机编号"


def test_csv_is_not_fooled_by_leading_spaces(people: People, make_account: Callable[..., Account]) -> None:
    deal = services.create_deal(
        people.rep, make_account(people.rep, name="  @客户"), "正常标题", at=mar(3), next_step="    =1+1"
    )
    deal.next_step_due = date(2026, 3, 20)
    db.session.commit()
    row = list(csv.reader(io.StringIO(csv_bytes(make_export()).decode("utf-8-sig"), newline="")))[1]
    assert (row[1], row[2], row[14]) == ("正常标题", "'  @客户", "'    =1+1")


def test_formula_like_headers_never_appear(hostile: Any) -> None:
    book = open_book(xlsx_bytes(make_export()))
    assert all(not formula_like(c.value) for ws in book.worksheets for c in ws[1] if isinstance(c.value, str))
