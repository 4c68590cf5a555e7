"""The 80/20 of the customer base (seed 001): who brings the revenue, who costs more than they bring, and the
big-customer self-check per rep (seed 004).

The cost model is deliberately plain and shown on the page: an account's contribution is the gross profit of its
won deals where entered, else their revenue × a default margin; its cost is its touches × a cost per activity plus
its complaints × a cost per complaint. Net = contribution − cost; below zero, it costs more than it brings.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import case, func, or_, select

from pipeline.accounts.models import Account
from pipeline.auth.models import User
from pipeline.deals.models import Deal
from pipeline.extensions import db
from pipeline.reports.customers import (
    accounts_in,
    activities_per_account,
    complaints_per_account,
    customers_by,
    names_and_owners,
    won_in,
)
from pipeline.reports.figures import from_cents
from pipeline.reports.periods import Period
from pipeline.reports.rules import Rule, RuleSet
from pipeline.reports.scope import ReportScope
from pipeline.reports.sql import DEAL_CENTS, raw_cents

COST_RULES = RuleSet(
    "value_costs",
    Rule("top_pct", 20, 1, 50),  # the share of accounts counted as the top (二八: 20%)
    Rule("cost_per_activity", 300, 0, 1_000_000),  # yuan per logged touch (call, visit, e-mail, meeting)
    Rule("cost_per_complaint", 2000, 0, 10_000_000),  # yuan per complaint received
    Rule("default_margin_pct", 30, 0, 100),  # gross margin assumed for won deals without an entered gross profit
)
SELF_CHECK_RULES = RuleSet(
    "big_customer_check",
    Rule("min_activities", 4, 1, 1000),  # "contacted often": at least this many touches …
    Rule("days", 90, 7, 730),  # … in this many days up to the period's last day
)
TOP, COSTLY, BREAK_EVEN = "top", "costly", "break_even"
PROFIT_CENTS = raw_cents(Deal.__table__.c.gross_profit_cents)
LISTED = 50  # the costly accounts a page lists, worst first


@dataclass(frozen=True)
class AccountEconomics:
    """One account's period: revenue, entered gross profit, touches and complaints, and what the model makes of them."""

    account_id: int
    revenue: Decimal
    gross_profit: Decimal  # entered ones only
    revenue_without_profit: Decimal
    activities: int
    complaints: int
    contribution: Decimal
    cost: Decimal

    @property
    def net(self) -> Decimal:
        return self.contribution - self.cost


@dataclass
class Group:
    """The top accounts, those costing more than they bring, or the rest that about break even."""

    key: str
    accounts: int = 0
    revenue: Decimal = Decimal("0.00")
    gross_profit: Decimal = Decimal("0.00")
    cost: Decimal = Decimal("0.00")
    net: Decimal = Decimal("0.00")


@dataclass(frozen=True)
class CostlyAccount:
    """An account below zero by the model, for the list the page shows."""

    account_id: int
    name: str
    owner_id: int
    figures: AccountEconomics


@dataclass(frozen=True)
class Concentration:
    """The period's 80/20: the groups, the top accounts' shares, the costly accounts worst first, the rules used."""

    accounts: int
    revenue: Decimal
    gross_profit: Decimal
    groups: list[Group]
    top_revenue_share: Decimal | None
    top_profit_share: Decimal | None
    costly: list[CostlyAccount]
    rules: dict[str, float] = field(default_factory=dict)


def _share(part: Decimal, whole: Decimal) -> Decimal | None:
    return None if whole == 0 else part / whole


def economics(scope: ReportScope, period: Period, rules: dict[str, float]) -> dict[int, AccountEconomics]:
    """Every customer in scope (an account that had bought by the period's end) with revenue, touches or complaints
    in the period, by the cost model (four queries). Prospects are left out: working them is the pipeline's cost."""
    rows = db.session.execute(
        select(
            Deal.account_id,
            func.sum(DEAL_CENTS),
            func.sum(func.coalesce(PROFIT_CENTS, 0)),
            func.sum(case((PROFIT_CENTS.is_(None), DEAL_CENTS), else_=0)),
        )
        .where(*won_in(scope, period))
        .group_by(Deal.account_id)
    )
    money = {a: (from_cents(r), from_cents(p), from_cents(u)) for a, r, p, u in rows}
    touches = activities_per_account(scope, period)
    complaints = complaints_per_account(scope, period)
    margin = Decimal(str(rules["default_margin_pct"])) / 100
    per_activity, per_complaint = Decimal(str(rules["cost_per_activity"])), Decimal(str(rules["cost_per_complaint"]))
    zero = (Decimal("0.00"),) * 3
    out = {}
    customers = customers_by(scope, period.last)
    for account_id in (set(money) | set(touches) | set(complaints)) & customers:
        revenue, profit, without = money.get(account_id, zero)
        n_touches, n_complaints = touches.get(account_id, 0), complaints.get(account_id, 0)
        out[account_id] = AccountEconomics(
            account_id,
            revenue,
            profit,
            without,
            n_touches,
            n_complaints,
            contribution=profit + without * margin,
            cost=n_touches * per_activity + n_complaints * per_complaint,
        )
    return out


