"""Stalled deals: per stage, the deals that have sat longer than the stage allows, oldest first."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from flask import current_app
from sqlalchemy import func, select

from pipeline.accounts.models import Account
from pipeline.auth.models import User
from pipeline.core.models import utcnow
from pipeline.core.timeutil import local_date, whole_days_since
from pipeline.deals.board import oldest_per_stage, stall_days, stalled_deals
from pipeline.deals.method import STAGE_KEYS
from pipeline.deals.models import Deal
from pipeline.extensions import db
from pipeline.reports.scope import ReportScope

SHOWN_PER_STAGE = 50


@dataclass(frozen=True)
class StalledDeal:
    """A deal past its stage's threshold, with what a lead needs to chase it."""

    deal_id: int
    title: str
    account_name: str
    owner_name: str
    amount: Decimal
    currency: str
    entered_at: datetime
    days: int
    next_step: str
    next_step_due: date | None


@dataclass(frozen=True)
class StalledStage:
    """One stage's stalled deals: how many, the threshold, and the oldest of them."""

    stage: str
    threshold: int
    count: int
    deals: list[StalledDeal]


def stalled(scope: ReportScope, today: date | None = None) -> list[StalledStage]:
    """Per stage, the deals in scope whose whole days in the stage exceed its threshold (the board's rule)."""
    today = today or local_date(utcnow())
    limits = stall_days(current_app.config.get("PIPELINE_STALL_DAYS"))
    past = stalled_deals(today, limits)
    counts = dict(
        db.session.execute(select(Deal.stage, func.count()).where(scope.deals(), past).group_by(Deal.stage)).all()
    )
    firsts = oldest_per_stage([scope.deals(), past], SHOWN_PER_STAGE)  # as the board reads its cards
    rows = db.session.execute(
        select(Deal, Account.name, User.name)
        .join(firsts, firsts.c.deal_id == Deal.id)
        .join(Account, Account.id == Deal.account_id)
        .join(User, User.id == Deal.owner_id)
        .order_by(Deal.stage_entered_at, Deal.id)
    ).all()
    shown: dict[str, list[StalledDeal]] = {key: [] for key in STAGE_KEYS}
    for deal, account_name, owner_name in rows:
        shown[deal.stage].append(
            StalledDeal(
                deal.id,
                deal.title,
                account_name,
                owner_name,
                deal.amount,
                deal.currency,
                deal.stage_entered_at,
                whole_days_since(deal.stage_entered_at, today),
                deal.next_step,
                deal.next_step_due,
            )
        )
    return [StalledStage(key, limits[key], int(counts.get(key, 0)), shown[key]) for key in STAGE_KEYS]
