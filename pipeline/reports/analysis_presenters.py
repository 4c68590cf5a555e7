"""The customer analyses as the pages show them: labels in the page's language, money, shares and days as text."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from pipeline.accounts.scales import (
    CHURN_REASONS,
    PORTFOLIO_QUADRANTS,
    RELATIONSHIP_LEVELS,
    VALUE_TIERS,
)
from pipeline.auth.models import User
from pipeline.core.pages import locale_code, money
from pipeline.deals.method import Choice
from pipeline.extensions import db
from pipeline.reports.analysis_rules import RULE_LABELS
from pipeline.reports.charts import Bar, bar_chart
from pipeline.reports.churn import KIND, NO_PURCHASE, Churn
from pipeline.reports.concentration import Concentration, SelfCheck
from pipeline.reports.customer_sales import CustomerSales, Profit, SalesRow
from pipeline.reports.portfolio import Portfolio
from pipeline.reports.presenters import NONE, Chart, percent
from pipeline.reports.quadrant_chart import Point, quadrant_chart
from pipeline.reports.rules import RuleSet


@dataclass(frozen=True)
class RuleRow:
    label: str
    value: str
    field: str  # the rules form's field for it: "<rule set>-<rule>"


def rule_rows(*rule_sets: RuleSet) -> list[RuleRow]:
    """The rules in force, each with what it means and its value."""
    rows = []
    for rule_set in rule_sets:
        for name, value in rule_set.current().items():
            shown = f"{value:g}" if isinstance(value, float) else str(value)
            rows.append(RuleRow(str(RULE_LABELS[(rule_set.key, name)]), shown, f"{rule_set.key}-{name}"))
    return rows


def _label(choices: Iterable[Choice], key: str) -> str:
    locale = locale_code()
    return next((c.label(locale) for c in choices if c.key == key), key)


def tier_label(key: str) -> str:
    return _label(VALUE_TIERS, key)


def quadrant_label(key: str) -> str:
    return _label(PORTFOLIO_QUADRANTS, key)


def owner_names(ids: Iterable[int]) -> dict[int, str]:
    wanted = set(ids)
    if not wanted:
        return {}
    return {i: name for i, name in db.session.execute(select(User.id, User.name).where(User.id.in_(wanted)))}


def share(value: Decimal | None) -> str:
    return percent(value)


def signed_percent(rate: Decimal | None) -> str:
    if rate is None:
        return _("new")
    text = percent(rate)
    return f"+{text}" if rate > 0 else text.replace("-", "−")


# ---- Customer value: deciles, tiers, portfolio ------------------------------------------------------------------


def value_view(found: Portfolio, tier_rules: dict[str, str]) -> dict[str, Any]:
    """The page's figures; `tier_rules` holds each tier's rule in words, shown beside its row."""
    names = owner_names(a.owner_id for a in found.accounts)
    return {
        "revenue": money(found.revenue),
        "buyers": found.buyers,
        "previous": f"{found.previous.first.isoformat()} – {found.previous.last.isoformat()}",
        "deciles": [
            {
                "decile": r.decile,
                "accounts": r.accounts,
                "revenue": money(r.revenue),
                "share": share(r.share),
                "cumulative": share(r.cumulative_share),
            }
            for r in found.deciles
        ],
        "tiers": [
            {
                "key": r.key,
                "label": tier_label(r.key),
                "rule": tier_rules.get(r.key, ""),
                "accounts": r.accounts,
                "revenue": money(r.revenue),
                "share": share(r.share),
            }
            for r in found.tiers
        ],
        "quadrants": [
            {
                "key": r.key,
                "label": quadrant_label(r.key),
                "accounts": r.accounts,
                "revenue": money(r.revenue),
                "share": share(r.share),
            }
            for r in found.quadrants
        ],
        "accounts": [
            {
                "id": a.account_id,
                "name": a.name,
                "url": url_for("accounts.show", account_id=a.account_id),
                "owner": names.get(a.owner_id, ""),
                "revenue": money(a.revenue),
                "previous": money(a.previous),
                "growth": signed_percent(a.growth),
                "share": share(a.share),
                "quadrant": quadrant_label(a.quadrant),
                "tier": tier_label(a.tier),
            }
            for a in found.accounts
        ],
        "growth_threshold": percent(found.growth_threshold),
        "share_threshold": percent(found.share_threshold),
    }


def portfolio_chart(found: Portfolio) -> dict[str, Chart]:
    """Each listed account placed by share (across) and growth (up), the thresholds as the quadrants' borders."""
    title = _("Portfolio: growth against share of revenue")
    points = [
        Point(a.name, float(a.share or 0), None if a.growth is None else float(a.growth), quadrant=a.quadrant)
        for a in found.accounts
    ]
    labels = {q.key: q.label(locale_code()) for q in PORTFOLIO_QUADRANTS}
    svg = quadrant_chart(
        "portfolio-chart",
        title,
        points,
        share_line=float(found.share_threshold) if found.share_threshold is not None else None,
        growth_line=float(found.growth_threshold),
        labels=labels,
        x_title=_("Share of revenue"),
        y_title=_("Growth"),
        new_text=_("new"),
        empty_text=_("No account bought in this period or the one before."),
    )
    return {"portfolio": Chart(title, svg)}


