"""When a contact picks up: answered calls per two-hour range of the day, from the call log (seed 001: vary call
times using earlier call records)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import UTC
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import ColumnElement, select

from pipeline.accounts.models import Contact
from pipeline.activities.models import Activity
from pipeline.care.due import touched_account
from pipeline.core.timeutil import team_zone
from pipeline.deals.models import Deal
from pipeline.extensions import db

RANGE_HOURS = 2  # 08–10, 10–12, … in the team's time zone


@dataclass(frozen=True)
class HourRange:
    """Calls placed in one range of the day and how many were answered."""

    start: int  # local hour the range starts at
    calls: int
    answered: int

    @property
    def end(self) -> int:
        return self.start + RANGE_HOURS

    @property
    def answer_rate(self) -> int:
        """Answered calls as a whole percentage (half up)."""
        return int((Decimal(100 * self.answered) / self.calls).quantize(Decimal(1), rounding=ROUND_HALF_UP))

    @property
    def label(self) -> str:
        return f"{self.start:02d}:00–{self.end:02d}:00"


@dataclass
class CallTimes:
    """A contact's (or an account's) calls by range of the day, and the range to call in."""

    ranges: list[HourRange] = field(default_factory=list)

    @property
    def best(self) -> HourRange | None:
        """The range with the most answered calls; a tie goes to the better answer rate, then the earlier hour."""
        answered = [r for r in self.ranges if r.answered]
        if not answered:
            return None
        return min(answered, key=lambda r: (-r.answered, -Decimal(r.answered) / r.calls, r.start))


def call_times(key: ColumnElement[int], ids: Collection[int]) -> dict[int, CallTimes]:
    """Each id's calls with a recorded result, by range of the day; `key` says what the ids are (the contact,
    or the account an activity is about). One query for all ids."""
    if not ids:
        return {}
    rows = db.session.execute(
        select(key.label("key"), Activity.occurred_at, Activity.call_result)
        .select_from(Activity)
        .outerjoin(Deal, Deal.id == Activity.deal_id)
        .outerjoin(Contact, Contact.id == Activity.contact_id)
        .where(Activity.kind == "call", Activity.call_result.is_not(None), key.in_(list(ids)))
    )
    zone = team_zone()
    counted: dict[int, dict[int, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    for row in rows:
        moment = row.occurred_at if row.occurred_at.tzinfo else row.occurred_at.replace(tzinfo=UTC)
        start = moment.astimezone(zone).hour // RANGE_HOURS * RANGE_HOURS
        cell = counted[row.key][start]
        cell[0] += 1
        cell[1] += row.call_result == "answered"
    return {
        key_id: CallTimes([HourRange(start, calls, answered) for start, (calls, answered) in sorted(by_range.items())])
        for key_id, by_range in counted.items()
    }


def contact_call_times(contact_ids: Collection[int]) -> dict[int, CallTimes]:
    """Best time to call each of these contacts, from the calls logged with them."""
    return call_times(Activity.contact_id, contact_ids)


def account_call_times(account_ids: Collection[int]) -> dict[int, CallTimes]:
    """Best time to call each of these accounts, from every call about it (its own, its deals', its contacts')."""
    return call_times(touched_account(), account_ids)
