"""The shapes report figures come in, shared by the funnel, the breakdowns and the week-over-week report."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from pipeline.core.models import CENT
from pipeline.deals.method import STAGES

SMALL_SAMPLE = 10  # fewer decided deals than this and a win rate says little: the pages say so


@dataclass(frozen=True)
class StageTotals:
    """How many deals sit in a stage, their amount, and the amount weighted by the stage's probability."""

    count: int = 0
    amount: Decimal = Decimal("0.00")
    weighted: Decimal = Decimal("0.00")


@dataclass(frozen=True)
class Outcomes:
    """What a period decided: deals won and lost, and the rates and sizes that follow from them."""

    won: int = 0
    won_amount: Decimal = Decimal("0.00")
    lost: int = 0
    lost_amount: Decimal = Decimal("0.00")
    cycle_days: float | None = None

    @property
    def decided(self) -> int:
        return self.won + self.lost

    @property
    def win_rate(self) -> Decimal | None:
        return None if self.decided == 0 else Decimal(self.won) / Decimal(self.decided)

    @property
    def avg_won(self) -> Decimal | None:
        return None if self.won == 0 else (self.won_amount / self.won).quantize(CENT, ROUND_HALF_UP)

    @property
    def small_sample(self) -> bool:
        return self.decided < SMALL_SAMPLE


def from_cents(cents: int | None) -> Decimal:
    """A SQL sum of whole cents as money (an empty sum is zero)."""
    return (Decimal(int(cents or 0)) / 100).quantize(CENT, ROUND_HALF_UP)


def stage_totals(stage: str, count: int, cents: int | None) -> StageTotals:
    """Totals from a count and a sum of cents, weighted by the stage's probability and rounded once."""
    amount = from_cents(cents)
    probability = next(s.probability for s in STAGES if s.key == stage)
    return StageTotals(count, amount, (amount * probability).quantize(CENT, ROUND_HALF_UP))


def open_totals(by_stage: dict[str, StageTotals]) -> StageTotals:
    """The open pipeline: the four stages before 跟进 added up."""
    open_stages = [t for key, t in by_stage.items() if key != "follow_up"]
    return StageTotals(
        sum(t.count for t in open_stages),
        sum((t.amount for t in open_stages), Decimal("0.00")),
        sum((t.weighted for t in open_stages), Decimal("0.00")),
    )