# ---- 80/20 and the self-check --------------------------------------------------------------------------------


GROUP_LABELS = {
    "top": _l("The top accounts"),
    "costly": _l("Cost more than they bring"),
    "break_even": _l("About break even"),
}


def concentration_view(found: Concentration) -> dict[str, Any]:
    names = owner_names(c.owner_id for c in found.costly)
    return {
        "accounts": found.accounts,
        "revenue": money(found.revenue),
        "gross_profit": money(found.gross_profit),
        "top_revenue_share": share(found.top_revenue_share),
        "top_profit_share": share(found.top_profit_share),
        "top_pct": f"{found.rules['top_pct']:g}%",
        "groups": [
            {
                "key": g.key,
                "label": str(GROUP_LABELS[g.key]),
                "accounts": g.accounts,
                "revenue": money(g.revenue),
                "gross_profit": money(g.gross_profit),
                "cost": money(g.cost),
                "net": money(g.net),
                "share": share(None if found.accounts == 0 else Decimal(g.accounts) / found.accounts),
            }
            for g in found.groups
        ],
        "costly": [
            {
                "name": c.name,
                "url": url_for("accounts.show", account_id=c.account_id),
                "owner": names.get(c.owner_id, ""),
                "revenue": money(c.figures.revenue),
                "activities": c.figures.activities,
                "complaints": c.figures.complaints,
                "contribution": money(c.figures.contribution),
                "cost": money(c.figures.cost),
                "net": money(c.figures.net),
            }
            for c in found.costly
        ],
    }


def self_check_rows(checks: list[SelfCheck]) -> list[dict[str, Any]]:
    return [
        {
            "rep_id": c.rep_id,
            "name": c.name,
            "customers": c.customers,
            "often": c.contacted_often,
            "share_of_customers": share(c.share_of_customers),
            "revenue": money(c.revenue),
            "revenue_from_often": money(c.revenue_from_often),
            "share_of_sales": share(c.share_of_sales),
        }
        for c in checks
    ]


# ---- Customer sales ----------------------------------------------------------------------------------------


def profit_view(p: Profit) -> dict[str, Any]:
    return {
        "deals": p.deals,
        "revenue": money(p.revenue),
        "gross_profit": money(p.gross_profit) if p.revenue_with_profit else NONE,
        "margin": percent(p.margin),
        "without": p.deals_without_profit,
    }


def _sales_rows(rows: list[SalesRow]) -> list[dict[str, Any]]:
    return [
        {
            "key": r.key,
            "label": r.key or _("(not entered)"),
            "accounts": r.accounts,
            "share": share(r.share),
            **profit_view(r.profit),
        }
        for r in rows
    ]


