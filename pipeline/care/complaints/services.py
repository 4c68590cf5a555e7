"""What can be done to a complaint: receive it, take its steps, give it to someone else. Services flush only."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Select, case, select
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.exc import StaleDataError

from pipeline.accounts.models import Account, Contact
from pipeline.auth.models import User
from pipeline.auth.scope import check_may_own, complaints_visible_to, sees, visible_deal
from pipeline.care.complaints import workflow as workflow
from pipeline.care.models import SEVERITIES, Complaint
from pipeline.core.audit import record
from pipeline.core.changelog import FieldChange, apply_changes
from pipeline.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from pipeline.core.models import is_id, utcnow
from pipeline.deals.models import Deal
from pipeline.extensions import db

ENTITY = "complaint"
STALE = "this complaint was changed by someone else in the meantime; reload it and try again"
REJECTION = "rejection"  # the change-log field that keeps why the customer rejected a solution
MAX_TITLE, MAX_TEXT = 200, 4000


def _check_version(complaint: Complaint, expected_version: int | None) -> None:
    if expected_version is not None and expected_version != complaint.version:
        raise Conflict(f"{STALE} (you have version {expected_version}, the complaint is at {complaint.version})")


def _flush() -> None:
    """Write the complaint: a concurrent change to the same version fails here."""
    try:
        db.session.flush()
    except StaleDataError as exc:
        raise Conflict(STALE) from exc


def _text(value: Any, name: str, errors: dict[str, str], *, required: bool = False, limit: int = MAX_TEXT) -> str:
    text = "" if value is None else str(value).strip()
    if required and not text:
        errors[name] = f"{name.replace('_', ' ')} is required"
    elif len(text) > limit:
        errors[name] = f"at most {limit} characters"
    return text


def _links(
    actor: User, account: Account, deal_id: Any, contact_id: Any, errors: dict[str, str]
) -> tuple[int | None, int | None]:
    """The deal and contact a complaint names, each checked to belong to its account."""
    deal = contact = None
    if deal_id not in (None, ""):
        try:
            deal = visible_deal(actor, deal_id) if is_id(deal_id) else None
        except NotFound:
            deal = None
        if deal is None or deal.account_id != account.id:
            errors["deal_id"] = f"no deal {deal_id} of this account that you can see"
    if contact_id not in (None, ""):
        contact = db.session.get(Contact, contact_id) if is_id(contact_id) else None
        if contact is None or contact.account_id != account.id:
            errors["contact_id"] = f"no contact {contact_id} at this account"
    return (deal.id if deal else None), (contact.id if contact else None)


def receive(
    actor: User,
    account: Account,
    title: Any,
    *,
    description: Any = "",
    severity: str = "normal",
    deal_id: Any = None,
    contact_id: Any = None,
    owner_id: Any = None,
    received_at: datetime | None = None,
    via: str = "web",
) -> Complaint:
    """受理: take a complaint down for an account the actor can see; its owner is the account's unless chosen."""
    if not sees(actor, account.owner_id):
        raise NotFound(f"account {account.id} not found")
    errors: dict[str, str] = {}
    clean_title = _text(title, "title", errors, required=True, limit=MAX_TITLE)
    clean_description = _text(description, "description", errors)
    if severity not in SEVERITIES:
        errors["severity"] = f"one of {', '.join(SEVERITIES)}"
    deal, contact = _links(actor, account, deal_id, contact_id, errors)
    now = utcnow()
    when = received_at or now
    if when > now:
        errors["received_at"] = "a complaint cannot be received in the future"
    owner = account.owner
    if owner_id not in (None, ""):
        chosen = db.session.get(User, owner_id) if is_id(owner_id) else None
        if chosen is None:
            errors["owner_id"] = f"no user {owner_id}"
        else:
            owner = chosen
    if errors:
        raise InvalidInput(errors)
    if owner.id != account.owner_id:
        check_may_own(actor, owner)
    complaint = Complaint(
        account_id=account.id,
        deal_id=deal,
        contact_id=contact,
        owner_id=owner.id,
        title=clean_title,
        description=clean_description,
        severity=severity,
        state=workflow.RECEIVED,
        received_at=when,
        created_at=when,
        updated_at=when,
    )
    db.session.add(complaint)
    db.session.flush()
    db.session.add(
        FieldChange(
            entity=ENTITY, entity_id=complaint.id, field="state", new_value=workflow.RECEIVED, user_id=actor.id, at=when
        )
    )
    record("complaint.receive", via=via, user=actor, complaint_id=complaint.id, account_id=account.id)
    return complaint


