"""The workbook read back with openpyxl: four sheets, every figure checked against the hand-built week 2026-W10."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from pipeline.auth.models import Team
from pipeline.core.changelog import FieldChange
from pipeline.deals.models import Deal, StageEvent
from pipeline.exports import xlsx
from pipeline.extensions import db
from pipeline.reports.periods import iso_week
from pipeline.reports.scope import ReportScope
from tests.conftest import People
from tests.exports.conftest import (
    CNY_FORMAT,
    PERCENT,
    SHEETS,
    TODAY,
    USD_FORMAT,
    W10,
    cents_half_up,
    deal_row,
    expected_deals,
    local,
    make_export,
    mar,
    open_book,
    values,
    xlsx_bytes,
)

DEAL_HEADERS_EN = [
    "Deal ID",
    "Title",
    "Account",
    "Owner",
    "Team",
    "Stage",
    "Entered stage",
    "Days in stage",
    "Amount",
    "Currency",
    "Probability %",
    "Weighted amount",
    "Expected close",
    "Strategy",
    "Next step",
    "Next step due",
    "Checklist done",
    "Checklist required",
    "Last activity",
    "Stalled",
]

# The 汇总 sheet for 2026-W10 against W09, worked out by hand from the story in conftest.py:
# end of W10 (9 March 00:00 local): 确认 D ¥55,000 (repriced Wednesday); 考察 B ¥100,000 (repriced only on the
# 10th), E ¥20,000 (moved at 23:59 Sunday), I ¥1,234.50; 报价 F 40,000; 成交 none; 跟进 C ¥300,000 (won Saturday).
# end of W09 (2 March 00:00 local): 确认 A ¥80,000, E ¥20,000 (created 23:59 Sunday; D came 00:30 Monday);
# 考察 B, I; 报价 F; 成交 C ¥300,000; 跟进 none (H was completed on 28 February).
# Weighted once per stage, half up: 考察 121,234.50 × 25% = 30,308.625 → 30,308.63; 101,234.50 × 25% → 25,308.63.
SUMMARY_ZH = [
    ("确认", 1, 2, -1, 55000, 100000, -45000, 5500, 10000, -4500),
    ("考察", 3, 2, 1, 121234.5, 101234.5, 20000, 30308.63, 25308.63, 5000),
    ("报价", 1, 1, 0, 40000, 40000, 0, 20000, 20000, 0),
    ("成交", 0, 1, -1, 0, 300000, -300000, 0, 225000, -225000),
    ("跟进", 1, 0, 1, 300000, 0, 300000, 300000, 0, 300000),
    ("在谈商机（跟进之前）", 5, 6, -1, 216234.5, 541234.5, -325000, 55808.63, 280308.63, -224500),
    ("五个阶段合计", 6, 6, 0, 516234.5, 541234.5, -25000, 355808.63, 280308.63, 75500),
    # Won: C ¥300,000 this week, H ¥60,000 the week before. Lost: A ¥80,000 this week, G ¥10,000 before.
    ("本周赢单", 1, 1, 0, 300000, 60000, 240000, None, None, None),
    ("本周输单", 1, 1, 0, 80000, 10000, 70000, None, None, None),
]


MAR9 = datetime(2026, 3, 9)


def book_of(**kw: Any) -> Any:
    return open_book(xlsx_bytes(make_export(**kw)))


# ---- Sheets, headers, layout ------------------------------------------------------------------------------------


@pytest.mark.parametrize("locale", ["zh", "en"])
def test_the_four_sheets_are_named_in_the_exports_language(week: dict[str, Deal], locale: str) -> None:
    book = book_of(locale=locale)
    assert book.sheetnames == SHEETS[locale]


def test_english_headers_labels_and_flags(week: dict[str, Deal]) -> None:
    book = book_of(locale="en")
    deals = book["Deals"]
    assert [c.value for c in deals[1]] == DEAL_HEADERS_EN
    rows = {row[0]: row for row in values(deals)}
    b, f = rows[week["B"].id], rows[week["F"].id]
    assert (b[5], b[13], b[19]) == ("Evaluate", "Flanking", "No")
    assert (f[5], f[13], f[19]) == ("Propose", "Frontal", "Yes")
    summary = [row[0] for row in values(book["Summary"])]
    assert summary[:5] == ["Qualify", "Evaluate", "Propose", "Close", "Follow-up"]
    assert "Won this week" in summary and "Lost this week" in summary
    changes = values(book["Changes this week"])
    assert {row[1] for row in changes} >= {"Created", "Advanced", "Won", "Lost", "Close date slipped"}


def test_the_header_row_is_frozen_and_the_tables_have_a_filter(week: dict[str, Deal]) -> None:
    book = book_of()
    for ws in book.worksheets:
        assert ws.freeze_panes == "A2", ws.title
        assert all(c.font.b for c in ws[1] if c.value is not None), ws.title
    # 6 deals on the board, 9 changes in the week, 2 stalled deals; the summary mixes notes in and has none.
    assert book["商机"].auto_filter.ref == "A1:T7"
    assert book["本周变化"].auto_filter.ref == "A1:H10"
    assert book["停滞"].auto_filter.ref == "A1:N3"
    assert book["汇总"].auto_filter.ref is None


def test_text_columns_are_wider_than_number_columns(week: dict[str, Deal]) -> None:
    ws = book_of()["商机"]
    width = {c: ws.column_dimensions[c].width for c in "ABCHO"}
    assert width["B"] >= 30 and width["O"] >= 30  # title, next step
    assert width["C"] >= 20  # account
    assert width["A"] < width["C"] and width["H"] < width["C"]  # id, days in stage


# ---- 商机 ---------------------------------------------------------------------------------------------------------


def test_the_deals_sheet_is_every_deal_on_the_board_as_the_database_has_it(week: dict[str, Deal]) -> None:
    rows = values(book_of()["商机"])
    expected = expected_deals(TODAY)
    assert [e.id for e in expected] == [week[k].id for k in "DEIBFC"]  # method order, longest in stage first
    assert rows == [deal_row(e) for e in expected]
    assert not {week[k].id for k in "AGH"} & {row[0] for row in rows}  # lost, lost, done


def test_deal_cells_are_numbers_dates_and_money_in_the_deals_currency(week: dict[str, Deal]) -> None:
    ws = book_of()["商机"]
    by_id = {row[0].value: row for row in ws.iter_rows(min_row=2)}
    d, b, i, f = (by_id[week[k].id] for k in "DBIF")
    # D entered 确认 at 00:30 local on 2 March (1 March in UTC); touched 00:30 local on the 11th (the 10th in UTC).
    assert d[6].value == datetime(2026, 3, 2) and d[6].is_date and d[6].number_format == "yyyy-mm-dd"
    assert d[7].value == 9
    assert d[18].value == datetime(2026, 3, 11) and d[18].is_date
    assert (d[8].value, d[8].data_type, d[8].number_format) == (55000, "n", CNY_FORMAT)
    assert (d[10].value, d[11].value) == (10, 5500)
    # B: in 考察 since 00:30 local on 9 February: 30 whole local days, at the threshold but not over it.
    assert (b[6].value, b[7].value, b[19].value) == (datetime(2026, 2, 9), 30, "否")
    assert (b[8].value, b[11].value) == (150000, 37500)  # today's amount (repriced on the 10th)
    assert (b[12].value, b[13].value, b[14].value, b[15].value) == (
        datetime(2026, 4, 30),
        "出其不意",
        "约 CFO 面谈",
        datetime(2026, 3, 13),
    )
    assert b[18].value == datetime(2026, 3, 10)  # the later of two calls, 23:30 local on the 10th
    # I: ¥1,234.50 at 25% is 308.625, half up 308.63; two of 考察's three required items done (plus an optional one).
    assert (i[8].value, i[11].value, i[11].number_format) == (1234.5, 308.63, CNY_FORMAT)
    assert (i[7].value, i[16].value, i[17].value, i[19].value) == (36, 2, 3, "是")
    # F: a USD deal keeps its currency's format in both money columns.
    assert (f[8].value, f[8].number_format, f[9].value) == (40000, USD_FORMAT, "USD")
    assert (f[11].value, f[11].number_format) == (20000, USD_FORMAT)
    assert (f[16].value, f[17].value, f[19].value) == (1, 3, "是")
    for row in by_id.values():
        assert row[0].data_type == "n" and row[7].data_type == "n" and row[10].data_type == "n"


def test_weighted_amounts_are_rounded_half_up_per_deal(story: Any, people: People) -> None:
    # 0.05 at 10% is 0.005 → 0.01; 0.25 at 10% is 0.025 → 0.03 (banker's rounding would give 0.02).
    for amount in ("0.05", "0.25", "1234.50", "99999999999.99"):
        story.deal(amount, people.rep, mar(2), amount)
    rows = values(book_of()["商机"])
    assert {row[1]: row[11] for row in rows} == {
        "0.05 项目": 0.01,
        "0.25 项目": 0.03,
        "1234.50 项目": 123.45,
        "99999999999.99 项目": 10000000000.0,
    }
    for row in rows:
        assert Decimal(str(row[11])) == cents_half_up(Decimal(row[1].split()[0]), PERCENT["qualify"])


# ---- 汇总 ---------------------------------------------------------------------------------------------------------


def test_the_summary_has_each_stage_this_week_and_the_week_before_and_the_outcomes(week: dict[str, Deal]) -> None:
    ws = book_of()["汇总"]
    rows = values(ws)
    assert rows[: len(SUMMARY_ZH)] == SUMMARY_ZH
    for row in ws.iter_rows(min_row=2, max_row=1 + len(SUMMARY_ZH)):
        for cell in row[1:]:
            if cell.value is not None:
                assert cell.data_type == "n", cell.coordinate  # figures are numbers, negative ones too
        assert all(cell.number_format == CNY_FORMAT for cell in row[4:] if cell.value is not None)
    notes = {row[0]: row[1] for row in rows[len(SUMMARY_ZH) :] if row[0]}
    assert notes["周"] == "2026-W10 (2026-03-02 – 2026-03-08, Asia/Shanghai)"
    assert notes["对比"] == "2026-W09 (2026-02-23 – 2026-03-01)"
    assert notes["谁的商机"] == "全公司"
    assert notes["导出时间"] == "2026-03-11 10:00 (Asia/Shanghai)"


def _brute_pipeline(moment: datetime, owners: set[int] | None = None) -> dict[str, tuple[int, Decimal]]:
    """docs/reports.md's pipeline at a moment, from the raw history of each deal."""
    totals = {stage: (0, Decimal("0.00")) for stage in PERCENT}
    for deal in db.session.scalars(select(Deal)):
        if (owners is not None and deal.owner_id not in owners) or deal.created_at > moment:
            continue
        moves = db.session.scalars(select(StageEvent).where(StageEvent.deal_id == deal.id).order_by(StageEvent.id))
        stage = [m.to_stage for m in moves if m.at <= moment][-1]
        if stage not in totals:
            continue
        changes = list(
            db.session.scalars(
                select(FieldChange)
                .where(FieldChange.entity == "deal", FieldChange.entity_id == deal.id, FieldChange.field == "amount")
                .order_by(FieldChange.id)
            )
        )
        done = [c for c in changes if c.at <= moment]
        later = [c for c in changes if c.at > moment]
        amount = Decimal(done[-1].new_value) if done else Decimal(later[0].old_value) if later else deal.amount
        count, total = totals[stage]
        totals[stage] = (count + 1, total + amount)
    return totals


