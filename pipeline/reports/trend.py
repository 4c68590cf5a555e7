"""The weekly pipeline trend: the open pipeline at the end of each of the last weeks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from pipeline.core.models import utcnow
from pipeline.core.timeutil import local_date
from pipeline.reports.figures import StageTotals, open_totals
from pipeline.reports.periods import Period, week_containing
from pipeline.reports.scope import ReportScope
from pipeline.reports.snapshot import pipelines_at

MAX_WEEKS = 26


@dataclass(frozen=True)
class TrendPoint:
    """The open pipeline as one week ended (or now, for the week still running)."""

    week: Period
    open: StageTotals


def weekly_trend(scope: ReportScope, weeks: int = 12, now: datetime | None = None) -> list[TrendPoint]:
    """The open pipeline at the end of each of the last `weeks` ISO weeks, the running week last (at now)."""
    moment = now or utcnow()
    week = week_containing(local_date(moment))
    shown = []
    for _ in range(max(1, min(weeks, MAX_WEEKS))):
        shown.append(week)
        week = week.previous_week()
    shown.reverse()
    pipelines = pipelines_at(scope, [min(w.end(), moment) for w in shown])  # one pass over the weeks' history
    return [TrendPoint(w, open_totals(p)) for w, p in zip(shown, pipelines, strict=True)]


def trend_to(scope: ReportScope, week: Period, weeks: int = 12, now: datetime | None = None) -> list[TrendPoint]:
    """The trend of the `weeks` weeks ending with `week` (its last point at now, while `week` is running)."""
    last_moment = week.end() - timedelta(microseconds=1)  # still inside `week`, which names the last point
    return weekly_trend(scope, weeks, now=min(last_moment, now or utcnow()))
