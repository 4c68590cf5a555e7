"""JSON API v1 for accounts and their contacts: tags, relationship level, the lost mark, the worksheet."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from pipeline.accounts import churn, profile, qualification, schemas, services
from pipeline.accounts.models import Account, Contact
from pipeline.accounts.tags import account_has_tag, set_tags
from pipeline.auth.api import api_user, token_blueprint
from pipeline.auth.idempotency import idempotent
from pipeline.auth.scope import accounts_visible_to, visible_account, visible_contact
from pipeline.core.errors import NotFound
from pipeline.core.pages import today
from pipeline.core.schemas import ErrorSchema, page
from pipeline.extensions import db

blp = token_blueprint("accounts_api", __name__, "/api/v1/accounts", "Accounts (customers) and their contacts.")


@dataclass
class AccountDetail:
    """An account with what the method reads from it, as the detail schema shows it."""

    account: Account
    contacts: list[Contact]  # with their tags, in two queries whatever their number
    purchase_frequency: str
    won_last_12_months: int
    advised_relationship: profile.Advice

    def __getattr__(self, name: str) -> Any:
        return getattr(self.account, name)


def _detail(account: Account) -> AccountDetail:
    user = api_user()
    # The contacts and every tag in two queries, however many there are (not one query per contact).
    db.session.execute(
        select(Account)
        .where(Account.id == account.id)
        .options(selectinload(Account.tags), selectinload(Account.contacts).selectinload(Contact.tags))
        .execution_options(populate_existing=True)
    ).all()
    frequency, won = profile.frequency_of(user, account, today())
    return AccountDetail(account, services.contacts_of(account), frequency, won, profile.advise(user, account))


@blp.route("")
@blp.arguments(schemas.AccountQuery, location="query")
@blp.response(200, schemas.AccountPage)
def list_accounts(args: dict[str, Any]) -> dict[str, Any]:
    """The accounts you may see, newest first, by part of the name, owner, kind, tag or lost mark."""
    query = (
        select(Account)
        .options(joinedload(Account.owner), selectinload(Account.tags))
        .where(accounts_visible_to(api_user()))
        .order_by(Account.id.desc())
        .limit(args["limit"] + 1)
    )
    if args.get("q"):
        query = query.where(Account.name.contains(args["q"], autoescape=True))
    for name in ("owner_id", "kind"):
        if args.get(name) is not None:
            query = query.where(getattr(Account, name) == args[name])
    if args.get("tag"):
        query = query.where(account_has_tag(args["tag"]))
    if args.get("churned") is not None:
        query = query.where(Account.churned_on.is_not(None) if args["churned"] else Account.churned_on.is_(None))
    if args["cursor"]:
        query = query.where(Account.id < args["cursor"])
    return page(list(db.session.scalars(query)), args["limit"])


@blp.route("", methods=["POST"])
@idempotent
@blp.arguments(schemas.AccountSchema)
@blp.response(201, schemas.AccountDetailSchema)
@blp.alt_response(422, schema=ErrorSchema)
def create_account(body: dict[str, Any]) -> AccountDetail:
    """Add an account, owned by you unless you may assign it to someone else."""
    name, tags = body.pop("name"), body.pop("tags", None)
    account = services.create_account(api_user(), name, **body)
    if tags is not None:
        set_tags(api_user(), account, tags)
    return _detail(account)


@blp.route("/<int:account_id>")
@blp.response(200, schemas.AccountDetailSchema)
@blp.alt_response(404, schema=ErrorSchema)
def get_account(account_id: int) -> AccountDetail:
    """One account with its contacts, purchase frequency and the advised relationship level."""
    return _detail(visible_account(api_user(), account_id))


@blp.route("/<int:account_id>", methods=["PATCH"])
@blp.arguments(schemas.AccountPatchSchema)
@blp.response(200, schemas.AccountDetailSchema)
@blp.alt_response(404, schema=ErrorSchema)
@blp.alt_response(422, schema=ErrorSchema)
def update_account(body: dict[str, Any], account_id: int) -> AccountDetail:
    """Change an account's fields, its relationship level, notes or tags; every change is logged."""
    user = api_user()
    account = visible_account(user, account_id)
    tags = body.pop("tags", None)
    services.update_account(user, account, body)
    if tags is not None:
        set_tags(user, account, tags)
    return _detail(account)


