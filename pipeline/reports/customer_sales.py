"""Seed 002's customer analyses for a period: sales by product line, channel and region; loyalty; profit.

Sales are the won deals of the period (Deal.won_on), in scope as every customer analysis is (reports/customers.py).
Profit counts only the deals whose gross profit was entered, and says how many were not.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import case, func, select

from pipeline.accounts.models import Account
from pipeline.deals.models import Deal
from pipeline.extensions import db
from pipeline.reports.concentration import PROFIT_CENTS
from pipeline.reports.customers import won_in
from pipeline.reports.figures import from_cents
from pipeline.reports.periods import Period
from pipeline.reports.scope import ReportScope
from pipeline.reports.sql import DEAL_CENTS

PRODUCT_LINE, CHANNEL, REGION = "product_line", "channel", "region"
DIMENSIONS = {PRODUCT_LINE: Deal.product_line, CHANNEL: Deal.channel, REGION: Account.region}


@dataclass(frozen=True)
class Profit:
    """Revenue and the gross profit entered for it; the margin is over the deals that have one."""

    deals: int
    revenue: Decimal
    gross_profit: Decimal
    revenue_with_profit: Decimal
    deals_without_profit: int

    @property
    def margin(self) -> Decimal | None:
        return None if self.revenue_with_profit == 0 else self.gross_profit / self.revenue_with_profit


@dataclass(frozen=True)
class SalesRow:
    """One product line, channel or region ("" when not entered): deals, accounts, revenue, share and profit."""

    key: str
    accounts: int
    profit: Profit
    share: Decimal | None


@dataclass(frozen=True)
class Loyalty:
    """Repeat purchase in the period: buyers, those who bought twice or more, and the average days between buys."""

    buyers: int
    repeat_buyers: int
    average_days_between: float | None

    @property
    def repeat_rate(self) -> Decimal | None:
        return None if self.buyers == 0 else Decimal(self.repeat_buyers) / Decimal(self.buyers)


@dataclass(frozen=True)
class CustomerSales:
    period: Period
    total: Profit
    by: dict[str, list[SalesRow]]
    loyalty: Loyalty


def _profit_columns() -> list[Any]:
    return [
        func.count(Deal.id),
        func.sum(DEAL_CENTS),
        func.sum(func.coalesce(PROFIT_CENTS, 0)),
        func.sum(case((PROFIT_CENTS.is_not(None), DEAL_CENTS), else_=0)),
        func.sum(case((PROFIT_CENTS.is_(None), 1), else_=0)),
    ]


def _profit(
    deals: int, revenue: int | None, profit: int | None, with_profit: int | None, without: int | None
) -> Profit:
    return Profit(int(deals or 0), from_cents(revenue), from_cents(profit), from_cents(with_profit), int(without or 0))


def sales_by(scope: ReportScope, period: Period, dimension: str) -> list[SalesRow]:
    """Won revenue by one dimension, largest first (one grouped query)."""
    column = DIMENSIONS[dimension]
    rows = db.session.execute(
        select(column, func.count(func.distinct(Deal.account_id)), *_profit_columns())
        .join(Account, Account.id == Deal.account_id)
        .where(*won_in(scope, period))
        .group_by(column)
    ).all()
    total = sum(int(revenue or 0) for _key, _accounts, _deals, revenue, *_rest in rows)
    out = []
    for key, accounts, *profit_columns in rows:
        profit = _profit(*profit_columns)
        share = None if total == 0 else Decimal(int(profit_columns[1] or 0)) / Decimal(total)
        out.append(SalesRow(key or "", accounts, profit, share))
    return sorted(out, key=lambda row: (-row.profit.revenue, row.key))


def loyalty(scope: ReportScope, period: Period) -> Loyalty:
    """Accounts with two or more won deals among those with one; days between buys averaged over every gap."""
    rows = db.session.execute(
        select(Deal.account_id, func.count(), func.min(Deal.won_on), func.max(Deal.won_on))
        .where(*won_in(scope, period))
        .group_by(Deal.account_id)
    ).all()
    gaps, span = 0, 0
    for _account, count, first, last in rows:
        if count >= 2:
            gaps += count - 1
            span += (_as_date(last) - _as_date(first)).days
    repeat = sum(1 for r in rows if r[1] >= 2)
    return Loyalty(len(rows), repeat, None if gaps == 0 else span / gaps)


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def customer_sales(scope: ReportScope, period: Period) -> CustomerSales:
    """The period's sales three ways, its profit and its customers' loyalty."""
    total = db.session.execute(select(*_profit_columns()).where(*won_in(scope, period))).one()
    return CustomerSales(
        period=period,
        total=_profit(*total),
        by={dimension: sales_by(scope, period, dimension) for dimension in DIMENSIONS},
        loyalty=loyalty(scope, period),
    )
