"""Week over week: the pipeline at the end of a week against another, and every change the week brought."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, case, func, literal, null, or_, select, union_all

from pipeline.auth.models import User
from pipeline.core.changelog import FieldChange
from pipeline.core.models import utcnow
from pipeline.deals.method import FOLLOW_UP
from pipeline.deals.models import Deal, StageEvent
from pipeline.extensions import db
from pipeline.reports.figures import StageTotals
from pipeline.reports.periods import Period
from pipeline.reports.scope import ReportScope
from pipeline.reports.snapshot import pipeline_at

KINDS: tuple[str, ...] = (
    "created",
    "advanced",
    "won",
    "moved_back",
    "lost",
    "reopened",
    "close_date_slipped",
    "amount_changed",
    "strategy_changed",
)
ROWS_PER_KIND = 200


@dataclass(frozen=True)
class Change:
    """One thing that happened to a deal: a move or a field change, from what to what, by whom and when."""

    kind: str
    deal_id: int
    title: str
    from_value: str | None
    to_value: str | None
    user_id: int | None
    user_name: str
    at: datetime
    note: str = ""  # the lost reason's key, or the reason given for a move back or reopening


@dataclass(frozen=True)
class ChangeList:
    """How many changes of one kind the week had (and the compared week), and the newest of them."""

    kind: str
    count: int
    compare_count: int
    rows: list[Change]

    @property
    def more(self) -> int:
        return self.count - len(self.rows)


@dataclass(frozen=True)
class WeekReport:
    """A week against another: the pipeline at the end of each, and the week's changes by kind."""

    week: Period
    compare: Period
    now: dict[str, StageTotals]
    before: dict[str, StageTotals]
    changes: list[ChangeList]


def _changes(scope: ReportScope, start: datetime, end: datetime) -> Select[Any]:
    """Every move and tracked field change in [start, end) of the deals in scope, as (kind, …) rows."""
    e, f = StageEvent, FieldChange
    move_kind = case(
        (e.trigger == "create", "created"),
        (and_(e.trigger == "advance", e.to_stage == FOLLOW_UP), "won"),
        (e.trigger.in_(("advance", "complete")), "advanced"),
        (e.trigger == "revert", "moved_back"),
        (e.trigger == "lose", "lost"),
        (e.trigger == "reopen", "reopened"),
    )
    moves = select(
        move_kind.label("kind"),
        e.deal_id.label("deal_id"),
        e.from_stage.label("from_value"),
        e.to_stage.label("to_value"),
        e.user_id.label("user_id"),
        e.at.label("at"),
        func.coalesce(e.lost_reason_key, e.reason).label("note"),
        e.id.label("seq"),
        literal(0).label("source"),
    ).where(e.at >= start, e.at < end)
    field_kind = case(
        (f.field == "amount", "amount_changed"),
        (f.field == "strategy", "strategy_changed"),
        (f.field == "expected_close_date", "close_date_slipped"),
    )
    fields = select(
        field_kind,
        f.entity_id,
        f.old_value,
        f.new_value,
        f.user_id,
        f.at,
        literal(""),
        f.id,
        literal(1),
    ).where(
        f.entity == "deal",
        f.at >= start,
        f.at < end,
        or_(
            f.field.in_(("amount", "strategy")),
            and_(
                f.field == "expected_close_date",
                f.old_value.is_not(None),
                f.new_value.is_not(None),
                f.new_value > f.old_value,  # ISO dates sort as text: a later date is a slip
            ),
        ),
    )
    if not scope.whole_company:  # the whole company's changes need no deal row at all
        moves = moves.join(Deal, Deal.id == e.deal_id).where(scope.deals())
        fields = fields.join(Deal, Deal.id == f.entity_id).where(scope.deals())
    return union_all(moves, fields).subquery()  # type: ignore[return-value]


def _counts(scope: ReportScope, period: Period) -> dict[str, int]:
    changes = _changes(scope, period.start(), period.end())
    rows = db.session.execute(select(changes.c.kind, func.count()).group_by(changes.c.kind)).all()
    return {kind: int(n) for kind, n in rows}


def _newest(scope: ReportScope, period: Period) -> dict[str, list[Change]]:
    changes = _changes(scope, period.start(), period.end())
    ranked = select(
        changes,
        func.row_number()
        .over(
            partition_by=changes.c.kind,
            order_by=(changes.c.at.desc(), changes.c.source.desc(), changes.c.seq.desc()),
        )
        .label("n"),
    ).subquery()
    rows = db.session.execute(
        select(ranked, Deal.title, func.coalesce(User.name, null()))
        .join(Deal, Deal.id == ranked.c.deal_id)
        .outerjoin(User, User.id == ranked.c.user_id)
        .where(ranked.c.n <= ROWS_PER_KIND)
        .order_by(ranked.c.at.desc(), ranked.c.source.desc(), ranked.c.seq.desc())
    ).all()
    found: dict[str, list[Change]] = {kind: [] for kind in KINDS}
    for row in rows:
        found[row.kind].append(
            Change(
                row.kind,
                row.deal_id,
                row.title,
                row.from_value,
                row.to_value,
                row.user_id,
                row[-1] or "",
                row.at,
                row.note or "",
            )
        )
    return found


def week_over_week(
    scope: ReportScope, week: Period, compare: Period | None = None, now: datetime | None = None
) -> WeekReport:
    """The pipeline at the end of `week` against the end of `compare` (the week before unless given), and what
    changed in the week, each kind counted for both weeks."""
    compare = compare or week.previous_week()
    moment = now or utcnow()
    this_week, that_week = _counts(scope, week), _counts(scope, compare)
    newest = _newest(scope, week)
    return WeekReport(
        week=week,
        compare=compare,
        now=pipeline_at(scope, min(week.end(), moment)),
        before=pipeline_at(scope, min(compare.end(), moment)),
        changes=[ChangeList(k, this_week.get(k, 0), that_week.get(k, 0), newest[k]) for k in KINDS],
    )