@blp.route("/<int:account_id>/churn", methods=["PUT"])
@blp.arguments(schemas.ChurnSchema)
@blp.response(200, schemas.AccountDetailSchema)
@blp.alt_response(404, schema=ErrorSchema)
@blp.alt_response(422, schema=ErrorSchema)
def mark_churned(body: dict[str, Any], account_id: int) -> AccountDetail:
    """Mark the account lost (流失) with a reason, the day (not after today) and a note."""
    user = api_user()
    account = visible_account(user, account_id)
    churn.mark_churned(user, account, body["reason"], body["churned_on"], body["note"], today())
    return _detail(account)


@blp.route("/<int:account_id>/churn", methods=["DELETE"])
@blp.response(200, schemas.AccountDetailSchema)
@blp.alt_response(404, schema=ErrorSchema)
def unmark_churned(account_id: int) -> AccountDetail:
    """Take the lost mark back."""
    user = api_user()
    account = visible_account(user, account_id)
    churn.unmark_churned(user, account)
    return _detail(account)


def _worksheet(account: Account) -> dict[str, Any]:
    answers = qualification.answers(account.qualification)
    note = account.qualification.note if account.qualification else ""
    assessed = account.qualification is not None
    return {"account_id": account.id, **answers, "note": note, "score": sum(answers.values()), "assessed": assessed}


@blp.route("/<int:account_id>/qualification")
@blp.response(200, schemas.QualificationSchema)
@blp.alt_response(404, schema=ErrorSchema)
def get_qualification(account_id: int) -> dict[str, Any]:
    """The account's 潜力客户工作表: the seven criteria and the score."""
    return _worksheet(visible_account(api_user(), account_id))


@blp.route("/<int:account_id>/qualification", methods=["PUT"])
@blp.arguments(schemas.QualificationSchema)
@blp.response(200, schemas.QualificationSchema)
@blp.alt_response(404, schema=ErrorSchema)
@blp.alt_response(422, schema=ErrorSchema)
def set_qualification(body: dict[str, Any], account_id: int) -> dict[str, Any]:
    """Set any of the seven criteria (and the note); the ones left out keep their answer."""
    user = api_user()
    account = visible_account(user, account_id)
    qualification.set_qualification(user, account, body)
    return _worksheet(account)


@blp.route("/<int:account_id>/contacts", methods=["POST"])
@idempotent
@blp.arguments(schemas.ContactSchema)
@blp.response(201, schemas.ContactSchema)
@blp.alt_response(422, schema=ErrorSchema)
def create_contact(body: dict[str, Any], account_id: int) -> Contact:
    """Add a person at one of your accounts."""
    account = visible_account(api_user(), account_id)
    name, tags = body.pop("name"), body.pop("tags", None)
    contact = services.create_contact(api_user(), account, name, **body)
    if tags is not None:
        set_tags(api_user(), contact, tags)
    return contact


@blp.route("/<int:account_id>/contacts/<int:contact_id>", methods=["PATCH"])
@blp.arguments(schemas.ContactPatchSchema)
@blp.response(200, schemas.ContactSchema)
@blp.alt_response(404, schema=ErrorSchema)
@blp.alt_response(422, schema=ErrorSchema)
def update_contact(body: dict[str, Any], account_id: int, contact_id: int) -> Contact:
    """Change a contact's details or tags; every change is logged."""
    user = api_user()
    contact = visible_contact(user, contact_id)
    if contact.account_id != account_id:
        raise NotFound(f"contact {contact_id} not found")
    tags = body.pop("tags", None)
    services.update_contact(user, contact, body)
    if tags is not None:
        set_tags(user, contact, tags)
    return contact
