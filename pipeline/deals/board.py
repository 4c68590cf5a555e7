"""The board (看板): one column per stage with its totals and cards, in a fixed number of queries."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Any, NamedTuple

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Select,
    and_,
    bindparam,
    func,
    or_,
    select,
    type_coerce,
    union_all,
)

from pipeline.accounts.models import Account
from pipeline.activities.models import CALLS_BEFORE_MOST_SALES_CLOSE, TOUCH_KINDS, Activity
from pipeline.auth.models import Role, User
from pipeline.auth.teams import team_member_ids
from pipeline.core.timeutil import local_midnight, team_zone
from pipeline.deals.method import STAGE_KEYS, STAGES, Stage
from pipeline.deals.models import Deal, DealChecklistItem
from pipeline.extensions import db

# Days a deal may sit in a stage before the board calls it stalled; PIPELINE_STALL_DAYS overrides any of them.
DEFAULT_STALL_DAYS: dict[str, int] = {"qualify": 14, "evaluate": 30, "propose": 21, "close": 14, "follow_up": 90}
CARDS_PER_COLUMN = 50


@dataclass(frozen=True)
class BoardFilter:
    """What the board shows: whose deals, which strategy and owner, an amount range and a search text."""

    mine: bool = False
    strategy: str | None = None
    owner_id: int | None = None
    min_amount: Decimal | None = None
    max_amount: Decimal | None = None
    text: str = ""


class Card(NamedTuple):
    """One deal as its card shows it (a tuple: cheap to make by the hundred, and the key its drawing is kept by)."""

    deal_id: int
    version: int
    title: str
    account_name: str
    owner_name: str
    amount: Decimal
    currency: str
    strategy: str | None
    next_step: str
    next_step_due: date | None
    days_in_stage: int
    items_done: int
    items_total: int
    stalled: bool
    overdue: bool
    calls: int = 0  # seed 001: most sales close after the fifth call
    touches: int = 0  # calls, visits, e-mails and meetings

    @property
    def called_enough(self) -> bool:
        """Past the call after which most sales close (seed 001), so the card stops nudging."""
        return self.calls >= CALLS_BEFORE_MOST_SALES_CLOSE


@dataclass
class Column:
    """A stage's column: how many deals, how much money, how much of it weighted by the stage's odds."""

    stage: Stage
    count: int = 0
    total: Decimal = Decimal("0.00")
    stall_days: int = 0
    cards: list[Card] = field(default_factory=list)

    @property
    def weighted(self) -> Decimal:
        return (self.total * self.stage.probability).quantize(Decimal("0.01"))

    @property
    def hidden(self) -> int:
        """Deals in the column beyond the cards shown (the stalest are shown first)."""
        return self.count - len(self.cards)


def stall_days(overrides: Mapping[str, int] | None = None) -> dict[str, int]:
    """Each stage's stall threshold in days, the defaults overridden by configuration."""
    return {**DEFAULT_STALL_DAYS, **(overrides or {})}


def stalled_deals(today: date, limits: Mapping[str, int]) -> ColumnElement[bool]:
    """Deals past their stage's threshold, as a WHERE clause: more whole local days in the stage than allowed
    means the stage was entered before local midnight that many days ago (the cards' rule, through the index)."""
    return or_(
        *(
            and_(Deal.stage == key, Deal.stage_entered_at < local_midnight(today - timedelta(days=limits[key])))
            for key in STAGE_KEYS
        )
    )


# ---- The one statement a board reads --------------------------------------------------------------------------

D, A, U, ITEM, ACT = (m.__table__.c for m in (Deal, Account, User, DealChecklistItem, Activity))
LIKE_ESCAPE = "/"


@dataclass(frozen=True)
class _Shape:
    """Which conditions a board's statement has; their values are bound when it runs."""

    scope: str  # "all", "team" or "own"
    mine: bool
    owner: bool
    strategy: bool
    min_amount: bool
    max_amount: bool
    text: bool