def test_the_summary_agrees_with_the_history_replayed_deal_by_deal(week: dict[str, Deal]) -> None:
    rows = values(book_of()["汇总"])
    end, start = W10.end(), W10.start()
    assert (end, start) == (datetime(2026, 3, 8, 16, tzinfo=UTC), datetime(2026, 3, 1, 16, tzinfo=UTC))
    now, before = _brute_pipeline(end), _brute_pipeline(start)
    for row, stage in zip(rows, PERCENT, strict=False):
        (n, amount), (m, was) = now[stage], before[stage]
        weighted, weighted_was = cents_half_up(amount, PERCENT[stage]), cents_half_up(was, PERCENT[stage])
        figures = (amount, was, amount - was, weighted, weighted_was, weighted - weighted_was)
        assert row[1:] == (n, m, n - m, *(float(x) for x in figures)), stage


def test_a_teams_export_counts_only_the_teams_deals(week: dict[str, Deal], people: People) -> None:
    east = db.session.scalar(select(Team.id).where(Team.name == "华东"))
    book = open_book(xlsx_bytes(make_export(ReportScope(team_id=east))))
    members = {people.lead.id, people.rep.id, people.rep_b.id}
    assert values(book["商机"]) == [deal_row(e) for e in expected_deals(TODAY, members)]
    assert week["C"].id not in {row[0] for row in values(book["商机"])}
    summary = {row[0]: row[1:] for row in values(book["汇总"]) if row[0]}
    # Without 华南's C and H: nothing in 成交 the week before, nothing in 跟进, nothing won either week.
    assert summary["成交"][:3] == (0, 0, 0) and summary["跟进"][:3] == (0, 0, 0)
    assert summary["本周赢单"][:3] == (0, 0, 0)
    assert summary["本周输单"][:6] == (1, 1, 0, 80000, 10000, 70000)
    changes = values(book["本周变化"])
    assert len(changes) == 8 and week["C"].id not in {row[2] for row in changes}
    assert [row[0] for row in values(book["停滞"])] == ["考察", "报价"]


