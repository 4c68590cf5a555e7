"""The company's funnel figures from the kept counts, with the deals changed since laid over them live."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, TypeVar

from flask import has_request_context, request
from sqlalchemy import func, literal, select, union_all
from sqlalchemy.orm import Session

from pipeline.core.timeutil import team_zone
from pipeline.deals.method import STAGE_KEYS
from pipeline.reports.rollup import store
from pipeline.reports.rollup.contribution import NEXT_STAGE, Delta
from pipeline.reports.rollup.models import (
    RollupDeal,
    RollupEntryCount,
    RollupLostCount,
    RollupStageTotal,
    RollupStay,
    RollupStayCount,
    RollupWonCount,
)

log = logging.getLogger(__name__)
T = TypeVar("T")
K = TypeVar("K")
DAY_SECONDS = 86400.0
OVERLAY_CAP = 2000  # pending deals a report reads live; beyond that it folds them in first
INLINE_CAP = 10_000  # beyond this many, folding them in is a job for `pipeline reports refresh`
ATTEMPTS = 3


@dataclass(frozen=True)
class StayFigures:
    """The stays in a stage that ended in a period: how many, median and 90th percentile in days."""

    count: int
    median: float | None
    p90: float | None


@dataclass(frozen=True)
class EntryFigures:
    """Of the deals that entered a stage in a period (once each): how many, moved on, lost there."""

    entered: int
    reached: int
    lost: int


@dataclass(frozen=True)
class OutcomeFigures:
    """The period's standing wins and losses, their amounts in cents, and the median sales cycle in days."""

    won: int
    won_cents: int
    lost: int
    lost_cents: int
    cycle_days: float | None


class Kept:
    """The kept counts as one consistent reading: the counts in the tables plus the pending deals' changes."""

    def __init__(self, session: Session, delta: Delta) -> None:
        self.session = session
        self.delta = delta

    # -- the pipeline now --------------------------------------------------------------------------------------

    def stage_totals(self) -> dict[str, tuple[int, int]]:
        """Each board stage's deal count and amount in cents, as things stand."""
        found = {s: [0, 0] for s in STAGE_KEYS}
        for stage, n, cents in self.session.execute(
            select(RollupStageTotal.stage, RollupStageTotal.n, RollupStageTotal.cents)
        ):
            found[stage] = [int(n), int(cents)]
        for stage, (n, cents) in self.delta.stage_totals.items():
            found[stage][0] += n
            found[stage][1] += cents
        return {s: (n, cents) for s, (n, cents) in found.items()}

    # -- the period's stays, entries and outcomes -------------------------------------------------------------

    def stays(self, first: date, last: date) -> dict[str, StayFigures]:
        """Per stage, the stays that ended on the local days first … last."""
        c = RollupStayCount
        counts: defaultdict[str, defaultdict[int, int]] = defaultdict(lambda: defaultdict(int))
        rows = self.session.execute(
            select(c.stage, c.bucket, func.sum(c.n)).where(c.day >= first, c.day <= last).group_by(c.stage, c.bucket)
        )
        for stage, bucket, n in rows:
            counts[stage][bucket] += int(n)
        for (day, stage, bucket), n in self.delta.stay_counts.items():
            if first <= day <= last:
                counts[stage][bucket] += n
        wanted = {stage: _ranks(by_bucket, (50, 90)) for stage, by_bucket in counts.items()}
        t = RollupStay.__table__.c
        added = [((x.stage, x.bucket), x.seconds) for x in self.delta.stays if first <= x.day <= last]
        picked = _nth_values(
            self.session,
            {(stage, p): ((stage, b), rank) for stage, picks in wanted.items() for p, (b, rank) in picks.items()},
            lambda stage, bucket: (t.seconds, [t.stage == stage, t.bucket == bucket, t.day >= first, t.day <= last]),
            added,
            [],
        )
        out = {}
        for stage in wanted:
            n = sum(counts[stage].values())
            if n:
                out[stage] = StayFigures(n, picked[(stage, 50)] / DAY_SECONDS, picked[(stage, 90)] / DAY_SECONDS)
        return out

    def entries(self, first: date, last: date) -> dict[str, EntryFigures]:
        """Per stage of 确认 … 成交, the deals' first entries on the days first … last and what became of them."""
        c = RollupEntryCount
        found = {s: [0, 0, 0] for s in NEXT_STAGE}
        rows = self.session.execute(
            select(c.stage, func.sum(c.entered), func.sum(c.reached), func.sum(c.lost))
            .where(c.day >= first, c.day <= last, c.previous_day < first)
            .group_by(c.stage)
        )
        for stage, entered, reached, lost in rows:
            found[stage] = [int(entered), int(reached), int(lost)]
        for (day, stage, previous), (entered, reached, lost) in self.delta.entry_counts.items():
            if first <= day <= last and previous < first:
                found[stage][0] += entered
                found[stage][1] += reached
                found[stage][2] += lost
        return {s: EntryFigures(*v) for s, v in found.items()}

    def outcomes(self, first: date, last: date) -> OutcomeFigures:
        """The standing wins and losses on the days first … last, and the median sales cycle of the wins."""
        w = RollupWonCount
        by_bucket: defaultdict[int, int] = defaultdict(int)
        won_cents = 0
        rows = self.session.execute(
            select(w.bucket, func.sum(w.n), func.sum(w.cents)).where(w.day >= first, w.day <= last).group_by(w.bucket)
        )
        for bucket, n, cents in rows:
            by_bucket[bucket] += int(n)
            won_cents += int(cents)
        for (day, bucket), (n, cents) in self.delta.won_counts.items():
            if first <= day <= last:
                by_bucket[bucket] += n
                won_cents += cents
        won = sum(by_bucket.values())
        cycle = None
        if won:
            bucket, rank = _ranks(by_bucket, (50,))[50]
            r = RollupDeal.__table__.c

            def won_where(_key: None, b: int) -> tuple[Any, list[Any]]:
                return r.won_seconds, [r.won_bucket == b, r.won_day >= first, r.won_day <= last]

            def within(changes: Sequence[tuple[date, int, float]]) -> list[tuple[tuple[None, int], float]]:
                return [((None, b), v) for day, b, v in changes if first <= day <= last]

            picked = _nth_values(
                self.session,
                {None: ((None, bucket), rank)},
                won_where,
                within(self.delta.wins_added),
                within(self.delta.wins_removed),
            )
            cycle = picked[None] / DAY_SECONDS
        lost_row = self.session.execute(
            select(func.sum(RollupLostCount.n), func.sum(RollupLostCount.cents)).where(
                RollupLostCount.day >= first, RollupLostCount.day <= last
            )
        ).one()
        lost, lost_cents = int(lost_row[0] or 0), int(lost_row[1] or 0)
        for day, (n, cents) in self.delta.lost_counts.items():
            if first <= day <= last:
                lost += n
                lost_cents += cents
        return OutcomeFigures(won, won_cents, lost, lost_cents, cycle)


