"""An activity logged against a deal, an account or a contact."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from pipeline.accounts.models import Contact
from pipeline.accounts.scales import CALL_RESULT_KEYS
from pipeline.auth.models import User
from pipeline.core.models import TimestampMixin, UTCDateTime, sql_in
from pipeline.deals.method import Choice
from pipeline.extensions import db

# Kinds of touch with the customer (客户维护: calls, visits, e-mail, meetings) and a note; labels live here only.
ACTIVITY_KIND_CHOICES: tuple[Choice, ...] = (
    Choice("call", "电话", "Call"),
    Choice("visit", "拜访", "Visit"),
    Choice("email", "邮件", "Email"),
    Choice("meeting", "会议", "Meeting"),
    Choice("note", "备注", "Note"),
)
ACTIVITY_KINDS: tuple[str, ...] = tuple(c.key for c in ACTIVITY_KIND_CHOICES)
ACTIVITY_KIND_BY_KEY: dict[str, Choice] = {c.key: c for c in ACTIVITY_KIND_CHOICES}
# What counts as a touch with the customer (a note is written down, not said to anyone).
TOUCH_KINDS: tuple[str, ...] = ("call", "visit", "email", "meeting")
# Seed 001: persist, most sales close after the fifth call.
CALLS_BEFORE_MOST_SALES_CLOSE = 5


def kind_label(key: str, locale: str = "zh") -> str:
    """An activity kind's name in the given language (the key itself if it is unknown)."""
    choice = ACTIVITY_KIND_BY_KEY.get(key)
    return choice.label(locale) if choice is not None else key


class Activity(TimestampMixin, db.Model):
    """One touch: what kind, when, what was said and what came of it."""

    __tablename__ = "activities"
    __table_args__ = (
        CheckConstraint("kind IN ('call', 'visit', 'email', 'meeting', 'note')", name="kind"),
        CheckConstraint("deal_id IS NOT NULL OR account_id IS NOT NULL OR contact_id IS NOT NULL", name="has_subject"),
        CheckConstraint(
            "call_result IS NULL OR (kind = 'call' AND " + sql_in("call_result", CALL_RESULT_KEYS) + ")",
            name="call_result",
        ),
        Index("ix_activities_contact_occurred", "contact_id", "occurred_at"),
        Index("ix_activities_deal_occurred", "deal_id", "occurred_at"),
        Index("ix_activities_account_occurred", "account_id", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))
    deal_id: Mapped[int | None] = mapped_column(ForeignKey("deals.id", ondelete="CASCADE"))
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="SET NULL"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), index=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    summary: Mapped[str] = mapped_column(Text, default="")
    outcome: Mapped[str] = mapped_column(Text, default="")
    call_result: Mapped[str | None] = mapped_column(String(10))  # calls only: answered, no answer, busy, declined

    user: Mapped[User] = relationship()
    contact: Mapped[Contact | None] = relationship()
