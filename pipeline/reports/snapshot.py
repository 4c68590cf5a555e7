"""The pipeline as it stood at any moment, from today's deals with what happened since undone."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, literal, select, union, union_all

from pipeline.core.changelog import FieldChange
from pipeline.deals.method import STAGE_KEYS
from pipeline.deals.models import Deal, StageEvent
from pipeline.extensions import db
from pipeline.reports.figures import StageTotals, stage_totals
from pipeline.reports.scope import ReportScope
from pipeline.reports.sql import DEAL_CENTS, cents


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
    """(owner or None, stage, count, cents) at `moment`: today's deals, minus those touched since, plus them then.

    A deal touched after the moment counts with its stage then (the `from_stage` of its first move after it;
    none if that move created it) and its amount then (the old value of its first amount change after it).
    """
    first_move = (
        select(
            StageEvent.deal_id.label("deal_id"),
            StageEvent.from_stage.label("stage_then"),
            func.row_number().over(partition_by=StageEvent.deal_id, order_by=StageEvent.id).label("n"),
        )
        .where(StageEvent.at > moment)
        .subquery()
    )
    first_amount = (
        select(
            FieldChange.entity_id.label("deal_id"),
            FieldChange.old_value.label("amount_then"),
            func.row_number().over(partition_by=FieldChange.entity_id, order_by=FieldChange.id).label("n"),
        )
        .where(FieldChange.entity == "deal", FieldChange.field == "amount", FieldChange.at > moment)
        .subquery()
    )
    moved = select(first_move.c.deal_id, first_move.c.stage_then).where(first_move.c.n == 1).subquery()
    repriced = select(first_amount.c.deal_id, first_amount.c.amount_then).where(first_amount.c.n == 1).subquery()
    touched = union(select(moved.c.deal_id), select(repriced.c.deal_id)).subquery()

    in_scope = scope.deals()
    owner = Deal.owner_id if by_owner else literal(None)
    now = select(
        owner.label("owner"), Deal.stage.label("stage"), literal(1).label("sign"), DEAL_CENTS.label("cents")
    ).where(in_scope, Deal.stage.in_(STAGE_KEYS))
    undo_now = (
        select(owner, Deal.stage, literal(-1), DEAL_CENTS)
        .join(touched, touched.c.deal_id == Deal.id)
        .where(in_scope, Deal.stage.in_(STAGE_KEYS))
    )
    stage_then = func.coalesce(moved.c.stage_then, Deal.stage)
    redo_then = (
        select(owner, stage_then, literal(1), func.coalesce(cents(repriced.c.amount_then), DEAL_CENTS))
        .select_from(touched)
        .join(Deal, Deal.id == touched.c.deal_id)
        .outerjoin(moved, moved.c.deal_id == touched.c.deal_id)
        .outerjoin(repriced, repriced.c.deal_id == touched.c.deal_id)
        .where(
            in_scope,
            Deal.created_at <= moment,
            (moved.c.deal_id.is_(None)) | (moved.c.stage_then.is_not(None)),
            stage_then.in_(STAGE_KEYS),
        )
    )
    parts = union_all(now, undo_now, redo_then).subquery()
    rows = db.session.execute(
        select(parts.c.owner, parts.c.stage, func.sum(parts.c.sign), func.sum(parts.c.sign * parts.c.cents)).group_by(
            parts.c.owner, parts.c.stage
        )
    ).all()
    return [(owner, stage, int(count or 0), int(total or 0)) for owner, stage, count, total in rows]
