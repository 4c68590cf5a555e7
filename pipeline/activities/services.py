"""Log calls, visits, e-mails, meetings and notes against deals, accounts and contacts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select

from pipeline.activities.models import ACTIVITY_KINDS, Activity
from pipeline.auth.models import User
from pipeline.core.errors import InvalidInput
from pipeline.core.models import utcnow
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
