"""Birthdays coming up (seed 001: keep key customers' birthdays), for the contacts the user may see."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import extract, select

from pipeline.accounts.models import Account, Contact
from pipeline.auth.models import User
from pipeline.auth.scope import accounts_visible_to
from pipeline.extensions import db

WINDOW_DAYS = 14


@dataclass(frozen=True)
class Birthday:
    """A contact's next birthday: on which date, in how many days, and the age they turn if the year is known."""

    contact_id: int
    name: str
    account_id: int
    account_name: str
    mobile: str
    born: date
    on: date
    in_days: int

    @property
    def turns(self) -> int:
        return self.on.year - self.born.year


def celebrated_on(born: date, year: int) -> date:
    """The birthday in `year`: 29 February is kept on 28 February in a year without one."""
    if born.month == 2 and born.day == 29 and not calendar.isleap(year):
        return date(year, 2, 28)
    return date(year, born.month, born.day)


def _month_days(today: date, days: int) -> set[tuple[int, int]]:
    """The (month, day) pairs whose birthday falls in the window, 29 February included when 28 February is in
    a window of a year without 29 February."""
    wanted: set[tuple[int, int]] = set()
    for offset in range(days + 1):
        day = today + timedelta(days=offset)
        wanted.add((day.month, day.day))
        if day.month == 2 and day.day == 28 and not calendar.isleap(day.year):
            wanted.add((2, 29))
    return wanted


def upcoming_birthdays(user: User, today: date, days: int = WINDOW_DAYS) -> list[Birthday]:
    """Contacts in the user's scope whose birthday is today or in the next `days` days, soonest first (one query)."""
    keys = sorted(month * 100 + day for month, day in _month_days(today, days))
    rows = db.session.execute(
        select(Contact.id, Contact.name, Contact.mobile, Contact.birthday, Account.id, Account.name)
        .join(Account, Account.id == Contact.account_id)
        .where(
            accounts_visible_to(user),
            Contact.birthday.is_not(None),
            (extract("month", Contact.birthday) * 100 + extract("day", Contact.birthday)).in_(keys),
        )
    ).all()
    found = []
    for contact_id, name, mobile, born, account_id, account_name in rows:
        on = celebrated_on(born, today.year)
        if on < today:
            on = celebrated_on(born, today.year + 1)
        found.append(Birthday(contact_id, name, account_id, account_name, mobile, born, on, (on - today).days))
    return sorted(found, key=lambda b: (b.on, b.name, b.contact_id))
