"""The report filters in the URL (period or week, team, rep, strategy, sort), read in one place for pages and API.

Everything a report shows is chosen by its query string, so a report can be bookmarked and shared. Reading the
arguments also decides whose deals count: `scope_for` answers 404 for a team or rep out of the user's reach.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from flask_babel import gettext as _

from pipeline.auth.models import User
from pipeline.core.errors import InvalidInput
from pipeline.deals.method import STAGE_KEYS, STRATEGY_KEYS
from pipeline.reports.breakdowns import RepRow
from pipeline.reports.periods import Period, iso_week, month_containing, quarter_containing, week_containing
from pipeline.reports.scope import ReportScope, scope_for

PERIOD = "period"  # what a report on a period reads: a preset or custom dates
PERIODS = ("this_week", "last_week", "this_month", "this_quarter", "last_90_days", "last_12_months", "custom")
CUSTOM = "custom"
WEEK = "week"  # the period name of a weekly report's filters: an ISO week, not a preset
TODAY = "today"  # the period name of a report on how things stand today (stalled deals, the forecast)
DEFAULT_PERIOD = "this_month"
EARLIEST, LATEST = date(2000, 1, 1), date(2099, 12, 31)  # dates outside these are typos, not reports


class BadFilter(InvalidInput):
    """A filter in the URL that cannot be read: 400, naming each field at fault."""

    status = 400


@dataclass(frozen=True)
class ReportFilters:
    """What a report was asked for: its period (or week and compared week), whose deals, and the sort order."""

    scope: ReportScope
    period: Period
    period_name: str  # one of PERIODS, or WEEK
    compare: Period | None = None  # the weekly report's other week, when one was asked for
    team_id: int | None = None
    rep_id: int | None = None
    strategy: str | None = None
    sort: str | None = None  # a column key, "-" in front for descending

    def who_args(self) -> dict[str, str]:
        """The arguments that pick the deals (team, rep, strategy), for links from one report to another."""
        found = {"team": self.team_id, "rep": self.rep_id, "strategy": self.strategy}
        return {name: str(value) for name, value in found.items() if value is not None}

    def args(self) -> dict[str, str]:
        """The query arguments that ask for this very report again (links that only change the sort, say)."""
        if self.period_name == TODAY:
            when = {}
        elif self.period_name == WEEK:
            when = {"week": self.period.week_label()}
            if self.compare is not None:
                when["compare"] = self.compare.week_label()
        elif self.period_name == CUSTOM:
            when = {"period": CUSTOM, "from": self.period.first.isoformat(), "to": self.period.last.isoformat()}
        else:
            when = {"period": self.period_name}
        return {**when, **self.who_args(), **({"sort": self.sort} if self.sort else {})}


def preset_period(name: str, today: date) -> Period:
    """The dates a period preset stands for, as of `today` (a local date)."""
    if name == "this_week":
        return week_containing(today)
    if name == "last_week":
        return week_containing(today - timedelta(days=7))
    if name == "this_month":
        return month_containing(today)
    if name == "this_quarter":
        return quarter_containing(today)
    if name == "last_90_days":
        return Period(today - timedelta(days=89), today)
    if name == "last_12_months":  # the customer analyses' default: a year of buying
        return Period(_year_before(today) + timedelta(days=1), today)
    raise ValueError(f"no period preset {name!r}")


def _year_before(day: date) -> date:
    """The same day a year earlier (28 February for 29 February)."""
    return day.replace(year=day.year - 1) if (day.month, day.day) != (2, 29) else date(day.year - 1, 2, 28)


def last_full_week(today: date) -> Period:
    """The ISO week before the one `today` is in: the weekly report's default."""
    return week_containing(today - timedelta(days=7))


def read_filters(
    args: Mapping[str, str],
    user: User,
    today: date,
    *,
    when: str = PERIOD,
    sorts: Collection[str] = (),
    default: str = DEFAULT_PERIOD,
) -> ReportFilters:
    """Read the report's query arguments and the scope they ask for; BadFilter names every argument at fault.

    `when` is PERIOD (a preset or custom dates), WEEK (`week` and `compare`) or TODAY (no dates at all);
    `sorts` are the column keys `sort` may name; `default` is the preset when no dates are asked for. A team or
    rep that does not exist or is out of the user's reach is NotFound, as for any record.
    """
    errors: dict[str, str] = {}
    compare = None
    if when == WEEK:
        period, name, compare = _weeks(args, today, errors)
    elif when == TODAY:
        period, name = Period(today, today), TODAY
    else:
        period, name = _period(args, today, errors, default)
    team_id = _id(args, "team", errors, _("Choose a team from the list."))
    rep_id = _id(args, "rep", errors, _("Choose a rep from the list."))
    strategy = _value(args, "strategy") or None
    if strategy is not None and strategy not in STRATEGY_KEYS:
        errors["strategy"] = _("Choose one of the five strategies.")
    sort = (_value(args, "sort") or None) if sorts else None  # only a table with columns to sort reads it
    if sort is not None and sort.removeprefix("-") not in sorts:
        errors["sort"] = _("Sort by one of the table's columns.")
    if errors or period is None:
        raise BadFilter(errors)
    scope = scope_for(user, team_id, rep_id, strategy)
    return ReportFilters(scope, period, name, compare, team_id, rep_id, strategy, sort)


