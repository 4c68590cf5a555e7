"""The purchase deciles (购买十分位分析) and the portfolio view (波斯顿矩阵) of the accounts in a report's scope.

Deciles rank the accounts that bought in the period by won revenue, ten equal slices from the top (the top
decile holds ⌈n/10⌉). The portfolio places each account by growth (revenue against the period of the same
length before) and share (its part of the scope's revenue): 明星 high/high, 现金牛 low growth/high share,
孩童 high growth/low share, 瘦狗 low/low. The thresholds are settings, shown with the figures.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from pipeline.accounts.scales import PORTFOLIO_QUADRANT_KEYS, VALUE_TIER_KEYS
from pipeline.reports.customers import accounts_in, names_and_owners, previous_period, won_in
from pipeline.reports.figures import from_cents
from pipeline.reports.periods import Period
from pipeline.reports.rules import Rule, RuleSet
from pipeline.reports.scope import ReportScope
from pipeline.reports.value import Revenue, decile, ranked, tiers_where, won_revenue

PORTFOLIO_RULES = RuleSet(
    "portfolio",
    Rule("growth_pct", 10, -100, 10000),  # high growth: revenue grew at least this much (new buyers count as high)
    Rule("share_of_average_pct", 100, 1, 100000),  # high share: at least this % of the average buyer's share
)
STAR, CASH_COW, QUESTION_MARK, DOG = PORTFOLIO_QUADRANT_KEYS
LISTED = 100  # the accounts the portfolio table lists, highest revenue first


@dataclass(frozen=True)
class DecileRow:
    """One tenth of the buyers: how many, their revenue, its share and the running share from the top."""

    decile: int
    accounts: int
    revenue: Decimal
    share: Decimal | None
    cumulative_share: Decimal | None


@dataclass(frozen=True)
class PortfolioAccount:
    """An account placed in the portfolio, with its tier."""

    account_id: int
    name: str
    owner_id: int
    revenue: Decimal
    previous: Decimal
    growth: Decimal | None  # None: nothing in the period before (a new buyer)
    share: Decimal | None
    quadrant: str
    tier: str


@dataclass(frozen=True)
class QuadrantRow:
    key: str
    accounts: int
    revenue: Decimal
    share: Decimal | None


@dataclass(frozen=True)
class TierRow:
    key: str
    accounts: int
    revenue: Decimal
    share: Decimal | None


@dataclass(frozen=True)
class Portfolio:
    """The deciles, tiers and portfolio quadrants of a scope's accounts for a period, with the thresholds used."""

    period: Period
    previous: Period
    revenue: Decimal
    buyers: int
    deciles: list[DecileRow]
    tiers: list[TierRow]
    quadrants: list[QuadrantRow]
    accounts: list[PortfolioAccount]
    growth_threshold: Decimal
    share_threshold: Decimal | None  # the share an account needs to count as high, as a fraction
    rules: dict[str, float]


def _share(part: int, whole: int) -> Decimal | None:
    return None if whole == 0 else Decimal(part) / Decimal(whole)


def decile_rows(revenues: dict[int, Revenue]) -> list[DecileRow]:
    """Ten rows from the top; with fewer than ten buyers some deciles stay empty."""
    order = ranked(revenues)
    total = sum(r.current for _a, r in order)
    counts, cents = [0] * 10, [0] * 10
    for rank, (_account, r) in enumerate(order):
        tenth = decile(rank, len(order)) - 1
        counts[tenth] += 1
        cents[tenth] += r.current
    rows, running = [], 0
    for i in range(10):
        running += cents[i]
        rows.append(DecileRow(i + 1, counts[i], from_cents(cents[i]), _share(cents[i], total), _share(running, total)))
    return rows


def quadrant_of(revenue: Revenue, share: Decimal | None, growth_pct: Decimal, share_needed: Decimal | None) -> str:
    growth = revenue.growth_pct
    high_growth = growth is None or Decimal(str(growth)) >= growth_pct
    high_share = share is not None and share_needed is not None and share >= share_needed
    if high_share:
        return STAR if high_growth else CASH_COW
    return QUESTION_MARK if high_growth else DOG


def portfolio(scope: ReportScope, period: Period) -> Portfolio:
    """The scope's accounts that bought in the period or the one before: deciles, tiers and quadrants."""
    rules = PORTFOLIO_RULES.current()
    before = previous_period(period)
    revenues = won_revenue(period, before, *won_in(scope, Period(before.first, period.last)))
    total = sum(r.current for r in revenues.values())
    buyers = sum(1 for r in revenues.values() if r.current > 0)
    share_needed = (
        None if buyers == 0 else Decimal(str(rules["share_of_average_pct"])) / 100 / Decimal(buyers)
    )  # the average buyer's share is 1/n
    growth_pct = Decimal(str(rules["growth_pct"]))
    tiers = tiers_where(accounts_in(scope), period.last)
    placed: list[tuple[int, Revenue, Decimal | None, str]] = []
    for account_id, r in revenues.items():
        share = _share(r.current, total)
        placed.append((account_id, r, share, quadrant_of(r, share, growth_pct, share_needed)))
    placed.sort(key=lambda p: (-p[1].current, -p[1].previous, p[0]))
    quadrants = []
    for key in PORTFOLIO_QUADRANT_KEYS:
        mine = [p for p in placed if p[3] == key]
        cents = sum(p[1].current for p in mine)
        quadrants.append(QuadrantRow(key, len(mine), from_cents(cents), _share(cents, total)))
    tier_rows = []
    for key in VALUE_TIER_KEYS:
        mine_ids = [a for a, t in tiers.items() if t == key]
        cents = sum(revenues.get(a, Revenue()).current for a in mine_ids)
        tier_rows.append(TierRow(key, len(mine_ids), from_cents(cents), _share(cents, total)))
    names = names_and_owners({p[0] for p in placed[:LISTED]})
    listed = [
        PortfolioAccount(
            account_id,
            *names[account_id],
            revenue=from_cents(r.current),
            previous=from_cents(r.previous),
            growth=None if r.growth_pct is None else Decimal(str(r.growth_pct)) / 100,
            share=share,
            quadrant=quadrant,
            tier=tiers.get(account_id, "ordinary"),
        )
        for account_id, r, share, quadrant in placed[:LISTED]
    ]
    return Portfolio(
        period=period,
        previous=before,
        revenue=from_cents(total),
        buyers=buyers,
        deciles=decile_rows(revenues),
        tiers=tier_rows,
        quadrants=quadrants,
        accounts=listed,
        growth_threshold=growth_pct / 100,
        share_threshold=share_needed,
        rules=rules,
    )
