"""The analyses' rules (tier thresholds, cost model, churn threshold): defaults in code, changes stored as settings."""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import suppress
from dataclasses import dataclass
from typing import Any

from pipeline.core.settings import get_setting, set_setting


@dataclass(frozen=True)
class Rule:
    """One number a rule set holds: its bounds keep a stored or submitted value sensible."""

    name: str
    default: float
    minimum: float
    maximum: float
    whole: bool = True  # a count or a percentage given in whole numbers


class RuleSet:
    """A named group of rules kept under one settings key as a JSON object."""

    def __init__(self, key: str, *rules: Rule) -> None:
        self.key = key
        self.rules = {rule.name: rule for rule in rules}

    def defaults(self) -> dict[str, float]:
        return {name: rule.default for name, rule in self.rules.items()}

    def current(self) -> dict[str, float]:
        """The rules in force: stored values where valid, the defaults elsewhere."""
        stored = get_setting(self.key, {})
        values = self.defaults()
        if isinstance(stored, Mapping):
            for name, value in stored.items():
                if name in self.rules:
                    # a stored value out of bounds (rules tightened since) falls back to the default
                    with suppress(ValueError):
                        values[name] = self.check(name, value)
        return values

    def check(self, name: str, value: Any) -> float:
        """`value` as this rule's number, or a ValueError naming the rule and its bounds."""
        rule = self.rules[name]
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise ValueError(f"{name}: {value!r} is not a number") from None
        if number != number or not rule.minimum <= number <= rule.maximum:  # NaN fails the first test
            raise ValueError(f"{name}: {value!r} is not between {rule.minimum:g} and {rule.maximum:g}")
        if rule.whole:
            if number != int(number):
                raise ValueError(f"{name}: {value!r} is not a whole number")
            return int(number)
        return number

    def save(self, values: Mapping[str, Any], user_id: int | None) -> dict[str, float]:
        """Check and store new values (the others keep theirs); flushes, the caller commits."""
        merged = self.current()
        for name, value in values.items():
            if name not in self.rules:
                raise ValueError(f"{name}: no such rule")
            merged[name] = self.check(name, value)
        set_setting(self.key, merged, user_id)
        return merged
