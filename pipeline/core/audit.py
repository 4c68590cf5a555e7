"""The audit log: who did what to which data, and when; appended by the services, never changed by the app.

Refused requests (a failed sign-in, a record out of reach, a bad API token, a missing CSRF token) are logged
too: `refused` notes them during the request and `write_refusals` appends them after the request's own work was
rolled back, in a short transaction that holds nothing else.
"""

from __future__ import annotations

import getpass
import logging
from datetime import datetime
from typing import Any

from flask import g, has_request_context, request
from sqlalchemy import JSON, ForeignKey, Index, String, event
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Mapped, mapped_column

from pipeline.core.models import UTCDateTime, utcnow
from pipeline.extensions import db

log = logging.getLogger(__name__)

APPEND_ONLY = "audit_events is append-only"
ANONYMOUS = "anonymous"  # the actor of a refused request that named no user
MAX_TEXT = 200  # a path, an e-mail or a reason from a request is cut here: the log never holds unbounded input
_PENDING = "pipeline_audit_refusals"


class AuditEvent(db.Model):
    """One audited act: an export today; every sensitive act as the log grows (issue 8)."""

    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_action_at", "action", "at"),
        Index("ix_audit_events_user_at", "user_id", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    actor: Mapped[str] = mapped_column(String(200))  # the user's e-mail, or "cli:<os user>" for a command
    via: Mapped[str] = mapped_column(String(10))  # web, api or cli
    action: Mapped[str] = mapped_column(String(50))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


def cli_actor() -> str:
    """Who ran a command: the operating-system account, since a command signs in as nobody."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no name for this uid (a bare container)
        return "cli:?"


def _event(action: str, via: str, user: Any, actor: str | None, details: dict[str, Any]) -> AuditEvent:
    return AuditEvent(
        action=action,
        via=via,
        user_id=user.id if user is not None else None,
        actor=user.email if user is not None else (actor or cli_actor()),
        details=details,
    )


def record(action: str, *, via: str, user: Any = None, actor: str | None = None, **details: Any) -> AuditEvent:
    """Append one event to the log (flushed with the caller's transaction); `actor` names someone who is no user."""
    entry = _event(action, via, user, actor, details)
    db.session.add(entry)
    db.session.flush()
    return entry


def clipped(value: object) -> str:
    """Text from a request, cut to what the log keeps."""
    return str(value)[:MAX_TEXT]


def _requester() -> Any:
    """The user a refused request came from: the API token's, else the signed-in one, else nobody."""
    user = g.get("api_user")
    if user is None:
        from flask_login import current_user

        user = current_user._get_current_object() if getattr(current_user, "is_authenticated", False) else None
    return user


def refused(action: str, **details: Any) -> None:
    """Note a refused request for the log, with who, from where and what they asked for (written after rollback)."""
    via = "api" if request.path.startswith("/api/") else "web"
    where = {"method": request.method, "path": clipped(request.path), "address": clipped(request.remote_addr or "")}
    try:
        user = _requester()
    except SQLAlchemyError:  # the users table unreachable: the refusal still stands, logged without a name
        db.session.rollback()
        user = None
    g.setdefault(_PENDING, []).append((action, via, user, {**where, **details}))


def write_refusals() -> None:
    """Append the refusals this request noted, in a transaction of their own; a failure here is logged, not raised."""
    pending = g.pop(_PENDING, None) if has_request_context() else None
    if not pending:
        return
    try:
        db.session.add_all([_event(action, via, user, ANONYMOUS, details) for action, via, user, details in pending])
        db.session.commit()
    except SQLAlchemyError:
        db.session.rollback()
        log.exception("audit: could not log %d refused request(s)", len(pending))


@event.listens_for(AuditEvent, "before_update")
@event.listens_for(AuditEvent, "before_delete")
def _refuse_rewrite(mapper: Any, connection: Any, target: AuditEvent) -> None:
    """The log is append-only: the application never changes or removes an entry."""
    raise RuntimeError(APPEND_ONLY)
