"""Record-level access, in one place: a rep sees their own records, a lead their team's, an admin all."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import has_request_context
from sqlalchemy import ColumnElement, select, true

from pipeline.accounts.models import Account, Contact
from pipeline.auth.models import Role, User
from pipeline.auth.teams import team_member_ids
from pipeline.care.models import Complaint, SatisfactionSurvey
from pipeline.core import audit
from pipeline.core.errors import Forbidden, NotFound
from pipeline.core.models import is_id
from pipeline.deals.models import Deal
from pipeline.extensions import db


def _owned_by_visible(owner_column: Any, user: User) -> ColumnElement[bool]:
    if user.role == Role.ADMIN:
        return true()
    if user.role == Role.LEAD and user.team_id is not None:
        return owner_column.in_(team_member_ids(user.team_id))
    return owner_column == user.id


def deals_visible_to(user: User) -> ColumnElement[bool]:
    """A WHERE clause limiting deals to those `user` may see."""
    return _owned_by_visible(Deal.owner_id, user)


def accounts_visible_to(user: User) -> ColumnElement[bool]:
    """A WHERE clause limiting accounts to those `user` may see."""
    return _owned_by_visible(Account.owner_id, user)


OUT_OF_REACH = "access.out_of_reach"


def out_of_reach(kind: str, record_id: object, message: str | None = None) -> NotFound:
    """The NotFound to raise for a record the user may not see (or that does not exist), logged as a failed access.

    The log says which record was asked for, by whom and where; the answer says no more than "not found".
    """
    if has_request_context():
        audit.refused(OUT_OF_REACH, record=kind, id=audit.clipped(record_id))
    return NotFound(message or f"{kind} {record_id} not found")


def visible_deal(user: User, deal_id: int) -> Deal:
    """The deal if `user` may see it; otherwise NotFound, exactly as if it did not exist."""
    deal = db.session.scalar(select(Deal).where(Deal.id == deal_id, deals_visible_to(user))) if is_id(deal_id) else None
    if deal is None:
        raise out_of_reach("deal", deal_id)
    return deal


def visible_account(user: User, account_id: int) -> Account:
    """The account if `user` may see it; otherwise NotFound."""
    account = (
        db.session.scalar(select(Account).where(Account.id == account_id, accounts_visible_to(user)))
        if is_id(account_id)
        else None
    )
    if account is None:
        raise out_of_reach("account", account_id)
    return account


def visible_contact(user: User, contact_id: int) -> Contact:
    """The contact if `user` may see its account; otherwise NotFound."""
    contact = (
        db.session.scalar(
            select(Contact).join(Contact.account).where(Contact.id == contact_id, accounts_visible_to(user))
        )
        if is_id(contact_id)
        else None
    )
    if contact is None:
        raise out_of_reach("contact", contact_id)
    return contact


def complaints_visible_to(user: User) -> ColumnElement[bool]:
    """A WHERE clause limiting complaints to those `user` may see: handled by someone in reach, or on their account."""
    return _owned_by_visible(Complaint.owner_id, user) | Complaint.account_id.in_(
        select(Account.id).where(accounts_visible_to(user))
    )


def surveys_visible_to(user: User) -> ColumnElement[bool]:
    """A WHERE clause limiting surveys to those `user` may see: asked by someone in reach, or on their account."""
    return _owned_by_visible(SatisfactionSurvey.user_id, user) | SatisfactionSurvey.account_id.in_(
        select(Account.id).where(accounts_visible_to(user))
    )


def visible_complaint(user: User, complaint_id: int) -> Complaint:
    """The complaint if `user` may see it; otherwise NotFound."""
    complaint = (
        db.session.scalar(select(Complaint).where(Complaint.id == complaint_id, complaints_visible_to(user)))
        if is_id(complaint_id)
        else None
    )
    if complaint is None:
        raise out_of_reach("complaint", complaint_id)
    return complaint


def visible_survey(user: User, survey_id: int) -> SatisfactionSurvey:
    """The satisfaction survey if `user` may see it; otherwise NotFound."""
    survey = (
        db.session.scalar(
            select(SatisfactionSurvey).where(SatisfactionSurvey.id == survey_id, surveys_visible_to(user))
        )
        if is_id(survey_id)
        else None
    )
    if survey is None:
        raise out_of_reach("survey", survey_id, f"satisfaction survey {survey_id} not found")
    return survey


# URL arguments that name a record, and how to load it through the user's scope.
RECORD_ARGUMENTS: dict[str, Callable[[User, int], Any]] = {
    "deal_id": visible_deal,
    "account_id": visible_account,
    "contact_id": visible_contact,
    "complaint_id": visible_complaint,
    "survey_id": visible_survey,
}


def check_records_in_url(user: User, view_args: dict[str, Any] | None) -> None:
    """Answer 404 for a record out of reach before anything else (a body check first would reveal it exists)."""
    for name, value in (view_args or {}).items():
        if name in RECORD_ARGUMENTS:
            RECORD_ARGUMENTS[name](user, value)


def sees(user: User, owner_id: int) -> bool:
    """The same rule as the WHERE clauses above, for a record already loaded (by its owner)."""
    if user.role == Role.ADMIN or owner_id == user.id:
        return True
    if user.role == Role.LEAD and user.team_id is not None:
        owner = db.session.get(User, owner_id)
        return owner is not None and owner.team_id == user.team_id
    return False


def may_own(actor: User, owner: User) -> bool:
    """Whether `actor` may give a record to `owner`: reps to themselves, leads within the team, admins to all."""
    if actor.role == Role.ADMIN:
        return True
    if actor.role == Role.LEAD and actor.team_id is not None:
        return owner.team_id == actor.team_id
    return owner.id == actor.id


def check_may_own(actor: User, owner: User, field: str = "owner_id") -> None:
    """Refuse to assign a record to someone outside the actor's reach."""
    if not owner.active:
        raise Forbidden(f"{field}: {owner.email} is disabled")
    if not may_own(actor, owner):
        raise Forbidden(f"{field}: you may not assign records to {owner.email}")
