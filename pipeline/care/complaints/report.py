"""The complaints report: what is open in each step, how fast the customers heard back and were put right.

Open complaints are counted as they stand now. Times are of the complaints received in the period: response is
受理 → 核心事项 (the first response), resolution is 受理 → 致歉关闭; each as the median and 90th percentile
(nearest rank, the same on SQLite and PostgreSQL), per rep and overall, in hours.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, func, literal, select, true
from sqlalchemy.orm import joinedload

from pipeline.auth.models import User
from pipeline.care.complaints import workflow as workflow
from pipeline.care.models import Complaint
from pipeline.core.models import utcnow
from pipeline.extensions import db
from pipeline.reports.periods import Period
from pipeline.reports.scope import ReportScope
from pipeline.reports.sql import quantiles, seconds_between

HOUR_SECONDS = 3600.0
OLDEST_SHOWN = 10


@dataclass(frozen=True)
class Times:
    """How many complaints a time is known for, and its median and 90th percentile in hours."""

    count: int = 0
    median: float | None = None
    p90: float | None = None


@dataclass
class RepTimes:
    """One rep's (or everyone's, with no owner) complaints received in the period and how fast they were handled."""

    owner_id: int | None
    name: str
    received: int = 0
    response: Times = field(default_factory=Times)
    resolution: Times = field(default_factory=Times)


@dataclass(frozen=True)
class OpenComplaint:
    """An open complaint and how long the customer has waited so far."""

    complaint: Complaint
    waiting_hours: float


@dataclass
class ComplaintReport:
    """The whole report: open complaints per step, the times per rep and overall, and the longest waiting."""

    open_by_state: dict[str, int]
    closed_in_period: int
    reps: list[RepTimes]
    overall: RepTimes
    oldest_open: list[OpenComplaint]

    @property
    def open_total(self) -> int:
        return sum(self.open_by_state.values())


def _scoped(scope: ReportScope) -> ColumnElement[bool]:
    """The complaints handled by the reps in the report's scope (a strategy means nothing to a complaint)."""
    if scope.strategy is not None:
        raise ValueError("complaints are not reported by strategy")
    return scope.deals(owner_column=Complaint.owner_id) if not scope.whole_company else true()


def open_by_state(scope: ReportScope) -> dict[str, int]:
    """How many complaints wait in each open step right now (every open step listed, zero included)."""
    rows = db.session.execute(
        select(Complaint.state, func.count())
        .where(_scoped(scope), Complaint.state.in_(workflow.OPEN_STATES))
        .group_by(Complaint.state)
    )
    found = dict(rows.all())
    return {state: int(found.get(state, 0)) for state in workflow.OPEN_STATES}


def _times(scope: ReportScope, period: Period, end: Any, by_owner: bool) -> dict[Any, Times]:
    hours = (seconds_between(end, Complaint.received_at) / HOUR_SECONDS).label("hours")
    group = (Complaint.owner_id if by_owner else literal("")).label("g")
    source = (
        select(group, hours)
        .where(
            _scoped(scope),
            Complaint.received_at >= period.start(),
            Complaint.received_at < period.end(),
            end.is_not(None),
        )
        .subquery()
    )
    rows = db.session.execute(quantiles(source, "g", "hours", (50, 90))).all()
    return {g: Times(int(n), median, p90) for g, n, median, p90 in rows}


def _received(scope: ReportScope, period: Period) -> Select[Any]:
    return (
        select(Complaint.owner_id, func.count())
        .where(_scoped(scope), Complaint.received_at >= period.start(), Complaint.received_at < period.end())
        .group_by(Complaint.owner_id)
    )


def rep_times(scope: ReportScope, period: Period) -> tuple[list[RepTimes], RepTimes]:
    """Per rep and overall: complaints received in the period, and their response and resolution times."""
    received = {owner: int(n) for owner, n in db.session.execute(_received(scope, period))}
    response = _times(scope, period, Complaint.understood_at, by_owner=True)
    resolution = _times(scope, period, Complaint.closed_at, by_owner=True)
    owners = set(received) | set(response) | set(resolution)
    names = dict(db.session.execute(select(User.id, User.name).where(User.id.in_(owners))).all())
    reps = [
        RepTimes(
            owner,
            names.get(owner, ""),
            received.get(owner, 0),
            response.get(owner, Times()),
            resolution.get(owner, Times()),
        )
        for owner in owners
    ]
    reps.sort(key=lambda r: (r.name, r.owner_id or 0))
    overall = RepTimes(
        None,
        "",
        sum(received.values()),
        _times(scope, period, Complaint.understood_at, by_owner=False).get("", Times()),
        _times(scope, period, Complaint.closed_at, by_owner=False).get("", Times()),
    )
    return reps, overall


def oldest_open(scope: ReportScope, now: datetime, limit: int = OLDEST_SHOWN) -> list[OpenComplaint]:
    """The open complaints that have waited longest, oldest first."""
    rows = db.session.scalars(
        select(Complaint)
        .options(joinedload(Complaint.owner))
        .where(_scoped(scope), Complaint.state.in_(workflow.OPEN_STATES))
        .order_by(Complaint.received_at, Complaint.id)
        .limit(limit)
    )
    return [OpenComplaint(c, (now - c.received_at).total_seconds() / HOUR_SECONDS) for c in rows]


def closed_in(scope: ReportScope, period: Period) -> int:
    """How many complaints were closed with an apology in the period."""
    return int(
        db.session.scalar(
            select(func.count()).where(
                _scoped(scope), Complaint.closed_at >= period.start(), Complaint.closed_at < period.end()
            )
        )
        or 0
    )


def complaint_report(scope: ReportScope, period: Period, now: datetime | None = None) -> ComplaintReport:
    """Every figure of the complaints report for one scope and period."""
    reps, overall = rep_times(scope, period)
    return ComplaintReport(
        open_by_state=open_by_state(scope),
        closed_in_period=closed_in(scope, period),
        reps=reps,
        overall=overall,
        oldest_open=oldest_open(scope, now or utcnow()),
    )
