"""The kept figures' tables: daily counts per stage, the values percentiles need, and what each deal added."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, Float, ForeignKey, Index, Integer, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from pipeline.core.models import UTCDateTime
from pipeline.extensions import db


class RollupState(db.Model):
    """The one row (made by the migration) saying in which time zone the days were counted: another zone means
    counting again; none means nothing is counted yet."""

    __tablename__ = "rollup_state"

    id: Mapped[int] = mapped_column(primary_key=True)
    zone: Mapped[str | None] = mapped_column(String(64))
    generation: Mapped[int] = mapped_column(Integer, default=0)  # moves on with every refresh
    refreshed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class RollupDeal(db.Model):
    """What one deal has added to the counts so far, so a change can take the old share back out exactly."""

    __tablename__ = "rollup_deals"
    __table_args__ = (Index("ix_rollup_deals_won", "won_bucket", "won_day", "won_seconds"),)

    deal_id: Mapped[int] = mapped_column(ForeignKey("deals.id", ondelete="CASCADE"), primary_key=True)
    event_id: Mapped[int] = mapped_column(Integer, default=0)  # the newest history row counted
    stage: Mapped[str | None] = mapped_column(String(20))  # where it stood, if on the board
    cents: Mapped[int] = mapped_column(BigInteger, default=0)
    won_day: Mapped[date | None] = mapped_column(Date)
    won_bucket: Mapped[int | None] = mapped_column(SmallInteger)
    won_seconds: Mapped[float | None] = mapped_column(Float)  # the sales cycle: created → the standing win
    lost_day: Mapped[date | None] = mapped_column(Date)


class RollupStay(db.Model):
    """One ended stay (a history row leaving a stage), filed by day and length bucket for exact percentiles."""

    __tablename__ = "rollup_stays"
    __table_args__ = (Index("ix_rollup_stays_stage_bucket_day", "stage", "bucket", "day", "seconds"),)

    event_id: Mapped[int] = mapped_column(ForeignKey("stage_events.id", ondelete="CASCADE"), primary_key=True)
    stage: Mapped[str] = mapped_column(String(20))
    day: Mapped[date] = mapped_column(Date)
    bucket: Mapped[int] = mapped_column(SmallInteger)
    seconds: Mapped[float] = mapped_column(Float)


class RollupStayCount(db.Model):
    """How many stays in a stage ended on a local day, per length bucket."""

    __tablename__ = "rollup_stay_counts"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    stage: Mapped[str] = mapped_column(String(20), primary_key=True)
    bucket: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    n: Mapped[int] = mapped_column(Integer, default=0)


class RollupEntryCount(db.Model):
    """Entries to a stage on a local day, by the day of the deal's previous entry to it (a period counts the
    first entry inside it only), and how many of them later reached the next stage or were lost from it."""

    __tablename__ = "rollup_entry_counts"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    stage: Mapped[str] = mapped_column(String(20), primary_key=True)
    previous_day: Mapped[date] = mapped_column(Date, primary_key=True)  # date.min: no earlier entry
    entered: Mapped[int] = mapped_column(Integer, default=0)
    reached: Mapped[int] = mapped_column(Integer, default=0)
    lost: Mapped[int] = mapped_column(Integer, default=0)


class RollupWonCount(db.Model):
    """Deals whose standing win fell on a local day, per sales-cycle bucket, with their current amounts."""

    __tablename__ = "rollup_won_counts"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    bucket: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    n: Mapped[int] = mapped_column(Integer, default=0)
    cents: Mapped[int] = mapped_column(BigInteger, default=0)


class RollupLostCount(db.Model):
    """Deals lost (and still lost) on a local day, with their current amounts."""

    __tablename__ = "rollup_lost_counts"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    n: Mapped[int] = mapped_column(Integer, default=0)
    cents: Mapped[int] = mapped_column(BigInteger, default=0)


class RollupStageTotal(db.Model):
    """How many deals stand in each board stage now, and their amount."""

    __tablename__ = "rollup_stage_totals"

    stage: Mapped[str] = mapped_column(String(20), primary_key=True)
    n: Mapped[int] = mapped_column(Integer, default=0)
    cents: Mapped[int] = mapped_column(BigInteger, default=0)
