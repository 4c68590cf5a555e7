"""Create and edit accounts and contacts. Services flush; the request or command commits."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import joinedload, selectinload

from pipeline.accounts.models import ACCOUNT_KINDS, Account, Contact
from pipeline.accounts.profile import NO_PURCHASE, frequency_class, won_in_window
from pipeline.accounts.scales import RELATIONSHIP_KEYS
from pipeline.accounts.tags import account_has_tag
from pipeline.activities.models import Activity
from pipeline.activities.services import ActivityRow, log_activity, recent
from pipeline.auth.models import Role, User
from pipeline.auth.scope import accounts_visible_to, check_may_own, deals_visible_to
from pipeline.core.changelog import FieldChange, apply_changes, log_change
from pipeline.core.errors import InvalidInput
from pipeline.core.models import is_id
from pipeline.deals.method import OPEN_STAGES
from pipeline.deals.models import Deal
from pipeline.extensions import db

ACCOUNT_FIELDS = ("name", "kind", "industry", "region", "owner_id", "relationship_level", "notes")
NOTES_MAX = 20000  # a customer's profile notes (Markdown)
CONTACT_FIELDS = ("name", "title", "mobile", "phone", "email", "birthday", "address", "notes")


def _lengths(model: Any) -> dict[str, int]:
    """Each text column's length limit, read from the model so the check and the table never disagree."""
    return {c.key: c.type.length for c in model.__table__.columns if getattr(c.type, "length", None)}


# Something@somewhere.tld without spaces: enough to catch typos, without pretending to verify the mailbox.
EMAIL = re.compile(r"^[^@\s]+@[^@\s.]+(\.[^@\s.]+)+$")


def is_email(text: str) -> bool:
    """Whether `text` looks like an e-mail address."""
    return bool(EMAIL.match(text))


def _check_text(model: Any, values: dict[str, Any], errors: dict[str, str]) -> None:
    for key, limit in _lengths(model).items():
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
    if "relationship_level" in values and values["relationship_level"] not in RELATIONSHIP_KEYS:
        errors["relationship_level"] = f"one of {', '.join(RELATIONSHIP_KEYS)}"
    if "notes" in values and len(str(values["notes"] or "")) > NOTES_MAX:
        errors["notes"] = f"at most {NOTES_MAX} characters"
    _check_text(Account, values, errors)
    if "owner_id" in values:
        owner = db.session.get(User, values["owner_id"]) if is_id(values["owner_id"]) else None
        if owner is None:
            errors["owner_id"] = f"no user {values['owner_id']}"
        else:
            check_may_own(actor, owner)
    if errors:
        raise InvalidInput(errors)
    cleaned = {k: (v.strip() if isinstance(v, str) else v) for k, v in values.items()}
    if "notes" in cleaned and cleaned["notes"] is None:
        cleaned["notes"] = ""
    return cleaned


def create_account(actor: User, name: str, **fields: Any) -> Account:
    """Add an account owned by the actor (or by someone the actor may assign it to)."""
    values = _clean_account(actor, {"name": name, **fields})
    values.setdefault("owner_id", actor.id)
    account = Account(**values)
    db.session.add(account)
    db.session.flush()
    return account


def update_account(actor: User, account: Account, changes: dict[str, Any]) -> dict[str, Any]:
    """Edit an account's fields, logging each change; keeping the owner needs no right to assign."""
    if "owner_id" in changes and changes["owner_id"] == account.owner_id:
        changes = {k: v for k, v in changes.items() if k != "owner_id"}
    changed = apply_changes(account, "account", _clean_account(actor, changes), actor.id)
    if changed:
        db.session.flush()
    return changed


def _clean_contact(values: dict[str, Any]) -> dict[str, Any]:
    """Check a contact's fields, one message per wrong field, and trim the text."""
    errors: dict[str, str] = {k: "unknown field" for k in set(values) - set(CONTACT_FIELDS)}
    if "name" in values and not str(values["name"] or "").strip():
        errors["name"] = "a name is required"
    if "birthday" in values and values["birthday"] is not None and not isinstance(values["birthday"], date):
        errors["birthday"] = "a date (YYYY-MM-DD)"
    if len(str(values.get("notes") or "")) > NOTES_MAX:
        errors["notes"] = f"at most {NOTES_MAX} characters"
    email = str(values.get("email") or "").strip()
    if email and not is_email(email):
        errors["email"] = "an e-mail address such as name@example.com"
    _check_text(Contact, values, errors)
    if errors:
        raise InvalidInput(errors)
    cleaned = {k: (v.strip() if isinstance(v, str) else v) for k, v in values.items()}
    for key in set(cleaned) - {"birthday"}:  # text columns hold "" rather than NULL
        if cleaned[key] is None:
            cleaned[key] = ""
    return cleaned


