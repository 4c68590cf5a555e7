"""The pipeline as it stood at any moment: today's deals with every step taken since then taken back."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, case, func, literal, select, union_all

from pipeline.core.changelog import FieldChange
from pipeline.deals.method import STAGE_KEYS
from pipeline.deals.models import Deal, StageEvent
from pipeline.extensions import db
from pipeline.reports.figures import StageTotals, stage_totals
from pipeline.reports.rollup.reads import read_kept
from pipeline.reports.scope import ReportScope
from pipeline.reports.sql import DEAL_CENTS, cents, raw_cents


def pipeline_at(
    scope: ReportScope, moment: datetime, now_totals: Mapping[str, tuple[int, int]] | None = None
) -> dict[str, StageTotals]:
    """Each stage's count, amount and weighted amount at `moment`, reading only the history after it."""
    return pipelines_at(scope, [moment], now_totals)[0]


def pipelines_at(
    scope: ReportScope, moments: Sequence[datetime], now_totals: Mapping[str, tuple[int, int]] | None = None
) -> list[dict[str, StageTotals]]:
    """The pipeline at each of several moments, in one pass over the history since the earliest of them.

    Today's totals are the kept ones for the whole company (reports/rollup), else summed from the deals;
    `now_totals` passes them in when the caller has already read them.
    """
    ordered = sorted(set(moments))
    found: list[dict[str, list[int]]] = [{} for _ in ordered]
    if now_totals is None and scope.whole_company:
        now_totals = read_kept(db.session, lambda kept: kept.stage_totals())
    now: dict[str, list[int]] = {k: [n, c] for k, (n, c) in (now_totals or {}).items()}
    for _owner, bucket, stage, count, total in _staged(scope, ordered, by_owner=False, today=now_totals is None):
        target = now if bucket == len(ordered) else found[bucket]
        target[stage] = [count, total]
    results: dict[datetime, dict[str, StageTotals]] = {}
    running = {key: list(now.get(key, [0, 0])) for key in STAGE_KEYS}
    for index in range(len(ordered) - 1, -1, -1):  # newest first: each moment adds the steps after it
        for key in STAGE_KEYS:
            count, total = found[index].get(key, [0, 0])
            running[key][0] += count
            running[key][1] += total
        results[ordered[index]] = {key: stage_totals(key, *running[key]) for key in STAGE_KEYS}
    return [results[m] for m in moments]


def pipelines_by_owner(scope: ReportScope, moment: datetime) -> dict[int, dict[str, StageTotals]]:
    """The pipeline at `moment` of each owner in scope, in one query."""
    found: dict[int, dict[str, list[int]]] = {}
    for owner, _bucket, stage, count, total in _staged(scope, [moment], by_owner=True):
        held = found.setdefault(owner, {}).setdefault(stage, [0, 0])
        held[0] += count
        held[1] += total
    return {
        owner: {key: stage_totals(key, *stages.get(key, [0, 0])) for key in STAGE_KEYS}
        for owner, stages in found.items()
    }


def _staged(
    scope: ReportScope, moments: Sequence[datetime], *, by_owner: bool, today: bool = True
) -> list[tuple[int | None, int, str, int, int]]:
    """(owner or None, bucket, stage, count, cents) rows of `staged_query`."""
    rows = db.session.execute(staged_query(scope, moments, by_owner=by_owner, today=today)).all()
    return [(owner, int(bucket), stage, int(n or 0), int(c or 0)) for owner, bucket, stage, n, c in rows]


def staged_query(
    scope: ReportScope, moments: Sequence[datetime], *, by_owner: bool = False, today: bool = True
) -> Select[Any]:
    """Today's deals per stage (bucket len(moments); left out with `today=False`), and the steps after the
    earliest moment taken back, per bucket: bucket i holds the steps between moments[i] and moments[i + 1]
    (moments ascending).

    Every change to the pipeline is a step: a move takes its amount (the deal's amount then, kept on the history
    row) out of one stage and into another, creation puts it into 确认, an amount change swaps the old amount
    for the new in the stage the deal was in (kept on the change). Today's totals minus the steps after a
    moment are the totals at the moment. Deals are looked up only to scope the steps (never for the whole
    company's pipeline).
    """
    e, f = StageEvent, FieldChange
    move_cents = raw_cents(e.__table__.c.amount_cents)
    owner = Deal.owner_id if by_owner else literal(None)
    needs_deal = by_owner or not scope.whole_company
    earliest = moments[0]

    def bucket(at: Any) -> Any:
        if len(moments) == 1:
            return literal(0)
        return case(*((at > m, i) for i, m in reversed(list(enumerate(moments)))), else_=0)

    def scoped(query: Select[Any], deal_id: Any) -> Select[Any]:
        return query.join(Deal, Deal.id == deal_id).where(scope.deals()) if needs_deal else query

    left = scoped(  # back into the stage each move after the moment left
        select(
            owner.label("owner"),
            bucket(e.at).label("bucket"),
            e.from_stage.label("stage"),
            literal(1).label("n"),
            move_cents.label("cents"),
        ).where(e.at > earliest, e.from_stage.in_(STAGE_KEYS)),
        e.deal_id,
    )
    entered = scoped(  # out of the stage each move (or creation) after the moment entered
        select(owner, bucket(e.at), e.to_stage, literal(-1), -move_cents).where(
            e.at > earliest, e.to_stage.in_(STAGE_KEYS)
        ),
        e.deal_id,
    )
    repriced = scoped(  # the old amount back in place of the new, in the stage the deal was in
        select(owner, bucket(f.at), f.stage, literal(0), cents(f.old_value) - cents(f.new_value)).where(
            f.entity == "deal", f.field == "amount", f.at > earliest
        ),
        f.entity_id,
    )
    now = (
        select(  # aggregated where it is read: an index-only scan of (stage, owner, amount)
            owner.label("owner"),
            literal(len(moments)).label("bucket"),
            Deal.stage.label("stage"),
            func.count().label("n"),
            func.sum(DEAL_CENTS).label("cents"),
        )
        .where(scope.deals(), Deal.stage.in_(STAGE_KEYS))
        .group_by(*([Deal.owner_id] if by_owner else []), Deal.stage)
    )
    parts = union_all(*([now] if today else []), left, entered, repriced).subquery()
    return (
        # Repricings of deals then 完结 or 输单 come out as those states' rows: the callers read the five stages.
        select(parts.c.owner, parts.c.bucket, parts.c.stage, func.sum(parts.c.n), func.sum(parts.c.cents)).group_by(
            parts.c.owner, parts.c.bucket, parts.c.stage
        )
    )
