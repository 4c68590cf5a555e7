"""The forecast: open pipeline by expected close month, total and weighted, beside what each month has won."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import func, select

from pipeline.core.models import utcnow
from pipeline.core.timeutil import local_date
from pipeline.deals.method import OPEN_STAGES, WON_STATES
from pipeline.deals.models import Deal
from pipeline.extensions import db
from pipeline.reports.figures import from_cents, stage_totals
from pipeline.reports.periods import add_months
from pipeline.reports.scope import ReportScope
from pipeline.reports.sql import DEAL_CENTS, year_month

MONTHS_BACK, MONTHS_AHEAD = 3, 5
OVERDUE, NO_DATE, LATER = "overdue", "no_date", "later"


@dataclass(frozen=True)
class ForecastRow:
    """One row of the forecast: a month ("2026-11"), or open deals whose date has passed, is missing or is later."""

    key: str
    count: int = 0
    amount: Decimal = Decimal("0.00")
    weighted: Decimal = Decimal("0.00")
    won: Decimal | None = None  # won in that month (months only)

    @property
    def is_month(self) -> bool:
        return self.key not in (OVERDUE, NO_DATE, LATER)


@dataclass(frozen=True)
class Forecast:
    """Open pipeline by expected close month from three months back to five ahead, with each month's wins."""

    this_month: str
    rows: list[ForecastRow]

    @property
    def open_amount(self) -> Decimal:
        return sum((r.amount for r in self.rows), Decimal("0.00"))

    @property
    def open_weighted(self) -> Decimal:
        return sum((r.weighted for r in self.rows), Decimal("0.00"))


def forecast(scope: ReportScope, today: date | None = None) -> Forecast:
    """Where the open deals are expected to close, month by month, and what was won in each month."""
    today = today or local_date(utcnow())
    this_month = today.replace(day=1)
    months = [add_months(this_month, k) for k in range(-MONTHS_BACK, MONTHS_AHEAD + 1)]
    keys = [m.strftime("%Y-%m") for m in months]
    month_key = year_month(Deal.expected_close_date)
    opened = db.session.execute(
        select(month_key, Deal.stage, func.count(), func.sum(DEAL_CENTS))
        .where(scope.deals(), Deal.stage.in_(OPEN_STAGES))
        .group_by(month_key, Deal.stage)
    ).all()
    won = dict(
        db.session.execute(
            select(year_month(Deal.won_on), func.sum(DEAL_CENTS))
            .where(scope.deals(), Deal.stage.in_(WON_STATES), Deal.won_on >= months[0])
            .where(Deal.won_on < add_months(months[-1], 1))
            .group_by(year_month(Deal.won_on))
        ).all()
    )
    buckets: dict[str, list[Decimal | int]] = {}
    current = keys[MONTHS_BACK]
    for month, stage, count, cents in opened:
        key = NO_DATE if month is None else OVERDUE if month < current else LATER if month > keys[-1] else month
        totals = stage_totals(stage, int(count), cents)
        bucket = buckets.setdefault(key, [0, Decimal("0.00"), Decimal("0.00")])
        bucket[0] += totals.count
        bucket[1] += totals.amount
        bucket[2] += totals.weighted
    rows = [ForecastRow(OVERDUE, *_bucket(buckets.get(OVERDUE)))]
    for key in keys:
        open_part = _bucket(buckets.get(key)) if key >= current else (0, Decimal("0.00"), Decimal("0.00"))
        rows.append(ForecastRow(key, *open_part, won=from_cents(won.get(key)) if key <= current else None))
    rows += [ForecastRow(LATER, *_bucket(buckets.get(LATER))), ForecastRow(NO_DATE, *_bucket(buckets.get(NO_DATE)))]
    return Forecast(current, rows)


def _bucket(values: list[Decimal | int] | None) -> tuple[int, Decimal, Decimal]:
    if values is None:
        return 0, Decimal("0.00"), Decimal("0.00")
    return int(values[0]), Decimal(values[1]), Decimal(values[2])
