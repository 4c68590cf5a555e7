"""The calendar feed (.ics) a phone subscribes to: the user's next steps and due revisits as all-day events.

The feed's address carries a secret token instead of a session (a calendar app cannot sign in); only the token's
SHA-256 is kept, so the address is shown once, and rotating or revoking it ends the old one at once.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, date, datetime, timedelta
from typing import Any

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select

from pipeline.auth.models import User
from pipeline.care.due import revisits
from pipeline.core.audit import record
from pipeline.deals.method import DONE, LOST
from pipeline.deals.models import Deal
from pipeline.extensions import db

HORIZON_DAYS = 90  # revisits further ahead than this are left out of the feed (they move with every touch)
UID_DOMAIN = "pipeline.calendar"
FEED_ISSUED, FEED_REVOKED = "calendar_feed.issue", "calendar_feed.revoke"  # a secret address: a credential


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def issue_calendar_token(user: User, *, via: str) -> str:
    """A new secret for the user's feed, replacing any earlier one (flushes and logs; the caller commits and shows it
    once)."""
    token = secrets.token_urlsafe(32)
    user.calendar_token_hash = token_hash(token)
    record(FEED_ISSUED, via=via, user=user)
    return token


def revoke_calendar_token(user: User, *, via: str) -> None:
    """End the user's feed: its address answers 404 from now on (flushes and logs)."""
    user.calendar_token_hash = None
    record(FEED_REVOKED, via=via, user=user)


def feed_owner(token: str) -> User | None:
    """The active user whose feed this token opens, or None (a wrong, revoked or disabled one)."""
    if not token or len(token) > 200:
        return None
    user = db.session.scalar(select(User).where(User.calendar_token_hash == token_hash(token)))
    return user if user is not None and user.active else None


def _all_day(uid: str, on: date, summary: str, description: str, url: str | None, stamp: datetime) -> Any:
    from icalendar import Event  # loaded by the feed alone, not by every process that builds the app

    event = Event()
    event.add("uid", uid)
    event.add("dtstamp", stamp)
    event.add("dtstart", on)
    event.add("dtend", on + timedelta(days=1))
    event.add("summary", summary)
    event.add("transp", "TRANSPARENT")  # a reminder, not a busy slot
    if description:
        event.add("description", description)
    if url:
        event.add("url", url)
    return event


def build_feed(user: User, today: date, deal_url: str, account_url: str, *, locale: str | None = None) -> bytes:
    """The user's own next steps (open and won deals with a due date) and revisits due within HORIZON_DAYS.

    UIDs are stable (one per deal's next step, one per account's revisit), so a phone moves an event rather
    than adding another; `deal_url`/`account_url` are address templates with {id}.
    """
    stamp = datetime.now(UTC).replace(microsecond=0)
    from icalendar import Calendar

    calendar = Calendar()
    calendar.add("prodid", "-//pipeline//care calendar//ZH")
    calendar.add("version", "2.0")
    with force_locale(locale or user.locale or "zh"):
        calendar.add("x-wr-calname", _("Pipeline: %(name)s", name=user.name))
        deals = db.session.execute(
            select(Deal.id, Deal.title, Deal.next_step, Deal.next_step_due).where(
                Deal.owner_id == user.id, Deal.next_step_due.is_not(None), Deal.stage.not_in((LOST, DONE))
            )
        )
        for deal_id, title, step, due in deals:
            summary = _("Next step: %(step)s (%(deal)s)", step=step, deal=title) if step else title
            calendar.add_component(
                _all_day(
                    f"deal-{deal_id}-next-step@{UID_DOMAIN}", due, summary, title, deal_url.format(id=deal_id), stamp
                )
            )
        horizon = today + timedelta(days=HORIZON_DAYS)
        for revisit in revisits(user, today, owner_id=user.id):
            on = max(revisit.due_on or today, today)  # an overdue revisit sits on today until it is done
            if on > horizon:
                continue
            calendar.add_component(
                _all_day(
                    f"account-{revisit.account_id}-revisit@{UID_DOMAIN}",
                    on,
                    _("Revisit %(account)s", account=revisit.name),
                    _(
                        "Every %(days)s days; last touch %(last)s",
                        days=revisit.interval_days,
                        last=revisit.last_touch or "—",
                    ),
                    account_url.format(id=revisit.account_id),
                    stamp,
                )
            )
    return calendar.to_ical()
