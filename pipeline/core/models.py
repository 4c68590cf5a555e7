"""Declarative base, column types and mixins shared by every feature's models."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import BigInteger, DateTime, MetaData, event
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column
from sqlalchemy.types import TypeDecorator

from pipeline.core.errors import InvalidInput

# Stable constraint names so Alembic migrations can refer to (and drop) them on every database.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

CENT = Decimal("0.01")
MAX_ID = 2**31 - 1  # primary keys are 32-bit INTEGER on PostgreSQL


def sql_in(column: str, keys: Any) -> str:
    """A CHECK expression that `column` holds one of `keys` (the scales' keys, kept in step with the code)."""
    return f"{column} IN ({', '.join(repr(k) for k in keys)})"


def is_id(value: Any) -> bool:
    """Whether `value` could be a row id at all (so it is safe to hand to any database)."""
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_ID


def utcnow() -> datetime:
    """Return the current moment as an aware UTC datetime (the only kind we store)."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Store aware datetimes as naive UTC and hand them back aware, identically on SQLite and PostgreSQL."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where an aware one is required")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


class Money(TypeDecorator[Decimal]):
    """Keep amounts as whole cents in a BIGINT: exact sums on every database, never a float on the way."""

    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> int | None:
        if value is None:
            return None
        amount = Decimal(value)
        if amount != amount.quantize(CENT):
            raise ValueError(f"amount {value} has more than two decimal places")
        return int(amount.quantize(CENT) * 100)

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        return (Decimal(value) / 100).quantize(CENT, rounding=ROUND_HALF_UP)


class Base(DeclarativeBase):
    """Typed declarative base whose metadata names constraints predictably."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class TimestampMixin:
    """Created/updated moments, set by the application in UTC."""

    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow, nullable=False)


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, list | tuple):
        return any(_has_nul(v) for v in value)
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    return False


@event.listens_for(Session, "before_flush")
def _refuse_nul_text(session: Session, _context: Any, _instances: Any) -> None:
    """No text column may hold NUL (PostgreSQL refuses it mid-transaction): name the field, whoever the caller.

    Changed rows come before new ones and only the first offending row is named, so a change log row that
    copies the bad value never hides the field the user typed it into.
    """
    for obj in (*session.dirty, *session.new):
        wrong = {
            key: "contains a NUL character"
            for key, value in vars(obj).items()
            if not key.startswith("_") and _has_nul(value)
        }
        if wrong:
            raise InvalidInput(wrong)