def _shape_and_values(user: User, wanted: BoardFilter) -> tuple[_Shape, dict[str, Any]]:
    """The statement's shape for this user and filter, and the values it binds."""
    if user.role == Role.ADMIN:
        scope = "all"
    elif user.role == Role.LEAD and user.team_id is not None:
        scope = "team"
    else:
        scope = "own"
    team = team_member_ids(user.team_id) if scope == "team" and user.team_id is not None else []
    values: dict[str, Any] = {"me": user.id, "team": team, "per_column": CARDS_PER_COLUMN}
    if wanted.owner_id is not None:
        values["owner"] = wanted.owner_id
    if wanted.strategy:
        values["strategy"] = wanted.strategy
    if wanted.min_amount is not None:
        values["min_cents"] = _cents(wanted.min_amount)
    if wanted.max_amount is not None:
        values["max_cents"] = _cents(wanted.max_amount)
    if wanted.text:
        escaped = "".join(LIKE_ESCAPE + c if c in "%_" + LIKE_ESCAPE else c for c in wanted.text)
        values["text"] = f"%{escaped}%"
    shape = _Shape(
        scope,
        wanted.mine,
        wanted.owner_id is not None,
        bool(wanted.strategy),
        wanted.min_amount is not None,
        wanted.max_amount is not None,
        bool(wanted.text),
    )
    return shape, values


def _cents(amount: Decimal) -> int:
    """An amount bound in whole cents (the column's storage), rounded as the Money type stores it."""
    return int(amount.quantize(Decimal("0.01")) * 100)


def _conditions(shape: _Shape) -> list[ColumnElement[bool]]:
    """The WHERE clause of a board of this shape, every value a bound parameter (the same scope rules as
    auth.scope.deals_visible_to: a rep their own deals, a lead the team's, an admin all)."""
    conditions: list[ColumnElement[bool]] = [D.stage.in_(STAGE_KEYS)]
    if shape.scope == "team":
        conditions.append(D.owner_id.in_(bindparam("team", expanding=True)))
    elif shape.scope == "own":
        conditions.append(D.owner_id == bindparam("me"))
    if shape.mine:
        conditions.append(D.owner_id == bindparam("me"))
    if shape.owner:
        conditions.append(D.owner_id == bindparam("owner"))
    if shape.strategy:
        conditions.append(D.strategy == bindparam("strategy"))
    if shape.min_amount:
        conditions.append(type_coerce(D.amount_cents, BigInteger) >= bindparam("min_cents", type_=BigInteger))
    if shape.max_amount:
        conditions.append(type_coerce(D.amount_cents, BigInteger) <= bindparam("max_cents", type_=BigInteger))
    if shape.text:  # what Deal.title.icontains(text, autoescape=True) renders, with the pattern bound
        pattern = bindparam("text")
        named = func.lower(A.name).like(func.lower(pattern), escape=LIKE_ESCAPE)
        if shape.scope == "all":  # every account a candidate: their names read once (a CTE) for all five columns
            named = D.account_id.in_(select(select(A.id).where(named).cte("named_accounts").c.id))
        # otherwise a rep's or a team's few thousand deals: each one's account read through the deals' join
        conditions.append(or_(func.lower(D.title).like(func.lower(pattern), escape=LIKE_ESCAPE), named))
    return conditions


def _items(done_only: bool) -> ColumnElement[int]:
    """Count the deal's checklist items of its current stage (done ones only, or all)."""
    where = and_(ITEM.deal_id == D.id, ITEM.stage == D.stage)
    if done_only:
        where = and_(where, ITEM.done.is_(True))
    return select(func.count()).where(where).correlate(Deal.__table__).scalar_subquery()


def oldest_per_stage(conditions: list[ColumnElement[bool]], limit: Any, source: Any = None) -> Any:
    """The ids (`deal_id`) of each open stage's longest-waiting matching deals, up to `limit` per stage: each
    stage read in its index's order and stopped at the limit, so a million deals cost the cards shown (one
    window over every match would hide from the planner how few pass, and it joins them back by a full scan)."""
    per_stage = [
        select(D.id.label("deal_id"))
        .select_from(source if source is not None else Deal.__table__)
        .where(*conditions, D.stage == stage)
        .order_by(D.stage_entered_at, D.id)
        .limit(limit)
        .subquery()
        for stage in STAGE_KEYS
    ]
    return union_all(*(select(first.c.deal_id) for first in per_stage)).subquery()


