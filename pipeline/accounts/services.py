"""Create and edit accounts and contacts. Services flush; the request or command commits."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select

from pipeline.accounts.models import ACCOUNT_KINDS, Account, Contact
from pipeline.auth.models import User
from pipeline.auth.scope import check_may_own
from pipeline.core.changelog import apply_changes
from pipeline.core.errors import InvalidInput
from pipeline.core.models import is_id
from pipeline.extensions import db

ACCOUNT_FIELDS = ("name", "kind", "industry", "region", "owner_id")
CONTACT_FIELDS = ("name", "title", "mobile", "phone", "email", "birthday", "address", "notes")
_LIMITS = {
    "name": 200,
    "industry": 100,
    "region": 100,
    "title": 100,
    "mobile": 40,
    "phone": 40,
    "email": 254,
    "address": 300,
}


def _check_text(values: dict[str, Any], errors: dict[str, str]) -> None:
    for key, limit in _LIMITS.items():
        if key in values and values[key] is not None and len(str(values[key])) > limit:
            errors[key] = f"at most {limit} characters"


def _clean_account(actor: User, values: dict[str, Any]) -> dict[str, Any]:
    errors: dict[str, str] = {}
    unknown = set(values) - set(ACCOUNT_FIELDS)
    errors.update({k: "unknown field" for k in unknown})
    if "name" in values and not str(values["name"] or "").strip():
        errors["name"] = "a name is required"
    if "kind" in values and values["kind"] not in ACCOUNT_KINDS:
        errors["kind"] = f"one of {', '.join(ACCOUNT_KINDS)}"
    _check_text(values, errors)
    if "owner_id" in values:
        owner = db.session.get(User, values["owner_id"]) if is_id(values["owner_id"]) else None
        if owner is None:
            errors["owner_id"] = f"no user {values['owner_id']}"
        else:
            check_may_own(actor, owner)
    if errors:
        raise InvalidInput(errors)
    return {k: (v.strip() if isinstance(v, str) else v) for k, v in values.items()}


def create_account(actor: User, name: str, **fields: Any) -> Account:
    """Add an account owned by the actor (or by someone the actor may assign it to)."""
    values = _clean_account(actor, {"name": name, **fields})
    values.setdefault("owner_id", actor.id)
    account = Account(**values)
    db.session.add(account)
    db.session.flush()
    return account


def update_account(actor: User, account: Account, changes: dict[str, Any]) -> dict[str, Any]:
    """Edit an account's fields, logging each change."""
    return apply_changes(account, "account", _clean_account(actor, changes), actor.id)


def create_contact(actor: User, account: Account, name: str, **fields: Any) -> Contact:
    """Add a person at an account the actor can see."""
    values = {"name": name, **fields}
    errors: dict[str, str] = {k: "unknown field" for k in set(values) - set(CONTACT_FIELDS)}
    if not str(name or "").strip():
        errors["name"] = "a name is required"
    if "birthday" in values and values["birthday"] is not None and not isinstance(values["birthday"], date):
        errors["birthday"] = "a date (YYYY-MM-DD)"
    _check_text(values, errors)
    if errors:
        raise InvalidInput(errors)
    contact = Contact(account_id=account.id, **{k: (v.strip() if isinstance(v, str) else v) for k, v in values.items()})
    db.session.add(contact)
    db.session.flush()
    return contact


def contacts_of(account: Account) -> list[Contact]:
    """The account's contacts, in the order they were added."""
    return list(db.session.scalars(select(Contact).where(Contact.account_id == account.id).order_by(Contact.id)))
