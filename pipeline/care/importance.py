"""How important each customer is, so the due list puts the important ones first (seed 002: visit them first).

Importance is the account's value tier (reports/value.py: 天王巨星, 后起之秀, 明日黄花, 普通 from its won revenue
against the window before), in the scale's order; the tier also shortens the account's revisit interval.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date

from pipeline.accounts.scales import VALUE_TIER_KEYS
from pipeline.auth.models import User
from pipeline.reports.value import ORDINARY, tiers_for


@dataclass(frozen=True)
class Importance:
    """An account's value tier (for its revisit interval) and its rank (0 = the most important tier)."""

    tier: str
    rank: int


def importance_of(user: User, account_ids: Collection[int], today: date) -> dict[int, Importance]:
    """The tier and rank of each of these accounts the user sees (one query, through the value tiers)."""
    if not account_ids:
        return {}
    tiers = tiers_for(account_ids, user, today)
    return {
        account_id: Importance(tier, VALUE_TIER_KEYS.index(tier))
        for account_id in account_ids
        for tier in (tiers.get(account_id, ORDINARY),)
    }
