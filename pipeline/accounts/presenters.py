"""How the account pages word what they show: the scales' labels and the change history as people read it."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from pipeline.accounts import profile, services
from pipeline.accounts.models import Account, Contact
from pipeline.accounts.profile import NO_PURCHASE
from pipeline.accounts.qualification import MEANINGS
from pipeline.accounts.scales import CHURN_REASONS, FREQUENCY_CLASSES, QUALIFICATION_CRITERIA, RELATIONSHIP_LEVELS
from pipeline.auth.models import User
from pipeline.core.changelog import FieldChange
from pipeline.core.pages import locale_code
from pipeline.extensions import db

FIELD_NAMES = {
    "name": _l("Name"),
    "kind": _l("Kind"),
    "industry": _l("Industry"),
    "region": _l("Region"),
    "owner_id": _l("Owner"),
    "relationship_level": _l("Relationship level"),
    "notes": _l("Notes"),
    "tags": _l("Tags and groups"),
    "churned_on": _l("Lost on"),
    "churn_reason_key": _l("Why they left"),
    "churn_note": _l("What happened"),
    "contact_added": _l("Contact added"),
    "title": _l("Job title"),
    "mobile": _l("Mobile"),
    "phone": _l("Phone"),
    "email": _l("E-mail"),
    "birthday": _l("Birthday"),
    "address": _l("Address"),
    "qualification.note": _l("Qualification note"),
}
LONG_TEXT = 80  # a note's change is shown this long in the history; the record keeps all of it


def profile_labels() -> dict[str, dict[str, str]]:
    """Each customer scale's labels in the page's language, by key."""
    locale = locale_code()
    return {
        "relationship": {c.key: c.label(locale) for c in RELATIONSHIP_LEVELS},
        "frequency": {c.key: c.label(locale) for c in FREQUENCY_CLASSES} | {NO_PURCHASE: _("No purchase in 12 months")},
        "churn": {c.key: c.label(locale) for c in CHURN_REASONS},
        "criteria": {c.key: c.label(locale) for c in QUALIFICATION_CRITERIA},
    }


def criteria_rows() -> list[tuple[str, str, str, str]]:
    """Each worksheet criterion: key, label, what a yes and a no mean (好/差 …), in the page's language."""
    locale = locale_code()
    return [
        (c.key, c.label(locale), MEANINGS[c.key][0].label(locale), MEANINGS[c.key][1].label(locale))
        for c in QUALIFICATION_CRITERIA
    ]


def percent(ratio: Decimal | None) -> str:
    """A ratio as people read it: 0.2345 → 23.5%."""
    return "" if ratio is None else f"{ratio * 100:.1f}%".replace(".0%", "%")


def profile_rules(advice: profile.Advice) -> dict[str, str | int]:
    """The thresholds the page states beside the advice and the frequency class, and this account's margin."""
    return {
        "few": profile.FEW_CUSTOMERS_UP_TO,
        "many": profile.MANY_CUSTOMERS_FROM,
        "low": percent(profile.LOW_MARGIN_BELOW),
        "high": percent(profile.HIGH_MARGIN_FROM),
        "margin": percent(advice.margin),
    }


def _field_name(field: str, labels: dict[str, dict[str, str]]) -> str:
    if field.startswith("qualification.") and field != "qualification.note":
        key = field.partition(".")[2]
        return _("Worksheet: %(criterion)s", criterion=labels["criteria"].get(key, key))
    return str(FIELD_NAMES.get(field, field))


def _readable(changes: list[FieldChange], kinds: dict[str, str]) -> list[dict[str, Any]]:
    """Who, when, which field, from what to what, with keys shown as their labels and long notes shortened."""
    labels = profile_labels()
    ids = {c.user_id for c in changes} | {
        int(v) for c in changes if c.field == "owner_id" for v in (c.old_value, c.new_value) if v and v.isdigit()
    }
    names = {u.id: u.name for u in db.session.scalars(select(User).where(User.id.in_(ids - {None})))} if ids else {}
    contact_ids = {c.entity_id for c in changes if c.entity == "contact"}
    contacts = (
        {i: name for i, name in db.session.execute(select(Contact.id, Contact.name).where(Contact.id.in_(contact_ids)))}
        if contact_ids
        else {}
    )
    by_field = {
        "kind": kinds,
        "relationship_level": labels["relationship"],
        "churn_reason_key": labels["churn"],
    }

    def shown(name: str, value: str | None) -> str:
        if value is None or value == "":
            return "—"
        if name in by_field:
            return by_field[name].get(value, value)
        if name == "owner_id" and value.isdigit():
            return names.get(int(value), value)
        if name.startswith("qualification.") and value in ("True", "False"):
            return _("yes") if value == "True" else _("no")
        return value if len(value) <= LONG_TEXT else value[:LONG_TEXT] + "…"

    return [
        {
            "at": c.at,
            "who": names.get(c.user_id, "") if c.user_id is not None else "",
            "contact": contacts.get(c.entity_id, "") if c.entity == "contact" else "",
            "field": _field_name(c.field, labels),
            "old": shown(c.field, c.old_value),
            "new": shown(c.field, c.new_value),
        }
        for c in changes
    ]


def account_history(account: Account, kinds: dict[str, str]) -> list[dict[str, Any]]:
    """The account's changes and its contacts', newest first, as people read them."""
    return _readable(services.account_changes(account), kinds)


def contact_history(contact: Contact) -> list[dict[str, Any]]:
    """The contact's changes, newest first, as people read them."""
    return _readable(services.contact_changes(contact), {})