def take_step(
    actor: User,
    complaint: Complaint,
    name: str,
    *,
    texts: dict[str, Any] | None = None,
    reason: str = "",
    expected_version: int | None = None,
    at: datetime | None = None,
    via: str = "web",
) -> workflow.Step:
    """Move a complaint one step on and log it: its state, the texts written and (on a rejection) the reason."""
    _check_version(complaint, expected_version)
    errors: dict[str, str] = {}
    given = {k: _text(v, k, errors) for k, v in (texts or {}).items() if k in workflow.TEXTS and v is not None}
    reason = _text(reason, "reason", errors)
    if errors:
        raise InvalidInput(errors)
    when = at or utcnow()
    step = workflow.Step(name=name, at=when, texts=given, reason=reason, locale=actor.locale)
    before = {k: getattr(complaint, k) for k in workflow.TEXTS}
    source = workflow.fire(complaint, step)
    complaint.updated_at = when
    changed = {k: (before[k], getattr(complaint, k)) for k in workflow.TEXTS if before[k] != getattr(complaint, k)}
    for field, (old, new) in {"state": (source, complaint.state), **changed}.items():
        db.session.add(
            FieldChange(
                entity=ENTITY,
                entity_id=complaint.id,
                field=field,
                old_value=old,
                new_value=new,
                user_id=actor.id,
                at=when,
            )
        )
    if name == workflow.REJECT:
        db.session.add(
            FieldChange(
                entity=ENTITY,
                entity_id=complaint.id,
                field=REJECTION,
                old_value=complaint.solution,
                new_value=reason,
                user_id=actor.id,
                at=when,
            )
        )
    _flush()
    record("complaint.step", via=via, user=actor, complaint_id=complaint.id, step=name, to=complaint.state)
    return step


def reassign(
    actor: User, complaint: Complaint, owner_id: Any, *, expected_version: int | None = None, via: str = "web"
) -> bool:
    """Give the complaint to another rep: a lead within the team, an admin to anyone. Return whether it changed."""
    if not actor.is_lead_or_admin:
        raise Forbidden("only a team lead or an admin may give a complaint to someone else")
    _check_version(complaint, expected_version)
    owner = db.session.get(User, owner_id) if is_id(owner_id) else None
    if owner is None:
        raise InvalidInput({"owner_id": f"no user {owner_id}"})
    check_may_own(actor, owner)
    changed = apply_changes(complaint, ENTITY, {"owner_id": owner.id}, actor.id)
    if changed:
        complaint.updated_at = utcnow()
        _flush()
        record("complaint.reassign", via=via, user=actor, complaint_id=complaint.id, owner_id=owner.id)
    return bool(changed)


# ---- Reading ------------------------------------------------------------------------------------------------

OPEN_FIRST = case((Complaint.state == workflow.CLOSED, 1), else_=0)


def complaints_query(
    user: User,
    *,
    state: str | None = None,
    owner_id: int | None = None,
    account_id: int | None = None,
    deal_id: int | None = None,
) -> Select[tuple[Complaint]]:
    """The complaints `user` may see, open ones first, then the oldest received first (the longest waiting)."""
    query = (
        select(Complaint)
        .options(joinedload(Complaint.account), joinedload(Complaint.owner))
        .where(complaints_visible_to(user))
        .order_by(OPEN_FIRST, Complaint.received_at, Complaint.id)
    )
    for column, value in (
        (Complaint.state, state),
        (Complaint.owner_id, owner_id),
        (Complaint.account_id, account_id),
        (Complaint.deal_id, deal_id),
    ):
        if value is not None:
            query = query.where(column == value)
    return query


def complaints_of(user: User, *, account: Account | None = None, deal: Deal | None = None) -> list[Complaint]:
    """An account's or a deal's complaints the user may see, open ones first (for their pages)."""
    query = complaints_query(
        user, account_id=account.id if account is not None else None, deal_id=deal.id if deal is not None else None
    )
    return list(db.session.scalars(query).unique())


def history(complaint: Complaint) -> list[FieldChange]:
    """Every step and change of the complaint, oldest first."""
    return list(
        db.session.scalars(
            select(FieldChange)
            .where(FieldChange.entity == ENTITY, FieldChange.entity_id == complaint.id)
            .order_by(FieldChange.at, FieldChange.id)
        )
    )
