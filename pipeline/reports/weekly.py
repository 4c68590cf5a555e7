"""Week over week: the pipeline at the end of a week against another, and every change the week brought."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, func, literal, or_, select, union_all

from pipeline.auth.models import User
from pipeline.core.changelog import FieldChange
from pipeline.core.models import utcnow
from pipeline.deals.method import FOLLOW_UP
from pipeline.deals.models import Deal, StageEvent
from pipeline.extensions import db
from pipeline.reports.figures import StageTotals
from pipeline.reports.periods import Period
from pipeline.reports.scope import ReportScope
from pipeline.reports.snapshot import pipelines_at

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


MOVE_KIND = case(
    (StageEvent.trigger == "create", "created"),
    (and_(StageEvent.trigger == "advance", StageEvent.to_stage == FOLLOW_UP), "won"),
    (StageEvent.trigger.in_(("advance", "complete")), "advanced"),
    (StageEvent.trigger == "revert", "moved_back"),
    (StageEvent.trigger == "lose", "lost"),
    (StageEvent.trigger == "reopen", "reopened"),
)
FIELD_KIND = case(
    (FieldChange.field == "amount", "amount_changed"),
    (FieldChange.field == "strategy", "strategy_changed"),
    (FieldChange.field == "expected_close_date", "close_date_slipped"),
)
TRACKED_FIELD = or_(
    FieldChange.field.in_(("amount", "strategy")),
    and_(
        FieldChange.field == "expected_close_date",
        FieldChange.old_value.is_not(None),
        FieldChange.new_value.is_not(None),
        FieldChange.new_value > FieldChange.old_value,  # ISO dates sort as text: a later date is a slip
    ),
)


def _changes(scope: ReportScope, periods: list[Period]) -> Any:
    """Every move and tracked field change of the deals in scope within the periods, narrow: (week, kind, at, …).

    `week` is the index of the period a change fell in; the text of a change is fetched only for those shown.
    """
    e, f = StageEvent, FieldChange

    def within(at: Any) -> tuple[Any, Any]:
        week = case(*((and_(at >= p.start(), at < p.end()), i) for i, p in enumerate(periods)))
        return week, or_(*(and_(at >= p.start(), at < p.end()) for p in periods))

    move_week, move_when = within(e.at)
    moves = select(
        move_week.label("week"),
        MOVE_KIND.label("kind"),
        e.at.label("at"),
        literal(0).label("source"),
        e.id.label("seq"),
    ).where(move_when)
    field_week, field_when = within(f.at)
    fields = select(field_week, FIELD_KIND, f.at, literal(1), f.id).where(f.entity == "deal", field_when, TRACKED_FIELD)
    if not scope.whole_company:  # the whole company's changes need no deal row at all
        moves = moves.join(Deal, Deal.id == e.deal_id).where(scope.deals())
        fields = fields.join(Deal, Deal.id == f.entity_id).where(scope.deals())
    return union_all(moves, fields).subquery()


def _counts(scope: ReportScope, periods: list[Period]) -> list[dict[str, int]]:
    """How many changes of each kind each period had, in one pass over their history."""
    changes = _changes(scope, periods)
    rows = db.session.execute(
        select(changes.c.week, changes.c.kind, func.count()).group_by(changes.c.week, changes.c.kind)
    ).all()
    counts: list[dict[str, int]] = [{} for _ in periods]
    for week, kind, n in rows:
        counts[int(week)][kind] = int(n)
    return counts


def _details(shown: Any, newest_first: bool) -> Any:
    """The changes a (kind, source, seq) subquery names, in words: the deal, from → to, who, when and why."""
    e, f = StageEvent, FieldChange
    moves = select(
        shown.c.kind,
        e.deal_id,
        e.from_stage,
        e.to_stage,
        e.user_id,
        e.at,
        func.coalesce(e.lost_reason_key, e.reason),
        literal(0),
        e.id,
    ).join(e, and_(shown.c.source == 0, e.id == shown.c.seq))
    fields = select(
        shown.c.kind, f.entity_id, f.old_value, f.new_value, f.user_id, f.at, literal(""), literal(1), f.id
    ).join(f, and_(shown.c.source == 1, f.id == shown.c.seq))
    both = union_all(moves, fields).subquery()
    c = list(both.c)
    order = (c[5].desc(), c[7].desc(), c[8].desc()) if newest_first else (c[5], c[7], c[8])
    return (
        select(*c, Deal.title, User.name).join(Deal, Deal.id == c[1]).outerjoin(User, User.id == c[4]).order_by(*order)
    )


def _change(row: Any) -> Change:
    kind, deal_id, old, new, user_id, at, note, _source, _seq, title, user_name = row
    return Change(kind, deal_id, title, old, new, user_id, user_name or "", at, note or "")


def _newest(scope: ReportScope, period: Period) -> dict[str, list[Change]]:
    """The newest changes of each kind in the period, with the deal, from → to, who and why."""
    changes = _changes(scope, [period])
    newest_first = (changes.c.at.desc(), changes.c.source.desc(), changes.c.seq.desc())
    ranked = select(
        changes.c.kind,
        changes.c.source,
        changes.c.seq,
        func.row_number().over(partition_by=changes.c.kind, order_by=newest_first).label("n"),
    ).subquery()
    # A CTE: both halves of the details read it, and PostgreSQL then ranks the week once, not once per half.
    shown = select(ranked.c.kind, ranked.c.source, ranked.c.seq).where(ranked.c.n <= ROWS_PER_KIND).cte("shown")
    found: dict[str, list[Change]] = {kind: [] for kind in KINDS}
    for row in db.session.execute(_details(shown, newest_first=True)):
        found[row[0]].append(_change(row))
    return found


def changes_in(scope: ReportScope, period: Period, batch: int = 2000) -> Iterator[Change]:
    """Every change of the deals in scope within the period, oldest first, streamed (the export lists them all)."""
    changes = _changes(scope, [period])
    every = select(changes.c.kind, changes.c.source, changes.c.seq).subquery()
    with db.session.execute(_details(every, newest_first=False).execution_options(yield_per=batch)) as result:
        for row in result:  # closed however the reader stops (a failed export), so no cursor is left open
            yield _change(row)


def week_over_week(
    scope: ReportScope, week: Period, compare: Period | None = None, now: datetime | None = None
) -> WeekReport:
    """The pipeline at the end of `week` against the end of `compare` (the week before unless given), and what
    changed in the week, each kind counted for both weeks."""
    compare = compare or week.previous_week()
    moment = now or utcnow()
    apart = week.last < compare.first or compare.last < week.first
    # Two weeks apart are counted in one pass; a week compared with itself (or overlapping) is counted on its own.
    this_week, that_week = (
        _counts(scope, [week, compare]) if apart else [_counts(scope, [week])[0], _counts(scope, [compare])[0]]
    )
    newest = _newest(scope, week)
    now_then = pipelines_at(scope, [min(week.end(), moment), min(compare.end(), moment)])
    return WeekReport(
        week=week,
        compare=compare,
        now=now_then[0],
        before=now_then[1],
        changes=[ChangeList(k, this_week.get(k, 0), that_week.get(k, 0), newest[k]) for k in KINDS],
    )