def concentration(scope: ReportScope, period: Period) -> Concentration:
    """Rank the period's active accounts by revenue: the top share, then the costly ones, then the rest."""
    rules = COST_RULES.current()
    found = economics(scope, period, rules)
    ranked = sorted(found.values(), key=lambda e: (-e.revenue, e.account_id))
    top_count = math.ceil(len(ranked) * rules["top_pct"] / 100) if ranked else 0
    groups = {key: Group(key) for key in (TOP, COSTLY, BREAK_EVEN)}
    costly: list[AccountEconomics] = []
    for rank, e in enumerate(ranked):
        key = TOP if rank < top_count else COSTLY if e.net < 0 else BREAK_EVEN
        if key == COSTLY:
            costly.append(e)
        g = groups[key]
        g.accounts += 1
        g.revenue += e.revenue
        g.gross_profit += e.gross_profit
        g.cost += e.cost
        g.net += e.net
    revenue = sum((e.revenue for e in ranked), Decimal("0.00"))
    profit = sum((e.gross_profit for e in ranked), Decimal("0.00"))
    costly.sort(key=lambda e: (e.net, e.account_id))
    names = names_and_owners({e.account_id for e in costly[:LISTED]})
    return Concentration(
        accounts=len(ranked),
        revenue=revenue,
        gross_profit=profit,
        groups=list(groups.values()),
        top_revenue_share=_share(groups[TOP].revenue, revenue),
        top_profit_share=_share(groups[TOP].gross_profit, profit),
        costly=[CostlyAccount(e.account_id, *names[e.account_id], e) for e in costly[:LISTED]],
        rules=rules,
    )


# ---- The big-customer self-check (seed 004) ------------------------------------------------------------------


@dataclass(frozen=True)
class SelfCheck:
    """One rep's answers: customers contacted often, their share of the rep's customers and of the rep's sales."""

    rep_id: int
    name: str
    customers: int
    contacted_often: int
    revenue: Decimal
    revenue_from_often: Decimal

    @property
    def share_of_customers(self) -> Decimal | None:
        return None if self.customers == 0 else Decimal(self.contacted_often) / Decimal(self.customers)

    @property
    def share_of_sales(self) -> Decimal | None:
        return _share(self.revenue_from_often, self.revenue)


def self_check(scope: ReportScope, period: Period) -> tuple[list[SelfCheck], dict[str, float]]:
    """Per rep owning accounts in scope: their customers (accounts that had bought by the period's end and were not
    marked lost before it), those with at least `min_activities` touches in the `days` up to the period's last day,
    and the period's revenue from each."""
    rules = SELF_CHECK_RULES.current()
    window = Period(period.last - timedelta(days=int(rules["days"]) - 1), period.last)
    touches = activities_per_account(scope, window)
    often = {a for a, n in touches.items() if n >= rules["min_activities"]}
    revenue_rows = db.session.execute(
        select(Deal.account_id, func.sum(DEAL_CENTS)).where(*won_in(scope, period)).group_by(Deal.account_id)
    )
    revenue = {a: from_cents(c) for a, c in revenue_rows}
    bought = customers_by(scope, period.last)
    customers = db.session.execute(
        select(Account.id, Account.owner_id, User.name)
        .join(User, User.id == Account.owner_id)
        .where(accounts_in(scope), or_(Account.churned_on.is_(None), Account.churned_on >= period.first))
    )
    per_rep: dict[int, SelfCheck] = {}
    for account_id, owner_id, name in customers:
        if account_id not in bought:
            continue  # a prospect, not a customer yet
        money = revenue.get(account_id, Decimal("0.00"))
        is_often = account_id in often
        before = per_rep.get(owner_id, SelfCheck(owner_id, name, 0, 0, Decimal("0.00"), Decimal("0.00")))
        per_rep[owner_id] = replace(
            before,
            customers=before.customers + 1,
            contacted_often=before.contacted_often + is_often,
            revenue=before.revenue + money,
            revenue_from_often=before.revenue_from_often + (money if is_often else 0),
        )
    return sorted(per_rep.values(), key=lambda c: (c.name, c.rep_id)), rules
