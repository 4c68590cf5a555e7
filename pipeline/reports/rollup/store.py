"""Keeping the counts in step: which deals changed since they were counted, and folding their change in."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import BigInteger, Select, delete, func, or_, select, type_coerce, update
from sqlalchemy.orm import Session

from pipeline.core.models import utcnow
from pipeline.core.timeutil import team_zone
from pipeline.deals.models import Deal, StageEvent
from pipeline.reports.rollup.contribution import Counted, DealNow, Delta, Event, delta_of
from pipeline.reports.rollup.models import (
    RollupDeal,
    RollupEntryCount,
    RollupLostCount,
    RollupStageTotal,
    RollupState,
    RollupStay,
    RollupStayCount,
    RollupWonCount,
)

log = logging.getLogger(__name__)
STATE_ID = 1
BATCH = 2000  # deals folded in per transaction: a refresh never holds a deal's row for long

D, E, R = Deal.__table__.c, StageEvent.__table__.c, RollupDeal.__table__.c
# A deal whose share is not in the counts as it stands: never counted, or changed (its version moved) since.
PENDING = or_(D.rollup_version.is_(None), D.rollup_version != D.version)


@dataclass(frozen=True)
class Pending:
    """A changed deal as it stands, its history, and what the counts hold of it."""

    deal: DealNow
    version: int
    events: list[Event]
    counted: Counted | None


def pending_count(session: Session, cap: int) -> int:
    """How many deals are pending, counting no further than `cap` + 1."""
    first = select(D.id).where(PENDING).limit(cap + 1).subquery()
    return int(session.execute(select(func.count()).select_from(first)).scalar_one())


def _pending_query(limit: int) -> Select[Any]:
    """Up to `limit` pending deals with their counted share and whole history, in one statement (one snapshot)."""
    first = select(D.id).where(PENDING).order_by(D.id).limit(limit).subquery()
    return (
        select(
            D.id,
            D.stage,
            type_coerce(D.amount_cents, BigInteger).label("cents_now"),
            D.won_on,
            D.lost_on,
            D.created_at,
            D.version,
            R.deal_id.label("counted"),
            R.event_id,
            R.stage.label("counted_stage"),
            R.cents,
            R.won_day,
            R.won_bucket,
            R.won_seconds,
            R.lost_day,
            E.id.label("event"),
            E.from_stage,
            E.to_stage,
            E.at,
            E.from_entered_at,
        )
        .select_from(first)
        .join(Deal.__table__, D.id == first.c.id)
        .outerjoin(RollupDeal.__table__, R.deal_id == D.id)
        .outerjoin(StageEvent.__table__, E.deal_id == D.id)
        .order_by(D.id, E.id)
    )


def pending(session: Session, limit: int) -> list[Pending]:
    """The pending deals (at most `limit`), oldest id first."""
    out: list[Pending] = []
    for row in session.execute(_pending_query(limit)):
        if not out or out[-1].deal.id != row.id:
            counted = None
            if row.counted is not None:
                counted = Counted(
                    row.event_id,
                    row.counted_stage,
                    row.cents,
                    row.won_day,
                    row.won_bucket,
                    row.won_seconds,
                    row.lost_day,
                )
            deal = DealNow(row.id, row.stage, row.cents_now, row.won_on, row.lost_on, _aware(row.created_at))
            out.append(Pending(deal, row.version, [], counted))
        if row.event is not None:
            at, entered = _aware(row.at), row.from_entered_at
            out[-1].events.append(
                Event(row.event, row.from_stage, row.to_stage, at, None if entered is None else _aware(entered))
            )
    return out


def _aware(moment: datetime) -> datetime:
    """Core rows carry UTC moments without a zone (UTCDateTime's storage); the shares compare aware ones."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def delta_for(rows: Sequence[Pending]) -> Delta:
    """What these pending deals change in the counts."""
    return delta_of(((p.deal, p.events, p.counted) for p in rows), team_zone())


def counted_zone(session: Session) -> str | None:
    """The time zone the counts' days are in; None while nothing is counted (any zone will do then)."""
    return session.execute(select(RollupState.zone).where(RollupState.id == STATE_ID)).scalar()


def generation(session: Session) -> int:
    """A number that moves with every refresh, so a reader can tell the counts changed under it."""
    value = session.execute(select(RollupState.generation).where(RollupState.id == STATE_ID)).scalar()
    return int(value or 0)


# ---- Refreshing -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Refreshed:
    """What a refresh did."""

    deals: int
    stays: int
    batches: int
    rebuilt: bool


def refresh(
    session: Session, *, limit: int | None = None, batch: int = BATCH, commit: Callable[[], None] | None = None
) -> Refreshed:
    """Fold every pending deal (or the first `limit`) into the counts, a batch per committed transaction.

    Each batch first writes the state row (PostgreSQL: its row lock; SQLite: the write lock), so two refreshes
    never fold the same change twice; a deal moved while its batch ran stays pending and is folded next time.
    A changed time zone starts the counts again from nothing, since every day would fall differently.
    `commit` ends each batch (the session's commit; a test passes a flush to stay in its transaction).
    """
    commit = commit or session.commit
    zone = team_zone().key
    counted = counted_zone(session)
    commit()  # nothing held between reading and writing (SQLite refuses a read turned write under WAL)
    rebuilt = counted not in (None, zone)
    if rebuilt:
        rebuild(session, commit=commit)
    done = stays = batches = 0
    while limit is None or done < limit:
        _lock(session, zone)
        rows = pending(session, batch if limit is None else min(batch, limit - done))
        if not rows:
            commit()
            break
        delta = delta_for(rows)
        _apply(session, delta, {p.deal.id: p.version for p in rows})
        commit()
        done, stays, batches = done + len(rows), stays + len(delta.stays), batches + 1
    return Refreshed(done, stays, batches, rebuilt)


def _lock(session: Session, zone: str) -> None:
    """Take the state row for this transaction, the first statement of it, and move the generation on."""
    session.execute(
        update(RollupState)
        .where(RollupState.id == STATE_ID)
        .values(generation=RollupState.generation + 1, zone=zone, refreshed_at=utcnow())
    )


def rebuild(session: Session, *, commit: Callable[[], None] | None = None) -> None:
    """Forget every count and mark every deal pending, for the next refresh to count everything again."""
    commit = commit or session.commit
    commit()
    _lock(session, team_zone().key)
    _clear(session)
    commit()


def _clear(session: Session) -> None:
    """Empty every count and mark every deal pending (a rebuild)."""
    for model in (RollupStay, RollupStayCount, RollupEntryCount, RollupWonCount, RollupLostCount, RollupStageTotal):
        session.execute(delete(model))
    session.execute(delete(RollupDeal))
    session.execute(update(Deal.__table__).values(rollup_version=None, updated_at=D.updated_at))


def _write(
    session: Session, model: Any, rows: list[dict[str, Any]], keys: Sequence[str] = (), add: Sequence[str] = ()
) -> None:
    """Insert rows; on a key already there, add `add`'s numbers to it (or, with no `add`, overwrite the row).

    In bulk, beneath the ORM, since a refresh of a million deals writes millions of rows: PostgreSQL copies
    them into a temporary table and merges it in one statement; SQLite runs one prepared statement over them.
    """
    if not rows:
        return
    table = model.__table__
    columns = [c.name for c in table.columns]
    names = ", ".join(columns)
    conflict = ""
    if keys:
        changed = [f"{c} = {table.name}.{c} + excluded.{c}" for c in add] or [
            f"{c} = excluded.{c}" for c in columns if c not in keys
        ]
        conflict = f" ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {', '.join(changed)}"
    values = [tuple(row[c] for c in columns) for row in rows]
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        marks = ", ".join("?" for _ in columns)
        connection.exec_driver_sql(f"INSERT INTO {table.name} ({names}) VALUES ({marks}){conflict}", values)
        return
    scratch = f"rollup_in_{table.name}"
    connection.exec_driver_sql(
        f"CREATE TEMPORARY TABLE IF NOT EXISTS {scratch} (LIKE {table.name}) ON COMMIT DELETE ROWS"
    )
    raw = connection.connection.driver_connection
    with raw.cursor() as cursor, cursor.copy(f"COPY {scratch} ({names}) FROM STDIN") as copy:  # type: ignore[union-attr]
        for value in values:
            copy.write_row(value)
    connection.exec_driver_sql(f"INSERT INTO {table.name} ({names}) SELECT {names} FROM {scratch}{conflict}")
    connection.exec_driver_sql(f"TRUNCATE {scratch}")


def _apply(session: Session, delta: Delta, versions: dict[int, int]) -> None:
    """Write a delta into the counts and record each deal's new share."""
    _write(
        session,
        RollupStayCount,
        [{"day": d, "stage": s, "bucket": b, "n": n} for (d, s, b), n in delta.stay_counts.items() if n],
        ("day", "stage", "bucket"),
        ("n",),
    )
    _write(
        session,
        RollupStay,
        [
            {"event_id": s.event_id, "stage": s.stage, "day": s.day, "bucket": s.bucket, "seconds": s.seconds}
            for s in delta.stays
        ],
    )
    _write(
        session,
        RollupEntryCount,
        [
            {"day": d, "stage": s, "previous_day": p, "entered": c[0], "reached": c[1], "lost": c[2]}
            for (d, s, p), c in delta.entry_counts.items()
            if any(c)
        ],
        ("day", "stage", "previous_day"),
        ("entered", "reached", "lost"),
    )
    _write(
        session,
        RollupWonCount,
        [{"day": d, "bucket": b, "n": c[0], "cents": c[1]} for (d, b), c in delta.won_counts.items() if any(c)],
        ("day", "bucket"),
        ("n", "cents"),
    )
    _write(
        session,
        RollupLostCount,
        [{"day": d, "n": c[0], "cents": c[1]} for d, c in delta.lost_counts.items() if any(c)],
        ("day",),
        ("n", "cents"),
    )
    _write(
        session,
        RollupStageTotal,
        [{"stage": s, "n": c[0], "cents": c[1]} for s, c in delta.stage_totals.items() if any(c)],
        ("stage",),
        ("n", "cents"),
    )
    _write(
        session,
        RollupDeal,
        [
            {
                "deal_id": deal_id,
                "event_id": c.event_id,
                "stage": c.stage,
                "cents": c.cents,
                "won_day": c.won_day,
                "won_bucket": c.won_bucket,
                "won_seconds": c.won_seconds,
                "lost_day": c.lost_day,
            }
            for deal_id, c in delta.counted.items()
        ],
        ("deal_id",),
    )
    # Counted as of the version read; a deal moved since keeps its newer version and so stays pending.
    by_version: dict[int, list[int]] = {}
    for deal_id, version in versions.items():
        by_version.setdefault(version, []).append(deal_id)
    for version, ids in by_version.items():
        session.execute(
            update(Deal.__table__)
            .where(D.id.in_(ids), D.version == version)
            .values(rollup_version=version, updated_at=D.updated_at)
        )
