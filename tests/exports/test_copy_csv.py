"""On PostgreSQL the CSV is written by COPY: byte for byte what the csv module writes, hostile cells included."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from flask_babel import force_locale

from pipeline.activities.services import log_for_deal
from pipeline.deals import services as deal_services
from pipeline.exports import copycsv
from pipeline.exports.csvfile import ENCODING, write_csv
from pipeline.exports.services import _deal_sheet, weekly_export, write_export
from pipeline.exports.weekly import WeeklyExport
from pipeline.extensions import db
from pipeline.reports.periods import iso_week
from pipeline.reports.scope import ReportScope

HOSTILE = [
    '=HYPERLINK("http://evil.example","点我")',
    "+86 138 0013 8000",
    "-2+3",
    "@SUM(A1:A9)",
    "\t=1+1",
    "\r=1+1",
    "   =cmd|' /C calc'!A0",
    '逗号,分号;引号"在中间"',
    "两行\n第二行",
    "三行\r\n第二行\n第三行",
    '"整个被引号包住"',
    " 前面有空格",
    "结尾换行\n",
    "",
    "普通标题",
]


def python_csv(export: WeeklyExport) -> bytes:
    """The CSV as the csv module writes it (the path SQLite always takes)."""
    out = io.BytesIO()
    with force_locale(export.locale):
        text = io.TextIOWrapper(out, encoding=ENCODING, newline="")
        write_csv(_deal_sheet(export), text)
        text.flush()
        text.detach()
    return out.getvalue()


def service_csv(export: WeeklyExport) -> bytes:
    out = io.BytesIO()
    write_export(export, "csv", out)
    return out.getvalue()


@pytest.fixture
def hostile_board(people: Any, make_deal: Any, make_account: Any) -> None:
    """Deals of every owner (one without a team) whose every text cell is one of HOSTILE, in all five stages."""
    now = datetime.now(UTC)
    owners = [people.rep, people.rep_b, people.outsider, people.admin]
    stages = ["qualify", "evaluate", "propose", "close", "follow_up"]
    for i, text in enumerate(HOSTILE):
        owner = owners[i % len(owners)]
        account = make_account(owner, name=HOSTILE[(i + 3) % len(HOSTILE)] or "空名客户")
        deal = make_deal(owner, title="标题", account=account)
        deal.title = text or "空"
        deal.next_step = HOSTILE[(i + 5) % len(HOSTILE)]
        deal.currency = ["CNY", "USD", "=1+"][i % 3]
        deal.amount = Decimal(f"{i * 12345}.{i % 100:02d}")
        deal.strategy = [None, "frontal", "flanking"][i % 3]
        deal.expected_close_date = date(2026, 12, 31) if i % 2 else None
        deal.next_step_due = date(2026, 3, 1) + timedelta(days=i) if i % 3 else None
        deal.stage = stages[i % len(stages)]
        deal.won_on = date(2026, 3, 2) if deal.stage == "follow_up" else None  # 跟进 is after the win
        deal.stage_entered_at = now - timedelta(days=7 * i, hours=i)
        if i % 4:
            log_for_deal(owner, deal, "call", "电话", occurred_at=now - timedelta(days=i, hours=5))
        db.session.commit()
    tick = next(iter(deal_services.checklist_for("qualify")))
    first = deal_services.create_deal(people.rep, make_account(people.rep, name="勾选客户"), "=已勾选一项")
    deal_services.set_checklist_item(people.rep, first, tick.key, True)
    db.session.commit()


@pytest.mark.usefixtures("hostile_board")
@pytest.mark.parametrize("locale", ["zh", "en"])
def test_copy_writes_the_csv_modules_bytes(is_postgres: bool, people: Any, locale: str) -> None:
    if not is_postgres:
        pytest.skip("COPY is PostgreSQL's")
    assert copycsv.available()
    for scope in (ReportScope(), ReportScope(team_id=people.rep.team_id), ReportScope(owner_id=people.rep.id)):
        export = weekly_export(scope, iso_week("2026-W10"), locale)
        written, expected = service_csv(export), python_csv(export)
        assert written == expected
        rows = list(csv.reader(io.StringIO(expected.decode(ENCODING), newline="")))
        assert len(rows) > 1 and all(len(row) == 20 for row in rows)
    everyone = weekly_export(ReportScope(), iso_week("2026-W10"), locale)
    written = service_csv(everyone).decode(ENCODING)
    cells = {cell for row in csv.reader(io.StringIO(written, newline="")) for cell in row}
    assert '\'=HYPERLINK("http://evil.example","点我")' in cells and "'   =cmd|' /C calc'!A0" in cells
    assert "两行\n第二行" in cells and "'=1+" in cells and "' 前面有空格" not in cells


def test_row_ends_become_crlf_however_the_stream_is_cut() -> None:
    """LF ends a row only outside quotes; a quoted line break and a doubled quote survive any chunk boundary."""
    data = b'1,"a\nb",x\n2,"say ""hi""\n",\n3,,"\r\n"\n'
    expected = b'1,"a\nb",x\r\n2,"say ""hi""\n",\r\n3,,"\r\n"\r\n'
    for size in range(1, len(data) + 1):
        chunks = [data[i : i + size] for i in range(0, len(data), size)]
        ended: list[int] = []
        assert b"".join(copycsv.crlf_rows(chunks, ended.append)) == expected, size
        assert sum(ended) == 3
