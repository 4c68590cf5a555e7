"""How often to revisit (回访) a customer: days by relationship level, shortened for the important value tiers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pipeline.accounts.scales import RELATIONSHIP_KEYS, VALUE_TIER_KEYS
from pipeline.core.errors import InvalidInput
from pipeline.core.settings import get_setting, set_setting

SETTING_KEY = "care.revisit_intervals"

# Days between touches by relationship level: a partner is worked with continuously, a basic customer rarely.
DEFAULT_LEVEL_DAYS: dict[str, int] = {
    "partnership": 14,
    "proactive": 30,
    "accountable": 60,
    "reactive": 90,
    "basic": 180,
}
# Each value tier's share of the level's days (tiers from reports/value.py, the most important first).
TIER_KEYS: tuple[str, ...] = VALUE_TIER_KEYS
DEFAULT_TIER_PERCENT: dict[str, int] = {"superstar": 50, "rising": 75, "fading": 100, "ordinary": 100}
MAX_DAYS = 3650
MIN_PERCENT, MAX_PERCENT = 10, 200


@dataclass(frozen=True)
class Intervals:
    """The cadence in force: days per relationship level and each tier's percentage of them."""

    level_days: dict[str, int]
    tier_percent: dict[str, int]

    def days(self, level: str, tier: str) -> int:
        """Days between touches for an account of this level and tier (at least one)."""
        base = self.level_days.get(level, self.level_days["basic"])
        percent = self.tier_percent.get(tier, 100)
        return max(1, round(base * percent / 100))

    def matrix(self) -> list[tuple[str, list[int]]]:
        """Each level (most involved first) with its days for every tier, as the settings page shows them."""
        return [(level, [self.days(level, tier) for tier in TIER_KEYS]) for level in reversed(RELATIONSHIP_KEYS)]


def current_intervals() -> Intervals:
    """The stored cadence, any value nobody has set taken from the defaults above."""
    stored: dict[str, Any] = get_setting(SETTING_KEY, {}) or {}
    return Intervals(
        level_days={**DEFAULT_LEVEL_DAYS, **(stored.get("level_days") or {})},
        tier_percent={**DEFAULT_TIER_PERCENT, **(stored.get("tier_percent") or {})},
    )


def save_intervals(level_days: dict[str, int], tier_percent: dict[str, int], user_id: int | None) -> Intervals:
    """Check and store a new cadence (flushes); InvalidInput names each value out of range."""
    errors: dict[str, str] = {}
    for level in RELATIONSHIP_KEYS:
        value = level_days.get(level)
        if not isinstance(value, int) or not 1 <= value <= MAX_DAYS:
            errors[f"days_{level}"] = f"whole days from 1 to {MAX_DAYS}"
    for tier in TIER_KEYS:
        value = tier_percent.get(tier)
        if not isinstance(value, int) or not MIN_PERCENT <= value <= MAX_PERCENT:
            errors[f"percent_{tier}"] = f"a percentage from {MIN_PERCENT} to {MAX_PERCENT}"
    if errors:
        raise InvalidInput(errors)
    set_setting(
        SETTING_KEY,
        {
            "level_days": {k: level_days[k] for k in RELATIONSHIP_KEYS},
            "tier_percent": {k: tier_percent[k] for k in TIER_KEYS},
        },
        user_id,
    )
    return current_intervals()
