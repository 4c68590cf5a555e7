"""Every figure of docs/reports.md computed again the slow, obvious way, to check the SQL of pipeline/reports.

Written from the definitions only: plain rows are loaded once (deals, stage history, field changes, users) and
each figure is a loop over them, read forwards from the first row, with exact arithmetic (Decimal for money,
Fraction for ratios and days) so the only rounding is the one the definitions state. Nothing here imports
pipeline.reports.

Readings of the definitions where the text leaves a choice (each is also said in the report that added this):
- Weighted amounts are rounded to the cent half up, once per stage total. (The doc first named no mode; it
  says half up since the brute force found the service rounding half to even.)
- Win rate, average won size, conversion rate and velocity are not rounded here: they are exact fractions, and
  the tests accept the service's value within 0.0001 (rates) or 0.01 (money; a millionth for a huge velocity).
- "Last amount change with at ≤ T" and "first … after T" order a deal's amount changes by (at, id).
- A stay's start is the `at` of the row before it in the deal's history (by id): the moment the deal entered
  the stage it leaves. This does not read `from_entered_at`, so it checks that column too.
- Week-over-week change rows are compared as a set (the order of rows with the same moment is not defined);
  the tests check separately that the service's rows are newest first.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from itertools import pairwise
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from pipeline.auth.models import User
from pipeline.core.changelog import FieldChange
from pipeline.deals.models import Deal, StageEvent

# The method, written out by hand from docs/reports.md and shared/domain.md rather than imported.
STAGES = ("qualify", "evaluate", "propose", "close", "follow_up")
OPEN = ("qualify", "evaluate", "propose", "close")
WON = ("follow_up", "done")
NEXT = {"qualify": "evaluate", "evaluate": "propose", "propose": "close", "close": "follow_up"}
PROBABILITY = {
    "qualify": Decimal("0.10"),
    "evaluate": Decimal("0.25"),
    "propose": Decimal("0.50"),
    "close": Decimal("0.75"),
    "follow_up": Decimal("1.00"),
}
STRATEGIES = ("frontal", "flanking", "divide_and_conquer", "develop_for_future", "fortify_to_defend")
KINDS = (
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
LIST_LIMIT = 200
CENT = Decimal("0.01")
WEIGHTED_ROUNDING = ROUND_HALF_UP  # docs/reports.md, Money: half up (四舍五入), as Money in core/models.py
DAY_SECONDS = 86_400


# ---- Rows, loaded once ----------------------------------------------------------------------------------------


def _aware(moment: datetime) -> datetime:
    """Moments are stored in UTC; some drivers hand them back naive."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _day(value: date | str | None) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


@dataclass(frozen=True)
class DealRow:
    id: int
    owner_id: int
    title: str
    amount: Decimal
    stage: str
    strategy: str | None
    created_at: datetime
    won_on: date | None
    lost_on: date | None
    lost_from_stage: str | None
    lost_reason_key: str | None


@dataclass(frozen=True)
class EventRow:
    id: int
    deal_id: int
    from_stage: str | None
    to_stage: str
    trigger: str
    user_id: int | None
    at: datetime


@dataclass(frozen=True)
class ChangeRow:
    id: int
    deal_id: int
    field: str
    old_value: str | None
    new_value: str | None
    user_id: int | None
    at: datetime


@dataclass(frozen=True)
class UserRow:
    id: int
    name: str
    team_id: int | None


@dataclass
class World:
    """Everything the reports read, as plain rows, with each deal's history and changes in id order."""

    deals: list[DealRow]
    events: list[EventRow]
    changes: list[ChangeRow]
    users: list[UserRow]
    zone: ZoneInfo
    history: dict[int, list[EventRow]] = field(default_factory=dict)
    edits: dict[int, list[ChangeRow]] = field(default_factory=dict)
    user: dict[int, UserRow] = field(default_factory=dict)

    def __post_init__(self) -> None:
        history: dict[int, list[EventRow]] = defaultdict(list)
        for e in sorted(self.events, key=lambda e: e.id):
            history[e.deal_id].append(e)
        edits: dict[int, list[ChangeRow]] = defaultdict(list)
        for c in sorted(self.changes, key=lambda c: c.id):
            edits[c.deal_id].append(c)
        self.history, self.edits = dict(history), dict(edits)
        self.user = {u.id: u for u in self.users}


