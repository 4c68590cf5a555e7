"""Report periods: local calendar days in the team's zone, turned into the UTC moments history is stored in."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from pipeline.core.timeutil import team_zone

ISO_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")


@dataclass(frozen=True)
class Period:
    """Local dates `first` … `last`, both included."""

    first: date
    last: date

    def __post_init__(self) -> None:
        if self.last < self.first:
            raise ValueError(f"a period cannot end ({self.last}) before it starts ({self.first})")

    def start(self) -> datetime:
        """The period's first moment: `first` 00:00 in the team's zone, as UTC."""
        return local_midnight(self.first)

    def end(self) -> datetime:
        """The moment after the period: the day after `last`, 00:00 in the team's zone, as UTC."""
        return local_midnight(self.last + timedelta(days=1))

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def week_label(self) -> str:
        """ "2026-W47" for an ISO week (the label of the week containing `first` otherwise)."""
        year, week, _ = self.first.isocalendar()
        return f"{year}-W{week:02d}"

    def previous_week(self) -> Period:
        return Period(self.first - timedelta(days=7), self.last - timedelta(days=7))


def local_midnight(day: date) -> datetime:
    """00:00 of a local date in the team's zone, as an aware UTC moment."""
    return datetime.combine(day, time(0), tzinfo=team_zone()).astimezone(UTC)


def week_containing(day: date) -> Period:
    """The ISO week (Monday … Sunday) a date falls in."""
    monday = day - timedelta(days=day.weekday())
    return Period(monday, monday + timedelta(days=6))


def iso_week(text: str) -> Period:
    """Parse "2026-W47"; a malformed or impossible week is a ValueError that quotes it."""
    match = ISO_WEEK.match(text.strip())
    if match is None:
        raise ValueError(f"{text!r} is not an ISO week such as 2026-W47")
    try:
        monday = date.fromisocalendar(int(match[1]), int(match[2]), 1)
    except ValueError:
        raise ValueError(f"{text!r} is not a week of that year") from None
    return week_containing(monday)


def quarter_containing(day: date) -> Period:
    """The calendar quarter a date falls in."""
    first = date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    after = date(first.year + (first.month + 2) // 12, (first.month + 2) % 12 + 1, 1)
    return Period(first, after - timedelta(days=1))


def month_containing(day: date) -> Period:
    """The calendar month a date falls in."""
    first = day.replace(day=1)
    after = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return Period(first, after - timedelta(days=1))
