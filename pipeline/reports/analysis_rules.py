"""The form for the analyses' rules: one number field per rule, named "<rule set>-<rule>", saved together."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import DecimalField
from wtforms.validators import InputRequired

from pipeline.auth.models import User
from pipeline.core.forms import BaseForm
from pipeline.reports.churn import CHURN_RULES
from pipeline.reports.concentration import COST_RULES, SELF_CHECK_RULES
from pipeline.reports.portfolio import PORTFOLIO_RULES
from pipeline.reports.rules import RuleSet
from pipeline.reports.value import TIER_RULES

ALL_RULES: tuple[tuple[Any, RuleSet], ...] = (
    (_l("Value tiers"), TIER_RULES),
    (_l("Portfolio"), PORTFOLIO_RULES),
    (_l("80/20 and the cost model"), COST_RULES),
    (_l("Big-customer self-check"), SELF_CHECK_RULES),
    (_l("Churn"), CHURN_RULES),
)


# What each rule means, as the rules section of every page and the rules page say it.
RULE_LABELS: dict[tuple[str, str], Any] = {
    ("value_tiers", "window_months"): _l("Tier window (months, compared with the same before it)"),
    ("value_tiers", "superstar_deciles"): _l("Superstar: top deciles of won revenue"),
    ("value_tiers", "rising_growth_pct"): _l("Rising star: growth at least (%)"),
    ("value_tiers", "rising_max_decile"): _l("Rising star: within the top deciles"),
    ("value_tiers", "fading_drop_pct"): _l("Fading: revenue fell at least (%)"),
    ("portfolio", "growth_pct"): _l("Portfolio: high growth from (%)"),
    ("portfolio", "share_of_average_pct"): _l("Portfolio: high share from (percent of the average account's share)"),
    ("value_costs", "top_pct"): _l("80/20: the top accounts (percent of active accounts)"),
    ("value_costs", "cost_per_activity"): _l("Cost of one activity (yuan)"),
    ("value_costs", "cost_per_complaint"): _l("Cost of one complaint (yuan)"),
    ("value_costs", "default_margin_pct"): _l("Margin assumed where no gross profit is entered (%)"),
    ("big_customer_check", "min_activities"): _l("Self-check: contacted often = at least this many activities"),
    ("big_customer_check", "days"): _l("Self-check: … in this many days"),
    ("churn", "flag_after_days"): _l("Flag an account after this many days without a purchase"),
}


class RulesForm(BaseForm):
    """Filled with one field per rule by `rules_form`."""


def _form_class() -> type[RulesForm]:
    fields: dict[str, Any] = {}
    for _title, rule_set in ALL_RULES:
        for name in rule_set.rules:
            fields[f"{rule_set.key}-{name}"] = DecimalField(
                RULE_LABELS[(rule_set.key, name)],
                validators=[InputRequired(message=_l("Enter a number."))],
            )
    return type("BoundRulesForm", (RulesForm,), fields)


def rules_form() -> RulesForm:
    """The form showing the rules in force (or what was sent, on a POST)."""
    current = {f"{rs.key}-{name}": value for _t, rs in ALL_RULES for name, value in rs.current().items()}
    form = _form_class()(data=current)
    return form


def save_rules(form: RulesForm, user: User) -> bool:
    """Check every rule set and store them all, or none (the errors on the fields); flushes, the request commits."""
    if not form.validate_on_submit():
        return False
    checked: list[tuple[RuleSet, dict[str, Any]]] = []
    for _title, rule_set in ALL_RULES:
        values = {}
        for name in rule_set.rules:
            field = form[f"{rule_set.key}-{name}"]
            try:
                values[name] = rule_set.check(name, field.data)
            except ValueError:
                rule = rule_set.rules[name]
                low, high = f"{rule.minimum:g}", f"{rule.maximum:g}"
                whole_wanted = rule.whole and field.data.is_finite() and field.data != int(field.data)
                message = (
                    _l("Enter a whole number.")
                    if whole_wanted
                    else _l("Enter a number from %(low)s to %(high)s.", low=low, high=high)
                )
                field.errors = [str(message)]
        checked.append((rule_set, values))
    if any(field.errors for field in form):
        return False
    for rule_set, values in checked:
        rule_set.save(values, user.id)
    return True
