"""JSON API v1 for the customer analyses: the same query arguments, scope and figures as their pages."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from pipeline.accounts.scales import PORTFOLIO_QUADRANTS, VALUE_TIERS
from pipeline.auth.api import api_locale, token_blueprint
from pipeline.core.schemas import ErrorSchema
from pipeline.reports import analysis_schemas as schemas
from pipeline.reports.analysis_rules import ALL_RULES
from pipeline.reports.api import _filters
from pipeline.reports.churn import CHURN_RULES
from pipeline.reports.churn import churn as churn_of
from pipeline.reports.concentration import COST_RULES, SELF_CHECK_RULES, self_check
from pipeline.reports.concentration import concentration as concentration_of
from pipeline.reports.customer_sales import customer_sales
from pipeline.reports.filters import ReportFilters
from pipeline.reports.portfolio import PORTFOLIO_RULES, portfolio
from pipeline.reports.rules import RuleSet
from pipeline.reports.value import TIER_RULES, describe_tier_rules

DEFAULT = "last_12_months"

blp = token_blueprint(
    "analyses_api",
    __name__,
    "/api/v1",
    "The customer analyses (客户划分, 流失分析): a rep's figures are their own accounts', a lead's their team's or "
    "one of its reps', an admin's any; the period defaults to the last twelve months.",
)
ERRORS = (
    (400, "an argument cannot be read; `fields` names it"),
    (404, "the team or rep does not exist or is out of your reach"),
)


def _wanted(args: dict[str, Any]) -> ReportFilters:
    return _filters(args, default=DEFAULT)


def _rules(*rule_sets: RuleSet) -> dict[str, Any]:
    locale = api_locale()
    labels = {c.key: c.label(locale) for c in VALUE_TIERS}
    return {
        "rule_sets": [{"key": rs.key, "values": rs.current()} for rs in rule_sets],
        "tiers": [
            {"tier": key, "label": labels[key], "rule": text} for key, text in describe_tier_rules(TIER_RULES.current())
        ]
        if TIER_RULES in rule_sets
        else [],
    }


def _documented(schema: Any, query: Any = schemas.CustomerQuery) -> Any:
    def wrap(view: Any) -> Any:
        view = blp.response(200, schema)(view)
        for status, description in ERRORS:
            view = blp.alt_response(status, schema=ErrorSchema, description=description)(view)
        return blp.arguments(query, location="query")(view)

    return wrap


@blp.route("/reports/value")
@_documented(schemas.ValueSchema)
def value(args: dict[str, Any]) -> dict[str, Any]:
    """Purchase deciles, value tiers and portfolio quadrants of the accounts in scope, with the rules used."""
    wanted = _wanted(args)
    found = portfolio(wanted.scope, wanted.period)
    locale = api_locale()
    tiers = {c.key: c.label(locale) for c in VALUE_TIERS}
    quadrants = {c.key: c.label(locale) for c in PORTFOLIO_QUADRANTS}
    return {
        **asdict(found),
        "scope": wanted.scope,
        "period": found.period,
        "previous": found.previous,
        "tiers": [{**asdict(r), "label": tiers[r.key]} for r in found.tiers],
        "quadrants": [{**asdict(r), "label": quadrants[r.key]} for r in found.quadrants],
        "rules": _rules(TIER_RULES, PORTFOLIO_RULES),
    }


@blp.route("/reports/concentration")
@_documented(schemas.ConcentrationSchema)
def concentration(args: dict[str, Any]) -> dict[str, Any]:
    """The 80/20 by the cost model in force, the accounts that cost more than they bring, each rep's self-check."""
    wanted = _wanted(args)
    found = concentration_of(wanted.scope, wanted.period)
    checks, _check_rules = self_check(wanted.scope, wanted.period)
    return {
        "period": wanted.period,
        "scope": wanted.scope,
        "accounts": found.accounts,
        "revenue": found.revenue,
        "gross_profit": found.gross_profit,
        "top_revenue_share": found.top_revenue_share,
        "top_profit_share": found.top_profit_share,
        "groups": found.groups,
        "costly": [{**asdict(c), "figures": {**asdict(c.figures), "net": c.figures.net}} for c in found.costly],
        "self_check": checks,
        "rules": _rules(COST_RULES, SELF_CHECK_RULES),
    }


@blp.route("/reports/customers")
@_documented(schemas.CustomerSalesSchema)
def customers(args: dict[str, Any]) -> dict[str, Any]:
    """Won revenue by product line, channel and region; profit where entered; repeat purchase."""
    wanted = _wanted(args)
    found = customer_sales(wanted.scope, wanted.period)
    return {"period": found.period, "scope": wanted.scope, "total": found.total, **found.by, "loyalty": found.loyalty}


@blp.route("/reports/churn")
@_documented(schemas.ChurnReportSchema)
def churn(args: dict[str, Any]) -> dict[str, Any]:
    """Accounts marked lost in the period by reason, trait, month and tenure; the flagged ones apart."""
    wanted = _wanted(args)
    found = churn_of(wanted.scope, wanted.period)
    pairs = lambda rows: [{"key": k, "count": n} for k, n in rows]  # noqa: E731
    return {
        **asdict(found),
        "period": found.period,
        "scope": wanted.scope,
        "reasons": pairs(found.reasons),
        "months": pairs(found.months),
        "tenure": pairs(found.tenure),
        "by": found.by,
        "rules": _rules(CHURN_RULES),
    }


@blp.route("/analysis-rules")
@blp.response(200, schemas.RulesSchema)
def rules() -> dict[str, Any]:
    """Every rule the customer analyses use, as in force (admins change them on the rules page)."""
    return _rules(*(rule_set for _title, rule_set in ALL_RULES))
