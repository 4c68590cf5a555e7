"""Log calls, visits, e-mails, meetings and notes against deals, accounts and contacts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.orm import joinedload

from pipeline.accounts.models import Account, Contact
from pipeline.accounts.scales import CALL_RESULT_KEYS
from pipeline.activities.models import ACTIVITY_KINDS, TOUCH_KINDS, Activity
from pipeline.auth.models import User
from pipeline.core.errors import InvalidInput
from pipeline.core.models import utcnow
from pipeline.core.timeutil import local_date
from pipeline.deals import kept
from pipeline.deals.models import Deal
from pipeline.extensions import db

EARLIEST_YEAR = 2000  # nothing this product tracks happened before; also keeps time-zone arithmetic in range
TOO_EARLY, IN_THE_FUTURE = "too_early", "in_the_future"


def log_activity(
    actor: User,
    kind: str,
    summary: str,
    *,
    deal_id: int | None = None,
    account_id: int | None = None,
    contact_id: int | None = None,
    outcome: str = "",
    occurred_at: datetime | None = None,
    call_result: str | None = None,
) -> Activity:
    """Record one touch with the customer; the caller has already checked the actor may see the subject."""
    errors: dict[str, str] = {}
    if kind not in ACTIVITY_KINDS:
        errors["kind"] = f"one of {', '.join(ACTIVITY_KINDS)}"
    if call_result is not None and kind != "call":
        errors["call_result"] = "only a call has a result"
    elif call_result is not None and call_result not in CALL_RESULT_KEYS:
        errors["call_result"] = f"one of {', '.join(CALL_RESULT_KEYS)}"
    if not summary.strip():
        errors["summary"] = "say what happened"
    if deal_id is None and account_id is None and contact_id is None:
        errors["subject"] = "an activity belongs to a deal, an account or a contact"
    if errors:
        raise InvalidInput(errors)
    activity = Activity(
        kind=kind,
        summary=summary.strip(),
        outcome=outcome.strip(),
        deal_id=deal_id,
        account_id=account_id,
        contact_id=contact_id,
        user_id=actor.id,
        occurred_at=occurred_at or utcnow(),
        call_result=call_result,
    )
    db.session.add(activity)
    db.session.flush()
    if deal_id is not None:
        kept.note_activity(deal_id, activity.occurred_at)
    return activity


def touches(deal_id: int) -> int:
    """How many activities a deal has had (the seeds: most sales close after the fifth call)."""
    return db.session.scalar(select(func.count()).where(Activity.deal_id == deal_id)) or 0


def when_problem(occurred_at: datetime, today: date) -> str | None:
    """What is wrong with an activity's moment, if anything: it must have happened by today (team time zone).

    A touch is logged after it happened; planned work is the deal's next step. Later today is allowed (a
    meeting logged while it runs); any later date is refused, and so is anything before EARLIEST_YEAR.
    """
    if occurred_at.year < EARLIEST_YEAR:
        return TOO_EARLY
    if occurred_at.year > today.year or local_date(occurred_at) > today:
        return IN_THE_FUTURE
    return None


_WHEN_MESSAGES = {
    TOO_EARLY: f"not before {EARLIEST_YEAR}",
    IN_THE_FUTURE: "an activity is logged once it has happened: not after today",
}


def log_for_deal(
    actor: User,
    deal: Deal,
    kind: str,
    summary: str,
    *,
    contact_id: int | None = None,
    outcome: str = "",
    occurred_at: datetime | None = None,
    call_result: str | None = None,
) -> Activity:
    """Record one touch on a deal the caller has loaded through the actor's scope, with its account's contact."""
    when = occurred_at or utcnow()
    errors: dict[str, str] = {}
    problem = when_problem(when, local_date(utcnow()))
    if problem is not None:
        errors["occurred_at"] = _WHEN_MESSAGES[problem]
    if contact_id is not None:
        account_id = db.session.scalar(select(Contact.account_id).where(Contact.id == contact_id))
        if account_id != deal.account_id:
            errors["contact_id"] = f"no contact {contact_id} at this deal's account"
    if errors:
        raise InvalidInput(errors)
    return log_activity(
        actor,
        kind,
        summary,
        deal_id=deal.id,
        account_id=deal.account_id,
        contact_id=contact_id,
        outcome=outcome,
        occurred_at=when,
        call_result=call_result,
    )


def deal_activities(deal_id: int, limit: int | None = None) -> list[Activity]:
    """A deal's activities, the latest touch first, with who logged them and the contact (one query)."""
    query = (
        select(Activity)
        .where(Activity.deal_id == deal_id)
        .options(joinedload(Activity.user), joinedload(Activity.contact))
        .order_by(Activity.occurred_at.desc(), Activity.id.desc())
    )
    if limit is not None:
        query = query.limit(limit)
    return list(db.session.scalars(query))


def touch_summary(deal_id: int) -> tuple[int, datetime | None]:
    """How many touches a deal has had and when the latest was, in one query."""
    count, latest = db.session.execute(
        select(func.count(Activity.id), func.max(Activity.occurred_at)).where(Activity.deal_id == deal_id)
    ).one()
    if latest is not None and latest.tzinfo is None:  # max() comes back untyped: the column stores naive UTC
        latest = latest.replace(tzinfo=UTC)
    return count, latest


def touch_counts(deal_ids: list[int]) -> dict[int, tuple[int, int]]:
    """Each deal's (calls, touches): calls, visits, e-mails and meetings, notes left out; one query for all."""
    if not deal_ids:
        return {}
    is_call = func.sum(case((Activity.kind == "call", 1), else_=0))
    rows = db.session.execute(
        select(Activity.deal_id, is_call, func.count())
        .where(Activity.deal_id.in_(deal_ids), Activity.kind.in_(TOUCH_KINDS))
        .group_by(Activity.deal_id)
    )
    return {deal_id: (int(calls or 0), int(count)) for deal_id, calls, count in rows}


@dataclass(frozen=True)
class ActivityRow:
    """One activity as a list shows it: what, when, by whom, and on which deal, account or contact."""

    id: int
    kind: str
    occurred_at: datetime
    summary: str
    outcome: str
    who: str
    deal_id: int | None
    deal_title: str | None
    account_id: int | None
    account_name: str | None
    contact_id: int | None
    contact_name: str | None


def recent(where: ColumnElement[bool], limit: int) -> list[ActivityRow]:
    """The latest activities matching `where` (the caller scopes it), newest first, in one query."""
    account_id = func.coalesce(Activity.account_id, Deal.account_id, Contact.account_id)
    rows = db.session.execute(
        select(
            Activity.id,
            Activity.kind,
            Activity.occurred_at,
            Activity.summary,
            Activity.outcome,
            User.name.label("who"),
            Activity.deal_id,
            Deal.title.label("deal_title"),
            Account.id.label("account_id"),
            Account.name.label("account_name"),
            Activity.contact_id,
            Contact.name.label("contact_name"),
        )
        .join(User, User.id == Activity.user_id)
        .outerjoin(Deal, Deal.id == Activity.deal_id)
        .outerjoin(Contact, Contact.id == Activity.contact_id)
        .outerjoin(Account, Account.id == account_id)
        .where(where)
        .order_by(Activity.occurred_at.desc(), Activity.id.desc())
        .limit(limit)
    )
    return [ActivityRow(**row._asdict()) for row in rows]
