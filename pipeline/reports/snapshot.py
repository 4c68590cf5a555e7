"""The pipeline as it stood at any moment: today's deals with every step taken since then taken back."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, literal, select, union_all

from pipeline.core.changelog import FieldChange
from pipeline.deals.method import STAGE_KEYS
from pipeline.deals.models import Deal, StageEvent
from pipeline.extensions import db
from pipeline.reports.figures import StageTotals, stage_totals
from pipeline.reports.scope import ReportScope
from pipeline.reports.sql import DEAL_CENTS, cents, raw_cents


def pipeline_at(scope: ReportScope, moment: datetime) -> dict[str, StageTotals]:
    """Each stage's count, amount and weighted amount at `moment`, reading only the history after it."""
    found = {stage: (count, total) for _, stage, count, total in _staged(scope, moment, by_owner=False)}
    return {key: stage_totals(key, *found.get(key, (0, 0))) for key in STAGE_KEYS}


def pipelines_by_owner(scope: ReportScope, moment: datetime) -> dict[int, dict[str, StageTotals]]:
    """The pipeline at `moment` of each owner in scope, in one query."""
    found: dict[int, dict[str, tuple[int, int]]] = {}
    for owner, stage, count, total in _staged(scope, moment, by_owner=True):
        found.setdefault(owner, {})[stage] = (count, total)
    return {
        owner: {key: stage_totals(key, *stages.get(key, (0, 0))) for key in STAGE_KEYS}
        for owner, stages in found.items()
    }


def _staged(scope: ReportScope, moment: datetime, *, by_owner: bool) -> list[tuple[int | None, str, int, int]]:
    """(owner or None, stage, count, cents) at `moment`."""
    rows = db.session.execute(staged_query(scope, moment, by_owner=by_owner)).all()
    return [(owner, stage, int(count or 0), int(total or 0)) for owner, stage, count, total in rows]


def staged_query(scope: ReportScope, moment: datetime, *, by_owner: bool = False) -> Select[Any]:
    """Today's deals per stage with every step since `moment` taken back, reading only the history after it.

    Every change to the pipeline is a step: a move takes its amount (the deal's amount then, kept on the history
    row) out of one stage and into another, creation puts it into 确认, an amount change swaps the old amount
    for the new in the stage the deal was in (kept on the change). Today's totals minus the steps after the
    moment are the totals at the moment. Deals are looked up only to scope the steps (never for the whole
    company's pipeline).
    """
    e, f = StageEvent, FieldChange
    move_cents = raw_cents(e.__table__.c.amount_cents)
    owner = Deal.owner_id if by_owner else literal(None)
    needs_deal = by_owner or not scope.whole_company

    def scoped(query: Select[Any], deal_id: Any) -> Select[Any]:
        return query.join(Deal, Deal.id == deal_id).where(scope.deals()) if needs_deal else query

    left = scoped(  # back into the stage each move after the moment left
        select(
            owner.label("owner"), e.from_stage.label("stage"), literal(1).label("n"), move_cents.label("cents")
        ).where(e.at > moment, e.from_stage.in_(STAGE_KEYS)),
        e.deal_id,
    )
    entered = scoped(  # out of the stage each move (or creation) after the moment entered
        select(owner, e.to_stage, literal(-1), -move_cents).where(e.at > moment, e.to_stage.in_(STAGE_KEYS)),
        e.deal_id,
    )
    repriced = scoped(  # the old amount back in place of the new, in the stage the deal was in
        select(owner, f.stage, literal(0), cents(f.old_value) - cents(f.new_value)).where(
            f.entity == "deal", f.field == "amount", f.at > moment
        ),
        f.entity_id,
    )
    now = (
        select(  # aggregated where it is read: an index-only scan of (stage, owner, amount)
            owner.label("owner"),
            Deal.stage.label("stage"),
            func.count().label("n"),
            func.sum(DEAL_CENTS).label("cents"),
        )
        .where(scope.deals(), Deal.stage.in_(STAGE_KEYS))
        .group_by(*([Deal.owner_id] if by_owner else []), Deal.stage)
    )
    parts = union_all(now, left, entered, repriced).subquery()
    return (
        # Repricings of deals then 完结 or 输单 come out as those states' rows: the callers read the five stages.
        select(parts.c.owner, parts.c.stage, func.sum(parts.c.n), func.sum(parts.c.cents)).group_by(
            parts.c.owner, parts.c.stage
        )
    )
