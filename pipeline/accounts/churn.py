"""Marking a customer lost (流失) with why and when, and taking the mark back; every change is logged."""

from __future__ import annotations

from datetime import date
from typing import Any

from pipeline.accounts.models import Account
from pipeline.accounts.scales import CHURN_REASON_KEYS
from pipeline.auth.models import User
from pipeline.core.changelog import apply_changes
from pipeline.core.errors import InvalidInput
from pipeline.extensions import db

CHURN_NOTE_MAX = 2000


def mark_churned(actor: User, account: Account, reason: str, on: date, note: str, today: date) -> dict[str, Any]:
    """Record that the customer left: the reason from the list, the day (not after today) and a note."""
    errors: dict[str, str] = {}
    if reason not in CHURN_REASON_KEYS:
        errors["reason"] = f"one of {', '.join(CHURN_REASON_KEYS)}"
    if not isinstance(on, date):
        errors["churned_on"] = "a date (YYYY-MM-DD)"
    elif on > today:
        errors["churned_on"] = "not after today"
    elif on.year < 2000:
        errors["churned_on"] = "not before 2000"
    if len(note or "") > CHURN_NOTE_MAX:
        errors["note"] = f"at most {CHURN_NOTE_MAX} characters"
    if errors:
        raise InvalidInput(errors)
    changes = {"churned_on": on, "churn_reason_key": reason, "churn_note": (note or "").strip()}
    changed = apply_changes(account, "account", changes, actor.id)
    db.session.flush()
    return changed


def unmark_churned(actor: User, account: Account) -> dict[str, Any]:
    """Take the mark back (the customer came back, or it was a mistake); the log keeps what it said."""
    changed = apply_changes(
        account, "account", {"churned_on": None, "churn_reason_key": None, "churn_note": ""}, actor.id
    )
    db.session.flush()
    return changed
