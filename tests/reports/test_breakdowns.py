"""By strategy, by lost reason, by rep, stalled deals and the forecast, on histories with answers worked out by hand."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from pipeline.reports.breakdowns import by_rep, by_strategy, lost_by_reason
from pipeline.reports.forecast import forecast
from pipeline.reports.periods import iso_week
from pipeline.reports.scope import ReportScope
from pipeline.reports.stalled import stalled
from tests.reports.conftest import MAR, Story, local

W10 = iso_week("2026-W10")
LATER = local(date(2026, 6, 1))


def test_win_rate_by_strategy_counts_each_strategys_decided_deals(story: Story, people: Any) -> None:
    for title, strategy, outcome in [
        ("F1", "frontal", "won"),
        ("F2", "frontal", "won"),
        ("F3", "frontal", "lost"),
        ("X1", "flanking", "lost"),
        ("N1", None, "won"),
    ]:
        deal = story.deal(people.rep, title, local(date(2026, 1, 5)), strategy=strategy)
        if outcome == "won":
            story.advance_to(deal, "follow_up", local(MAR[4]))
        else:
            story.move(deal, "lose", local(MAR[4]), lost_reason="price")
    rows = dict(by_strategy(ReportScope(), W10))
    assert list(rows) == ["frontal", "flanking", "divide_and_conquer", "develop_for_future", "fortify_to_defend", None]
    assert (rows["frontal"].won, rows["frontal"].lost) == (2, 1) and rows["frontal"].win_rate == Decimal(2) / 3
    assert rows["flanking"].win_rate == 0 and rows["divide_and_conquer"].win_rate is None
    assert rows[None].won == 1 and rows["frontal"].small_sample


def test_lost_deals_by_the_stage_they_were_lost_from_and_why(week: Any, story: Story, people: Any) -> None:
    extra = story.deal(people.rep, "H", local(MAR[2]), amount="20000")
    story.move(extra, "lose", local(MAR[3]), lost_reason="no_budget")
    rows = [(r.stage, r.reason_key, r.count, r.amount) for r in lost_by_reason(ReportScope(), W10)]
    assert rows == [("qualify", "no_budget", 1, Decimal("20000.00")), ("propose", "competitor", 1, Decimal("80000.00"))]


def test_reps_side_by_side_include_reps_with_nothing(week: Any, people: Any) -> None:
    rows = {r.name: r for r in by_rep(ReportScope(team_id=people.rep.team_id), W10, now=LATER)}
    assert set(rows) == {people.lead.name, people.rep.name, people.rep_b.name}
    assert rows[people.rep.name].stages["evaluate"].count == 1  # B (C is rep_b's)
    assert rows[people.rep_b.name].open.count == 2 and rows[people.rep_b.name].open.amount == Decimal("130000.00")
    assert rows[people.rep.name].outcomes.lost == 1 and rows[people.lead.name].open.count == 0


def test_stalled_deals_are_past_their_stages_threshold_oldest_first(story: Story, people: Any) -> None:
    today = date(2026, 3, 31)
    fresh = story.deal(people.rep, "on time", local(today - timedelta(days=14), 23, 59))  # 14 days: not past 14
    old = story.deal(people.rep, "old", local(today - timedelta(days=15), 0, 1))
    older = story.deal(people.rep_b, "older", local(today - timedelta(days=40)))
    other = story.deal(people.outsider, "other team", local(today - timedelta(days=60)))
    stuck = story.deal(people.rep, "stuck in 报价", local(date(2026, 1, 2)))
    story.advance_to(stuck, "propose", local(today - timedelta(days=22)))
    report = {s.stage: s for s in stalled(ReportScope(team_id=people.rep.team_id), today)}
    assert [d.title for d in report["qualify"].deals] == ["older", "old"]
    assert report["qualify"].count == 2 and report["qualify"].threshold == 14
    assert [(d.title, d.days) for d in report["propose"].deals] == [("stuck in 报价", 22)]
    assert fresh.id not in {d.deal_id for s in report.values() for d in s.deals}
    assert other.id in {d.deal_id for d in stalled(ReportScope(), today)[0].deals}
    assert older.id and old.id


def test_forecast_puts_open_deals_in_their_close_month_beside_each_months_wins(story: Story, people: Any) -> None:
    today = date(2026, 3, 15)
    made = local(date(2026, 1, 2))
    story.deal(people.rep, "April", made, amount="100000", expected_close_date=date(2026, 4, 30))
    proposal = story.deal(people.rep, "April too", made, amount="40000", expected_close_date=date(2026, 4, 1))
    story.advance_to(proposal, "propose", local(date(2026, 2, 1)))
    story.deal(people.rep, "late", made, amount="7000", expected_close_date=date(2026, 2, 27))
    story.deal(people.rep, "someday", made, amount="5000")
    story.deal(people.rep, "next year", made, amount="3000", expected_close_date=date(2027, 1, 1))
    won = story.deal(people.rep, "won in Feb", made, amount="60000", expected_close_date=date(2026, 2, 1))
    story.advance_to(won, "follow_up", local(date(2026, 2, 20)))
    result = forecast(ReportScope(), today)
    rows = {r.key: r for r in result.rows}
    assert list(rows) == [
        "overdue", "2025-12", "2026-01", "2026-02", "2026-03", "2026-04", "2026-05", "2026-06", "2026-07",
        "2026-08", "later", "no_date",
    ]  # fmt: skip
    assert (rows["2026-04"].count, rows["2026-04"].amount) == (2, Decimal("140000.00"))
    assert rows["2026-04"].weighted == Decimal("30000.00")  # 100,000 × 10% + 40,000 × 50%
    assert (rows["overdue"].amount, rows["later"].amount, rows["no_date"].amount) == (
        Decimal("7000.00"),
        Decimal("3000.00"),
        Decimal("5000.00"),
    )
    assert rows["2026-02"].won == Decimal("60000.00") and rows["2026-03"].won == 0 and rows["2026-04"].won is None
    assert result.open_amount == Decimal("155000.00") and result.this_month == "2026-03"


def test_stalled_shows_each_stages_oldest_up_to_the_limit_and_counts_them_all(
    story: Story, people: Any, monkeypatch: Any
) -> None:
    monkeypatch.setattr("pipeline.reports.stalled.SHOWN_PER_STAGE", 2)
    today = date(2026, 3, 31)
    for days in (20, 50, 30):
        story.deal(people.rep, f"{days} days", local(today - timedelta(days=days)))
    stuck = story.deal(people.rep, "stuck in 报价", local(date(2026, 1, 2)))
    story.advance_to(stuck, "propose", local(today - timedelta(days=22)))
    report = {s.stage: s for s in stalled(ReportScope(owner_id=people.rep.id), today)}
    assert [d.title for d in report["qualify"].deals] == ["50 days", "30 days"]
    assert report["qualify"].count == 3
    assert [d.title for d in report["propose"].deals] == ["stuck in 报价"] and report["propose"].count == 1
