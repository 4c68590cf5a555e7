"""Who uses the pipeline: users with a role, grouped in teams, and their API tokens."""

from __future__ import annotations

import enum
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from pipeline.core.models import TimestampMixin, UTCDateTime, utcnow
from pipeline.extensions import db


class Role(enum.StrEnum):
    """What a user may see: their own records, their team's, or everything."""

    REP = "rep"
    LEAD = "lead"
    ADMIN = "admin"


class Team(TimestampMixin, db.Model):
    """A sales team; its lead reviews the team's deals."""

    __tablename__ = "teams"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    lead_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", use_alter=True, ondelete="SET NULL"), index=True)

    lead: Mapped[User | None] = relationship(foreign_keys=[lead_id], post_update=True)
    members: Mapped[list[User]] = relationship(back_populates="team", foreign_keys="User.team_id")


class User(UserMixin, TimestampMixin, db.Model):
    """A person who signs in: a rep, a team lead or an admin."""

    __tablename__ = "users"
    __table_args__ = (CheckConstraint("role IN ('rep', 'lead', 'admin')", name="role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(10), default=Role.REP)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id", ondelete="SET NULL"), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    locale: Mapped[str] = mapped_column(String(10), default="zh")
    # Part of every session's user id: bumping it (sign-out, disabling, a new password) ends all the user's sessions.
    session_epoch: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # SHA-256 of the secret in the user's calendar (.ics) feed address; None until they ask for one.
    calendar_token_hash: Mapped[str | None] = mapped_column(String(64), index=True, unique=True)

    team: Mapped[Team | None] = relationship(back_populates="members", foreign_keys=[team_id])

    @property
    def is_active(self) -> bool:  # Flask-Login: a disabled user is locked out at once
        return self.active

    def get_id(self) -> str:
        """What the session cookie names: "<id>:<epoch>", so bumping the epoch ends every session at once."""
        return f"{self.id}:{self.session_epoch}"

    @property
    def is_lead_or_admin(self) -> bool:
        return self.role in (Role.LEAD, Role.ADMIN)

    def __repr__(self) -> str:
        return f"<User {self.email} {self.role}>"


class ApiToken(db.Model):
    """A bearer token for the JSON API; only its SHA-256 is kept, the token itself is shown once."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()