@lru_cache(maxsize=256)
def _statement(shape: _Shape) -> Select[Any]:
    """The board's one query for a shape, built once: each column's first cards (per stage, stalest first,
    read in the index's order up to the limit), then only for those their accounts, owners, checklists and
    touches, and each stage's count and amount over every matching deal beside them. Per stage rather than one
    window over all matching deals: at a million deals an admin's board would rank every open deal, and the
    planner, unable to see how few ranks pass, joined the deals back by scanning all of them (bench.plans)."""
    cents = type_coerce(D.amount_cents, BigInteger)
    conditions = _conditions(shape)
    joined = shape.text and shape.scope != "all"  # the search reads the account's name (see _conditions)
    matching = Deal.__table__.join(Account.__table__, A.id == D.account_id) if joined else Deal.__table__
    totals = (
        select(D.stage.label("stage"), func.count().label("stage_count"), func.sum(cents).label("stage_cents"))
        .select_from(matching)
        .where(*conditions)
        .group_by(D.stage)
        .subquery()
    )
    firsts = oldest_per_stage(conditions, bindparam("per_column"), matching)
    touched = and_(ACT.deal_id == D.id, ACT.kind.in_(TOUCH_KINDS))
    calls = select(func.count()).where(touched, ACT.kind == "call").correlate(Deal.__table__).scalar_subquery()
    touches = select(func.count()).where(touched).correlate(Deal.__table__).scalar_subquery()
    return (
        select(
            D.id,
            D.version,
            D.stage,
            D.title,
            A.name.label("account_name"),
            U.name.label("owner_name"),
            cents.label("cents"),
            D.currency,
            D.strategy,
            D.next_step,
            D.next_step_due,
            D.stage_entered_at,
            _items(done_only=True).label("items_done"),
            _items(done_only=False).label("items_total"),
            calls.label("calls"),
            touches.label("touches"),
            totals.c.stage_count,
            totals.c.stage_cents,
        )
        .select_from(firsts)
        .join(Deal.__table__, D.id == firsts.c.deal_id)
        .join(Account.__table__, A.id == D.account_id)
        .join(User.__table__, U.id == D.owner_id)
        .join(totals, totals.c.stage == D.stage)
        .order_by(D.stage_entered_at, D.id)
    )


def board(
    user: User,
    wanted: BoardFilter,
    today: date,
    *,
    thresholds: Mapping[str, int] | None = None,
    per_column: int = CARDS_PER_COLUMN,
) -> list[Column]:
    """The five columns for what `user` may see: totals over every matching deal, the stalest cards first.

    One statement, built once per filter shape with its values bound: every column's count and amount come
    with its cards (a column with any deal shows at least one card).
    """
    shape, values = _shape_and_values(user, wanted)
    values["per_column"] = per_column
    limits = stall_days(thresholds)
    columns = {s.key: Column(stage=s, stall_days=limits[s.key]) for s in STAGES}
    zone = team_zone()
    rows = db.session.connection().execute(_statement(shape), values)
    for (
        deal_id,
        version,
        stage,
        title,
        account_name,
        owner_name,
        cents,
        currency,
        strategy,
        next_step,
        due,
        entered,
        items_done,
        items_total,
        calls,
        touches,
        stage_count,
        stage_cents,
    ) in rows:  # unpacked in the select's order: a few hundred rows by name would cost more than the SQL
        column = columns[stage]
        if not column.cards:
            column.count, column.total = int(stage_count), from_cents(stage_cents)
        days = max((today - entered.astimezone(zone).date()).days, 0)  # timeutil.whole_days_since, inlined
        column.cards.append(
            Card(
                deal_id,
                version,
                title,
                account_name,
                owner_name,
                from_cents(cents),
                currency,
                strategy,
                next_step,
                due,
                days,
                items_done,
                items_total,
                days > column.stall_days,
                due is not None and due < today,
                calls,
                touches,
            )
        )
    return [columns[key] for key in STAGE_KEYS]


def from_cents(cents: int | None) -> Decimal:
    """Whole cents as money."""
    return (Decimal(int(cents or 0)) / 100).quantize(Decimal("0.01"))
