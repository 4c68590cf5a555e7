"""Value tiers (客户价值, seed 003's purchase deciles): each account's 天王巨星 / 后起之秀 / 明日黄花 / 普通 tier.

The rules are settings an admin may change (`TIER_RULES`): the tiers follow won revenue (Deal.amount of the
deals won, by Deal.won_on) in the last `window_months` against the window before it. Accounts are ranked
company-wide, so an account has one tier whoever looks at it; a user only learns the tiers of accounts they see.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from flask_babel import gettext as _
from sqlalchemy import ColumnElement, and_, case, func, select

from pipeline.accounts.models import Account
from pipeline.auth.models import User
from pipeline.auth.scope import accounts_visible_to
from pipeline.deals.models import Deal
from pipeline.extensions import db
from pipeline.reports.periods import Period
from pipeline.reports.rules import Rule, RuleSet
from pipeline.reports.sql import DEAL_CENTS

SUPERSTAR, RISING, FADING, ORDINARY = "superstar", "rising", "fading", "ordinary"

TIER_RULES = RuleSet(
    "value_tiers",
    Rule("window_months", 12, 1, 60),  # the window compared with the one before it
    Rule("superstar_deciles", 1, 1, 10),  # 天王巨星: the top deciles of the window's won revenue
    Rule("rising_growth_pct", 50, 0, 10000),  # 后起之秀: grew at least this much (or bought nothing before) …
    Rule("rising_max_decile", 5, 1, 10),  # … and ranks in these top deciles
    Rule("fading_drop_pct", 50, 1, 100),  # 明日黄花: revenue fell at least this much against the window before
)


@dataclass(frozen=True)
class Revenue:
    """An account's won revenue in the window and in the window before it, in cents."""

    current: int = 0
    previous: int = 0

    @property
    def growth_pct(self) -> float | None:
        """Change against the previous window in percent; None when there was nothing before to compare with."""
        return None if self.previous <= 0 else (self.current - self.previous) * 100 / self.previous


def months_before(day: date, months: int) -> date:
    """The same day `months` months earlier (the month's last day when it is shorter)."""
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def windows(on: date, months: int) -> tuple[Period, Period]:
    """The window of `months` ending on `on` (included) and the window of the same length before it."""
    start = months_before(on, months)
    return (
        Period(start + timedelta(days=1), on),
        Period(months_before(on, 2 * months) + timedelta(days=1), start),
    )


def decile(rank: int, count: int) -> int:
    """The decile (1 = top) of the account ranked `rank` (0 = highest) of `count`: the top decile holds ⌈n/10⌉."""
    return rank * 10 // count + 1


def ranked(revenues: Mapping[int, Revenue]) -> list[tuple[int, Revenue]]:
    """Accounts with revenue in the window, highest first (ties by account id, so the order is stable)."""
    buyers = [(account_id, r) for account_id, r in revenues.items() if r.current > 0]
    return sorted(buyers, key=lambda item: (-item[1].current, item[0]))


def assign_tiers(revenues: Mapping[int, Revenue], rules: Mapping[str, float]) -> dict[int, str]:
    """Each account's tier by the rules, in the order 天王巨星, 后起之秀, 明日黄花, else 普通."""
    order = ranked(revenues)
    deciles = {account_id: decile(rank, len(order)) for rank, (account_id, _r) in enumerate(order)}
    tiers: dict[int, str] = {}
    for account_id, revenue in revenues.items():
        tenth = deciles.get(account_id)
        growth = revenue.growth_pct
        if tenth is not None and tenth <= rules["superstar_deciles"]:
            tiers[account_id] = SUPERSTAR
        elif (
            tenth is not None
            and tenth <= rules["rising_max_decile"]
            and (growth is None or growth >= rules["rising_growth_pct"])
        ):
            tiers[account_id] = RISING
        elif growth is not None and -growth >= rules["fading_drop_pct"]:
            tiers[account_id] = FADING
        else:
            tiers[account_id] = ORDINARY
    return tiers


def won_revenue(current: Period, previous: Period, *where: ColumnElement[bool]) -> dict[int, Revenue]:
    """Won revenue per account in both windows, in one grouped query (accounts without any are left out)."""
    in_current = and_(Deal.won_on >= current.first, Deal.won_on <= current.last)
    rows = db.session.execute(
        select(
            Deal.account_id,
            func.sum(case((in_current, DEAL_CENTS), else_=0)),
            func.sum(case((in_current, 0), else_=DEAL_CENTS)),
        )
        .where(Deal.won_on >= previous.first, Deal.won_on <= current.last, *where)
        .group_by(Deal.account_id)
    )
    return {account_id: Revenue(int(now or 0), int(before or 0)) for account_id, now, before in rows}


def tiers_for(account_ids: Iterable[int] | None, scope_user: User, on: date) -> dict[int, str]:
    """The value tier of each account `scope_user` may see (of `account_ids`, or all of them) on the day `on`.

    Ranking is company-wide; the answer holds only the visible accounts (an unknown or hidden id is absent).
    """
    tiers = tiers_where(accounts_visible_to(scope_user), on)
    return tiers if account_ids is None else {i: tiers[i] for i in set(account_ids) if i in tiers}


def tiers_where(wanted: ColumnElement[bool], on: date) -> dict[int, str]:
    """The tier on `on` of each account matching `wanted` (a condition over Account), ranked company-wide.

    One query: every account with its revenue in both windows and whether it is wanted.
    """
    rules = TIER_RULES.current()
    current, previous = windows(on, int(rules["window_months"]))
    in_window = and_(Deal.won_on >= previous.first, Deal.won_on <= current.last)
    in_current = Deal.won_on >= current.first
    query = (
        select(
            Account.id,
            func.max(case((wanted, 1), else_=0)),
            func.sum(case((and_(in_window, in_current), DEAL_CENTS), else_=0)),
            func.sum(case((and_(in_window, ~in_current), DEAL_CENTS), else_=0)),
        )
        .outerjoin(Deal, and_(Deal.account_id == Account.id, Deal.won_on.is_not(None)))
        .group_by(Account.id)
    )
    revenues: dict[int, Revenue] = {}
    chosen: set[int] = set()
    for account_id, is_wanted, now, before in db.session.execute(query):
        revenues[account_id] = Revenue(int(now or 0), int(before or 0))
        if is_wanted:
            chosen.add(account_id)
    tiers = assign_tiers(revenues, rules)
    return {account_id: tiers[account_id] for account_id in chosen}


def describe_tier_rules(rules: Mapping[str, float]) -> list[tuple[str, str]]:
    """Each tier's rule in words (tier key, text), as the pages and the API show the rules in force."""
    months = int(rules["window_months"])
    return [
        (
            SUPERSTAR,
            _(
                "the top %(n)s decile(s) of won revenue in the last %(months)s months",
                n=int(rules["superstar_deciles"]),
                months=months,
            ),
        ),
        (
            RISING,
            _(
                "in the top %(n)s deciles (not a superstar) and grew %(pct)s%% or more on the %(months)s months "
                "before (or bought nothing then)",
                n=int(rules["rising_max_decile"]),
                pct=int(rules["rising_growth_pct"]),
                months=months,
            ),
        ),
        (
            FADING,
            _(
                "revenue fell at least %(pct)s%% against the %(months)s months before",
                pct=int(rules["fading_drop_pct"]),
                months=months,
            ),
        ),
        (ORDINARY, _("every other account")),
    ]
