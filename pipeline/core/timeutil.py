"""Time zones: moments are stored in UTC; dates a user reads (won on, lost on) are in the team's zone."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context

DEFAULT_TIMEZONE = "Asia/Shanghai"


def team_zone() -> ZoneInfo:
    """The configured business time zone (default Asia/Shanghai)."""
    name = current_app.config.get("PIPELINE_TIMEZONE", DEFAULT_TIMEZONE) if has_app_context() else None
    return ZoneInfo(name or DEFAULT_TIMEZONE)


def local_date(moment: datetime) -> date:
    """The calendar date of an aware moment in the business time zone."""
    return moment.astimezone(team_zone()).date()


def local_midnight(day: date) -> datetime:
    """00:00 of a local date in the business time zone, as the aware UTC moment history is stored in."""
    return datetime.combine(day, time.min, tzinfo=team_zone()).astimezone(UTC)


def whole_days_since(moment: datetime, today: date, zone: ZoneInfo | None = None) -> int:
    """Calendar days from `moment` (in the business zone) to `today`, never negative: "days in stage"."""
    return max((today - moment.astimezone(zone or team_zone()).date()).days, 0)
