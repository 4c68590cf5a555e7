"""The customers: accounts and the contacts who work there."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, CheckConstraint, Column, Date, ForeignKey, Index, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from pipeline.accounts.scales import CHURN_REASON_KEYS, QUALIFICATION_KEYS, RELATIONSHIP_KEYS
from pipeline.auth.models import User
from pipeline.core.models import TimestampMixin, UTCDateTime, sql_in, utcnow
from pipeline.extensions import db

ACCOUNT_KINDS = ("b2b", "b2c")


class Account(TimestampMixin, db.Model):
    """A company (B2B, 商业客户) or a person/household (B2C, 个人与家庭客户) with an owning rep."""

    __tablename__ = "accounts"
    __table_args__ = (
        CheckConstraint("kind IN ('b2b', 'b2c')", name="kind"),
        CheckConstraint(sql_in("relationship_level", RELATIONSHIP_KEYS), name="relationship_level"),
        CheckConstraint("churn_reason_key IS NULL OR " + sql_in("churn_reason_key", CHURN_REASON_KEYS), name="churn"),
        CheckConstraint("(churned_on IS NULL) = (churn_reason_key IS NULL)", name="churned_with_reason"),
        Index("ix_accounts_owner_churned", "owner_id", "churned_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    kind: Mapped[str] = mapped_column(String(3), default="b2b")
    industry: Mapped[str] = mapped_column(String(100), default="")
    region: Mapped[str] = mapped_column(String(100), default="")
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), index=True)
    # 关系水平: set by the rep; the level the number of customers and the margin advise is shown beside it.
    relationship_level: Mapped[str] = mapped_column(String(12), default="basic", server_default="basic")
    notes: Mapped[str] = mapped_column(Text, default="", server_default="")  # Markdown, rendered safely
    # 流失: marked lost by the rep, with why and when (an account flagged for no purchases is not marked).
    churned_on: Mapped[date | None] = mapped_column(Date)
    churn_reason_key: Mapped[str | None] = mapped_column(String(20))
    churn_note: Mapped[str] = mapped_column(Text, default="", server_default="")

    owner: Mapped[User] = relationship()
    contacts: Mapped[list[Contact]] = relationship(back_populates="account", order_by="Contact.id")
    tags: Mapped[list[Tag]] = relationship(secondary="account_tags", order_by="Tag.name")
    qualification: Mapped[Qualification | None] = relationship(back_populates="account", cascade="all, delete-orphan")


class Contact(TimestampMixin, db.Model):
    """A person at an account: who they are and how to reach them."""

    __tablename__ = "contacts"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(String(100), default="")
    mobile: Mapped[str] = mapped_column(String(40), default="", index=True)
    phone: Mapped[str] = mapped_column(String(40), default="")
    email: Mapped[str] = mapped_column(String(254), default="", index=True)
    birthday: Mapped[date | None] = mapped_column(Date)
    address: Mapped[str] = mapped_column(String(300), default="")
    notes: Mapped[str] = mapped_column(Text, default="")

    account: Mapped[Account] = relationship(back_populates="contacts")
    tags: Mapped[list[Tag]] = relationship(secondary="contact_tags", order_by="Tag.name")


class Tag(db.Model):
    """A user-defined group or tag (重要客户, 集团客户, 家人, 朋友 …); accounts and contacts carry any number."""

    __tablename__ = "tags"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


account_tags = Table(
    "account_tags",
    db.metadata,
    Column("account_id", ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True),
    Column("tag_id", ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True, index=True),
)
contact_tags = Table(
    "contact_tags",
    db.metadata,
    Column("contact_id", ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True),
    Column("tag_id", ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class Qualification(db.Model):
    """An account's 潜力客户工作表: seven yes/no criteria, one point each."""

    __tablename__ = "qualifications"

    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True)
    # Declared before the criterion named `relationship`, which shadows the ORM function below it.
    account: Mapped[Account] = relationship(back_populates="qualification")
    growth: Mapped[bool] = mapped_column(Boolean, default=False)
    business_plan: Mapped[bool] = mapped_column(Boolean, default=False)
    funding: Mapped[bool] = mapped_column(Boolean, default=False)
    opportunities: Mapped[bool] = mapped_column(Boolean, default=False)
    solution_fit: Mapped[bool] = mapped_column(Boolean, default=False)
    our_competitiveness: Mapped[bool] = mapped_column(Boolean, default=False)
    relationship: Mapped[bool] = mapped_column(Boolean, default=False)
    note: Mapped[str] = mapped_column(Text, default="")
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    @property
    def score(self) -> int:
        """Points out of seven."""
        return sum(bool(getattr(self, key)) for key in QUALIFICATION_KEYS)
