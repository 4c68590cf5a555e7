"""Report API schemas: the query arguments the report pages take, and the figures they show, as JSON.

Money is a decimal string with two places ("1234.50"), as everywhere in the API; rates are decimal strings with
four places ("0.6667", a fraction of 1), null when there is nothing to divide by; days are numbers.
"""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields

from pipeline.auth.api import api_locale
from pipeline.core.schemas import Text
from pipeline.deals.method import STAGE_KEYS, STRATEGY_KEYS, stage
from pipeline.reports.filters import DEFAULT_PERIOD, PERIODS, REP_COLUMNS
from pipeline.reports.weekly import KINDS


def Money(**kwargs: Any) -> fields.Decimal:
    return fields.Decimal(as_string=True, places=2, **kwargs)


def Rate(**kwargs: Any) -> fields.Decimal:
    description = 'a fraction of 1 as a decimal string ("0.5000" is 50%); null when nothing to divide by'
    return fields.Decimal(as_string=True, places=4, allow_none=True, metadata={"description": description}, **kwargs)


def Days(description: str) -> fields.Float:
    return fields.Float(allow_none=True, metadata={"description": f"{description}; null when there are none"})


def _stage_label(obj: Any) -> str:
    key = obj["stage"] if isinstance(obj, dict) else obj.stage
    return stage(key).label(api_locale())


# ---- Query arguments (read by filters.read_filters, exactly as the pages read them) -------------------------------


class _WhoQuery(Schema):
    team = Text(metadata={"description": "a team's id (admins; a lead's reports are their team's already)"})
    rep = Text(metadata={"description": "a rep's id: within your team for a lead; a rep sees only their own"})
    strategy = Text(metadata={"description": "only deals whose current strategy is this: " + " | ".join(STRATEGY_KEYS)})


class ReportQuery(_WhoQuery):
    period = Text(
        metadata={
            "description": f"{' | '.join(PERIODS)} (default {DEFAULT_PERIOD}; custom when only dates are sent)",
        }
    )
    from_ = Text(data_key="from", metadata={"description": "a custom period's first day, YYYY-MM-DD", "format": "date"})
    to = Text(metadata={"description": "a custom period's last day (included), YYYY-MM-DD", "format": "date"})


class RepQuery(ReportQuery):
    sort = Text(
        metadata={"description": "a column to sort by, '-' in front for descending: " + " | ".join(REP_COLUMNS)}
    )


class TodayQuery(_WhoQuery):
    """Reports on how things stand today take no dates."""


class WeekQuery(_WhoQuery):
    week = Text(metadata={"description": "an ISO week such as 2026-W47 (default: the last full week)"})
    compare = Text(metadata={"description": "the ISO week to compare with (default: the week before `week`)"})


# ---- Shared pieces ----------------------------------------------------------------------------------------------


class PeriodSchema(Schema):
    first = fields.Date(metadata={"description": "the first day, in the team's time zone"})
    last = fields.Date(metadata={"description": "the last day (included)"})


class WeekSchema(PeriodSchema):
    week = fields.Function(lambda p: p.week_label(), metadata={"description": "the ISO week, e.g. 2026-W47"})


class ScopeSchema(Schema):
    team_id = fields.Integer(allow_none=True)
    rep_id = fields.Integer(attribute="owner_id", allow_none=True)
    strategy = fields.String(allow_none=True)


class TotalsSchema(Schema):
    count = fields.Integer()
    amount = Money()
    weighted = Money(metadata={"description": "amount × the stage's probability"})


class OutcomesSchema(Schema):
    won = fields.Integer()
    won_amount = Money()
    lost = fields.Integer()
    lost_amount = Money()
    decided = fields.Integer(metadata={"description": "won + lost: what the win rate is out of"})
    win_rate = Rate()
    small_sample = fields.Boolean(metadata={"description": "fewer than 10 decided deals"})
    avg_won = Money(allow_none=True)
    cycle_days = Days("median days from creation to won, over the deals won")


# ---- Funnel -----------------------------------------------------------------------------------------------------


class ConversionSchema(Schema):
    entered = fields.Integer()
    reached_next = fields.Integer()
    lost_here = fields.Integer()
    rate = Rate()


class FunnelStageSchema(Schema):
    stage = fields.String(metadata={"description": " | ".join(STAGE_KEYS)})
    stage_label = fields.Function(_stage_label)
    count = fields.Integer(attribute="totals.count")
    amount = Money(attribute="totals.amount")
    weighted = Money(attribute="totals.weighted")
    stays = fields.Integer(metadata={"description": "stays in the stage that ended in the period"})
    days_median = Days("median days of those stays")
    days_p90 = Days("90th percentile days of those stays")
    conversion = fields.Nested(ConversionSchema, allow_none=True, metadata={"description": "null for follow_up"})


class FunnelSchema(Schema):
    period = fields.Nested(PeriodSchema)
    scope = fields.Nested(ScopeSchema)
    stages = fields.List(fields.Nested(FunnelStageSchema))
    open = fields.Nested(TotalsSchema, metadata={"description": "the four open stages added up"})
    outcomes = fields.Nested(OutcomesSchema)
    velocity = Money(allow_none=True, metadata={"description": "money per day; null when a factor is unknown"})


