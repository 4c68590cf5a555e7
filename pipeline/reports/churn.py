"""Churn (流失分析, seed 001): why customers leave, which kind leaves, and when.

Marked: accounts their rep marked lost (Account.churned_on with a reason) within the period. Flagged: accounts
not marked that bought before but not for `flag_after_days` up to the period's last day (a setting); they are
listed apart, since nobody has yet said they are gone.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select

from pipeline.accounts.models import Account
from pipeline.accounts.scales import CHURN_REASON_KEYS, RELATIONSHIP_KEYS, VALUE_TIER_KEYS
from pipeline.deals.models import Deal
from pipeline.extensions import db
from pipeline.reports.customers import accounts_in, deals_of
from pipeline.reports.figures import from_cents
from pipeline.reports.periods import Period
from pipeline.reports.rules import Rule, RuleSet
from pipeline.reports.scope import ReportScope
from pipeline.reports.sql import DEAL_CENTS
from pipeline.reports.value import tiers_where

CHURN_RULES = RuleSet("churn", Rule("flag_after_days", 365, 30, 3650))
KIND, REGION, INDUSTRY, TIER, RELATIONSHIP = "kind", "region", "industry", "tier", "relationship_level"
# Tenure: from the first won deal to the day the account was marked lost, in these brackets of days.
TENURE_BRACKETS: tuple[tuple[str, int | None], ...] = (
    ("under_1y", 365),
    ("1_2y", 730),
    ("2_3y", 1095),
    ("over_3y", None),
)
NO_PURCHASE = "no_purchase"
LISTED = 200  # flagged accounts a page lists, longest silent first


@dataclass(frozen=True)
class KindRow:
    """One value of a trait (a kind, a region …): accounts of it in scope, how many were marked lost, the rate."""

    key: str
    accounts: int
    churned: int

    @property
    def rate(self) -> Decimal | None:
        return None if self.accounts == 0 else Decimal(self.churned) / Decimal(self.accounts)


@dataclass(frozen=True)
class Flagged:
    """An account that bought before and has not bought for a long time, without being marked lost."""

    account_id: int
    name: str
    owner_id: int
    last_won_on: date
    days_silent: int
    lifetime_revenue: Decimal


@dataclass(frozen=True)
class Churn:
    period: Period
    churned: int
    reasons: list[tuple[str, int]]  # every reason, in the scale's order, zeros included
    by: dict[str, list[KindRow]]
    months: list[tuple[str, int]]  # "2026-03", accounts marked lost that month, each month of the period
    tenure: list[tuple[str, int]]  # bracket, accounts
    average_tenure_days: float | None
    flagged: list[Flagged]
    flagged_count: int
    rules: dict[str, float]


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _months(period: Period) -> list[str]:
    out, year, month = [], period.first.year, period.first.month
    while (year, month) <= (period.last.year, period.last.month):
        out.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


def _bracket(days: int | None) -> str:
    if days is None:
        return NO_PURCHASE
    return next(key for key, limit in TENURE_BRACKETS if limit is None or days < limit)


def churn(scope: ReportScope, period: Period) -> Churn:
    """The period's churn in scope: reasons, traits with rates, months, tenure; and the flagged accounts."""
    rules = CHURN_RULES.current()
    first_won = (
        select(Deal.account_id, func.min(Deal.won_on).label("first_won"))
        .where(Deal.won_on.is_not(None))
        .group_by(Deal.account_id)
        .subquery()
    )
    accounts = db.session.execute(
        select(
            Account.id,
            Account.kind,
            Account.region,
            Account.industry,
            Account.relationship_level,
            Account.churned_on,
            Account.churn_reason_key,
            first_won.c.first_won,
        )
        .outerjoin(first_won, first_won.c.account_id == Account.id)
        .where(accounts_in(scope), (Account.churned_on.is_(None)) | (Account.churned_on >= period.first))
    ).all()  # the accounts still there when the period began: the base each rate is taken over
    tiers = tiers_where(accounts_in(scope), period.last)
    totals: dict[str, Counter[str]] = {k: Counter() for k in (KIND, REGION, INDUSTRY, TIER, RELATIONSHIP)}
    lost: dict[str, Counter[str]] = {k: Counter() for k in totals}
    reasons: Counter[str] = Counter()
    months: Counter[str] = Counter()
    tenure: Counter[str] = Counter()
    tenure_days: list[int] = []
    for account_id, kind, region, industry, level, churned_on, reason, first in accounts:
        traits = {
            KIND: kind,
            REGION: region or "",
            INDUSTRY: industry or "",
            TIER: tiers.get(account_id, "ordinary"),
            RELATIONSHIP: level,
        }
        marked = churned_on is not None and period.first <= _as_date(churned_on) <= period.last
        for trait, value in traits.items():
            totals[trait][value] += 1
            if marked:
                lost[trait][value] += 1
        if marked:
            day = _as_date(churned_on)
            reasons[reason] += 1
            months[f"{day.year:04d}-{day.month:02d}"] += 1
            days = None if first is None else max((day - _as_date(first)).days, 0)
            tenure[_bracket(days)] += 1
            if days is not None:
                tenure_days.append(days)
    ordered = {
        KIND: ("b2b", "b2c"),
        TIER: VALUE_TIER_KEYS,
        RELATIONSHIP: RELATIONSHIP_KEYS,
    }
    by = {}
    for trait, counts in totals.items():
        keys = ordered.get(trait) or sorted(counts, key=lambda k: (-lost[trait][k], -counts[k], k))
        by[trait] = [KindRow(k, counts[k], lost[trait][k]) for k in keys]
    flagged, flagged_count = flagged_accounts(scope, period.last, int(rules["flag_after_days"]))
    return Churn(
        period=period,
        churned=sum(reasons.values()),
        reasons=[(k, reasons[k]) for k in CHURN_REASON_KEYS],
        by=by,
        months=[(m, months[m]) for m in _months(period)],
        tenure=[(k, tenure[k]) for k in (*(key for key, _limit in TENURE_BRACKETS), NO_PURCHASE)],
        average_tenure_days=None if not tenure_days else sum(tenure_days) / len(tenure_days),
        flagged=flagged,
        flagged_count=flagged_count,
        rules=rules,
    )


def flagged_accounts(scope: ReportScope, on: date, after_days: int) -> tuple[list[Flagged], int]:
    """Accounts in scope not marked lost whose last won deal (up to `on`) is `after_days` or more before `on`."""
    cutoff = on - timedelta(days=after_days)
    purchases = (
        select(
            Deal.account_id,
            func.max(Deal.won_on).label("last_won"),
            func.sum(DEAL_CENTS).label("lifetime"),
        )
        .where(Deal.won_on.is_not(None), Deal.won_on <= on, *deals_of(scope))
        .group_by(Deal.account_id)
        .subquery()
    )
    rows = db.session.execute(
        select(Account.id, Account.name, Account.owner_id, purchases.c.last_won, purchases.c.lifetime)
        .join(purchases, purchases.c.account_id == Account.id)
        .where(accounts_in(scope), Account.churned_on.is_(None), purchases.c.last_won <= cutoff)
        .order_by(purchases.c.last_won, Account.id)
    ).all()
    listed = [
        Flagged(a, name, owner, _as_date(last), (on - _as_date(last)).days, from_cents(lifetime))
        for a, name, owner, last, lifetime in rows[:LISTED]
    ]
    return listed, len(rows)
