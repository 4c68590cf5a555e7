"""The customers: accounts and the contacts who work there."""

from __future__ import annotations

from datetime import date

from sqlalchemy import CheckConstraint, Date, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from pipeline.auth.models import User
from pipeline.core.models import TimestampMixin
from pipeline.extensions import db

ACCOUNT_KINDS = ("b2b", "b2c")


class Account(TimestampMixin, db.Model):
    """A company (B2B, 商业客户) or a person/household (B2C, 个人与家庭客户) with an owning rep."""

    __tablename__ = "accounts"
    __table_args__ = (CheckConstraint("kind IN ('b2b', 'b2c')", name="kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    kind: Mapped[str] = mapped_column(String(3), default="b2b")
    industry: Mapped[str] = mapped_column(String(100), default="")
    region: Mapped[str] = mapped_column(String(100), default="")
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), index=True)

    owner: Mapped[User] = relationship()
    contacts: Mapped[list[Contact]] = relationship(back_populates="account", order_by="Contact.id")


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
