"""One deal's share of the company's figures, and what changed in it since it was last counted (pure Python).

The shares follow docs/reports.md exactly; the SQL reports and the brute force in the tests are the other
two readings of the same definitions, and the tests hold all three equal.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from itertools import pairwise
from zoneinfo import ZoneInfo

from pipeline.deals.method import CLOSE, FOLLOW_UP, LOST, STAGE_KEYS, WON_STATES

WIN = (CLOSE, FOLLOW_UP)
NO_EARLIER_ENTRY = date.min  # an entry's previous-entry day when the deal never entered the stage before
NEXT_STAGE = dict(pairwise(STAGE_KEYS))  # 确认 → 考察 … 成交 → 跟进: the stages conversion is measured for
BUCKET_FLOOR_SECONDS = 60.0
BUCKET_STEP = math.log(1.06)  # each length bucket is 6% longer than the one before: ~270 buckets up to 10 years
MAX_BUCKET = 32_000


def bucket_of(seconds: float) -> int:
    """The length bucket of a duration: 0 under a minute, then 6% steps, so buckets sort as their lengths do."""
    if seconds < BUCKET_FLOOR_SECONDS:
        return 0
    return min(1 + int(math.log(seconds / BUCKET_FLOOR_SECONDS) / BUCKET_STEP), MAX_BUCKET)


@dataclass(frozen=True)
class Event:
    """A history row as the shares read it."""

    id: int
    from_stage: str | None
    to_stage: str
    at: datetime
    from_entered_at: datetime | None


@dataclass(frozen=True)
class DealNow:
    """The deal row as the shares read it."""

    id: int
    stage: str
    cents: int
    won_on: date | None
    lost_on: date | None
    created_at: datetime


@dataclass(frozen=True)
class Counted:
    """What the counts hold of one deal: its history up to `event_id`, its stage, amount and outcome then."""

    event_id: int = 0
    stage: str | None = None
    cents: int = 0
    won_day: date | None = None
    won_bucket: int | None = None
    won_seconds: float | None = None
    lost_day: date | None = None


@dataclass(frozen=True)
class Stay:
    """An ended stay: the history row that left the stage, the local day it ended, its length."""

    event_id: int
    stage: str
    day: date
    bucket: int
    seconds: float


@dataclass
class Delta:
    """Changes to every count, and to the values percentiles are picked from, for some deals since last counted."""

    stay_counts: defaultdict[tuple[date, str, int], int] = field(default_factory=lambda: defaultdict(int))
    stays: list[Stay] = field(default_factory=list)
    entry_counts: defaultdict[tuple[date, str, date], list[int]] = field(
        default_factory=lambda: defaultdict(lambda: [0, 0, 0])
    )
    won_counts: defaultdict[tuple[date, int], list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))
    wins_added: list[tuple[date, int, float]] = field(default_factory=list)
    wins_removed: list[tuple[date, int, float]] = field(default_factory=list)
    lost_counts: defaultdict[date, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))
    stage_totals: defaultdict[str, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))
    counted: dict[int, Counted] = field(default_factory=dict)  # each deal's new share, to be recorded

    def add_deal(self, deal: DealNow, events: Sequence[Event], before: Counted | None, zone: ZoneInfo) -> None:
        """Fold in what changed in one deal's share: its history after `before.event_id`, its stage and outcome."""
        before = before or Counted()
        last_event = events[-1].id if events else before.event_id
        self._history(events, before.event_id, zone)
        after = _standing(deal, events, zone, last_event)
        self._standing(before, after)
        self.counted[deal.id] = after

    def _history(self, events: Sequence[Event], counted_id: int, zone: ZoneInfo) -> None:
        for event in events:
            if event.id > counted_id and event.from_stage in STAGE_KEYS and event.from_entered_at is not None:
                seconds = (event.at - event.from_entered_at).total_seconds()
                stay = Stay(event.id, event.from_stage, _day(event.at, zone), bucket_of(seconds), seconds)
                self.stays.append(stay)
                self.stay_counts[(stay.day, stay.stage, stay.bucket)] += 1
        previous: dict[str, date] = {}
        for index, event in enumerate(events):
            stage = event.to_stage
            if stage not in NEXT_STAGE:
                continue
            day = _day(event.at, zone)
            key = (day, stage, previous.get(stage, NO_EARLIER_ENTRY))
            previous[stage] = day
            later = events[index + 1 :]
            reached = next((e.id for e in later if e.to_stage == NEXT_STAGE[stage]), None)
            lost = next((e.id for e in later if e.to_stage == LOST and e.from_stage == stage), None)
            counts = self.entry_counts[key]
            if event.id > counted_id:  # a new entry: counted now, with whatever followed it
                counts[0] += 1
                counts[1] += reached is not None
                counts[2] += lost is not None
            else:  # counted before: it may since have moved on or been lost
                counts[1] += reached is not None and reached > counted_id
                counts[2] += lost is not None and lost > counted_id

    def _standing(self, before: Counted, after: Counted) -> None:
        """Take the deal's old place and outcome out of the counts and put the new ones in, where they differ."""
        if (before.stage, before.cents) != (after.stage, after.cents):
            if before.stage is not None:
                _add(self.stage_totals[before.stage], -1, -before.cents)
            if after.stage is not None:
                _add(self.stage_totals[after.stage], 1, after.cents)
        if _win(before) != _win(after):
            if before.won_day is not None and before.won_bucket is not None and before.won_seconds is not None:
                _add(self.won_counts[(before.won_day, before.won_bucket)], -1, -before.cents)
                self.wins_removed.append((before.won_day, before.won_bucket, before.won_seconds))
            if after.won_day is not None and after.won_bucket is not None and after.won_seconds is not None:
                _add(self.won_counts[(after.won_day, after.won_bucket)], 1, after.cents)
                self.wins_added.append((after.won_day, after.won_bucket, after.won_seconds))
        if _loss(before) != _loss(after):
            if before.lost_day is not None:
                _add(self.lost_counts[before.lost_day], -1, -before.cents)
            if after.lost_day is not None:
                _add(self.lost_counts[after.lost_day], 1, after.cents)


