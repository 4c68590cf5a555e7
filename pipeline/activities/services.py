"""Log calls, visits, e-mails, meetings and notes against deals, accounts and contacts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, func, select

from pipeline.accounts.models import Account, Contact
from pipeline.activities.models import ACTIVITY_KINDS, Activity
from pipeline.auth.models import User
from pipeline.core.errors import InvalidInput
from pipeline.core.models import utcnow
from pipeline.deals.models import Deal
from pipeline.extensions import db


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
) -> Activity:
    """Record one touch with the customer; the caller has already checked the actor may see the subject."""
    errors: dict[str, str] = {}
    if kind not in ACTIVITY_KINDS:
        errors["kind"] = f"one of {', '.join(ACTIVITY_KINDS)}"
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
    )
    db.session.add(activity)
    db.session.flush()
    return activity


def touches(deal_id: int) -> int:
    """How many activities a deal has had (the seeds: most sales close after the fifth call)."""
    return db.session.scalar(select(func.count()).where(Activity.deal_id == deal_id)) or 0


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