# ---- Week over week ---------------------------------------------------------------------------------------------


class WeekTotalsSchema(Schema):
    now = fields.Nested(TotalsSchema, metadata={"description": "at the end of `week` (or now, while it runs)"})
    before = fields.Nested(TotalsSchema, metadata={"description": "at the end of `compare`"})
    change = fields.Nested(TotalsSchema, metadata={"description": "now − before"})


class WeekStageSchema(WeekTotalsSchema):
    stage = fields.String()
    stage_label = fields.Function(_stage_label)


class ChangeSchema(Schema):
    deal_id = fields.Integer()
    title = fields.String()
    from_value = fields.String(allow_none=True, metadata={"description": "a stage key, date, amount or strategy"})
    to_value = fields.String(allow_none=True)
    note = fields.String(metadata={"description": "the lost reason's key, or the reason given for the move"})
    user_id = fields.Integer(allow_none=True)
    user_name = fields.String()
    at = fields.DateTime()


class ChangeListSchema(Schema):
    kind = fields.String(metadata={"description": " | ".join(KINDS)})
    count = fields.Integer()
    compare_count = fields.Integer()
    more = fields.Integer(metadata={"description": "changes beyond the newest listed"})
    rows = fields.List(fields.Nested(ChangeSchema), metadata={"description": "newest first"})


class TrendPointSchema(Schema):
    week = fields.Nested(WeekSchema)
    open = fields.Nested(TotalsSchema, metadata={"description": "the open pipeline as the week ended"})


class WeeklySchema(Schema):
    week = fields.Nested(WeekSchema)
    compare = fields.Nested(WeekSchema)
    scope = fields.Nested(ScopeSchema)
    stages = fields.List(fields.Nested(WeekStageSchema))
    open = fields.Nested(WeekTotalsSchema)
    changes = fields.List(fields.Nested(ChangeListSchema))
    trend = fields.List(
        fields.Nested(TrendPointSchema), metadata={"description": "the last 12 weeks up to `week`, oldest first"}
    )


# ---- By strategy, by rep ----------------------------------------------------------------------------------------


class StrategyOutcomesSchema(Schema):
    strategy = fields.String(allow_none=True, metadata={"description": "null: deals without a strategy"})
    strategy_label = fields.String(allow_none=True)
    outcomes = fields.Nested(OutcomesSchema)


class LostRowSchema(Schema):
    stage = fields.String(metadata={"description": "the stage the deals were lost from"})
    stage_label = fields.Function(_stage_label)
    reason = fields.String(attribute="reason_key")
    reason_label = fields.String()
    count = fields.Integer()
    amount = Money()


class StrategyReportSchema(Schema):
    period = fields.Nested(PeriodSchema)
    scope = fields.Nested(ScopeSchema)
    strategies = fields.List(fields.Nested(StrategyOutcomesSchema))
    lost = fields.List(fields.Nested(LostRowSchema))


class RepStageSchema(TotalsSchema):
    stage = fields.String()


class RepSchema(Schema):
    rep_id = fields.Integer()
    name = fields.String()
    stages = fields.List(fields.Nested(RepStageSchema), metadata={"description": "where the period ends"})
    open = fields.Nested(TotalsSchema)
    outcomes = fields.Nested(OutcomesSchema)


class RepReportSchema(Schema):
    period = fields.Nested(PeriodSchema)
    scope = fields.Nested(ScopeSchema)
    sort = fields.String(allow_none=True)
    reps = fields.List(fields.Nested(RepSchema))


# ---- Stalled deals, the forecast --------------------------------------------------------------------------------


class StalledDealSchema(Schema):
    deal_id = fields.Integer()
    title = fields.String()
    account_name = fields.String()
    owner_name = fields.String()
    amount = Money()
    currency = fields.String()
    entered_at = fields.DateTime(metadata={"description": "when the deal entered its stage"})
    days = fields.Integer(metadata={"description": "whole days in the stage, in the team's time zone"})
    next_step = fields.String()
    next_step_due = fields.Date(allow_none=True)


class StalledStageSchema(Schema):
    stage = fields.String()
    stage_label = fields.Function(_stage_label)
    threshold = fields.Integer(metadata={"description": "a deal is stalled after this many whole days"})
    count = fields.Integer()
    more = fields.Function(lambda s: s.count - len(s.deals), metadata={"description": "stalled beyond those listed"})
    deals = fields.List(fields.Nested(StalledDealSchema), metadata={"description": "oldest first"})


class StalledReportSchema(Schema):
    as_of = fields.Date(metadata={"description": "today, in the team's time zone"})
    scope = fields.Nested(ScopeSchema)
    stages = fields.List(fields.Nested(StalledStageSchema))


class ForecastRowSchema(Schema):
    key = fields.String(
        metadata={"description": "a month (YYYY-MM), or overdue (expected before this month), later, no_date"}
    )
    count = fields.Integer()
    amount = Money()
    weighted = Money()
    won = Money(allow_none=True, metadata={"description": "won in the month; null for months to come and non-months"})


class ForecastSchema(Schema):
    as_of = fields.Date()
    scope = fields.Nested(ScopeSchema)
    this_month = fields.String()
    rows = fields.List(fields.Nested(ForecastRowSchema))
    open_amount = Money()
    open_weighted = Money()
