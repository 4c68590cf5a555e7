"""JSON API v1 for the reports: the same query arguments and the same figures as the report pages."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask_babel import force_locale
from sqlalchemy import select

from pipeline.auth.api import api_locale, api_user, token_blueprint
from pipeline.core.pages import today
from pipeline.core.schemas import ErrorSchema
from pipeline.deals.method import STAGE_KEYS, STRATEGY_BY_KEY
from pipeline.deals.models import LostReason
from pipeline.extensions import db
from pipeline.reports import schemas
from pipeline.reports.breakdowns import by_rep, by_strategy, lost_by_reason
from pipeline.reports.figures import StageTotals, open_totals
from pipeline.reports.filters import REP_COLUMNS, TODAY, WEEK, ReportFilters, read_filters, sort_reps
from pipeline.reports.forecast import forecast as forecast_of
from pipeline.reports.funnel import funnel as funnel_of
from pipeline.reports.stalled import stalled as stalled_of
from pipeline.reports.trend import trend_to
from pipeline.reports.weekly import week_over_week

blp = token_blueprint(
    "reports_api",
    __name__,
    "/api/v1/reports",
    "Reports for team leads (definitions in docs/reports.md): a rep's figures are their own deals', "
    "a lead's their team's or one of its reps', an admin's any; a team or rep out of reach answers 404.",
)


def _filters(args: Mapping[str, Any], **options: Any) -> ReportFilters:
    """Read the arguments as the pages do; a bad one is a 400 naming it (in English, as every API error is)."""
    sent = {("from" if name == "from_" else name): value for name, value in args.items()}
    with force_locale("en"):
        return read_filters(sent, api_user(), today(), **options)


def _change(now: StageTotals, before: StageTotals) -> StageTotals:
    return StageTotals(now.count - before.count, now.amount - before.amount, now.weighted - before.weighted)


@blp.route("/funnel")
@blp.arguments(schemas.ReportQuery, location="query")
@blp.response(200, schemas.FunnelSchema)
@blp.alt_response(400, schema=ErrorSchema, description="an argument cannot be read; `fields` names it")
@blp.alt_response(404, schema=ErrorSchema, description="the team or rep does not exist or is out of your reach")
def funnel(args: dict[str, Any]) -> dict[str, Any]:
    """Per stage: deals and amounts where the period ends, days in stage, conversion; the period's outcomes."""
    wanted = _filters(args)
    report = funnel_of(wanted.scope, wanted.period)
    return {
        "period": report.period,
        "scope": wanted.scope,
        "stages": report.stages,
        "open": report.open_totals,
        "outcomes": report.outcomes,
        "velocity": report.velocity,
    }


@blp.route("/weekly")
@blp.arguments(schemas.WeekQuery, location="query")
@blp.response(200, schemas.WeeklySchema)
@blp.alt_response(400, schema=ErrorSchema, description="an argument cannot be read; `fields` names it")
@blp.alt_response(404, schema=ErrorSchema, description="the team or rep does not exist or is out of your reach")
def weekly(args: dict[str, Any]) -> dict[str, Any]:
    """The pipeline at the end of a week against another, and the week's changes by kind, counted for both."""
    wanted = _filters(args, when=WEEK)
    report = week_over_week(wanted.scope, wanted.period, wanted.compare)
    now, before = open_totals(report.now), open_totals(report.before)
    return {
        "week": report.week,
        "compare": report.compare,
        "scope": wanted.scope,
        "stages": [
            {
                "stage": key,
                "now": report.now[key],
                "before": report.before[key],
                "change": _change(report.now[key], report.before[key]),
            }
            for key in STAGE_KEYS
        ],
        "open": {"now": now, "before": before, "change": _change(now, before)},
        "changes": report.changes,
        "trend": trend_to(wanted.scope, wanted.period),
    }


