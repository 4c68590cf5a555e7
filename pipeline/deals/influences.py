"""The customer's people in a deal's decision (客户参与者): add, change and remove them; services flush only.

Each buying influence is a contact of the deal's account with a role in the decision, an attitude, an
influence level and our relationship depth (1 认识 … 5 相知). Every add, change and removal is written to the
deal's field-change log under the field `influence`, as a JSON snapshot of the person, so the history keeps
who they were even after the contact is renamed or removed.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from flask import current_app
from sqlalchemy import bindparam, select
from sqlalchemy.orm import contains_eager

from pipeline.accounts.models import Contact
from pipeline.accounts.services import create_contact
from pipeline.auth.models import User
from pipeline.auth.scope import sees
from pipeline.core.changelog import FieldChange
from pipeline.core.errors import Conflict, InvalidInput, NotFound
from pipeline.core.models import is_id, utcnow
from pipeline.deals.method import (
    ATTITUDE_KEYS,
    DONE,
    INFLUENCE_LEVEL_KEYS,
    INFLUENCE_ROLE_KEYS,
    INFLUENCE_ROLES,
    LOST,
    RELATIONSHIP_DEPTHS,
    Choice,
)
from pipeline.deals.models import BuyingInfluence, Deal
from pipeline.extensions import db

FIELD = "influence"  # the deal's change-log field for every add, change and removal of a buying influence
DEFAULT_REQUIRED = frozenset({"economic_buyer", "coach"})
CHANGEABLE = ("role", "attitude", "influence", "depth", "note")
CLOSED = "its buying influences are closed"
NAME_LIMIT, TITLE_LIMIT, NOTE_LIMIT = 100, 100, 2000
_ROLE_ORDER = {key: i for i, key in enumerate(INFLUENCE_ROLE_KEYS)}

# The roles a deal's people hold: what the 报价 gate reads, built once (moves are benchmarked).
_ROLES = select(BuyingInfluence.role).where(BuyingInfluence.deal_id == bindparam("deal_id")).distinct()


def required_roles() -> frozenset[str]:
    """The roles a deal must name before 报价 (PIPELINE_REQUIRED_INFLUENCES; empty turns the gate off)."""
    return frozenset(current_app.config.get("PIPELINE_REQUIRED_INFLUENCES", DEFAULT_REQUIRED))


def influence_roles(deal: Deal) -> frozenset[str]:
    """The roles the deal's buying influences hold, in one small query."""
    return frozenset(db.session.scalars(_ROLES, {"deal_id": deal.id}))


def missing_roles(found: Iterable[BuyingInfluence], required: Iterable[str]) -> list[Choice]:
    """The required roles nobody on the list holds yet, in the method's order (for the page, before a move)."""
    held = {i.role for i in found}
    wanted = set(required)
    return [c for c in INFLUENCE_ROLES if c.key in wanted and c.key not in held]


def _check_sees(actor: User, deal: Deal) -> None:
    if not sees(actor, deal.owner_id):
        raise NotFound(f"deal {deal.id} not found")


def _check_open(deal: Deal) -> None:
    if deal.stage in (LOST, DONE):
        raise Conflict(f"deal {deal.id} is {deal.stage}; {CLOSED}")


def list_influences(actor: User, deal: Deal) -> list[BuyingInfluence]:
    """The deal's people with their contacts (one query), economic buyers first, in the method's role order."""
    _check_sees(actor, deal)
    rows = db.session.scalars(
        select(BuyingInfluence)
        .join(BuyingInfluence.contact)
        .options(contains_eager(BuyingInfluence.contact))
        .where(BuyingInfluence.deal_id == deal.id)
        .order_by(BuyingInfluence.id)
    )
    return sorted(rows, key=lambda i: (_ROLE_ORDER.get(i.role, len(_ROLE_ORDER)), i.id))


def account_contacts(deal: Deal) -> list[Contact]:
    """The people at the deal's account, by name: who may be added as a buying influence."""
    return list(db.session.scalars(select(Contact).where(Contact.account_id == deal.account_id).order_by(Contact.name)))


