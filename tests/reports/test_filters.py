"""Reading a report's filters from the URL: presets as of a day, custom dates, weeks, sort, and asking again."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask

from pipeline.reports.breakdowns import RepRow
from pipeline.reports.figures import Outcomes, StageTotals
from pipeline.reports.filters import TODAY, WEEK, BadFilter, preset_period, read_filters, sort_reps
from pipeline.reports.periods import Period

MONDAY = date(2026, 11, 23)


@pytest.mark.parametrize(
    ("name", "first", "last"),
    [
        ("this_week", date(2026, 11, 23), date(2026, 11, 29)),
        ("last_week", date(2026, 11, 16), date(2026, 11, 22)),
        ("this_month", date(2026, 11, 1), date(2026, 11, 30)),
        ("this_quarter", date(2026, 10, 1), date(2026, 12, 31)),
        ("last_90_days", date(2026, 8, 26), date(2026, 11, 23)),
        ("last_12_months", date(2025, 11, 24), date(2026, 11, 23)),
    ],
)
def test_a_preset_is_the_calendar_period_around_today(name: str, first: date, last: date) -> None:
    assert preset_period(name, MONDAY) == Period(first, last)


def test_dates_without_a_preset_are_a_custom_period_and_nothing_is_this_month(app: Flask, people: Any) -> None:
    with app.test_request_context():
        custom = read_filters({"from": "2026-03-02", "to": "2026-03-08"}, people.admin, MONDAY)
        plain = read_filters({}, people.admin, MONDAY)
    assert (custom.period_name, custom.period) == ("custom", Period(date(2026, 3, 2), date(2026, 3, 8)))
    assert (plain.period_name, plain.period) == ("this_month", Period(date(2026, 11, 1), date(2026, 11, 30)))


def test_the_customer_analyses_default_to_the_last_twelve_months(app: Flask, people: Any) -> None:
    with app.test_request_context():
        year = read_filters({}, people.admin, MONDAY, default="last_12_months")
        leap = read_filters({}, people.admin, date(2028, 2, 29), default="last_12_months")
    assert (year.period_name, year.period) == ("last_12_months", Period(date(2025, 11, 24), MONDAY))
    assert leap.period == Period(date(2027, 3, 1), date(2028, 2, 29))


def test_every_argument_at_fault_is_named_at_once(app: Flask, people: Any) -> None:
    with app.test_request_context(), pytest.raises(BadFilter) as refused:
        read_filters({"from": "yesterday", "team": "华东", "strategy": "luck"}, people.admin, MONDAY)
    assert refused.value.status == 400
    assert set(refused.value.fields) == {"from", "to", "team", "strategy"}


@pytest.mark.parametrize(
    ("args", "when"),
    [
        ({"period": "custom", "from": "2026-03-02", "to": "2026-03-08", "strategy": "frontal"}, "period"),
        ({"period": "last_90_days", "sort": "-win_rate"}, "period"),
        ({"week": "2026-W10", "compare": "2025-W10"}, WEEK),
        ({"week": "2026-W01"}, WEEK),
        ({"strategy": "flanking"}, TODAY),
    ],
)
def test_a_report_asks_for_itself_again_with_the_same_arguments(
    app: Flask, people: Any, args: dict[str, str], when: str
) -> None:
    with app.test_request_context():
        first = read_filters(
            {**args, "team": str(people.rep.team_id)}, people.admin, MONDAY, when=when, sorts=("win_rate",)
        )
        again = read_filters(first.args(), people.admin, MONDAY, when=when, sorts=("win_rate",))
    assert again == first and first.args() == {**args, "team": str(people.rep.team_id)}


def _rep(name: str, won: int, lost: int) -> RepRow:
    stages = {key: StageTotals() for key in ("qualify", "evaluate", "propose", "close", "follow_up")}
    return RepRow(len(name), name, stages, StageTotals(), Outcomes(won=won, lost=lost, won_amount=Decimal(won)))


def test_reps_without_a_figure_sort_last_whichever_the_direction() -> None:
    rows = [_rep("乙", 1, 1), _rep("甲", 0, 0), _rep("丙", 3, 0), _rep("丁", 0, 2)]
    assert [r.name for r in sort_reps(rows, "-win_rate")] == ["丙", "乙", "丁", "甲"]  # 100%, 50%, 0%, none
    assert [r.name for r in sort_reps(rows, "win_rate")] == ["丁", "乙", "丙", "甲"]
    assert [r.name for r in sort_reps(rows, "-won")] == ["丙", "乙", "丁", "甲"]  # ties by name: 丁 before 甲
    assert sort_reps(rows, None) == rows