def create_contact(actor: User, account: Account, name: str, **fields: Any) -> Contact:
    """Add a person at an account the actor can see; the account's history says who added whom, and when."""
    contact = Contact(account_id=account.id, **_clean_contact({"name": name, **fields}))
    db.session.add(contact)
    db.session.flush()
    log_change("account", account.id, "contact_added", None, contact.name, actor.id)
    return contact


def update_contact(actor: User, contact: Contact, changes: dict[str, Any]) -> dict[str, Any]:
    """Edit a contact's fields (the caller has checked the actor sees its account), logging each change."""
    changed = apply_changes(contact, "contact", _clean_contact(changes), actor.id)
    if changed:
        db.session.flush()
    return changed


def contacts_of(account: Account) -> list[Contact]:
    """The account's contacts, in the order they were added, with their tags (one more query, not one each)."""
    query = select(Contact).options(selectinload(Contact.tags)).where(Contact.account_id == account.id)
    return list(db.session.scalars(query.order_by(Contact.id)))


def add_note(actor: User, account: Account, text: str) -> Activity:
    """Keep a quick note on an account (seed 001: keep adding notes and comments to each customer)."""
    return log_activity(actor, "note", text, account_id=account.id)


# ---- What the account pages read --------------------------------------------------------------------------------


@dataclass(frozen=True)
class AccountFilter:
    """Which accounts a list shows: a search over name, industry and region, and exact filters."""

    text: str = ""
    kind: str | None = None
    owner_id: int | None = None
    region: str | None = None
    industry: str | None = None
    tag: str | None = None
    frequency: str | None = None  # a FREQUENCY_CLASSES key, or profile.NO_PURCHASE
    status: str | None = None  # "active" | "churned" (流失客户)


@dataclass
class AccountRow:
    """One account in the list with its open deals (the ones the reader may see), summed per currency."""

    account: Account
    frequency: str = NO_PURCHASE
    open_deals: int = 0
    open_amounts: dict[str, Decimal] = field(default_factory=dict)


def _list_conditions(user: User, wanted: AccountFilter, frequency: ColumnElement[str]) -> list[ColumnElement[bool]]:
    conditions = [accounts_visible_to(user)]
    if wanted.tag:
        conditions.append(account_has_tag(wanted.tag))
    if wanted.frequency:
        conditions.append(frequency == wanted.frequency)
    if wanted.status == "churned":
        conditions.append(Account.churned_on.is_not(None))
    elif wanted.status == "active":
        conditions.append(Account.churned_on.is_(None))
    if wanted.text:
        conditions.append(
            or_(
                Account.name.icontains(wanted.text, autoescape=True),
                Account.industry.icontains(wanted.text, autoescape=True),
                Account.region.icontains(wanted.text, autoescape=True),
            )
        )
    if wanted.kind:
        conditions.append(Account.kind == wanted.kind)
    if wanted.owner_id is not None:
        conditions.append(Account.owner_id == wanted.owner_id)
    if wanted.region:
        conditions.append(Account.region == wanted.region)
    if wanted.industry:
        conditions.append(Account.industry == wanted.industry)
    return conditions


