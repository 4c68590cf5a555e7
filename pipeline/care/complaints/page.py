"""The complaint page's contents: the steps as progress, the times, and the history as people read it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from pipeline.accounts.scales import COMPLAINT_STATES
from pipeline.auth.models import User
from pipeline.care.complaints import services as services
from pipeline.care.complaints import workflow as workflow
from pipeline.care.models import Complaint
from pipeline.extensions import db

FIELD_NAMES = {
    "state": _l("Step"),
    "core_issue": _l("Core issue"),
    "solution": _l("Solution"),
    "closing_note": _l("Apology and what was agreed"),
    "owner_id": _l("Owner"),
    services.REJECTION: _l("Solution rejected"),
}


@dataclass(frozen=True)
class ProgressStep:
    """One state of the method as a step on the page: passed, current or ahead, and when it was reached."""

    key: str
    label: str
    state: str
    at: datetime | None


def progress(complaint: Complaint, locale: str) -> list[ProgressStep]:
    """The five states in order, each with the moment the complaint reached it."""
    here = (
        workflow.OPEN_STATES.index(complaint.state)
        if complaint.state in workflow.OPEN_STATES
        else len(COMPLAINT_STATES) - 1
    )
    moments = {
        workflow.RECEIVED: complaint.received_at,
        **{s: getattr(complaint, a) for s, a in workflow.STAMPS.items()},
    }
    steps = []
    for i, choice in enumerate(COMPLAINT_STATES):
        where = "passed" if i < here else "current" if i == here else "ahead"
        if complaint.state == workflow.CLOSED and choice.key == workflow.CLOSED:
            where = "passed"
        steps.append(ProgressStep(choice.key, choice.label(locale), where, moments.get(choice.key)))
    return steps


def hours(seconds: float | None) -> str:
    """A duration as people read it: minutes under an hour, hours under two days, days beyond."""
    if seconds is None:
        return "—"
    if seconds < 3600:
        return _("%(n)s min", n=round(seconds / 60))
    if seconds < 48 * 3600:
        return _("%(n)s h", n=f"{seconds / 3600:.1f}")
    return _("%(n)s days", n=f"{seconds / 86400:.1f}")


def times(complaint: Complaint) -> dict[str, str]:
    """The complaint's response and resolution times, in words."""
    return {
        "response": hours(workflow.response_seconds(complaint)),
        "resolution": hours(workflow.resolution_seconds(complaint)),
    }


def timeline(complaint: Complaint, locale: str) -> list[dict[str, Any]]:
    """Every step and change of the complaint, newest first, with names and states in words."""
    changes = services.history(complaint)
    ids = {c.user_id for c in changes} | {
        int(v) for c in changes if c.field == "owner_id" for v in (c.old_value, c.new_value) if v and v.isdigit()
    }
    people = dict(db.session.execute(select(User.id, User.name).where(User.id.in_(ids - {None}))).all())

    def shown(field: str, value: str | None) -> str:
        if value is None or value == "":
            return "—"
        if field == "state":
            return workflow.state_label(value, locale)
        if field == "owner_id" and value.isdigit():
            return people.get(int(value), value)
        return value

    entries = [
        {
            "at": c.at,
            "who": people.get(c.user_id, "") if c.user_id is not None else "",
            "field": c.field,
            "label": str(FIELD_NAMES.get(c.field, c.field)),
            "old": shown(c.field, c.old_value),
            "new": shown(c.field, c.new_value),
        }
        for c in changes
    ]
    return entries[::-1]
