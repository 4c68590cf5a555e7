"""My day (我的一天): the work that needs a rep today, in a fixed number of queries.

Next steps that are overdue, deals that sit in a stage longer than its stall threshold, deals expected to
close this month, and what happened lately, over the user's own deals (or, for a lead, the team's).
"""

from __future__ import annotations

import calendar
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select

from pipeline.accounts.models import Account, Contact
from pipeline.activities.models import Activity
from pipeline.activities.services import ActivityRow, recent
from pipeline.auth.models import User
from pipeline.auth.scope import accounts_visible_to, deals_visible_to
from pipeline.core.timeutil import whole_days_since
from pipeline.deals.board import stall_days, stalled_deals
from pipeline.deals.method import DONE, LOST, OPEN_STAGES
from pipeline.deals.models import Deal
from pipeline.extensions import db

SECTION_LIMIT = 50  # deals listed per section; the page says when there are more
ACTIVITY_LIMIT = 20


@dataclass(frozen=True)
class DayDeal:
    """One deal as My day lists it, with how late its next step is and how long it has sat in its stage."""

    deal_id: int
    title: str
    account_id: int
    account_name: str
    owner_name: str
    stage: str
    amount: Decimal
    currency: str
    next_step: str
    next_step_due: date | None
    expected_close_date: date | None
    days_in_stage: int
    days_overdue: int
    stall_days: int


@dataclass(frozen=True)
class Total:
    """This month's expected closes in one currency: how many deals and how much money."""

    currency: str
    count: int
    amount: Decimal


@dataclass
class MyDay:
    """Everything the page shows; a section holding SECTION_LIMIT + 1 rows is cut and flagged."""

    today: date
    month_start: date
    month_end: date
    overdue: list[DayDeal]
    stalled: list[DayDeal]
    closing: list[DayDeal]
    closing_totals: list[Total]
    activities: list[ActivityRow]
    more: dict[str, bool]


def _deals(where: list[ColumnElement[bool]], order: list[Any], today: date, limits: Mapping[str, int]) -> list[DayDeal]:
    rows = db.session.execute(
        select(
            Deal.id,
            Deal.title,
            Deal.account_id,
            Account.name.label("account_name"),
            User.name.label("owner_name"),
            Deal.stage,
            Deal.amount,
            Deal.currency,
            Deal.next_step,
            Deal.next_step_due,
            Deal.expected_close_date,
            Deal.stage_entered_at,
        )
        .join(Account, Account.id == Deal.account_id)
        .join(User, User.id == Deal.owner_id)
        .where(*where)
        .order_by(*order)
        .limit(SECTION_LIMIT + 1)
    )
    return [
        DayDeal(
            deal_id=row.id,
            title=row.title,
            account_id=row.account_id,
            account_name=row.account_name,
            owner_name=row.owner_name,
            stage=row.stage,
            amount=row.amount,
            currency=row.currency,
            next_step=row.next_step,
            next_step_due=row.next_step_due,
            expected_close_date=row.expected_close_date,
            days_in_stage=whole_days_since(row.stage_entered_at, today),
            days_overdue=(today - row.next_step_due).days if row.next_step_due else 0,
            stall_days=limits.get(row.stage, 0),
        )
        for row in rows
    ]


def my_day(user: User, today: date, *, team: bool = False, thresholds: Mapping[str, int] | None = None) -> MyDay:
    """The user's own deals (or every deal they may see, with `team`): what is late, stuck, closing and new."""
    deal_scope = deals_visible_to(user) if team else Deal.owner_id == user.id
    account_scope = accounts_visible_to(user) if team else Account.owner_id == user.id
    limits = stall_days(thresholds)
    month_start = today.replace(day=1)
    month_end = today.replace(day=calendar.monthrange(today.year, today.month)[1])

    overdue = _deals(
        [deal_scope, Deal.next_step_due < today, Deal.stage.not_in((LOST, DONE))],
        [Deal.next_step_due, Deal.id],
        today,
        limits,
    )
    stalled = _deals([deal_scope, stalled_deals(today, limits)], [Deal.stage_entered_at, Deal.id], today, limits)
    this_month = [
        deal_scope,
        Deal.stage.in_(OPEN_STAGES),
        Deal.expected_close_date >= month_start,
        Deal.expected_close_date <= month_end,
    ]
    closing = _deals(this_month, [Deal.expected_close_date, Deal.id], today, limits)
    totals = [
        Total(currency, count, amount or Decimal("0.00"))
        for currency, count, amount in db.session.execute(
            select(Deal.currency, func.count(), func.sum(Deal.amount))
            .where(*this_month)
            .group_by(Deal.currency)
            .order_by(Deal.currency)
        )
    ]
    contacts = select(Contact.id).join(Account, Account.id == Contact.account_id).where(account_scope)
    on_scope = or_(
        Activity.deal_id.in_(select(Deal.id).where(deal_scope)),
        Activity.account_id.in_(select(Account.id).where(account_scope)),
        Activity.contact_id.in_(contacts),
    )
    not_hidden = or_(Activity.deal_id.is_(None), Activity.deal_id.in_(select(Deal.id).where(deals_visible_to(user))))
    activities = recent(and_(on_scope, not_hidden), ACTIVITY_LIMIT)

    sections = {"overdue": overdue, "stalled": stalled, "closing": closing}
    more = {name: len(rows) > SECTION_LIMIT for name, rows in sections.items()}
    return MyDay(
        today=today,
        month_start=month_start,
        month_end=month_end,
        overdue=overdue[:SECTION_LIMIT],
        stalled=stalled[:SECTION_LIMIT],
        closing=closing[:SECTION_LIMIT],
        closing_totals=totals,
        activities=activities,
        more=more,
    )
