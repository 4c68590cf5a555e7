"""Who is due for contact (该联系了): accounts not touched within their revisit interval, important ones first."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import ColumnElement, Subquery, func, select

from pipeline.accounts.models import Account, Contact
from pipeline.activities.models import TOUCH_KINDS, Activity
from pipeline.auth.models import User
from pipeline.auth.scope import accounts_visible_to
from pipeline.care.cadence import Intervals, current_intervals
from pipeline.care.importance import importance_of
from pipeline.core.timeutil import local_date
from pipeline.deals.models import Deal
from pipeline.extensions import db


@dataclass(frozen=True)
class DueAccount:
    """One account on the due list: why it is due and how important it is."""

    account_id: int
    name: str
    owner_id: int
    owner_name: str
    relationship_level: str
    tier: str
    rank: int
    interval_days: int
    last_touch: date | None  # None: never touched
    due_on: date | None  # None: due since it was added, never touched
    overdue_days: int | None  # None when never touched; 0 when due today or later

    def is_due(self, today: date) -> bool:
        """Never touched, or the interval has run out by today."""
        return self.due_on is None or self.due_on <= today


def touched_account() -> ColumnElement[int]:
    """The account an activity is about: its own, else its deal's, else its contact's."""
    return func.coalesce(Activity.account_id, Deal.account_id, Contact.account_id)


def last_touches(accounts: ColumnElement[bool]) -> Subquery:
    """The latest customer touch (calls, visits, e-mails, meetings; notes are not) per account, as a subquery."""
    subject = touched_account()
    return (
        select(subject.label("account_id"), func.max(Activity.occurred_at).label("last_at"))
        .select_from(Activity)
        .outerjoin(Deal, Deal.id == Activity.deal_id)
        .outerjoin(Contact, Contact.id == Activity.contact_id)
        .where(Activity.kind.in_(TOUCH_KINDS), subject.in_(select(Account.id).where(accounts)))
        .group_by(subject)
        .subquery()
    )


def _aware(moment: datetime | None) -> datetime | None:
    """max() comes back untyped on SQLite: the column stores naive UTC."""
    return moment.replace(tzinfo=UTC) if moment is not None and moment.tzinfo is None else moment


def due_accounts(
    user: User, today: date, *, owner_id: int | None = None, intervals: Intervals | None = None
) -> list[DueAccount]:
    """Every account in the user's scope (of one owner, if given) that is due, in the order to work them:
    the most important first, then the longest overdue (never touched counts as the most overdue)."""
    return [d for d in revisits(user, today, owner_id=owner_id, intervals=intervals) if d.is_due(today)]


def revisits(
    user: User, today: date, *, owner_id: int | None = None, intervals: Intervals | None = None
) -> list[DueAccount]:
    """Every live account in the user's scope (of one owner, if given) with its next revisit, in working order.

    A fixed number of queries whatever the number of accounts (the cadence, the accounts with their latest touch,
    their value tiers); the list is ordered and cut into pages in Python, since the tier rules live there.
    """
    cadence = intervals or current_intervals()
    scope = accounts_visible_to(user)
    conditions = [scope, Account.churned_on.is_(None)]
    if owner_id is not None:
        conditions.append(Account.owner_id == owner_id)
    touches = last_touches(scope if owner_id is None else scope & (Account.owner_id == owner_id))
    rows = db.session.execute(
        select(
            Account.id,
            Account.name,
            Account.owner_id,
            User.name.label("owner_name"),
            Account.relationship_level,
            touches.c.last_at,
        )
        .join(User, User.id == Account.owner_id)
        .outerjoin(touches, touches.c.account_id == Account.id)
        .where(*conditions)
    ).all()
    importance = importance_of(user, [r.id for r in rows], today)
    found: list[DueAccount] = []
    for row in rows:
        rank = importance[row.id]
        days = cadence.days(row.relationship_level, rank.tier)
        last_at = _aware(row.last_at)
        last = local_date(last_at) if last_at is not None else None
        due_on = last + timedelta(days=days) if last is not None else None
        found.append(
            DueAccount(
                account_id=row.id,
                name=row.name,
                owner_id=row.owner_id,
                owner_name=row.owner_name,
                relationship_level=row.relationship_level,
                tier=rank.tier,
                rank=rank.rank,
                interval_days=days,
                last_touch=last,
                due_on=due_on,
                overdue_days=max((today - due_on).days, 0) if due_on is not None else None,
            )
        )
    never = 10**9
    found.sort(key=lambda d: (d.rank, -(d.overdue_days if d.overdue_days is not None else never), d.name, d.account_id))
    return found