def load(session: Session, zone: ZoneInfo) -> World:
    """Read the four tables once, whole rows, no joins and no aggregates."""
    deals = [
        DealRow(
            r.id,
            r.owner_id,
            r.title,
            r.amount,
            r.stage,
            r.strategy,
            _aware(r.created_at),
            _day(r.won_on),
            _day(r.lost_on),
            r.lost_from_stage,
            r.lost_reason_key,
        )
        for r in session.execute(
            select(
                Deal.id,
                Deal.owner_id,
                Deal.title,
                Deal.amount,
                Deal.stage,
                Deal.strategy,
                Deal.created_at,
                Deal.won_on,
                Deal.lost_on,
                Deal.lost_from_stage,
                Deal.lost_reason_key,
            )
        )
    ]
    events = [
        EventRow(r.id, r.deal_id, r.from_stage, r.to_stage, r.trigger, r.user_id, _aware(r.at))
        for r in session.execute(
            select(
                StageEvent.id,
                StageEvent.deal_id,
                StageEvent.from_stage,
                StageEvent.to_stage,
                StageEvent.trigger,
                StageEvent.user_id,
                StageEvent.at,
            )
        )
    ]
    changes = [
        ChangeRow(r.id, r.entity_id, r.field, r.old_value, r.new_value, r.user_id, _aware(r.at))
        for r in session.execute(
            select(
                FieldChange.id,
                FieldChange.entity_id,
                FieldChange.field,
                FieldChange.old_value,
                FieldChange.new_value,
                FieldChange.user_id,
                FieldChange.at,
            ).where(FieldChange.entity == "deal")
        )
    ]
    users = [UserRow(r.id, r.name, r.team_id) for r in session.execute(select(User.id, User.name, User.team_id))]
    return World(deals, events, changes, users, zone)


# ---- Words: periods, scope, quantiles ------------------------------------------------------------------------


@dataclass(frozen=True)
class Span:
    """A period: local dates first … last, both included, and the moments [start, end) they cover."""

    first: date
    last: date
    zone: ZoneInfo

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first, time(0), tzinfo=self.zone).astimezone(UTC)

    @property
    def end(self) -> datetime:
        return datetime.combine(self.last + timedelta(days=1), time(0), tzinfo=self.zone).astimezone(UTC)

    def holds(self, moment: datetime) -> bool:
        return self.start <= moment < self.end

    def has_day(self, day: date | None) -> bool:
        return day is not None and self.first <= day <= self.last


def iso_week(year: int, week: int, zone: ZoneInfo) -> Span:
    monday = date.fromisocalendar(year, week, 1)
    return Span(monday, monday + timedelta(days=6), zone)


@dataclass(frozen=True)
class Who:
    """Which deals count: by current owner's team, current owner, current strategy (None: no filter)."""

    team_id: int | None = None
    owner_id: int | None = None
    strategy: str | None = None


def in_scope(world: World, deal: DealRow, who: Who) -> bool:
    if who.team_id is not None and world.user[deal.owner_id].team_id != who.team_id:
        return False
    if who.owner_id is not None and deal.owner_id != who.owner_id:
        return False
    return who.strategy is None or deal.strategy == who.strategy


def scoped(world: World, who: Who) -> list[DealRow]:
    return [d for d in world.deals if in_scope(world, d, who)]


def nearest_rank(values: Iterable[Fraction], p: Fraction) -> Fraction | None:
    """x_k of the sorted values with k = ⌈p·n⌉ (exact p, so 0.9·70 is 63, not 64)."""
    xs = sorted(values)
    if not xs:
        return None
    k = math.ceil(p * len(xs))
    return xs[k - 1]


def days(later: datetime, earlier: datetime) -> Fraction:
    delta = later - earlier
    return Fraction(delta.days * DAY_SECONDS + delta.seconds, DAY_SECONDS) + Fraction(
        delta.microseconds, DAY_SECONDS * 10**6
    )


# ---- The pipeline at a moment ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Totals:
    count: int
    amount: Decimal
    weighted: Decimal
    unrounded: Decimal  # amount × probability, exact: what `weighted` rounds


def stage_at(world: World, deal: DealRow, moment: datetime) -> str | None:
    """The to_stage of the deal's last history row with at ≤ moment (None before it existed)."""
    found = None
    for e in world.history.get(deal.id, []):
        if e.at <= moment:
            found = e.to_stage
    return found


def amount_at(world: World, deal: DealRow, moment: datetime) -> Decimal:
    """The last amount change's new value up to the moment, else the first later one's old value, else now's."""
    amounts = sorted((c for c in world.edits.get(deal.id, []) if c.field == "amount"), key=lambda c: (c.at, c.id))
    before = [c for c in amounts if c.at <= moment]
    if before:
        return Decimal(before[-1].new_value or "0")
    after = [c for c in amounts if c.at > moment]
    if after:
        return Decimal(after[0].old_value or "0")
    return deal.amount


