"""Deals, their per-stage checklists, lost reasons and the append-only stage history."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    event,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from pipeline.accounts.models import Account, Contact
from pipeline.auth.models import User
from pipeline.core.models import Money, TimestampMixin, UTCDateTime, sql_in, utcnow
from pipeline.deals.method import (
    ALL_STATES,
    ATTITUDE_KEYS,
    INFLUENCE_LEVEL_KEYS,
    INFLUENCE_ROLE_KEYS,
    STRATEGY_KEYS,
    WON_STATES,
)
from pipeline.extensions import db


class LostReason(db.Model):
    """Why deals are lost (输单原因): a list admins can edit, referred to by stable key."""

    __tablename__ = "lost_reasons"

    key: Mapped[str] = mapped_column(String(50), primary_key=True)
    label_zh: Mapped[str] = mapped_column(String(100))
    label_en: Mapped[str] = mapped_column(String(100))
    position: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    def label(self, locale: str = "zh") -> str:
        return self.label_en if locale.startswith("en") else self.label_zh


class ChecklistTemplate(db.Model):
    """One item of a stage's work from the method; whether it is required is configuration."""

    __tablename__ = "checklist_templates"
    __table_args__ = (
        CheckConstraint(sql_in("stage", tuple(k for k in ALL_STATES if k not in ("lost", "done"))), name="stage"),
        Index("ix_checklist_templates_stage_position", "stage", "position"),
    )

    key: Mapped[str] = mapped_column(String(50), primary_key=True)
    stage: Mapped[str] = mapped_column(String(20))
    label_zh: Mapped[str] = mapped_column(String(200))
    label_en: Mapped[str] = mapped_column(String(200))
    required: Mapped[bool] = mapped_column(Boolean, default=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    def label(self, locale: str = "zh") -> str:
        return self.label_en if locale.startswith("en") else self.label_zh


ROLLUP_PENDING = "rollup_version IS NULL OR rollup_version <> version"


class Deal(TimestampMixin, db.Model):
    """A sales opportunity with one account, moving through the five stages."""

    __tablename__ = "deals"
    __table_args__ = (
        CheckConstraint(sql_in("stage", tuple(ALL_STATES)), name="stage"),
        CheckConstraint("strategy IS NULL OR " + sql_in("strategy", STRATEGY_KEYS), name="strategy"),
        CheckConstraint("amount_cents >= 0", name="amount_not_negative"),
        CheckConstraint("length(currency) = 3", name="currency"),
        # Won exactly when in 跟进 or 完结; lost (with reason and origin) exactly when 输单.
        CheckConstraint(
            f"({sql_in('stage', WON_STATES)} AND won_on IS NOT NULL) "
            f"OR (stage NOT IN ('follow_up', 'done') AND won_on IS NULL)",
            name="won_on_iff_won",
        ),
        CheckConstraint(
            "(stage = 'lost' AND lost_on IS NOT NULL AND lost_reason_key IS NOT NULL "
            "AND lost_from_stage IS NOT NULL) "
            "OR (stage <> 'lost' AND lost_on IS NULL AND lost_reason_key IS NULL AND lost_from_stage IS NULL)",
            name="lost_iff_lost",
        ),
        # One rep's (or a team's) deals by stage, already in the order the board ranks them (stalest first).
        Index("ix_deals_owner_stage_entered", "owner_id", "stage", "stage_entered_at", "id"),
        Index("ix_deals_stage_entered", "stage", "stage_entered_at"),
        Index("ix_deals_expected_close", "expected_close_date"),
        Index("ix_deals_won_on", "won_on"),
        Index("ix_deals_lost_on", "lost_on"),
        Index("ix_deals_stage_owner_amount", "stage", "owner_id", "amount_cents"),  # the pipeline per stage, index-only
        # Deals whose share of the kept report figures is not counted as they stand (reports/rollup): few, found fast.
        Index(
            "ix_deals_rollup_pending",
            "id",
            postgresql_where=text(ROLLUP_PENDING),
            sqlite_where=text(ROLLUP_PENDING),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="RESTRICT"), index=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    title: Mapped[str] = mapped_column(String(200))
    amount: Mapped[Decimal] = mapped_column("amount_cents", Money, default=Decimal("0.00"))
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    expected_close_date: Mapped[date | None] = mapped_column(Date)
    stage: Mapped[str] = mapped_column(String(20), default="qualify")
    stage_entered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    strategy: Mapped[str | None] = mapped_column(String(30))
    strategy_rationale: Mapped[str] = mapped_column(Text, default="")
    competitors: Mapped[str] = mapped_column(Text, default="")
    next_step: Mapped[str] = mapped_column(Text, default="")
    next_step_due: Mapped[date | None] = mapped_column(Date)
    lost_reason_key: Mapped[str | None] = mapped_column(ForeignKey("lost_reasons.key", ondelete="RESTRICT"))
    lost_from_stage: Mapped[str | None] = mapped_column(String(20))
    won_on: Mapped[date | None] = mapped_column(Date)
    lost_on: Mapped[date | None] = mapped_column(Date)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    # What is sold and through whom (seed 002's sales by product line and channel); profit where it is entered.
    product_line: Mapped[str] = mapped_column(String(100), default="", server_default="")
    channel: Mapped[str] = mapped_column(String(100), default="", server_default="")
    gross_profit: Mapped[Decimal | None] = mapped_column("gross_profit_cents", Money)
    # The deal's id in the CRM it was imported from, so importing the same export twice adds nothing.
    import_ref: Mapped[str | None] = mapped_column(String(120), index=True, unique=True)

    # The version whose share the kept report figures count (reports/rollup); None: never counted.
    rollup_version: Mapped[int | None] = mapped_column(Integer)

    # Kept by deals/kept.py as the checklist and activities change, so a million-deal export aggregates nothing:
    # the current stage's required items done and in all, and the newest activity's moment.
    checklist_done: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    checklist_required: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_activity_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __mapper_args__ = {"version_id_col": version}

    account: Mapped[Account] = relationship()
    owner: Mapped[User] = relationship()
    lost_reason: Mapped[LostReason | None] = relationship()
    checklist: Mapped[list[DealChecklistItem]] = relationship(
        back_populates="deal", order_by="DealChecklistItem.id", cascade="all, delete-orphan"
    )

    def __repr__(self) -> str:
        return f"<Deal {self.id} {self.stage} v{self.version}>"


class DealChecklistItem(db.Model):
    """A deal's copy of one checklist item, created when the deal enters the item's stage."""

    __tablename__ = "deal_checklist_items"
    __table_args__ = (UniqueConstraint("deal_id", "item_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    deal_id: Mapped[int] = mapped_column(ForeignKey("deals.id", ondelete="CASCADE"))
    item_key: Mapped[str] = mapped_column(ForeignKey("checklist_templates.key", ondelete="RESTRICT"), index=True)
    stage: Mapped[str] = mapped_column(String(20))
    done: Mapped[bool] = mapped_column(Boolean, default=False)
    done_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    note: Mapped[str] = mapped_column(Text, default="")

    deal: Mapped[Deal] = relationship(back_populates="checklist")
    template: Mapped[ChecklistTemplate] = relationship()
    done_by: Mapped[User | None] = relationship()


class StageEvent(db.Model):
    """One move of a deal, kept forever: never updated or deleted (the database refuses too)."""

    __tablename__ = "stage_events"
    __table_args__ = (
        Index("ix_stage_events_deal_id_id", "deal_id", "id"),
        Index("ix_stage_events_to_stage_at", "to_stage", "at"),
        Index("ix_stage_events_at", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    deal_id: Mapped[int] = mapped_column(ForeignKey("deals.id", ondelete="RESTRICT"))
    from_stage: Mapped[str | None] = mapped_column(String(20))
    to_stage: Mapped[str] = mapped_column(String(20))
    trigger: Mapped[str] = mapped_column(String(20))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # When the deal had entered `from_stage`: the stay this move ends, so time in a stage is one subtraction.
    from_entered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(Text, default="")
    lost_reason_key: Mapped[str | None] = mapped_column(ForeignKey("lost_reasons.key", ondelete="RESTRICT"))
    amount: Mapped[Decimal] = mapped_column("amount_cents", Money)
    override: Mapped[bool] = mapped_column(Boolean, default=False)
    overridden: Mapped[list[str]] = mapped_column(JSON, default=list)  # keys of what the override waived

    user: Mapped[User | None] = relationship()


class BuyingInfluence(TimestampMixin, db.Model):
    """One of the customer's people in this deal's decision: their role, attitude, influence and our depth with them."""

    __tablename__ = "buying_influences"
    __table_args__ = (
        UniqueConstraint("deal_id", "contact_id", "role"),
        CheckConstraint(sql_in("role", INFLUENCE_ROLE_KEYS), name="role"),
        CheckConstraint(sql_in("attitude", ATTITUDE_KEYS), name="attitude"),
        CheckConstraint(sql_in("influence", INFLUENCE_LEVEL_KEYS), name="influence"),
        CheckConstraint("depth BETWEEN 1 AND 5", name="depth"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    deal_id: Mapped[int] = mapped_column(ForeignKey("deals.id", ondelete="CASCADE"), index=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(20))
    attitude: Mapped[str] = mapped_column(String(10), default="neutral")
    influence: Mapped[str] = mapped_column(String(10), default="medium")
    depth: Mapped[int] = mapped_column(Integer, default=1)
    note: Mapped[str] = mapped_column(Text, default="")

    contact: Mapped[Contact] = relationship()


@event.listens_for(StageEvent, "before_update")
@event.listens_for(StageEvent, "before_delete")
def _refuse_history_rewrite(mapper: Any, connection: Any, target: StageEvent) -> None:
    """History is append-only: the application never changes or removes a StageEvent."""
    raise RuntimeError("stage_events is append-only")