def _depth(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and value.strip().isdigit():
        number = int(value.strip())
    else:
        return None
    return number if 1 <= number <= len(RELATIONSHIP_DEPTHS) else None


def _clean(values: dict[str, Any], errors: dict[str, str]) -> dict[str, Any]:
    """Check each scale value against method.py, collecting one message per wrong field."""
    out: dict[str, Any] = {}
    scales = {"role": INFLUENCE_ROLE_KEYS, "attitude": ATTITUDE_KEYS, "influence": INFLUENCE_LEVEL_KEYS}
    for key, value in values.items():
        if key in scales:
            if value not in scales[key]:
                errors[key] = f"one of {', '.join(scales[key])}"
            else:
                out[key] = value
        elif key == "depth":
            depth = _depth(value)
            if depth is None:
                errors["depth"] = "a whole number from 1 (认识, know of) to 5 (相知, trusted)"
            else:
                out[key] = depth
        elif key == "note":
            note = "" if value is None else value
            if not isinstance(note, str):
                errors["note"] = "text"
            elif len(note) > NOTE_LIMIT:
                errors["note"] = f"at most {NOTE_LIMIT} characters"
            else:
                out[key] = note.strip()
        else:
            errors[key] = "unknown field"
    return out


def snapshot(influence: BuyingInfluence) -> str:
    """The person as the change log keeps them: keys, not labels, so history reads in any language."""
    return json.dumps(
        {
            "contact_id": influence.contact_id,
            "name": influence.contact.name,
            "title": influence.contact.title,
            "role": influence.role,
            "attitude": influence.attitude,
            "influence": influence.influence,
            "depth": influence.depth,
        },
        ensure_ascii=False,
    )


def _log(actor: User, deal: Deal, old: str | None, new: str | None, at: datetime) -> None:
    db.session.add(
        FieldChange(
            entity="deal",
            entity_id=deal.id,
            field=FIELD,
            old_value=old,
            new_value=new,
            user_id=actor.id,
            at=at,
            stage=deal.stage,
        )
    )


def _taken(deal: Deal, contact_id: int, role: str, *, besides: int | None = None) -> bool:
    query = select(BuyingInfluence.id).where(
        BuyingInfluence.deal_id == deal.id, BuyingInfluence.contact_id == contact_id, BuyingInfluence.role == role
    )
    if besides is not None:
        query = query.where(BuyingInfluence.id != besides)
    return db.session.scalar(query) is not None


def _contact(deal: Deal, contact_id: Any, errors: dict[str, str]) -> Contact | None:
    contact = db.session.get(Contact, contact_id) if is_id(contact_id) else None
    if contact is None or contact.account_id != deal.account_id:
        errors["contact_id"] = f"no contact {contact_id} at this deal's account"
        return None
    return contact


def add_influence(
    actor: User,
    deal: Deal,
    *,
    role: Any,
    contact_id: Any = None,
    name: str | None = None,
    title: str | None = None,
    attitude: Any = "neutral",
    influence: Any = "medium",
    depth: Any = 1,
    note: Any = "",
    at: datetime | None = None,
) -> BuyingInfluence:
    """Name one of the customer's people on the deal: an existing contact, or a new one on the deal's account."""
    _check_sees(actor, deal)
    _check_open(deal)
    errors: dict[str, str] = {}
    values = _clean({"role": role, "attitude": attitude, "influence": influence, "depth": depth, "note": note}, errors)
    new_name, new_title = (name or "").strip(), (title or "").strip()
    contact: Contact | None = None
    if contact_id is not None and contact_id != "":
        if new_name:
            errors["name"] = "choose an existing contact or enter a new one, not both"
        contact = _contact(deal, contact_id, errors)
    elif not new_name:
        errors["name"] = "enter the new contact's name, or choose a contact of the account (contact_id)"
    elif len(new_name) > NAME_LIMIT:
        errors["name"] = f"at most {NAME_LIMIT} characters"
    if len(new_title) > TITLE_LIMIT:
        errors["title"] = f"at most {TITLE_LIMIT} characters"
    if contact is not None and "role" in values and _taken(deal, contact.id, values["role"]):
        errors["role"] = f"{contact.name} is already on this deal in this role"
    if errors:
        raise InvalidInput(errors)
    when = at or utcnow()
    if contact is None:
        contact = create_contact(actor, deal.account, new_name, title=new_title)
        contact.created_at = contact.updated_at = when
    row = BuyingInfluence(deal_id=deal.id, contact_id=contact.id, created_at=when, updated_at=when, **values)
    row.contact = contact
    db.session.add(row)
    db.session.flush()
    _log(actor, deal, None, snapshot(row), when)
    db.session.flush()
    return row


def _find(deal: Deal, influence_id: Any) -> BuyingInfluence:
    row = (
        db.session.scalar(
            select(BuyingInfluence).where(BuyingInfluence.id == influence_id, BuyingInfluence.deal_id == deal.id)
        )
        if is_id(influence_id)
        else None
    )
    if row is None:
        raise NotFound(f"buying influence {influence_id} not found on deal {deal.id}")
    return row


def influence_of(actor: User, deal: Deal, influence_id: Any) -> BuyingInfluence:
    """One person on a deal the actor sees; any other id answers NotFound."""
    _check_sees(actor, deal)
    return _find(deal, influence_id)


def change_influence(
    actor: User, deal: Deal, influence_id: Any, changes: dict[str, Any], at: datetime | None = None
) -> BuyingInfluence:
    """Change a person's role, attitude, influence, depth or note, logging the change if there is one."""
    _check_sees(actor, deal)
    row = _find(deal, influence_id)
    _check_open(deal)
    errors: dict[str, str] = {}
    values = _clean(changes, errors)
    if "role" in values and values["role"] != row.role and _taken(deal, row.contact_id, values["role"], besides=row.id):
        errors["role"] = f"{row.contact.name} is already on this deal in this role"
    if errors:
        raise InvalidInput(errors)
    values = {k: v for k, v in values.items() if getattr(row, k) != v}
    if not values:
        return row
    when = at or utcnow()
    before = snapshot(row)
    for key, value in values.items():
        setattr(row, key, value)
    row.updated_at = when
    after = snapshot(row)
    if after != before:  # a note alone is not part of the snapshot the history shows
        _log(actor, deal, before, after, when)
    db.session.flush()
    return row


def remove_influence(actor: User, deal: Deal, influence_id: Any, at: datetime | None = None) -> BuyingInfluence:
    """Take a person off the deal (the contact stays at the account); the history keeps who they were."""
    _check_sees(actor, deal)
    row = _find(deal, influence_id)
    _check_open(deal)
    _log(actor, deal, snapshot(row), None, at or utcnow())
    db.session.delete(row)
    db.session.flush()
    return row
