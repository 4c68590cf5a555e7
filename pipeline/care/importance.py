"""How important each customer is, so the due list puts the important ones first (seed 002: visit them first)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import func, select

from pipeline.deals.models import Deal
from pipeline.extensions import db

WINDOW_DAYS = 365  # won revenue in the last twelve months
ORDINARY = "ordinary"


@dataclass(frozen=True)
class Importance:
    """An account's value tier (for its revisit interval) and its rank (1 = the most important)."""

    tier: str
    rank: int
    revenue: Decimal


def importance_of(account_ids: Collection[int], today: date) -> dict[int, Importance]:
    """Rank accounts by won revenue in the last twelve months, the largest first; none won share the last rank."""
    if not account_ids:
        return {}
    since = today - timedelta(days=WINDOW_DAYS)
    won = dict(
        db.session.execute(
            select(Deal.account_id, func.sum(Deal.amount))
            .where(Deal.account_id.in_(list(account_ids)), Deal.won_on.is_not(None), Deal.won_on > since)
            .group_by(Deal.account_id)
        ).all()
    )
    ordered = sorted((Decimal(v or 0), k) for k, v in won.items() if v)
    ranks = {account_id: n for n, (_amount, account_id) in enumerate(reversed(ordered), 1)}
    last = len(ranks) + 1
    return {a: Importance(ORDINARY, ranks.get(a, last), Decimal(won.get(a) or 0)) for a in account_ids}
