"""The pipeline as it stood at any moment, from today's deals with what happened since undone."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Select, case, func, literal, null, select, union_all
from sqlalchemy.orm import aliased

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
    """(owner or None, stage, count, cents) at `moment`."""
    rows = db.session.execute(staged_query(scope, moment, by_owner=by_owner)).all()
    return [(owner, stage, int(count or 0), int(total or 0)) for owner, stage, count, total in rows]


def staged_query(scope: ReportScope, moment: datetime, *, by_owner: bool = False) -> Select[Any]:
    """Today's deals per stage, minus those touched since `moment`, plus those deals as they were then.

    A deal touched after the moment counts with its stage then (the `from_stage` of its first move after it;
    none if that move created it) and its amount then (the old value of its first amount change after it).
    Each source is read once, from the moment on; the first rows are then fetched by primary key.
    """
    since = union_all(
        select(StageEvent.deal_id.label("deal_id"), StageEvent.id.label("move_id"), null().label("change_id")).where(
            StageEvent.at > moment
        ),
        select(FieldChange.entity_id, null(), FieldChange.id).where(
            FieldChange.entity == "deal", FieldChange.field == "amount", FieldChange.at > moment
        ),
    ).subquery()
    touched = (
        select(
            since.c.deal_id,
            func.min(since.c.move_id).label("first_move"),
            func.min(since.c.change_id).label("first_change"),
        )
        .group_by(since.c.deal_id)
        .cte("touched")
    )
    first_move, first_change = aliased(StageEvent), aliased(FieldChange)
    in_scope = scope.deals()
    owner = Deal.owner_id if by_owner else literal(None)
    now = (  # aggregated where it is read: an index-only scan of (stage, owner, amount)
        select(
            owner.label("owner"),
            Deal.stage.label("stage"),
            func.count().label("n"),
            func.sum(DEAL_CENTS).label("cents"),
        )
        .where(in_scope, Deal.stage.in_(STAGE_KEYS))
        .group_by(*([Deal.owner_id] if by_owner else []), Deal.stage)
    )
    undo_now = (
        select(owner, Deal.stage, literal(-1), -DEAL_CENTS)
        .join(touched, touched.c.deal_id == Deal.id)
        .where(in_scope, Deal.stage.in_(STAGE_KEYS))
    )
    stage_then = case((first_move.id.is_(None), Deal.stage), else_=first_move.from_stage)
    redo_then = (
        select(owner, stage_then, literal(1), func.coalesce(cents(first_change.old_value), DEAL_CENTS))
        .select_from(touched)
        .join(Deal, Deal.id == touched.c.deal_id)
        .outerjoin(first_move, first_move.id == touched.c.first_move)
        .outerjoin(first_change, first_change.id == touched.c.first_change)
        .where(in_scope, Deal.created_at <= moment, stage_then.in_(STAGE_KEYS))
    )
    parts = union_all(now, undo_now, redo_then).subquery()
    return select(parts.c.owner, parts.c.stage, func.sum(parts.c.n), func.sum(parts.c.cents)).group_by(
        parts.c.owner, parts.c.stage
    )