def pipeline_at(world: World, who: Who, moment: datetime) -> dict[str, Totals]:
    count = dict.fromkeys(STAGES, 0)
    amount = dict.fromkeys(STAGES, Decimal("0.00"))
    for deal in scoped(world, who):
        if deal.created_at > moment:
            continue
        here = stage_at(world, deal, moment)
        if here in STAGES:
            count[here] += 1
            amount[here] += amount_at(world, deal, moment)
    exact = {s: amount[s] * PROBABILITY[s] for s in STAGES}
    return {
        s: Totals(count[s], amount[s], exact[s].quantize(CENT, rounding=WEIGHTED_ROUNDING), exact[s]) for s in STAGES
    }


def open_count(totals: dict[str, Totals]) -> int:
    return sum(totals[s].count for s in OPEN)


# ---- Days in stage --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Stays:
    stays: int
    median: Fraction | None
    p90: Fraction | None


def stays(world: World, who: Who, period: Span, stage: str) -> Stays:
    """Each history row leaving the stage within the period, lasting since the row before it."""
    lengths: list[Fraction] = []
    for deal in scoped(world, who):
        rows = world.history.get(deal.id, [])
        for before, row in pairwise(rows):
            if row.from_stage == stage and period.holds(row.at):
                lengths.append(days(row.at, before.at))
    return Stays(len(lengths), nearest_rank(lengths, Fraction(1, 2)), nearest_rank(lengths, Fraction(9, 10)))


# ---- Conversion -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    stage: str
    entered: int
    reached_next: int
    lost_here: int
    rate: Fraction | None


def conversion(world: World, who: Who, period: Span) -> list[Step]:
    out = []
    for stage in OPEN:
        entered = reached = lost = 0
        for deal in scoped(world, who):
            rows = world.history.get(deal.id, [])
            entries = [i for i, r in enumerate(rows) if r.to_stage == stage and period.holds(r.at)]
            if not entries:
                continue
            entered += 1
            later = rows[entries[0] + 1 :]
            reached += any(r.to_stage == NEXT[stage] for r in later)
            lost += any(r.to_stage == "lost" and r.from_stage == stage for r in later)
        out.append(Step(stage, entered, reached, lost, Fraction(reached, entered) if entered else None))
    return out


# ---- Outcomes -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Result:
    won: int
    won_amount: Decimal
    lost: int
    lost_amount: Decimal
    win_rate: Fraction | None
    avg_won: Fraction | None
    cycle_days: Fraction | None

    @property
    def small_sample(self) -> bool:
        return self.won + self.lost < 10


def won_deals(world: World, deals: Iterable[DealRow], period: Span) -> list[DealRow]:
    return [d for d in deals if d.stage in WON and period.has_day(d.won_on)]


def lost_deals(world: World, deals: Iterable[DealRow], period: Span) -> list[DealRow]:
    return [d for d in deals if d.stage == "lost" and period.has_day(d.lost_on)]


def cycle(world: World, deal: DealRow) -> Fraction:
    """Days from creation to the deal's last move from 成交 to 跟进."""
    signed = [r for r in world.history[deal.id] if r.from_stage == "close" and r.to_stage == "follow_up"]
    return days(signed[-1].at, deal.created_at)


def results(world: World, deals: list[DealRow], period: Span) -> Result:
    won, lost = won_deals(world, deals, period), lost_deals(world, deals, period)
    won_amount = sum((d.amount for d in won), Decimal("0.00"))
    lost_amount = sum((d.amount for d in lost), Decimal("0.00"))
    decided = len(won) + len(lost)
    return Result(
        len(won),
        won_amount,
        len(lost),
        lost_amount,
        Fraction(len(won), decided) if decided else None,
        Fraction(won_amount) / len(won) if won else None,
        nearest_rank((cycle(world, d) for d in won), Fraction(1, 2)),
    )


def outcomes(world: World, who: Who, period: Span) -> Result:
    return results(world, scoped(world, who), period)


def velocity(open_deals: int, result: Result) -> Fraction | None:
    """Open count × win rate × average won size ÷ sales cycle; None when a factor is None or the cycle is 0."""
    if result.win_rate is None or result.avg_won is None or result.cycle_days is None or result.cycle_days == 0:
        return None
    return open_deals * result.win_rate * result.avg_won / result.cycle_days


# ---- The funnel -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FunnelRow:
    stage: str
    totals: Totals
    stays: Stays
    conversion: Step | None


@dataclass(frozen=True)
class FunnelView:
    stages: list[FunnelRow]
    outcomes: Result
    open_count: int
    velocity: Fraction | None


def funnel(world: World, who: Who, period: Span, now: datetime) -> FunnelView:
    totals = pipeline_at(world, who, min(period.end, now))
    steps = {s.stage: s for s in conversion(world, who, period)}
    result = outcomes(world, who, period)
    opened = open_count(totals)
    rows = [FunnelRow(s, totals[s], stays(world, who, period, s), steps.get(s)) for s in STAGES]
    return FunnelView(rows, result, opened, velocity(opened, result))