def test_one_reps_export(week: dict[str, Deal], people: People) -> None:
    book = open_book(xlsx_bytes(make_export(ReportScope(owner_id=people.rep_b.id))))
    assert [row[0] for row in values(book["商机"])] == [week[k].id for k in "IBF"]
    assert {row[2] for row in values(book["本周变化"])} == {week["B"].id}


# ---- 本周变化 -----------------------------------------------------------------------------------------------------


def test_the_changes_sheet_lists_every_change_in_the_week_oldest_first(week: dict[str, Deal]) -> None:
    ws = book_of()["本周变化"]
    a, b, c, d, e = (week[k].id for k in "ABCDE")
    assert values(ws) == [
        (datetime(2026, 3, 2, 0, 30), "创建", d, "D 项目", "—", "确认", "王芳", None),
        (datetime(2026, 3, 3, 10, 0), "推进", a, "A 项目", "确认", "考察", "管理员", "按计划"),
        (datetime(2026, 3, 4, 10, 0), "成交日期推迟", b, "B 项目", "2026-03-31", "2026-04-30", "张伟", None),
        (datetime(2026, 3, 4, 12, 0), "金额变更", d, "D 项目", "¥50,000", "¥55,000", "王芳", None),
        (datetime(2026, 3, 5, 10, 0), "推进", a, "A 项目", "考察", "报价", "管理员", "按计划"),
        (datetime(2026, 3, 6, 10, 0), "输单", a, "A 项目", "报价", "输单", "管理员", "竞争对手胜出"),
        (datetime(2026, 3, 6, 11, 0), "策略变更", b, "B 项目", "—", "出其不意", "张伟", None),
        (datetime(2026, 3, 7, 15, 0), "赢单", c, "C 项目", "成交", "跟进", "管理员", "按计划"),
        (datetime(2026, 3, 8, 23, 59), "推进", e, "E 项目", "确认", "考察", "管理员", "按计划"),
    ]
    assert all(row[0].is_date and row[0].number_format == "yyyy-mm-dd hh:mm" for row in ws.iter_rows(min_row=2))


