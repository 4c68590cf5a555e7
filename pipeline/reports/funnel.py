"""The funnel for a period: each stage's pipeline, time in stage and conversion, the period's outcomes, velocity."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from itertools import pairwise
from typing import Any

from sqlalchemy import Select, and_, case, func, literal, literal_column, select

from pipeline.core.models import utcnow
from pipeline.deals.method import CLOSE, FOLLOW_UP, LOST, STAGE_KEYS, WON_STATES
from pipeline.deals.models import Deal, StageEvent
from pipeline.extensions import db
from pipeline.reports.figures import CENT, Outcomes, StageTotals, from_cents, open_totals
from pipeline.reports.periods import Period
from pipeline.reports.rollup.reads import Kept, read_kept
from pipeline.reports.scope import ReportScope
from pipeline.reports.snapshot import pipeline_at
from pipeline.reports.sql import DEAL_CENTS, quantiles, seconds_between

DAY_SECONDS = 86400.0


@dataclass(frozen=True)
class Conversion:
    """Of the deals that entered a stage in the period, how many reached the next one and how many were lost there."""

    stage: str
    entered: int
    reached_next: int
    lost_here: int

    @property
    def rate(self) -> Decimal | None:
        return None if self.entered == 0 else Decimal(self.reached_next) / Decimal(self.entered)


@dataclass(frozen=True)
class FunnelStage:
    """One stage of the funnel: what sits there now, how long stays there lasted, how many moved on."""

    stage: str
    totals: StageTotals
    stays: int
    days_median: float | None
    days_p90: float | None
    conversion: Conversion | None


@dataclass(frozen=True)
class Funnel:
    """The funnel of a period for a scope."""

    period: Period
    stages: list[FunnelStage]
    outcomes: Outcomes
    open_totals: StageTotals

    @property
    def open_count(self) -> int:
        return self.open_totals.count

    @property
    def velocity(self) -> Decimal | None:
        """Money the pipeline turns into won business per day: open deals × win rate × average won ÷ cycle."""
        o = self.outcomes
        if o.win_rate is None or o.avg_won is None or not o.cycle_days:
            return None
        average_won = o.won_amount / o.won  # unrounded: only the result is rounded to the cent
        return (self.open_count * o.win_rate * average_won / Decimal(str(o.cycle_days))).quantize(CENT, ROUND_HALF_UP)


def scoped_events(query: Select[Any], scope: ReportScope) -> Select[Any]:
    """Limit a query over history rows to the deals in scope (no join at all for the whole company)."""
    if scope.whole_company:
        return query
    return query.join(Deal, Deal.id == StageEvent.deal_id).where(scope.deals())


def stays(scope: ReportScope, period: Period) -> dict[str, tuple[int, float | None, float | None]]:
    """Per stage, the stays that ended in the period: how many, and the median and 90th-percentile days."""
    if scope.whole_company:
        kept = read_kept(db.session, lambda k: _kept_stays(k, period))
        if kept is not None:
            return kept
    days = (seconds_between(StageEvent.at, StageEvent.from_entered_at) / DAY_SECONDS).label("days")
    ended = scoped_events(
        select(StageEvent.from_stage.label("stage"), days).where(
            StageEvent.at >= period.start(),
            StageEvent.at < period.end(),
            StageEvent.from_stage.in_(STAGE_KEYS),
            StageEvent.from_entered_at.is_not(None),
        ),
        scope,
    ).subquery()
    rows = db.session.execute(quantiles(ended, "stage", "days", (50, 90))).all()
    return {stage: (int(n), median, p90) for stage, n, median, p90 in rows}


def conversion(scope: ReportScope, period: Period) -> list[Conversion]:
    """Stage-to-stage conversion of the deals that entered each stage in the period, each deal once per stage.

    One pass over the history since the period began: per deal, the id of its first entry to each stage inside
    the period and the ids of its latest moves on or out; a later id means it happened after that entry.
    """
    if scope.whole_company:
        kept = read_kept(db.session, lambda k: _kept_conversion(k, period))
        if kept is not None:
            return kept
    stages = list(pairwise(STAGE_KEYS))  # (X, X+1) for 确认 … 成交
    e = StageEvent
    columns: list[Any] = []
    for here, there in stages:
        columns += [
            func.min(case((and_(e.to_stage == here, e.at < period.end()), e.id))).label(f"in_{here}"),
            func.max(case((e.to_stage == there, e.id))).label(f"next_{here}"),
            func.max(case((and_(e.to_stage == LOST, e.from_stage == here), e.id))).label(f"lost_{here}"),
        ]
    # Grouped by deal_id + 0: SQLite would otherwise walk the whole history in (deal_id, id) order to group it.
    since = scoped_events(select(*columns).where(e.at >= period.start()), scope)
    per_deal = since.group_by(e.deal_id + literal_column("0")).subquery()
    totals: list[Any] = []
    for here, _ in stages:
        entry, onward, lost = per_deal.c[f"in_{here}"], per_deal.c[f"next_{here}"], per_deal.c[f"lost_{here}"]
        totals += [
            func.count(entry),
            func.count(case((onward > entry, literal(1)))),
            func.count(case((lost > entry, literal(1)))),
        ]
    row = db.session.execute(select(*totals)).one()
    return [
        Conversion(here, int(row[3 * i]), int(row[3 * i + 1]), int(row[3 * i + 2]))
        for i, (here, _) in enumerate(stages)
    ]


def outcomes_by(scope: ReportScope, period: Period, key: Any = None) -> dict[Any, Outcomes]:
    """The period's outcomes per value of `key` (a deals column), or for the whole scope under None."""
    group = key if key is not None else literal("")
    # The win that stands is the deal's last 成交 → 跟进 move, and its local date is `won_on`: so it lies in the period.
    wins = (
        select(StageEvent.deal_id, func.max(StageEvent.at).label("won_at"))
        .where(
            StageEvent.to_stage == FOLLOW_UP,
            StageEvent.from_stage == CLOSE,
            StageEvent.at >= period.start(),
            StageEvent.at < period.end(),
        )
        .group_by(StageEvent.deal_id)
        .subquery()
    )
    won = (
        select(
            group.label("g"),
            DEAL_CENTS.label("cents"),
            (seconds_between(wins.c.won_at, Deal.created_at) / DAY_SECONDS).label("cycle"),
        )
        .join(wins, wins.c.deal_id == Deal.id)
        .where(scope.deals(), Deal.stage.in_(WON_STATES), Deal.won_on.between(period.first, period.last))
        .subquery()
    )
    won_rows = db.session.execute(quantiles(won, "g", "cycle", (50,), lambda c: [func.sum(c.cents)])).all()
    lost_rows = db.session.execute(
        select(group.label("g"), func.count(), func.sum(DEAL_CENTS))
        .where(scope.deals(), Deal.stage == LOST, Deal.lost_on.between(period.first, period.last))
        .group_by(group)
    ).all()
    found: dict[Any, dict[str, Any]] = {}
    for g, n, total, cycle in won_rows:
        found.setdefault(g, {}).update(won=int(n), won_amount=from_cents(total), cycle_days=cycle)
    for g, n, total in lost_rows:
        found.setdefault(g, {}).update(lost=int(n), lost_amount=from_cents(total))
    if key is None:
        return {None: Outcomes(**found.get("", {}))}
    return {g: Outcomes(**values) for g, values in found.items()}


