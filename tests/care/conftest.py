"""Helpers for the care tests: touches at chosen local moments, won deals, contacts, all through plain rows; a complaint
received at a given moment, and one taken through its steps."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask

from pipeline.accounts.models import Account, Contact
from pipeline.activities.models import Activity
from pipeline.auth.models import User
from pipeline.care.complaints import services as services
from pipeline.care.complaints import workflow as wf
from pipeline.care.models import Complaint
from pipeline.core.pages import today as local_today
from pipeline.deals.models import Deal
from pipeline.extensions import db

SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(day: date, hour: int = 10, minute: int = 0) -> datetime:
    """A wall-clock moment in Shanghai as the aware UTC moment activities are stored in."""
    return datetime.combine(day, time(hour, minute), tzinfo=SHANGHAI).astimezone(UTC)


def touch(user: User, when: datetime, kind: str = "call", call_result: str | None = None, **subject: Any) -> Activity:
    activity = Activity(
        kind=kind, user_id=user.id, occurred_at=when, summary=f"{kind} 测试", call_result=call_result, **subject
    )
    db.session.add(activity)
    db.session.flush()
    return activity


def contact(account: Account, name: str, **fields: Any) -> Contact:
    person = Contact(account_id=account.id, name=name, **fields)
    db.session.add(person)
    db.session.flush()
    return person


@pytest.fixture
def today(app: Flask) -> date:
    return local_today()


@pytest.fixture
def won(make_deal: Callable[..., Deal]) -> Callable[..., Deal]:
    """A deal of the account won on a date for an amount (written as the row, the gates are not under test)."""

    def make(account: Account, amount: str, on: date) -> Deal:
        deal = make_deal(account.owner, title=f"{account.name} 订单", account=account)
        deal.amount = Decimal(amount)
        deal.stage = "follow_up"
        deal.won_on = on
        db.session.commit()
        return deal

    return make


def days_ago(today: date, n: int) -> date:
    return today - timedelta(days=n)


T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai, a Monday
TEXTS = {
    wf.UNDERSTAND: {"core_issue": "发票抬头开错，财务无法报销"},
    wf.PROPOSE: {"solution": "当天重开发票并顺丰寄出"},
    wf.ACCEPT: {},
    wf.CLOSE: {"closing_note": "电话致歉，约定以后开票前先与财务确认抬头"},
}
PATH = (wf.UNDERSTAND, wf.PROPOSE, wf.ACCEPT, wf.CLOSE)


@pytest.fixture
def make_complaint(app: Flask, make_account: Callable[..., Account]) -> Callable[..., Complaint]:
    """A complaint on `account` (or a new account of `owner`) received at `received`, taken through `steps`.

    `steps` maps each step to the hours after receipt it was taken, in order (e.g. {"understand": 2}).
    """

    def make(
        owner: User,
        *,
        account: Account | None = None,
        received: datetime = T0,
        steps: dict[str, float] | None = None,
        title: str = "发票开错了",
        **fields: Any,
    ) -> Complaint:
        complaint = services.receive(owner, account or make_account(owner), title, received_at=received, **fields)
        for name, hours in (steps or {}).items():
            services.take_step(owner, complaint, name, texts=TEXTS.get(name, {}), at=received + timedelta(hours=hours))
        db.session.commit()
        return complaint

    return make
