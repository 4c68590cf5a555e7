"""The report pages (报表): funnel, week over week, strategy, reps, stalled, forecast; every filter in the URL."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Blueprint, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required

from pipeline.auth.models import Role, User
from pipeline.core.pages import actor, strategy_label, today
from pipeline.reports import presenters
from pipeline.reports.breakdowns import by_rep, by_strategy, lost_by_reason
from pipeline.reports.filters import (
    DEFAULT_PERIOD,
    PERIOD,
    REP_COLUMNS,
    TODAY,
    WEEK,
    BadFilter,
    ReportFilters,
    read_filters,
    sort_reps,
)
from pipeline.reports.forecast import forecast as forecast_of
from pipeline.reports.forms import ReportFilterForm, filter_form
from pipeline.reports.funnel import funnel as funnel_of
from pipeline.reports.stalled import stalled as stalled_of
from pipeline.reports.trend import trend_to
from pipeline.reports.weekly import week_over_week

bp = Blueprint("reports", __name__, url_prefix="/reports")
CUSTOMER_PERIOD = "customer_period"  # a period too, but a year by default: it travels only between these reports

PAGES: tuple[tuple[str, Any, str], ...] = (  # endpoint, name, what dates it takes
    ("reports.funnel", _l("Funnel"), PERIOD),
    ("reports.weekly", _l("Week over week"), WEEK),
    ("reports.strategy", _l("By strategy"), PERIOD),
    ("reports.reps", _l("By rep"), PERIOD),
    ("reports.stalled", _l("Stalled deals"), TODAY),
    ("reports.forecast", _l("Forecast"), TODAY),
    ("analyses.value", _l("Customer value"), CUSTOMER_PERIOD),  # the customer analyses (analysis_views.py)
    ("analyses.concentration", _l("80/20"), CUSTOMER_PERIOD),
    ("analyses.customers", _l("Customer sales"), CUSTOMER_PERIOD),
    ("analyses.churn", _l("Churn"), CUSTOMER_PERIOD),
)


@dataclass(frozen=True)
class ReportLink:
    """A link to another report for the same deals (and the same period, between the period reports)."""

    url: str
    label: str
    current: bool


def _read(
    *, when: str = PERIOD, sorts: tuple[str, ...] = (), default: str = DEFAULT_PERIOD
) -> tuple[ReportFilters | None, ReportFilterForm]:
    """The filters in the URL and the filter bar showing them; None and the bar with its errors when unreadable."""
    user = actor()
    try:
        filters = read_filters(request.args, user, today(), when=when, sorts=sorts, default=default)
    except BadFilter as exc:
        return None, filter_form(user, sent=request.args, errors=exc.fields)
    return filters, filter_form(user, filters)


def _links(filters: ReportFilters | None) -> list[ReportLink]:
    links = []
    here = next((dates for endpoint, _label, dates in PAGES if endpoint == request.endpoint), None)
    for endpoint, label, dates in PAGES:
        args: dict[str, str] = {}
        if filters is not None:
            args = dict(filters.who_args())
            if dates == here and dates in (PERIOD, CUSTOMER_PERIOD):  # the period goes along between like reports
                args.update({k: v for k, v in filters.args().items() if k in ("period", "from", "to")})
        links.append(ReportLink(url_for(endpoint, **args), str(label), endpoint == request.endpoint))
    return links


def _whose(user: User, filters: ReportFilters, form: ReportFilterForm) -> str:
    """Whose deals the report counts, in words: a rep, a team, or the whole company; and the strategy if one."""
    if filters.rep_id is not None:
        who = next((c.label for c in form.rep.choices if c.value == str(filters.rep_id)), user.name)
    elif filters.team_id is not None:
        who = next((c.label for c in form.team.choices if c.value == str(filters.team_id)), "")
    elif user.role == Role.ADMIN:
        who = _("Whole company")
    elif user.role == Role.LEAD and user.team is not None:
        who = user.team.name
    else:
        who = user.name
    return f"{who} · {strategy_label(filters.strategy)}" if filters.strategy else who


def _when(filters: ReportFilters) -> str:
    period = filters.period
    if filters.period_name == TODAY:
        return _("As of %(day)s", day=period.first.isoformat())
    dates = f"{period.first.isoformat()} – {period.last.isoformat()}"
    return f"{period.week_label()} ({dates})" if filters.period_name == WEEK else dates


def _page(template: str, filters: ReportFilters | None, form: ReportFilterForm, **figures: Any) -> tuple[str, int]:
    """Draw a report page; with unreadable filters, only the filter bar saying what to fix (400)."""
    chrome: dict[str, Any] = {"filters": filters, "form": form, "report_links": _links(filters)}
    if filters is None:
        return render_template(template, **chrome), 400
    chrome.update(whose=_whose(actor(), filters, form), when=_when(filters))
    return render_template(template, **chrome, **figures), 200


@bp.get("/funnel")
@login_required
def funnel() -> tuple[str, int]:
    """Where the deals stand, how long they sit, how many move on, and what the period won and lost."""
    filters, form = _read()
    if filters is None:
        return _page("reports/funnel.html", None, form)
    report = funnel_of(filters.scope, filters.period)
    return _page(
        "reports/funnel.html",
        filters,
        form,
        report=presenters.funnel_view(report),
        charts=presenters.funnel_charts(report),
    )


@bp.get("/weekly")
@login_required
def weekly() -> tuple[str, int]:
    """A week against another: the pipeline at the end of each, and every change the week brought."""
    filters, form = _read(when=WEEK)
    if filters is None:
        return _page("reports/weekly.html", None, form)
    report = week_over_week(filters.scope, filters.period, filters.compare)
    stages, total, changes = presenters.week_view(report)
    trend = trend_to(filters.scope, filters.period)
    return _page(
        "reports/weekly.html",
        filters,
        form,
        week_label=report.week.week_label(),
        compare_label=report.compare.week_label(),
        stages=stages,
        total=total,
        changes=changes,
        trend=presenters.trend_rows(trend),
        charts=presenters.trend_chart(trend),
    )


@bp.get("/strategy")
@login_required
def strategy() -> tuple[str, int]:
    """Which strategies win: the period's outcomes per strategy, and where and why deals were lost."""
    filters, form = _read()
    if filters is None:
        return _page("reports/strategy.html", None, form)
    found = by_strategy(filters.scope, filters.period)
    lost = presenters.lost_rows(lost_by_reason(filters.scope, filters.period))
    return _page(
        "reports/strategy.html",
        filters,
        form,
        rows=presenters.strategy_rows(found),
        lost=lost,
        charts=presenters.strategy_chart(found),
    )


