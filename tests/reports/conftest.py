"""Hand-built histories for the reports: deals created and moved at chosen local moments."""

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