def test_the_changes_sheet_holds_nothing_from_outside_the_week(week: dict[str, Deal]) -> None:
    rows = values(book_of()["本周变化"])
    start, end = W10.start(), W10.end()
    moves = db.session.scalars(select(StageEvent).where(StageEvent.at >= start, StageEvent.at < end)).all()
    fields = db.session.scalars(
        select(FieldChange).where(FieldChange.entity == "deal", FieldChange.at >= start, FieldChange.at < end)
    ).all()
    tracked = [
        f
        for f in fields
        if f.field in ("amount", "strategy")
        or (f.field == "expected_close_date" and f.old_value and f.new_value and f.new_value > f.old_value)
    ]
    assert len(rows) == len(moves) + len(tracked) == 9
    assert all(datetime(2026, 3, 2) <= row[0] < datetime(2026, 3, 9) for row in rows)
    # What the week also had but is not a tracked change: a new next step and a close date pulled in.
    assert sorted(f.field for f in fields if f not in tracked) == ["expected_close_date", "next_step", "next_step_due"]


# ---- 停滞 ---------------------------------------------------------------------------------------------------------


def test_the_stalled_sheet_is_exactly_the_deals_past_their_stage_threshold(week: dict[str, Deal]) -> None:
    rows = values(book_of()["停滞"])
    i, f = week["I"], week["F"]
    assert rows == [
        ("考察", 36, 30, 6, i.id, "I 项目", "I 客户有限公司", "张伟", "华东", 1234.5, "CNY", None, None, None),
        ("报价", 60, 21, 39, f.id, "F 项目", "F 客户有限公司", "张伟", "华东", 40000, "USD", "发送报价单", MAR9, None),
    ]
    assert [row[4] for row in rows] == [e.id for e in expected_deals(TODAY) if e.stalled]


@pytest.mark.parametrize("app_config", [{"PIPELINE_STALL_DAYS": {"qualify": 5, "propose": 60}}])
def test_the_stalled_sheet_follows_the_configured_thresholds(week: dict[str, Deal]) -> None:
    book = book_of()
    stalled = [(row[0], row[1], row[2], row[4]) for row in values(book["停滞"])]
    # D: 9 days in 确认, over 5; E 2 days is not; F: 60 days in 报价 is not over 60; I: 考察 keeps its 30.
    assert stalled == [("确认", 9, 5, week["D"].id), ("考察", 36, 30, week["I"].id)]
    flags = {row[0]: row[19] for row in values(book["商机"])}
    expected = expected_deals(TODAY, thresholds={"qualify": 5, "propose": 60})
    assert flags == {e.id: "是" if e.stalled else "否" for e in expected}


