"""Team-wide settings an admin may change (care cadence, churn threshold, tier rules), kept as JSON by key."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.types import JSON

from pipeline.core.models import UTCDateTime, utcnow
from pipeline.extensions import db


class Setting(db.Model):
    """One setting's current value; the defaults live in code beside the feature that reads them."""

    __tablename__ = "settings"

    key: Mapped[str] = mapped_column(String(50), primary_key=True)
    value: Mapped[Any] = mapped_column(JSON)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


def get_setting(key: str, default: Any) -> Any:
    """The stored value of `key`, or `default` when nobody has changed it."""
    row = db.session.get(Setting, key)
    return default if row is None else row.value


def set_setting(key: str, value: Any, user_id: int | None) -> None:
    """Store `value` under `key` (flushes; the caller commits)."""
    row = db.session.get(Setting, key)
    if row is None:
        db.session.add(Setting(key=key, value=value, updated_by_id=user_id))
    else:
        row.value = value
        row.updated_by_id = user_id
    db.session.flush()
