"""The Deals sheet as CSV: UTF-8 with a BOM, CRLF line ends, RFC 4180 quoting, and the same rows as the database."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path

from pipeline.accounts.models import Account
from pipeline.deals import services
from pipeline.deals.models import Deal
from pipeline.exports.services import write_export_file
from pipeline.extensions import db
from tests.conftest import People
from tests.exports.conftest import (
    STAGE_NAMES,
    STRATEGY_NAMES,
    TODAY,
    YES_NO,
    Expected,
    csv_bytes,
    expected_deals,
    make_export,
    mar,
)

BOM = b"\xef\xbb\xbf"
HEADER_ZH = (
    "商机编号,标题,客户,负责人,团队,阶段,进入阶段日期,本阶段天数,金额,币种,赢率 %,加权金额,预计成交,竞争策略,"
    "下一步,下一步截止日期,清单已完成,清单必做项,最近活动,停滞"
)


def iso(day: date | None) -> str:
    return "" if day is None else day.isoformat()


def csv_row(e: Expected, locale: str = "zh") -> list[str]:
    yes, no = YES_NO[locale]
    return [
        str(e.id),
        e.title,
        e.account,
        e.owner,
        e.team or "",
        STAGE_NAMES[locale][e.stage],
        iso(e.entered_on),
        str(e.days),
        f"{e.amount:.2f}",
        e.currency,
        str(e.percent),
        f"{e.weighted:.2f}",
        iso(e.close_on),
        STRATEGY_NAMES[locale][e.strategy] if e.strategy else "",
        e.next_step,
        iso(e.next_step_due),
        str(e.done),
        str(e.required),
        iso(e.last_activity_on),
        yes if e.stalled else no,
    ]


def read(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def test_csv_starts_with_the_bom_and_ends_every_line_with_crlf(week: dict[str, Deal]) -> None:
    data = csv_bytes(make_export())
    assert data.startswith(BOM + HEADER_ZH.encode("utf-8") + b"\r\n")
    assert data.endswith(b"\r\n")
    assert data.count(b"\n") == data.count(b"\r\n") == 1 + 6  # the header and six deals, nothing bare
    assert data.count(BOM) == 1


def test_csv_rows_are_the_deals_on_the_board_as_the_database_has_them(week: dict[str, Deal]) -> None:
    rows = read(csv_bytes(make_export()))
    assert rows[0] == HEADER_ZH.split(",")
    assert rows[1:] == [csv_row(e) for e in expected_deals(TODAY)]
    by_id = {row[0]: row for row in rows[1:]}
    i, f = by_id[str(week["I"].id)], by_id[str(week["F"].id)]
    assert (i[8], i[11]) == ("1234.50", "308.63")  # money as plain numbers with two decimals, half up
    assert (f[8], f[9], f[11]) == ("40000.00", "USD", "20000.00")
    assert by_id[str(week["D"].id)][6] == "2026-03-02"  # the local date (1 March in UTC)


def test_csv_in_english(week: dict[str, Deal]) -> None:
    rows = read(csv_bytes(make_export(locale="en")))
    assert rows[0][:3] == ["Deal ID", "Title", "Account"] and rows[0][-1] == "Stalled"
    assert rows[1:] == [csv_row(e, "en") for e in expected_deals(TODAY)]


def test_rfc_4180_quoting_of_commas_quotes_and_newlines(people: People, make_account: Callable[..., Account]) -> None:
    title = '报价, 第一期 "加急"\n第二行'
    account = make_account(people.rep, name='华信, "总部"')
    deal = services.create_deal(
        people.rep, account, title, at=mar(3), amount=Decimal("1000"), next_step='先打电话,再发"邮件"'
    )
    db.session.commit()
    data = csv_bytes(make_export())
    assert '"报价, 第一期 ""加急""\n第二行"'.encode() in data  # quoted, quotes doubled, the newline kept inside
    assert '"华信, ""总部"""'.encode() in data
    assert f'\r\n{deal.id},"报价'.encode() in data  # a record starts after CRLF
    assert data.count(b"\r\n") == 2  # the header's end and the row's end; the title's newline is not one
    rows = read(data)
    assert len(rows) == 2
    assert (rows[1][1], rows[1][2], rows[1][14]) == (title, '华信, "总部"', '先打电话,再发"邮件"')


def test_chinese_text_round_trips_as_utf_8(people: People, make_account: Callable[..., Account]) -> None:
    title = "华东区 ERP 升级（二期）——《合同》№1 😀"
    services.create_deal(people.rep, make_account(people.rep, name="上海华信科技有限公司"), title, at=mar(3))
    db.session.commit()
    data = csv_bytes(make_export())
    assert title.encode("utf-8") in data and "王芳".encode() in data and "上海华信科技有限公司".encode() in data
    row = read(data)[1]
    assert (row[1], row[2], row[3], row[4], row[5]) == (title, "上海华信科技有限公司", "王芳", "华东", "确认")


def test_a_csv_file_is_written_under_its_name(week: dict[str, Deal], tmp_path: Path) -> None:
    target = tmp_path / "week.csv"
    written = write_export_file(make_export(), "csv", target)
    assert written.path == target and written.format == "csv" and written.rows == {"商机": 6}
    assert written.size == target.stat().st_size
    assert read(target.read_bytes())[1:] == [csv_row(e) for e in expected_deals(TODAY)]


def test_an_empty_csv_still_has_the_bom_and_the_header(people: People) -> None:
    assert csv_bytes(make_export()) == BOM + HEADER_ZH.encode("utf-8") + b"\r\n"