# ---- Edge cases ---------------------------------------------------------------------------------------------------


def test_an_empty_scope_gives_the_four_sheets_with_headers_and_zero_figures(app: Any, people: People) -> None:
    book = book_of(week=iso_week("2026-W10"))
    assert book.sheetnames == SHEETS["zh"]
    for name in ("商机", "本周变化", "停滞"):
        assert values(book[name]) == [], name
        assert book[name].freeze_panes == "A2"
    rows = values(book["汇总"])
    assert [row[1:4] for row in rows[:9]] == [(0, 0, 0)] * 9


def test_a_deal_without_team_strategy_or_dates_leaves_those_cells_empty(story: Any, people: People) -> None:
    deal = story.deal("X", people.admin, mar(2), "0")  # the admin belongs to no team
    row = values(book_of()["商机"])[0]
    assert row[0] == deal.id
    assert row[4] is None and row[13] is None and row[14] is None
    assert row[12] is None and row[15] is None and row[18] is None
    assert (row[8], row[11]) == (0, 0)


def test_a_table_longer_than_a_sheet_goes_on_in_a_second_sheet(
    week: dict[str, Deal], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(xlsx, "EXCEL_ROWS", 4)  # a header and three rows per sheet, for the test's six deals
    book = book_of()
    assert book.sheetnames == [
        *("汇总", "汇总 (2)", "汇总 (3)", "汇总 (4)", "汇总 (5)"),
        *("商机", "商机 (2)"),
        *("本周变化", "本周变化 (2)", "本周变化 (3)"),
        "停滞",
    ]
    first, second = book["商机"], book["商机 (2)"]
    assert [c.value for c in second[1]] == [c.value for c in first[1]]
    assert second.freeze_panes == "A2" and second.auto_filter.ref == "A1:T4"
    assert values(first) + values(second) == [deal_row(e) for e in expected_deals(TODAY)]


def test_the_export_is_the_board_when_the_file_was_made(week: dict[str, Deal]) -> None:
    later = make_export(made_at=datetime(2026, 3, 21, 2, tzinfo=UTC))  # Saturday 21 March, 10:00 local
    rows = values(open_book(xlsx_bytes(later))["商机"])
    assert rows == [deal_row(e) for e in expected_deals(date(2026, 3, 21))]
    assert {row[0]: row[7] for row in rows}[week["D"].id] == 19
    assert later.today == date(2026, 3, 21)


def test_outcomes_that_no_longer_stand_are_listed_as_changes_but_not_counted(story: Any, people: People) -> None:
    """Lost then reopened, won then moved back, in the same week: four changes, no outcome (docs/reports.md)."""
    p = story.deal("P", people.rep, mar(2, 9), "70000", strategy="frontal")
    story.move(p, "lose", mar(3))
    story.move(p, "reopen", mar(4), reason="客户回心转意")
    q = story.deal("Q", people.rep_b, local(date(2026, 1, 5)), "90000", strategy="frontal")
    story.advance_to(q, "close", local(date(2026, 2, 1)))
    story.move(q, "advance", mar(5))
    story.move(q, "revert", mar(6), reason="合同未签")
    story.edit(q, mar(7), strategy=None)  # cleared: a change of strategy too
    book = book_of()
    summary = {row[0]: row[1:] for row in values(book["汇总"]) if row[0]}
    assert summary["本周赢单"][:3] == (0, 0, 0) and summary["本周输单"][:3] == (0, 0, 0)
    assert values(book["本周变化"]) == [
        (datetime(2026, 3, 2, 9), "创建", p.id, "P 项目", "—", "确认", "王芳", None),
        (datetime(2026, 3, 3, 10), "输单", p.id, "P 项目", "确认", "输单", "管理员", "价格没有竞争力"),
        (datetime(2026, 3, 4, 10), "重新打开", p.id, "P 项目", "输单", "确认", "管理员", "客户回心转意"),
        (datetime(2026, 3, 5, 10), "赢单", q.id, "Q 项目", "成交", "跟进", "管理员", "按计划"),
        (datetime(2026, 3, 6, 10), "退回", q.id, "Q 项目", "跟进", "成交", "管理员", "合同未签"),
        (datetime(2026, 3, 7, 10), "策略变更", q.id, "Q 项目", "正面出击", "—", "管理员", None),
    ]
    deals = {row[0]: row for row in values(book["商机"])}
    assert (deals[p.id][5], deals[q.id][5], deals[q.id][13]) == ("确认", "成交", None)