def outcomes(scope: ReportScope, period: Period) -> Outcomes:
    """What the period decided for the scope: won, lost, win rate, average won size and sales cycle."""
    if scope.whole_company:
        kept = read_kept(db.session, lambda k: _kept_outcomes(k, period))
        if kept is not None:
            return kept
    return outcomes_by(scope, period)[None]


def funnel(scope: ReportScope, period: Period, now: datetime | None = None) -> Funnel:
    """The funnel of a period: the pipeline where it ends, the stays that ended in it, conversion and outcomes."""
    moment = min(period.end(), now or utcnow())
    if scope.whole_company:
        kept = read_kept(db.session, lambda k: _kept_funnel(k, period, moment))
        if kept is not None:
            return kept
    by_stage = pipeline_at(scope, moment)
    ended = stays(scope, period)
    converted = {c.stage: c for c in conversion(scope, period)}
    stages = [
        FunnelStage(key, by_stage[key], *ended.get(key, (0, None, None)), converted.get(key)) for key in STAGE_KEYS
    ]
    return Funnel(period, stages, outcomes(scope, period), open_totals(by_stage))


# ---- The whole company's figures from the kept counts (reports/rollup) --------------------------------------


def _kept_stays(kept: Kept, period: Period) -> dict[str, tuple[int, float | None, float | None]]:
    return {stage: (f.count, f.median, f.p90) for stage, f in kept.stays(period.first, period.last).items()}


def _kept_conversion(kept: Kept, period: Period) -> list[Conversion]:
    return [
        Conversion(stage, f.entered, f.reached, f.lost) for stage, f in kept.entries(period.first, period.last).items()
    ]


def _kept_outcomes(kept: Kept, period: Period) -> Outcomes:
    o = kept.outcomes(period.first, period.last)
    if not o.won and not o.lost:
        return Outcomes()
    return Outcomes(
        won=o.won,
        won_amount=from_cents(o.won_cents),
        lost=o.lost,
        lost_amount=from_cents(o.lost_cents),
        cycle_days=o.cycle_days,
    )


def _kept_funnel(kept: Kept, period: Period, moment: datetime) -> Funnel:
    by_stage = pipeline_at(ReportScope(), moment, now_totals=kept.stage_totals())
    ended = _kept_stays(kept, period)
    converted = {c.stage: c for c in _kept_conversion(kept, period)}
    stages = [
        FunnelStage(key, by_stage[key], *ended.get(key, (0, None, None)), converted.get(key)) for key in STAGE_KEYS
    ]
    return Funnel(period, stages, _kept_outcomes(kept, period), open_totals(by_stage))
