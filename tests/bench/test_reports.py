"""The benchmark's hand-written report queries compute what the report services compute, on generated data."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask

from bench.generate import Options, generate
from bench.reports import Workloads, data_anchor, differences, keep_counts_ready, periods_for
from pipeline.reports.periods import Period, week_containing

ANCHOR = date(2026, 11, 23)


@pytest.fixture
def generated(app: Flask) -> dict[str, Any]:
    """Generated history, counted into the kept report figures as the benchmark does before it times."""
    made = generate(Options(500, seed=11, anchor=ANCHOR))
    assert keep_counts_ready()["pending"] == 500
    return made


def test_the_anchor_and_periods_come_from_the_data(generated: dict[str, Any]) -> None:
    assert data_anchor() == ANCHOR
    period, week, compare, now = periods_for(ANCHOR)
    assert (period.first, period.last) == (date(2026, 8, 26), ANCHOR)
    assert week.week_label() == "2026-W47" and compare.week_label() == "2026-W46"
    assert now.isoformat() == "2026-11-23T10:00:00+00:00"  # 18:00 in Shanghai


@pytest.mark.parametrize(
    ("period", "week", "compare"),
    [
        # The benchmark's own: the pipeline now, last week against the week before.
        (Period(ANCHOR - timedelta(days=89), ANCHOR), week_containing(date(2026, 11, 16)), None),
        # Past periods: the pipeline then, with every later move and amount change undone.
        (
            Period(date(2025, 7, 1), date(2025, 9, 30)),
            week_containing(date(2026, 6, 10)),
            week_containing(date(2026, 5, 6)),
        ),
        (Period(date(2024, 1, 1), date(2026, 6, 30)), week_containing(date(2025, 12, 29)), None),
    ],
)
def test_hand_written_queries_agree_with_the_services(
    app: Flask, generated: dict[str, Any], period: Period, week: Period, compare: Period | None
) -> None:
    _, _, _, now = periods_for(ANCHOR)
    work = Workloads(app, period, week, compare or week.previous_week(), now)
    assert work.mismatches() == {"funnel": [], "funnel (kept counts)": [], "week over week": []}
    figures = work.funnel_by_hand()
    assert figures["open"][0] > 0 and sum(s["stays"] for s in figures["stages"].values()) > 0
    assert figures["outcomes"][0] > 0 and figures["outcomes"][2] > 0  # won and lost
    weekly = work.weekly_by_hand()
    assert sum(count for count, _, _ in weekly["changes"].values()) > 0
    assert weekly["now"] != weekly["before"]


def test_a_different_figure_is_a_mismatch() -> None:
    figures = {"stages": {"qualify": {"count": 3, "days_median": 1.5}}, "velocity": Decimal("10.00")}
    assert differences(figures, figures) == []
    assert differences(figures, {**figures, "velocity": Decimal("10.01")}) == []  # a cent of float noise
    assert differences(figures, {**figures, "velocity": Decimal("10.02")}) == [".velocity: 10.00 != 10.02"]
    close = {"stages": {"qualify": {"count": 3, "days_median": 1.5 + 1e-9}}, "velocity": Decimal("10.00")}
    assert differences(figures, close) == []
    other = {"stages": {"qualify": {"count": 4, "days_median": 1.6}}, "velocity": Decimal("10.00")}
    assert sorted(differences(figures, other)) == [
        ".stages.qualify.count: 3 != 4",
        ".stages.qualify.days_median: 1.5 != 1.6",
    ]