def _ranks(by_bucket: dict[int, int], percents: Iterable[int]) -> dict[int, tuple[int, int]]:
    """For each percent, the bucket holding its nearest-rank value (⌈p·n/100⌉) and the value's rank within it."""
    n = sum(by_bucket.values())
    out: dict[int, tuple[int, int]] = {}
    for percent in percents:
        wanted = (n * percent + 99) // 100
        below = 0
        for bucket in sorted(by_bucket):
            if below + by_bucket[bucket] >= wanted:
                out[percent] = (bucket, wanted - below)
                break
            below += by_bucket[bucket]
    return out


def _nth_values(
    session: Session,
    picks: dict[K, tuple[tuple[Any, int], int]],
    where: Callable[[Any, int], tuple[Any, list[Any]]],
    added: Sequence[tuple[tuple[Any, int], float]],
    removed: Sequence[tuple[tuple[Any, int], float]],
) -> dict[K, float]:
    """Each pick's value: the value of rank `rank` (1-based) in its (key, bucket), as the counts stand.

    The database picks it (one small sorted read per bucket, all in one statement) unless pending deals add or
    take values in that bucket: then the bucket's values are read, the changes laid over them, and picked here.
    """
    touched = {kb for kb, _ in (*added, *removed)}
    out: dict[K, float] = {}
    in_db: list[Any] = []
    for name, (kb, rank) in picks.items():
        column, conditions = where(*kb)
        if kb in touched:
            values = [v for (v,) in session.connection().execute(select(column).where(*conditions))]
            for key, value in removed:
                if key == kb:
                    values.remove(value)
            values.extend(value for key, value in added if key == kb)
            values.sort()
            if not 1 <= rank <= len(values):
                raise RuntimeError(f"kept report figures inconsistent: rank {rank} of {len(values)} values")
            out[name] = values[rank - 1]
        else:
            ranked = select(column.label("value")).where(*conditions).order_by(column).offset(rank - 1).limit(1)
            in_db.append(select(literal(len(in_db)).label("pick"), ranked.subquery().c.value))
    if in_db:
        names = [name for name, (kb, _) in picks.items() if kb not in touched]
        rows = dict(session.connection().execute(union_all(*in_db) if len(in_db) > 1 else in_db[0]).all())
        for index, name in enumerate(names):
            if index not in rows:
                raise RuntimeError("kept report figures inconsistent: a counted bucket holds fewer values")
            out[name] = rows[index]
    return out


def read_kept(session: Session, read: Callable[[Kept], T]) -> T | None:
    """Read figures from the kept counts in one consistent view, or None when they cannot serve (live SQL then).

    They cannot serve when counted in another time zone, or when so many deals are pending that folding them in
    is a job for `pipeline reports refresh`. A refresh that lands mid-reading is noticed (its generation moved)
    and the reading starts again, so the counts and the pending deals laid over them always agree.
    """
    if store.counted_zone(session) not in (None, team_zone().key):
        return None
    for _ in range(ATTEMPTS):
        before = store.generation(session)
        waiting = store.pending_count(session, INLINE_CAP)
        if waiting > INLINE_CAP:
            log.warning("kept report figures: over %s deals pending; run `pipeline reports refresh`", INLINE_CAP)
            return None
        if waiting > OVERLAY_CAP:
            if not (has_request_context() and request.method == "GET"):
                return None  # a command or a write: never a second writer beside the caller's transaction
            _refresh_apart(session)
            continue
        result = read(Kept(session, store.delta_for(store.pending(session, OVERLAY_CAP))))
        if store.generation(session) == before:
            return result
    return None


def _refresh_apart(session: Session) -> None:
    """Fold the pending deals in on a connection of its own, committed apart from the caller's work."""
    with Session(bind=session.get_bind()) as own:
        store.refresh(own)
