"""Hand-built histories for the reports: deals created and moved at chosen local moments.

The `week` fixture is ISO week 2026-W10, Monday 2 March to Sunday 8 March in Shanghai: from 2026-03-01 16:00 UTC
to 2026-03-08 16:00 UTC. Moments near both edges are chosen so that a report reading UTC weeks gets them wrong.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask

from pipeline.accounts.models import Account
from pipeline.auth.models import User
from pipeline.deals import services
from pipeline.deals.models import Deal
from pipeline.extensions import db

SHANGHAI = ZoneInfo("Asia/Shanghai")
MAR = {d: date(2026, 3, d) for d in range(1, 32)}


def local(day: date, hour: int = 10, minute: int = 0) -> datetime:
    """A wall-clock moment in Shanghai, as the aware UTC moment the history stores."""
    return datetime.combine(day, time(hour, minute), tzinfo=SHANGHAI).astimezone(UTC)


@dataclass
class Story:
    """Write a deal's life at chosen moments: moves go through the real services, gates waived by an admin."""

    admin: User
    make_account: Callable[..., Account]

    def deal(self, owner: User, title: str, at: datetime, amount: str = "100000", **fields: Any) -> Deal:
        account = self.make_account(owner, name=f"{title} 客户")
        deal = services.create_deal(owner, account, title, at=at, amount=Decimal(amount), **fields)
        db.session.commit()
        return deal

    def move(self, deal: Deal, trigger: str, at: datetime, **kw: Any) -> Deal:
        if trigger in ("advance", "complete"):
            kw.setdefault("override", True)
        if trigger in ("revert", "reopen") or kw.get("override"):
            kw.setdefault("reason", "按计划")
        if trigger == "lose":
            kw.setdefault("lost_reason", "price")
        services.move(self.admin, deal, trigger, at=at, **kw)
        db.session.commit()
        return deal

    def advance_to(self, deal: Deal, stage: str, at: datetime) -> Deal:
        while deal.stage != stage:
            self.move(deal, "advance", at)
        return deal

    def edit(self, deal: Deal, at: datetime, **changes: Any) -> Deal:
        services.update_deal(self.admin, deal, changes, None, at=at)
        db.session.commit()
        return deal


@pytest.fixture
def story(app: Flask, people: Any, make_account: Callable[..., Account]) -> Story:
    return Story(people.admin, make_account)


@pytest.fixture
def week(story: Story, people: Any) -> dict[str, Any]:
    rep, rep_b, outsider = people.rep, people.rep_b, people.outsider
    deals: dict[str, Any] = {}
    # A: created Monday 07:00 local (still Sunday in UTC), through 考察 to 报价, lost from 报价 on Friday.
    a = deals["A"] = story.deal(rep, "A", local(MAR[2], 7), amount="80000")
    story.move(a, "advance", local(MAR[3]))
    story.move(a, "advance", local(MAR[5]))
    story.move(a, "lose", local(MAR[6]), lost_reason="competitor")
    # B: created 20 February, into 考察 on Monday, back to 确认 on Wednesday, 考察 again Thursday, 报价 next week.
    b = deals["B"] = story.deal(rep, "B", local(date(2026, 2, 20)), expected_close_date=date(2026, 3, 31))
    story.move(b, "advance", local(MAR[2]))
    story.move(b, "revert", local(MAR[4]))
    story.move(b, "advance", local(MAR[5]))
    story.edit(b, local(MAR[6]), expected_close_date=date(2026, 4, 30), strategy="flanking")
    story.move(b, "advance", local(MAR[9]))
    story.edit(b, local(MAR[10]), amount=Decimal("150000"))
    # C: created Sunday 1 March 23:59 local (week 9), into 考察 Sunday 8 March 23:59 local (week 10's last minute).
    c = deals["C"] = story.deal(rep_b, "C", local(MAR[1], 23, 59), amount="50000", expected_close_date=date(2026, 5, 1))
    story.edit(c, local(MAR[3]), amount=Decimal("60000"))
    story.edit(c, local(MAR[6]), expected_close_date=date(2026, 4, 1))  # pulled in, not slipped
    story.move(c, "advance", local(MAR[8], 23, 59))
    # D: created 1 January, in 成交 by February, won Saturday 7 March, completed the week after.
    d = deals["D"] = story.deal(outsider, "D", local(date(2026, 1, 1)), amount="300000")
    story.advance_to(d, "close", local(date(2026, 2, 10)))
    story.move(d, "advance", local(MAR[7]))
    story.move(d, "complete", local(MAR[10]))
    # E: won on Sunday 1 March, the day before the week.
    e = deals["E"] = story.deal(rep, "E", local(date(2026, 1, 5)), amount="40000")
    story.advance_to(e, "follow_up", local(MAR[1], 12))
    # F: won on Tuesday, moved back to 成交 on Wednesday: not a win.
    f = deals["F"] = story.deal(rep_b, "F", local(date(2026, 1, 5)), amount="70000")
    story.advance_to(f, "close", local(date(2026, 2, 1)))
    story.move(f, "advance", local(MAR[3]))
    story.move(f, "revert", local(MAR[4]))
    # G: created after the week.
    deals["G"] = story.deal(rep, "G", local(MAR[12]), amount="999000")
    return deals