def account_list(
    user: User, wanted: AccountFilter, *, today: date, before: int | None = None, size: int = 50
) -> tuple[list[AccountRow], bool]:
    """A page of the accounts `user` may see, newest first (keyset: ids below `before`); and whether more follow.

    Each row's purchase frequency is computed in the same statement; the tags come in one more (not one per row).
    """
    frequency = frequency_class(won_in_window(user, today))
    query = (
        select(Account, frequency)
        .options(joinedload(Account.owner), selectinload(Account.tags))
        .where(*_list_conditions(user, wanted, frequency))
        .order_by(Account.id.desc())
        .limit(size + 1)
    )
    if before is not None:
        query = query.where(Account.id < before)
    found = list(db.session.execute(query).all())
    more = len(found) > size
    rows = {a.id: AccountRow(a, str(f)) for a, f in found[:size]}
    if rows:
        totals = db.session.execute(
            select(Deal.account_id, Deal.currency, func.count(), func.sum(Deal.amount))
            .where(Deal.account_id.in_(rows), Deal.stage.in_(OPEN_STAGES), deals_visible_to(user))
            .group_by(Deal.account_id, Deal.currency)
            .order_by(Deal.account_id, Deal.currency)
        )
        for account_id, currency, count, amount in totals:
            rows[account_id].open_deals += count
            rows[account_id].open_amounts[currency] = amount or Decimal("0.00")
    return list(rows.values()), more


def filter_values(user: User) -> tuple[list[str], list[str]]:
    """The regions and the industries among the accounts `user` may see, for the list's filters (one query)."""
    pairs = db.session.execute(select(Account.region, Account.industry).where(accounts_visible_to(user)).distinct())
    regions, industries = set(), set()
    for region, industry in pairs:
        regions.add(region)
        industries.add(industry)
    return sorted(regions - {""}), sorted(industries - {""})


def account_owners(user: User) -> list[tuple[int, str]]:
    """Everyone who owns an account `user` may see, by name (for the owner filter)."""
    rows = db.session.execute(
        select(User.id, User.name)
        .where(User.id.in_(select(Account.owner_id).where(accounts_visible_to(user))))
        .order_by(User.name, User.id)
    )
    return [(i, name) for i, name in rows]


def assignable_owners(actor: User) -> list[User]:
    """The active people `actor` may give an account to (the rule of scope.may_own, as one query)."""
    query = select(User).where(User.active.is_(True)).order_by(User.name, User.id)
    if actor.role == Role.LEAD and actor.team_id is not None:
        query = query.where(User.team_id == actor.team_id)
    elif actor.role != Role.ADMIN:
        query = query.where(User.id == actor.id)
    return list(db.session.scalars(query))


def account_deals(user: User, account: Account) -> list[Deal]:
    """The account's deals that `user` may see, newest first."""
    return list(
        db.session.scalars(
            select(Deal)
            .options(joinedload(Deal.owner))
            .where(Deal.account_id == account.id, deals_visible_to(user))
            .order_by(Deal.id.desc())
        )
    )


def account_activities(user: User, account: Account, *, notes: bool, limit: int = 20) -> list[ActivityRow]:
    """Recent notes (or all other activities) on the account, on its deals `user` may see and on its contacts."""
    visible_deals = select(Deal.id).where(Deal.account_id == account.id, deals_visible_to(user))
    on_account = or_(
        Activity.account_id == account.id,
        Activity.deal_id.in_(visible_deals),
        Activity.contact_id.in_(select(Contact.id).where(Contact.account_id == account.id)),
    )
    not_hidden = or_(Activity.deal_id.is_(None), Activity.deal_id.in_(select(Deal.id).where(deals_visible_to(user))))
    kind = Activity.kind == "note" if notes else Activity.kind != "note"
    return recent(and_(on_account, not_hidden, kind), limit)


def account_changes(account: Account, limit: int = 100) -> list[FieldChange]:
    """The account's logged field changes and its contacts', newest first."""
    contacts = select(Contact.id).where(Contact.account_id == account.id)
    return list(
        db.session.scalars(
            select(FieldChange)
            .where(
                or_(
                    and_(FieldChange.entity == "account", FieldChange.entity_id == account.id),
                    and_(FieldChange.entity == "contact", FieldChange.entity_id.in_(contacts)),
                )
            )
            .order_by(FieldChange.at.desc(), FieldChange.id.desc())
            .limit(limit)
        )
    )


def contact_changes(contact: Contact, limit: int = 100) -> list[FieldChange]:
    """The contact's logged field changes, newest first."""
    return list(
        db.session.scalars(
            select(FieldChange)
            .where(FieldChange.entity == "contact", FieldChange.entity_id == contact.id)
            .order_by(FieldChange.at.desc(), FieldChange.id.desc())
            .limit(limit)
        )
    )
