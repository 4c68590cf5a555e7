"""The period's outcomes cut by strategy, lost deals by stage and reason, and the funnel per rep."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import ColumnElement, func, select

from pipeline.auth.models import User
from pipeline.core.models import utcnow
from pipeline.deals.method import LOST, STAGE_KEYS, STRATEGY_KEYS
from pipeline.deals.models import Deal
from pipeline.extensions import db
from pipeline.reports.figures import Outcomes, StageTotals, from_cents, open_totals
from pipeline.reports.funnel import outcomes_by
from pipeline.reports.periods import Period
from pipeline.reports.scope import ReportScope
from pipeline.reports.snapshot import pipelines_by_owner
from pipeline.reports.sql import DEAL_CENTS


def by_strategy(scope: ReportScope, period: Period) -> list[tuple[str | None, Outcomes]]:
    """Win rate, average won size and cycle per strategy (method order), then deals with no strategy."""
    found = outcomes_by(scope, period, Deal.strategy)
    return [(key, found.get(key, Outcomes())) for key in (*STRATEGY_KEYS, None)]


@dataclass(frozen=True)
class LostRow:
    """Lost deals of the period from one stage for one reason."""

    stage: str
    reason_key: str
    count: int
    amount: Decimal


def lost_by_reason(scope: ReportScope, period: Period) -> list[LostRow]:
    """Where the period's lost deals were lost, and why: stage (in method order) × reason, most first."""
    rows = db.session.execute(
        select(Deal.lost_from_stage, Deal.lost_reason_key, func.count(), func.sum(DEAL_CENTS))
        .where(scope.deals(), Deal.stage == LOST, Deal.lost_on.between(period.first, period.last))
        .group_by(Deal.lost_from_stage, Deal.lost_reason_key)
    ).all()
    found = [LostRow(stage, reason, int(n), from_cents(c)) for stage, reason, n, c in rows]
    return sorted(found, key=lambda r: (STAGE_KEYS.index(r.stage), -r.count, r.reason_key))


@dataclass(frozen=True)
class RepRow:
    """One rep's funnel beside their teammates': the pipeline where the period ends, and its outcomes."""

    owner_id: int
    name: str
    stages: dict[str, StageTotals]
    open: StageTotals
    outcomes: Outcomes


def by_rep(scope: ReportScope, period: Period, now: datetime | None = None) -> list[RepRow]:
    """Each rep in scope side by side, by name; reps with nothing in the pipeline or the period included."""
    moment = min(period.end(), now or utcnow())
    reps = db.session.execute(select(User.id, User.name).where(_people(scope)).order_by(User.name, User.id)).all()
    decided = outcomes_by(scope, period, Deal.owner_id)
    staged = pipelines_by_owner(scope, moment)
    empty = {key: StageTotals() for key in STAGE_KEYS}
    rows = []
    for owner_id, name in reps:
        stages = staged.get(owner_id, empty)
        rows.append(RepRow(owner_id, name, stages, open_totals(stages), decided.get(owner_id, Outcomes())))
    return rows


def _people(scope: ReportScope) -> ColumnElement[bool]:
    """Users whose deals the scope counts: a rep, a team's members, or everyone who owns a deal."""
    if scope.owner_id is not None:
        return User.id == scope.owner_id
    if scope.team_id is not None:
        return User.team_id == scope.team_id
    return User.id.in_(select(Deal.owner_id).distinct())