@blp.route("/strategy")
@blp.arguments(schemas.ReportQuery, location="query")
@blp.response(200, schemas.StrategyReportSchema)
@blp.alt_response(400, schema=ErrorSchema, description="an argument cannot be read; `fields` names it")
@blp.alt_response(404, schema=ErrorSchema, description="the team or rep does not exist or is out of your reach")
def strategy(args: dict[str, Any]) -> dict[str, Any]:
    """The period's outcomes per strategy (deals without one as their own row), and lost deals by stage and reason."""
    wanted = _filters(args)
    locale = api_locale()
    lost = lost_by_reason(wanted.scope, wanted.period)
    reasons = {r.key: r.label(locale) for r in db.session.scalars(select(LostReason))} if lost else {}
    return {
        "period": wanted.period,
        "scope": wanted.scope,
        "strategies": [
            {
                "strategy": key,
                "strategy_label": STRATEGY_BY_KEY[key].label(locale) if key else None,
                "outcomes": outcomes,
            }
            for key, outcomes in by_strategy(wanted.scope, wanted.period)
        ],
        "lost": [
            {
                "stage": row.stage,
                "reason_key": row.reason_key,
                "reason_label": reasons.get(row.reason_key, row.reason_key),
                "count": row.count,
                "amount": row.amount,
            }
            for row in lost
        ],
    }


@blp.route("/reps")
@blp.arguments(schemas.RepQuery, location="query")
@blp.response(200, schemas.RepReportSchema)
@blp.alt_response(400, schema=ErrorSchema, description="an argument cannot be read; `fields` names it")
@blp.alt_response(404, schema=ErrorSchema, description="the team or rep does not exist or is out of your reach")
def reps(args: dict[str, Any]) -> dict[str, Any]:
    """Each rep in scope side by side: their pipeline where the period ends, and the period's outcomes."""
    wanted = _filters(args, sorts=tuple(REP_COLUMNS))
    rows = sort_reps(by_rep(wanted.scope, wanted.period), wanted.sort)
    return {
        "period": wanted.period,
        "scope": wanted.scope,
        "sort": wanted.sort,
        "reps": [
            {
                "rep_id": row.owner_id,
                "name": row.name,
                "stages": [
                    {"stage": key, "count": t.count, "amount": t.amount, "weighted": t.weighted}
                    for key, t in row.stages.items()
                ],
                "open": row.open,
                "outcomes": row.outcomes,
            }
            for row in rows
        ],
    }


@blp.route("/stalled")
@blp.arguments(schemas.TodayQuery, location="query")
@blp.response(200, schemas.StalledReportSchema)
@blp.alt_response(400, schema=ErrorSchema, description="an argument cannot be read; `fields` names it")
@blp.alt_response(404, schema=ErrorSchema, description="the team or rep does not exist or is out of your reach")
def stalled(args: dict[str, Any]) -> dict[str, Any]:
    """Per stage, the deals past the stage's threshold (the board's), oldest first, with owner and next step."""
    wanted = _filters(args, when=TODAY)
    day = wanted.period.first
    return {"as_of": day, "scope": wanted.scope, "stages": stalled_of(wanted.scope, day)}


@blp.route("/forecast")
@blp.arguments(schemas.TodayQuery, location="query")
@blp.response(200, schemas.ForecastSchema)
@blp.alt_response(400, schema=ErrorSchema, description="an argument cannot be read; `fields` names it")
@blp.alt_response(404, schema=ErrorSchema, description="the team or rep does not exist or is out of your reach")
def forecast(args: dict[str, Any]) -> dict[str, Any]:
    """Open deals by expected close month (three months back to five ahead), beside what each month has won."""
    wanted = _filters(args, when=TODAY)
    day = wanted.period.first
    result = forecast_of(wanted.scope, day)
    return {
        "as_of": day,
        "scope": wanted.scope,
        "this_month": result.this_month,
        "rows": result.rows,
        "open_amount": result.open_amount,
        "open_weighted": result.open_weighted,
    }