def _add(counts: list[int], n: int, cents: int) -> None:
    counts[0] += n
    counts[1] += cents


def _win(share: Counted) -> tuple[date, int | None, float | None, int] | None:
    return None if share.won_day is None else (share.won_day, share.won_bucket, share.won_seconds, share.cents)


def _loss(share: Counted) -> tuple[date, int] | None:
    return None if share.lost_day is None else (share.lost_day, share.cents)


def _day(moment: datetime, zone: ZoneInfo) -> date:
    return moment.astimezone(zone).date()


def _standing(deal: DealNow, events: Sequence[Event], zone: ZoneInfo, last_event: int) -> Counted:
    """Where the deal stands now: its board stage and amount, and the outcome it counts for (docs/reports.md)."""
    won_day = won_bucket = won_seconds = None
    if deal.stage in WON_STATES and deal.won_on is not None:
        # The sales cycle ends at the deal's last 成交 → 跟进 move, whose local date is `won_on`.
        wins = [
            e.at
            for e in events
            if e.from_stage == CLOSE and e.to_stage == FOLLOW_UP and _day(e.at, zone) == deal.won_on
        ]
        if wins:
            won_day, won_seconds = deal.won_on, (max(wins) - deal.created_at).total_seconds()
            won_bucket = bucket_of(won_seconds)
    return Counted(
        event_id=last_event,
        stage=deal.stage if deal.stage in STAGE_KEYS else None,
        cents=deal.cents,
        won_day=won_day,
        won_bucket=won_bucket,
        won_seconds=won_seconds,
        lost_day=deal.lost_on if deal.stage == LOST else None,
    )


def delta_of(deals: Iterable[tuple[DealNow, Sequence[Event], Counted | None]], zone: ZoneInfo) -> Delta:
    """What changed in the shares of these deals since each was last counted."""
    delta = Delta()
    for deal, events, before in deals:
        delta.add_deal(deal, events, before, zone)
    return delta
