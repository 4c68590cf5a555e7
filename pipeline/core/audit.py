"""The audit log: who did what to which data, and when; appended by the services, never changed by the app."""

from __future__ import annotations

import getpass
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, event
from sqlalchemy.orm import Mapped, mapped_column

from pipeline.core.models import UTCDateTime, utcnow
from pipeline.extensions import db

APPEND_ONLY = "audit_events is append-only"


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


def record(action: str, *, via: str, user: Any = None, **details: Any) -> AuditEvent:
    """Append one event to the log (flushed with the caller's transaction)."""
    entry = AuditEvent(
        action=action,
        via=via,
        user_id=user.id if user is not None else None,
        actor=user.email if user is not None else cli_actor(),
        details=details,
    )
    db.session.add(entry)
    db.session.flush()
    return entry


@event.listens_for(AuditEvent, "before_update")
@event.listens_for(AuditEvent, "before_delete")
def _refuse_rewrite(mapper: Any, connection: Any, target: AuditEvent) -> None:
    """The log is append-only: the application never changes or removes an entry."""
    raise RuntimeError(APPEND_ONLY)