def _value(args: Mapping[str, str], name: str) -> str:
    return (args.get(name) or "").strip()


def _date(args: Mapping[str, str], name: str, errors: dict[str, str]) -> date | None:
    text = _value(args, name)
    if not text:
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        errors[name] = _("Enter a date such as 2026-03-02.")
        return None
    if not EARLIEST <= day <= LATEST:
        errors[name] = _("Enter a date from %(first)s to %(last)s.", first=EARLIEST, last=LATEST)
        return None
    return day


def _period(
    args: Mapping[str, str], today: date, errors: dict[str, str], default: str = DEFAULT_PERIOD
) -> tuple[Period | None, str]:
    """A preset, or custom dates (`period=custom`, or dates without a preset); a preset ignores the dates."""
    name = _value(args, "period")
    if name and name not in PERIODS:
        errors["period"] = _("Choose one of the periods offered.")
        return None, name
    if name not in ("", CUSTOM):
        return preset_period(name, today), name
    first, last = _date(args, "from", errors), _date(args, "to", errors)
    if not name and first is None and last is None and "from" not in errors and "to" not in errors:
        return preset_period(default, today), default
    for field, day in (("from", first), ("to", last)):
        if day is None and field not in errors:
            errors[field] = _("A custom period needs both dates.")
    if first is None or last is None:
        return None, CUSTOM
    if last < first:
        errors["to"] = _("The last day must not be before the first.")
        return None, CUSTOM
    return Period(first, last), CUSTOM


def _week(args: Mapping[str, str], name: str, errors: dict[str, str]) -> Period | None:
    text = _value(args, name)
    if not text:
        return None
    try:
        week = iso_week(text)
    except ValueError:
        errors[name] = _("Enter an ISO week such as 2026-W47.")
        return None
    if not EARLIEST <= week.first <= LATEST:
        errors[name] = _("Enter a week from %(first)s to %(last)s.", first=EARLIEST.year, last=LATEST.year)
        return None
    return week


def _weeks(args: Mapping[str, str], today: date, errors: dict[str, str]) -> tuple[Period | None, str, Period | None]:
    week = _week(args, "week", errors)
    compare = _week(args, "compare", errors)
    if week is None and "week" not in errors:
        week = last_full_week(today)
    return week, WEEK, compare


def _id(args: Mapping[str, str], name: str, errors: dict[str, str], message: str) -> int | None:
    """A team's or rep's id; whether it exists and is in reach is the scope's to say (404), not this (400)."""
    text = _value(args, name)
    if not text:
        return None
    if not (text.isascii() and text.isdigit() and len(text) <= 12):
        errors[name] = message
        return None
    return int(text)


# ---- Sorting the reps side by side ------------------------------------------------------------------------------


def _stage_count(stage: str) -> Callable[[RepRow], Any]:
    return lambda row: row.stages[stage].count


REP_COLUMNS: dict[str, Callable[[RepRow], Any]] = {
    "name": lambda row: row.name,
    **{stage: _stage_count(stage) for stage in STAGE_KEYS},
    "open": lambda row: row.open.count,
    "open_amount": lambda row: row.open.amount,
    "weighted": lambda row: row.open.weighted,
    "won": lambda row: row.outcomes.won,
    "won_amount": lambda row: row.outcomes.won_amount,
    "lost": lambda row: row.outcomes.lost,
    "win_rate": lambda row: row.outcomes.win_rate,
    "avg_won": lambda row: row.outcomes.avg_won,
    "cycle": lambda row: row.outcomes.cycle_days,
}


def sort_reps(rows: list[RepRow], sort: str | None) -> list[RepRow]:
    """The reps in the order `sort` asks for (ties by name); reps without a value for the column come last."""
    if not sort:
        return rows
    key = REP_COLUMNS[sort.removeprefix("-")]
    descending = sort.startswith("-")
    by_name = sorted(rows, key=lambda row: (row.name, row.owner_id))
    known = [row for row in by_name if key(row) is not None]
    unknown = [row for row in by_name if key(row) is None]
    return sorted(known, key=key, reverse=descending) + unknown