DIMENSION_LABELS = {"product_line": _l("Product line"), "channel": _l("Sales channel"), "region": _l("Region")}


def customer_sales_view(found: CustomerSales) -> dict[str, Any]:
    loyalty = found.loyalty
    return {
        "total": profit_view(found.total),
        "by": [
            {"key": key, "label": str(DIMENSION_LABELS[key]), "rows": _sales_rows(rows)}
            for key, rows in found.by.items()
        ],
        "loyalty": {
            "buyers": loyalty.buyers,
            "repeat": loyalty.repeat_buyers,
            "rate": percent(loyalty.repeat_rate),
            "days": NONE if loyalty.average_days_between is None else f"{loyalty.average_days_between:.1f}",
        },
    }


# ---- Churn --------------------------------------------------------------------------------------------------


TENURE_LABELS = {
    "under_1y": _l("Under a year"),
    "1_2y": _l("1–2 years"),
    "2_3y": _l("2–3 years"),
    "over_3y": _l("Over 3 years"),
    NO_PURCHASE: _l("Never bought"),
}
TRAIT_LABELS = {
    "kind": _l("By kind"),
    "region": _l("By region"),
    "industry": _l("By industry"),
    "tier": _l("By value tier"),
    "relationship_level": _l("By relationship level"),
}
KIND_LABELS = {"b2b": _l("Business (B2B)"), "b2c": _l("Consumer (B2C)")}


def _trait_value(trait: str, key: str) -> str:
    if trait == KIND:
        return str(KIND_LABELS.get(key, key))
    if trait == "tier":
        return tier_label(key)
    if trait == "relationship_level":
        return _label(RELATIONSHIP_LEVELS, key)
    return key or _("(not entered)")


def churn_view(found: Churn) -> dict[str, Any]:
    names = owner_names(f.owner_id for f in found.flagged)
    return {
        "churned": found.churned,
        "reasons": [{"key": k, "label": _label(CHURN_REASONS, k), "count": n} for k, n in found.reasons],
        "traits": [
            {
                "key": trait,
                "label": str(TRAIT_LABELS[trait]),
                "rows": [
                    {
                        "key": r.key,
                        "label": _trait_value(trait, r.key),
                        "accounts": r.accounts,
                        "churned": r.churned,
                        "rate": percent(r.rate),
                    }
                    for r in rows
                ],
            }
            for trait, rows in found.by.items()
        ],
        "months": found.months,
        "tenure": [{"key": k, "label": str(TENURE_LABELS[k]), "count": n} for k, n in found.tenure],
        "average_tenure": NONE if found.average_tenure_days is None else f"{found.average_tenure_days:.0f}",
        "flagged": [
            {
                "name": f.name,
                "url": url_for("accounts.show", account_id=f.account_id),
                "owner": names.get(f.owner_id, ""),
                "last_won_on": f.last_won_on.isoformat(),
                "days": f.days_silent,
                "revenue": money(f.lifetime_revenue),
            }
            for f in found.flagged
        ],
        "flagged_count": found.flagged_count,
        "flag_after_days": int(found.rules["flag_after_days"]),
    }


def churn_charts(found: Churn) -> dict[str, Chart]:
    """Why they left (a bar per reason) and when (a bar per month); an empty period says so instead."""
    empty = _("No account was marked lost in this period.")
    why, when = _("Why they left"), _("When they left (by month)")
    reasons = [Bar(_label(CHURN_REASONS, k), float(n), str(n)) for k, n in found.reasons] if found.churned else []
    months = [Bar(m, float(n), str(n)) for m, n in found.months] if found.churned else []
    top = float(max([n for _k, n in found.reasons] + [1]))
    return {
        "why": Chart(why, bar_chart("churn-reasons", why, reasons, max_value=top, value_suffix="", empty_text=empty)),
        "when": Chart(when, bar_chart("churn-months", when, months, max_value=top, value_suffix="", empty_text=empty)),
    }
