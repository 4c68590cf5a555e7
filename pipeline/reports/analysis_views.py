"""The customer analyses' pages (客户划分, 流失分析): value tiers and portfolio, 80/20, customer sales, churn, rules.

They share the report pages' filter bar, scope and layout (reports/views.py); their period defaults to the last
twelve months. Each page shows the rules it was drawn by; the rules page lets an admin change them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import login_required
from werkzeug.wrappers import Response

from pipeline.auth.models import Role
from pipeline.core.errors import Forbidden
from pipeline.core.pages import actor
from pipeline.reports import analysis_presenters as show
from pipeline.reports.analysis_rules import ALL_RULES, RulesForm, rules_form, save_rules
from pipeline.reports.churn import CHURN_RULES
from pipeline.reports.churn import churn as churn_of
from pipeline.reports.concentration import COST_RULES, SELF_CHECK_RULES, self_check
from pipeline.reports.concentration import concentration as concentration_of
from pipeline.reports.customer_sales import customer_sales
from pipeline.reports.filters import ReportFilters
from pipeline.reports.portfolio import PORTFOLIO_RULES, portfolio
from pipeline.reports.value import TIER_RULES, describe_tier_rules
from pipeline.reports.views import _page, _read

bp = Blueprint("analyses", __name__)
DEFAULT = "last_12_months"


def _customer_page(template: str, compute: Callable[[ReportFilters], dict[str, Any]]) -> tuple[str, int]:
    """A customer analysis drawn for the filters in the URL (a year by default), or the filter bar's errors."""
    filters, form = _read(default=DEFAULT)
    if filters is None:
        return _page(template, None, form)
    return _page(template, filters, form, hide_strategy=True, **compute(filters))


@bp.get("/reports/value")
@login_required
def value() -> tuple[str, int]:
    """Who the valuable customers are: the purchase deciles, the value tiers and the portfolio quadrants."""

    def figures(filters: ReportFilters) -> dict[str, Any]:
        found = portfolio(filters.scope, filters.period)
        return {
            "report": show.value_view(found, dict(describe_tier_rules(TIER_RULES.current()))),
            "charts": show.portfolio_chart(found),
            "rules": show.rule_rows(TIER_RULES, PORTFOLIO_RULES),
        }

    return _customer_page("reports/value.html", figures)


@bp.get("/reports/concentration")
@login_required
def concentration() -> tuple[str, int]:
    """The 80/20: what the top accounts bring, who costs more than they bring, and each rep's self-check."""

    def figures(filters: ReportFilters) -> dict[str, Any]:
        checks, _rules = self_check(filters.scope, filters.period)
        return {
            "report": show.concentration_view(concentration_of(filters.scope, filters.period)),
            "checks": show.self_check_rows(checks),
            "rules": show.rule_rows(COST_RULES),
            "check_rules": show.rule_rows(SELF_CHECK_RULES),
        }

    return _customer_page("reports/concentration.html", figures)


@bp.get("/reports/customers")
@login_required
def customers() -> tuple[str, int]:
    """Seed 002's customer analyses: sales by product line, channel and region, loyalty, and profit."""
    return _customer_page(
        "reports/customers.html",
        lambda filters: {"report": show.customer_sales_view(customer_sales(filters.scope, filters.period))},
    )


@bp.get("/reports/churn")
@login_required
def churn() -> tuple[str, int]:
    """Seed 001's three churn questions: why customers leave, which kind leaves, and when; and who went quiet."""

    def figures(filters: ReportFilters) -> dict[str, Any]:
        found = churn_of(filters.scope, filters.period)
        return {
            "report": show.churn_view(found),
            "charts": show.churn_charts(found),
            "rules": show.rule_rows(CHURN_RULES),
        }

    return _customer_page("reports/churn.html", figures)


@bp.get("/analysis-rules")
@login_required
def rules() -> tuple[str, int]:
    """Every rule the customer analyses use, as in force; an admin can change them here."""
    return _rules_page(rules_form() if actor().role == Role.ADMIN else None)


@bp.post("/analysis-rules")
@login_required
def save() -> Response | tuple[str, int]:
    """Store new rules (admins only); a value out of bounds is refused, naming the rule."""
    if actor().role != Role.ADMIN:
        raise Forbidden(_("Only an admin may change the analysis rules."))
    form = rules_form()
    if not save_rules(form, actor()):
        return _rules_page(form, 422)
    flash(_("Rules saved."), "success")
    return redirect(url_for("analyses.rules"))


def _rules_page(form: RulesForm | None, status: int = 200) -> tuple[str, int]:
    return render_template(
        "reports/rules.html",
        form=form,
        groups=[(str(title), show.rule_rows(rule_set)) for title, rule_set in ALL_RULES],
        tier_rules=[(show.tier_label(key), text) for key, text in describe_tier_rules(TIER_RULES.current())],
    ), status
