"""Factories for the care tests: a complaint received at a given moment, and one taken through its steps."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask

from pipeline.accounts.models import Account
from pipeline.auth.models import User
from pipeline.care import complaint_services as services
from pipeline.care import complaints as wf
from pipeline.care.models import Complaint
from pipeline.extensions import db

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