@dataclass(frozen=True)
class SortHeader:
    """A column header of the reps' table: a link that sorts by it, and whether it is the sorted column."""

    key: str
    label: str
    url: str
    aria_sort: str | None
    numeric: bool


def _rep_headers(filters: ReportFilters) -> list[SortHeader]:
    """Each column links to the table sorted by it: names A→Z first, figures largest first; again reverses."""
    labels = {
        "name": _("Rep"),
        **dict(presenters.stage_headers()),
        "open": _("Open deals"),
        "open_amount": _("Open amount"),
        "weighted": _("Weighted"),
        "won": _("Won"),
        "won_amount": _("Won amount"),
        "lost": _("Lost"),
        "win_rate": _("Win rate"),
        "avg_won": _("Average won"),
        "cycle": _("Sales cycle (days)"),
    }
    args = {k: v for k, v in filters.args().items() if k != "sort"}
    headers = []
    for key in REP_COLUMNS:
        first = key if key == "name" else f"-{key}"
        current = filters.sort if filters.sort and filters.sort.removeprefix("-") == key else None
        wanted = (key if current.startswith("-") else f"-{key}") if current else first
        aria = None if current is None else "descending" if current.startswith("-") else "ascending"
        headers.append(SortHeader(key, labels[key], url_for("reports.reps", **args, sort=wanted), aria, key != "name"))
    return headers


@bp.get("/reps")
@login_required
def reps() -> tuple[str, int]:
    """The reps side by side: each one's pipeline where the period ends, and the period's outcomes."""
    filters, form = _read(sorts=tuple(REP_COLUMNS))
    if filters is None:
        return _page("reports/reps.html", None, form)
    rows = sort_reps(by_rep(filters.scope, filters.period), filters.sort)
    return _page(
        "reports/reps.html",
        filters,
        form,
        headers=_rep_headers(filters),
        rows=presenters.rep_rows(rows, filters.args()),
    )


@bp.get("/stalled")
@login_required
def stalled() -> tuple[str, int]:
    """The deals that have sat in their stage longer than the stage allows, oldest first, to chase today."""
    filters, form = _read(when=TODAY)
    if filters is None:
        return _page("reports/stalled.html", None, form)
    stages = presenters.stalled_view(stalled_of(filters.scope, filters.period.first), filters.period.first)
    return _page("reports/stalled.html", filters, form, stages=stages)


@bp.get("/forecast")
@login_required
def forecast() -> tuple[str, int]:
    """Where the open deals are expected to close, month by month, beside what each month has won."""
    filters, form = _read(when=TODAY)
    if filters is None:
        return _page("reports/forecast.html", None, form)
    result = forecast_of(filters.scope, filters.period.first)
    return _page(
        "reports/forecast.html",
        filters,
        form,
        forecast=presenters.forecast_view(result),
        charts=presenters.forecast_chart(result),
    )