# ---- Breakdowns -----------------------------------------------------------------------------------------------


def by_strategy(world: World, who: Who, period: Span) -> list[tuple[str | None, Result]]:
    deals = scoped(world, who)
    return [(key, results(world, [d for d in deals if d.strategy == key], period)) for key in (*STRATEGIES, None)]


def lost_by_reason(world: World, who: Who, period: Span) -> dict[tuple[str, str], tuple[int, Decimal]]:
    groups: dict[tuple[str, str], tuple[int, Decimal]] = {}
    for deal in lost_deals(world, scoped(world, who), period):
        key = (deal.lost_from_stage or "", deal.lost_reason_key or "")
        count, amount = groups.get(key, (0, Decimal("0.00")))
        groups[key] = (count + 1, amount + deal.amount)
    return groups


@dataclass(frozen=True)
class RepView:
    stages: dict[str, Totals]
    open_count: int
    open_amount: Decimal
    outcomes: Result


def by_rep(world: World, who: Who, period: Span, owner_id: int, now: datetime) -> RepView:
    """One rep's pipeline where the period ends and the period's outcomes, among the deals in scope."""
    outside = who.owner_id is not None and who.owner_id != owner_id
    mine = Who(who.team_id, owner_id, who.strategy)
    stages = pipeline_at(world, mine, min(period.end, now))
    if outside:
        stages = {s: Totals(0, Decimal("0.00"), Decimal("0.00"), Decimal("0.00")) for s in STAGES}
    deals = [] if outside else scoped(world, mine)
    return RepView(
        stages,
        open_count(stages),
        sum((stages[s].amount for s in OPEN), Decimal("0.00")),
        results(world, deals, period),
    )


# ---- Week over week -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Happening:
    kind: str
    deal_id: int
    title: str
    from_value: str | None
    to_value: str | None
    user_id: int | None
    user_name: str
    at: datetime


def _move_kind(row: EventRow) -> str | None:
    if row.trigger == "create":
        return "created"
    if row.trigger == "advance" and row.to_stage in ("evaluate", "propose", "close"):
        return "advanced"
    if row.trigger == "complete":
        return "advanced"
    if row.trigger == "advance" and row.from_stage == "close" and row.to_stage == "follow_up":
        return "won"
    return {"revert": "moved_back", "lose": "lost", "reopen": "reopened"}.get(row.trigger)


def _edit_kind(change: ChangeRow) -> str | None:
    if change.field == "expected_close_date":
        old, new = _day(change.old_value), _day(change.new_value)
        return "close_date_slipped" if old is not None and new is not None and new > old else None
    return {"amount": "amount_changed", "strategy": "strategy_changed"}.get(change.field)


def happenings(world: World, who: Who, period: Span) -> dict[str, list[Happening]]:
    """Every change of each kind with its moment in the period."""
    found: dict[str, list[Happening]] = {k: [] for k in KINDS}

    def name(user_id: int | None) -> str:
        return world.user[user_id].name if user_id is not None else ""

    for deal in scoped(world, who):
        for row in world.history.get(deal.id, []):
            kind = _move_kind(row)
            if kind and period.holds(row.at):
                found[kind].append(
                    Happening(
                        kind, deal.id, deal.title, row.from_stage, row.to_stage, row.user_id, name(row.user_id), row.at
                    )
                )
        for change in world.edits.get(deal.id, []):
            kind = _edit_kind(change)
            if kind and period.holds(change.at):
                found[kind].append(
                    Happening(
                        kind,
                        deal.id,
                        deal.title,
                        change.old_value,
                        change.new_value,
                        change.user_id,
                        name(change.user_id),
                        change.at,
                    )
                )
    return found


@dataclass(frozen=True)
class WeekView:
    now: dict[str, Totals]
    before: dict[str, Totals]
    counts: dict[str, tuple[int, int]]  # kind -> (in the week, in the compared week)
    rows: dict[str, list[Happening]]  # kind -> every change in the week (the service lists the newest 200)


def week_over_week(world: World, who: Who, week: Span, compare: Span | None, now: datetime) -> WeekView:
    compare = compare or Span(week.first - timedelta(days=7), week.last - timedelta(days=7), week.zone)
    this, that = happenings(world, who, week), happenings(world, who, compare)
    return WeekView(
        pipeline_at(world, who, min(week.end, now)),
        pipeline_at(world, who, min(compare.end, now)),
        {k: (len(this[k]), len(that[k])) for k in KINDS},
        this,
    )
