"""What care leaves behind: complaints worked through their steps, and satisfaction measured after a sale."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from pipeline.accounts.models import Account, Contact
from pipeline.accounts.scales import COMPLAINT_STATE_KEYS, RATER_KEYS
from pipeline.auth.models import User
from pipeline.core.models import TimestampMixin, UTCDateTime, sql_in, utcnow
from pipeline.deals.models import Deal
from pipeline.extensions import db

SEVERITIES = ("low", "normal", "high")
OCCASIONS = ("won", "follow_up", "other")


class Complaint(TimestampMixin, db.Model):
    """A customer's complaint (客户抱怨), moved 受理 → 核心事项 → 方案 → 认可 → 致歉关闭, each step timed."""

    __tablename__ = "complaints"
    __table_args__ = (
        CheckConstraint(sql_in("state", COMPLAINT_STATE_KEYS), name="state"),
        CheckConstraint(sql_in("severity", SEVERITIES), name="severity"),
        Index("ix_complaints_state_received", "state", "received_at"),
        Index("ix_complaints_owner_state", "owner_id", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    deal_id: Mapped[int | None] = mapped_column(ForeignKey("deals.id", ondelete="SET NULL"), index=True)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="SET NULL"), index=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    severity: Mapped[str] = mapped_column(String(10), default="normal")
    state: Mapped[str] = mapped_column(String(12), default="received")
    core_issue: Mapped[str] = mapped_column(Text, default="")  # 核心事项: what the customer really objects to
    solution: Mapped[str] = mapped_column(Text, default="")  # 方案: what we proposed
    closing_note: Mapped[str] = mapped_column(Text, default="")  # 致歉: the apology and what was agreed
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    understood_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # first response
    proposed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # resolution
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    __mapper_args__ = {"version_id_col": version}

    account: Mapped[Account] = relationship()
    deal: Mapped[Deal | None] = relationship()
    contact: Mapped[Contact | None] = relationship()
    owner: Mapped[User] = relationship()


class SatisfactionSurvey(db.Model):
    """The customer's satisfaction (1–5) and the five RATER dimensions (1–5) after a won deal or a follow-up."""

    __tablename__ = "satisfaction_surveys"
    __table_args__ = (
        CheckConstraint(sql_in("occasion", OCCASIONS), name="occasion"),
        CheckConstraint("satisfaction BETWEEN 1 AND 5", name="satisfaction"),
        *(CheckConstraint(f"{key} IS NULL OR {key} BETWEEN 1 AND 5", name=key) for key in RATER_KEYS),
        Index("ix_satisfaction_surveys_account_answered", "account_id", "answered_on"),
        Index("ix_satisfaction_surveys_user_answered", "user_id", "answered_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    deal_id: Mapped[int | None] = mapped_column(ForeignKey("deals.id", ondelete="SET NULL"), index=True)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="SET NULL"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))  # the rep who asked
    occasion: Mapped[str] = mapped_column(String(10), default="won")
    answered_on: Mapped[date] = mapped_column(Date)
    satisfaction: Mapped[int] = mapped_column(Integer)
    reliability: Mapped[int | None] = mapped_column(Integer)
    assurance: Mapped[int | None] = mapped_column(Integer)
    tangibles: Mapped[int | None] = mapped_column(Integer)
    empathy: Mapped[int | None] = mapped_column(Integer)
    responsiveness: Mapped[int | None] = mapped_column(Integer)
    comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    account: Mapped[Account] = relationship()
    deal: Mapped[Deal | None] = relationship()
    contact: Mapped[Contact | None] = relationship()
    user: Mapped[User] = relationship()
