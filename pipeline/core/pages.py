"""What every server-rendered page shares: the signed-in user, today, money and date formats, refusals."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from flask import Flask
from flask_babel import get_locale
from flask_login import current_user
from flask_wtf import FlaskForm

from pipeline.auth.models import User
from pipeline.core.errors import InvalidInput
from pipeline.core.timeutil import team_zone, whole_days_since
from pipeline.deals.method import ALL_STATES, DONE, LOST, STRATEGY_BY_KEY, stage

CURRENCY_SYMBOLS = {"CNY": "¥"}
OVER = (LOST, DONE)  # no next step is overdue on a deal that is over


def locale_code() -> str:
    """The language the page is drawn in: "zh" or "en"."""
    locale = get_locale()
    return locale.language if locale is not None else "zh"


def actor() -> User:
    """The signed-in user as a model object (services take a User, not Flask-Login's proxy)."""
    return current_user._get_current_object()  # type: ignore[no-any-return]


def today() -> date:
    """Today's date in the team's time zone."""
    return datetime.now(team_zone()).date()


def money(amount: Decimal | str | None, currency: str = "CNY") -> str:
    """An amount as people read it: ¥120,000 (cents only when there are some), or USD 3,500 for other currencies."""
    if amount is None or amount == "":
        return ""
    try:
        value = Decimal(amount)
    except (InvalidOperation, ValueError):
        return str(amount)
    symbol = CURRENCY_SYMBOLS.get(currency)
    sign, value = ("-", -value) if value < 0 else ("", value)  # a loss (negative gross profit) reads -¥1,500
    shown = f"{value:,.0f}" if value == value.to_integral_value() else f"{value:,.2f}"  # ¥1,234,567 or ¥12.50
    return f"{sign}{symbol}{shown}" if symbol else f"{sign}{currency} {shown}"


def local_time(moment: datetime | None) -> str:
    """A stored UTC moment in the team's time zone (Asia/Shanghai by default), to the minute."""
    return moment.astimezone(team_zone()).strftime("%Y-%m-%d %H:%M") if moment else ""


def stage_label(key: str | None) -> str:
    """A stage's or end state's name in the page's language."""
    return stage(key).label(locale_code()) if key is not None and key in ALL_STATES else (key or "")


def strategy_label(key: str | None) -> str:
    """A strategy's name in the page's language."""
    return STRATEGY_BY_KEY[key].label(locale_code()) if key is not None and key in STRATEGY_BY_KEY else (key or "")


def days_in_stage(deal: Any, on: date) -> int:
    """Whole days the deal has sat in its current stage."""
    return whole_days_since(deal.stage_entered_at, on)


def overdue(deal: Any, on: date) -> bool:
    """The next step's due date has passed on a deal that is still being worked."""
    return deal.next_step_due is not None and deal.next_step_due < on and deal.stage not in OVER


@dataclass
class Refusal:
    """Why the last request on the page was refused, and (for a gate) everything that is missing."""

    message: str
    missing: list[str] = field(default_factory=list)
    fields: list[tuple[str, str, str]] = field(default_factory=list)  # (field id, label, what is wrong)


def field_errors(form: FlaskForm) -> list[tuple[str, str, str]]:
    """Each wrong field of a submitted form as (id to link to, label, messages); form-wide ones have no id."""
    found = [(f.id, str(f.label.text), " ".join(map(str, f.errors))) for f in form if f.errors]
    return found + [("", "", str(message)) for message in form.form_errors]


def attach_errors(form: FlaskForm, exc: InvalidInput) -> None:
    """Show a service's refusal next to the field it names (or above the form when no field matches)."""
    for name, message in exc.fields.items():
        target = form._fields.get(name)
        if target is not None:
            target.errors = [*target.errors, message]
        else:
            form.form_errors.append(f"{name}: {message}")


def init_app(app: Flask) -> None:
    """Offer the formats to every template, so no template computes them itself."""
    app.add_template_global(money)
    app.add_template_global(stage_label)
    app.add_template_global(strategy_label)
    app.add_template_global(days_in_stage)
    app.add_template_global(overdue)
    app.add_template_global(field_errors)
    app.add_template_filter(local_time, "local_time")
