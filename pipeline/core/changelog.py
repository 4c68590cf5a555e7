"""A field-change log: who changed which field of which record, from what to what, and when."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from pipeline.core.models import UTCDateTime, utcnow
from pipeline.extensions import db


class FieldChange(db.Model):
    """One field's change on a deal, account or contact; appended, never rewritten."""

    __tablename__ = "field_changes"
    __table_args__ = (
        Index("ix_field_changes_entity", "entity", "entity_id", "at"),
        Index("ix_field_changes_at", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    entity: Mapped[str] = mapped_column(String(20))
    entity_id: Mapped[int] = mapped_column()
    field: Mapped[str] = mapped_column(String(50))
    old_value: Mapped[str | None] = mapped_column(Text)
    new_value: Mapped[str | None] = mapped_column(Text)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # A deal's stage when its field changed: a repricing is undone in the stage it was made in, without a lookup.
    stage: Mapped[str | None] = mapped_column(String(20))


def as_text(value: Any) -> str | None:
    """Render a field value for the log so dates, money and keys read the same everywhere."""
    if value is None:
        return None
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def apply_changes(
    record: Any, entity: str, changes: dict[str, Any], user_id: int | None, at: datetime | None = None
) -> dict[str, tuple[str | None, str | None]]:
    """Set each field on `record` and log the ones whose value really changed; return those."""
    changed: dict[str, tuple[str | None, str | None]] = {}
    when = at or utcnow()
    for field, new in changes.items():
        old = getattr(record, field)
        if old == new:
            continue
        setattr(record, field, new)
        changed[field] = (as_text(old), as_text(new))
        stage = getattr(record, "stage", None) if entity == "deal" else None
        log_change(entity, record.id, field, old, new, user_id, at=when, stage=stage)
    return changed


def log_change(
    entity: str,
    entity_id: int,
    field: str,
    old: Any,
    new: Any,
    user_id: int | None,
    *,
    at: datetime | None = None,
    stage: str | None = None,
) -> FieldChange:
    """Append one change that is not a plain column (a record's tags, a worksheet's answer) to the log."""
    change = FieldChange(
        entity=entity,
        entity_id=entity_id,
        field=field,
        old_value=as_text(old),
        new_value=as_text(new),
        user_id=user_id,
        at=at or utcnow(),
        stage=stage,
    )
    db.session.add(change)
    return change
