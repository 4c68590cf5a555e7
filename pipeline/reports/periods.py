"""Report periods: local calendar days in the team's zone, turned into the UTC moments history is stored in."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from pipeline.core.timeutil import local_midnight

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
        return week_containing(date.fromisocalendar(int(match[1]), int(match[2]), 1))
    except (ValueError, OverflowError):  # week 53 of a year without one; 9999-W52 ends after the last date
        raise ValueError(f"{text!r} is not a week of that year") from None


def add_months(day: date, months: int) -> date:
    """The first day of the month `months` after (or before) the month `day` falls in."""
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def quarter_containing(day: date) -> Period:
    """The calendar quarter a date falls in."""
    first = date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    return Period(first, add_months(first, 3) - timedelta(days=1))


def month_containing(day: date) -> Period:
    """The calendar month a date falls in."""
    return Period(day.replace(day=1), add_months(day, 1) - timedelta(days=1))
