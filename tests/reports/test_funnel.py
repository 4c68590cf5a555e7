"""The funnel, conversion and outcomes of one ISO week, on the hand-built week of conftest.py (answers by hand)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest

from pipeline.reports.funnel import conversion, funnel, outcomes
from pipeline.reports.periods import iso_week
from pipeline.reports.scope import ReportScope
from pipeline.reports.snapshot import pipeline_at
from tests.reports.conftest import MAR, local

W10 = iso_week("2026-W10")
LATER = local(date(2026, 6, 1))


def test_conversion_counts_each_deal_once_per_stage_from_the_stages_it_entered_in_the_week(week: Any) -> None:
    rows = {c.stage: (c.entered, c.reached_next, c.lost_here) for c in conversion(ReportScope(), W10)}
    # 确认: A (created), B (moved back into it); both went on. C entered 确认 the week before.
    # 考察: B (Monday), A (Tuesday), C (last minute); A and B (next week) reached 报价.
    # 报价: A, lost there. 成交: nobody entered (D and F were in it before the week; F's revert is an entry!).
    assert rows == {"qualify": (2, 2, 0), "evaluate": (3, 2, 0), "propose": (1, 0, 1), "close": (1, 0, 0)}
    rates = {c.stage: c.rate for c in conversion(ReportScope(), W10)}
    assert rates["evaluate"] == Decimal(2) / 3 and rates["close"] == 0


def test_time_in_stage_is_over_the_stays_that_ended_in_the_week(week: Any) -> None:
    stages = {s.stage: s for s in funnel(ReportScope(), W10, now=LATER).stages}
    qualify = stages["qualify"]
    # Stays in 确认 that ended in the week: A 1.125 days (Mon 07:00 → Tue 10:00), B 10 (20 Feb → 2 Mar),
    # B 1 (Wed → Thu), C 7 (Sun 23:59 → Sun 23:59).
    assert qualify.stays == 4
    assert qualify.days_median == pytest.approx(1.125, abs=1e-6)  # rank ⌈0.5·4⌉ = 2 of 1, 1.125, 7, 10
    assert qualify.days_p90 == pytest.approx(10, abs=1e-6)
    assert (stages["evaluate"].stays, stages["evaluate"].days_median) == (2, pytest.approx(2, abs=1e-6))
    assert (stages["propose"].stays, stages["propose"].days_p90) == (1, pytest.approx(1, abs=1e-6))
    # 成交: D's stay ended Saturday (25 days), F's Tuesday (30 days); 跟进: F's one-day stay.
    assert stages["close"].stays == 2 and stages["close"].days_p90 == pytest.approx(30, abs=1e-6)
    assert stages["follow_up"].stays == 1 and stages["follow_up"].conversion is None


def test_outcomes_count_deals_whose_win_or_loss_stands_and_fell_in_the_week(week: Any) -> None:
    o = outcomes(ReportScope(), W10)
    assert (o.won, o.won_amount, o.lost, o.lost_amount) == (1, Decimal("300000.00"), 1, Decimal("80000.00"))
    assert o.win_rate == Decimal("0.5") and o.avg_won == Decimal("300000.00")
    assert o.cycle_days == pytest.approx(65, abs=1e-6)  # 1 January 10:00 → 7 March 10:00
    assert o.small_sample


def test_the_funnels_pipeline_is_as_it_stood_when_the_week_ended(week: Any) -> None:
    f = funnel(ReportScope(), W10, now=LATER)
    totals = {s.stage: (s.totals.count, s.totals.amount) for s in f.stages}
    # B (100,000 then; 150,000 only since 10 March) and C (60,000) in 考察; F back in 成交; D and E won.
    assert totals == {
        "qualify": (0, Decimal("0.00")),
        "evaluate": (2, Decimal("160000.00")),
        "propose": (0, Decimal("0.00")),
        "close": (1, Decimal("70000.00")),
        "follow_up": (2, Decimal("340000.00")),
    }
    assert f.stages[1].totals.weighted == Decimal("40000.00")
    assert (f.open_totals.count, f.open_totals.amount) == (3, Decimal("230000.00"))
    # Velocity: 3 open × 50% × ¥300,000 ÷ 65 days.
    assert f.velocity == (3 * Decimal("0.5") * Decimal("300000") / Decimal("65")).quantize(Decimal("0.01"))


def test_the_pipeline_now_is_todays_deals(week: Any) -> None:
    now = {k: (t.count, t.amount) for k, t in pipeline_at(ReportScope(), LATER).items()}
    assert now["qualify"] == (1, Decimal("999000.00")) and now["propose"] == (1, Decimal("150000.00"))
    assert now["follow_up"] == (1, Decimal("40000.00"))  # D is 完结, no longer in a stage


def test_a_moment_before_a_deal_existed_leaves_it_out(week: Any) -> None:
    before = pipeline_at(ReportScope(), local(MAR[1], 23, 58))
    # At Sunday 23:58: B in 确认; C not yet created; E won (跟进); F and D in 成交; A, G not yet.
    assert {k: t.count for k, t in before.items()} == {
        "qualify": 1,
        "evaluate": 0,
        "propose": 0,
        "close": 2,
        "follow_up": 1,
    }


def test_scopes_count_a_teams_or_a_reps_deals_only(week: Any, people: Any) -> None:
    team = people.rep.team_id
    assert outcomes(ReportScope(team_id=team), W10).won == 0  # D belongs to the other team
    assert outcomes(ReportScope(owner_id=people.outsider.id), W10).won == 1
    rows = {c.stage: c.entered for c in conversion(ReportScope(owner_id=people.rep.id), W10)}
    assert rows == {"qualify": 2, "evaluate": 2, "propose": 1, "close": 0}
    only_flanking = {c.stage: c.entered for c in conversion(ReportScope(strategy="flanking"), W10)}
    assert only_flanking == {"qualify": 1, "evaluate": 1, "propose": 0, "close": 0}


def test_a_period_outside_all_history_is_empty_not_an_error(week: Any) -> None:
    empty = funnel(ReportScope(), iso_week("2025-W10"), now=LATER)
    assert all(s.stays == 0 and s.days_median is None for s in empty.stages)
    assert empty.outcomes.win_rate is None and empty.velocity is None
    assert sum(s.totals.count for s in empty.stages) == 0
    assert W10.end() - W10.start() == timedelta(days=7)
