"""What the method reads from an account's record: how often it buys, and the relationship level it warrants.

Purchase frequency (seed 003: 一次性 / 间或 / 经常性) counts the account's won deals (Deal.won_on) in the last
twelve months: one is a one-time buyer, two or three an occasional one, four or more (about one a quarter) a
regular one; none in twelve months has no class.

The advised relationship level (seeds 000 and 003: many customers with low margins → basic or reactive; few
with high margins → partnership) adds two steps: how many customers the owner looks after (many → 0, some → 1,
few → 2) and the account's margin (low → 0, medium → 1, high → 2), and picks that level on the five-step scale
basic … partnership. Without a margin entered the margin counts as medium, and the page says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import ColumnElement, case, func, select

from pipeline.accounts.models import Account
from pipeline.accounts.scales import FREQUENCY_CLASSES, RELATIONSHIP_KEYS
from pipeline.auth.models import User
from pipeline.auth.scope import deals_visible_to
from pipeline.deals.models import Deal
from pipeline.extensions import db

FREQUENCY_KEYS: tuple[str, ...] = tuple(c.key for c in FREQUENCY_CLASSES)
NO_PURCHASE = "none"  # no won deal in the last twelve months: no frequency class
FREQUENCY_WINDOW_DAYS = 365
OCCASIONAL_FROM, REGULAR_FROM = 2, 4  # won deals in the window: 1 one-time, 2–3 occasional, 4+ regular

FEW_CUSTOMERS_UP_TO, MANY_CUSTOMERS_FROM = 25, 80  # the owner's active (not churned) accounts
LOW_MARGIN_BELOW, HIGH_MARGIN_FROM = Decimal("0.15"), Decimal("0.35")  # gross profit / amount of won deals


def won_in_window(user: User, today: date) -> ColumnElement[int]:
    """The account's won deals `user` may see, won in the twelve months up to today (a correlated count)."""
    return (
        select(func.count(Deal.id))
        .where(
            Deal.account_id == Account.id,
            Deal.won_on.is_not(None),
            Deal.won_on > today - timedelta(days=FREQUENCY_WINDOW_DAYS),
            Deal.won_on <= today,
            deals_visible_to(user),
        )
        .correlate(Account)
        .scalar_subquery()
    )


def frequency_class(won: ColumnElement[int]) -> ColumnElement[str]:
    """The frequency key for a count of won deals, in SQL, so the list filters and shows it in one statement."""
    return case(
        (won >= REGULAR_FROM, "regular"),
        (won >= OCCASIONAL_FROM, "occasional"),
        (won >= 1, "one_time"),
        else_=NO_PURCHASE,
    )


def frequency_of(user: User, account: Account, today: date) -> tuple[str, int]:
    """One account's frequency key and the won deals it counts."""
    won = won_in_window(user, today)
    row = db.session.execute(select(frequency_class(won), won).where(Account.id == account.id)).one()
    return str(row[0]), int(row[1])


@dataclass(frozen=True)
class Advice:
    """The relationship level the method advises for an account, and what it was read from."""

    level: str
    customers: int  # the owner's active accounts
    customer_load: str  # "few" | "some" | "many"
    margin: Decimal | None  # None: no won deal has a gross profit entered
    margin_band: str | None  # "low" | "medium" | "high"


def _load(customers: int) -> tuple[str, int]:
    if customers <= FEW_CUSTOMERS_UP_TO:
        return "few", 2
    if customers >= MANY_CUSTOMERS_FROM:
        return "many", 0
    return "some", 1


def _band(margin: Decimal | None) -> tuple[str | None, int]:
    if margin is None:
        return None, 1
    if margin < LOW_MARGIN_BELOW:
        return "low", 0
    if margin >= HIGH_MARGIN_FROM:
        return "high", 2
    return "medium", 1


def account_margin(user: User, account: Account) -> Decimal | None:
    """Gross profit over amount across the account's won deals (that `user` sees) with a gross profit entered."""
    profit, amount = db.session.execute(
        select(func.sum(Deal.gross_profit), func.sum(Deal.amount)).where(
            Deal.account_id == account.id,
            Deal.won_on.is_not(None),
            Deal.gross_profit.is_not(None),
            Deal.amount > 0,
            deals_visible_to(user),
        )
    ).one()
    if profit is None or not amount:
        return None
    return Decimal(profit) / Decimal(amount)  # unrounded: a band's edge is decided on the exact ratio


def advise(user: User, account: Account) -> Advice:
    """Advise a level from how many customers the owner looks after and the margin this one brings."""
    customers = (
        db.session.scalar(
            select(func.count()).where(Account.owner_id == account.owner_id, Account.churned_on.is_(None))
        )
        or 0
    )
    load, load_step = _load(customers)
    margin = account_margin(user, account)
    band, margin_step = _band(margin)
    return Advice(RELATIONSHIP_KEYS[load_step + margin_step], customers, load, margin, band)
