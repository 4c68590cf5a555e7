"""JSON API v1 for accounts and their contacts."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from pipeline.accounts import schemas, services
from pipeline.accounts.models import Account, Contact
from pipeline.auth.api import api_user, token_blueprint
from pipeline.auth.scope import accounts_visible_to, visible_account
from pipeline.core.schemas import ErrorSchema, page
from pipeline.extensions import db

blp = token_blueprint("accounts_api", __name__, "/api/v1/accounts", "Accounts (customers) and their contacts.")


@blp.route("")
@blp.arguments(schemas.AccountQuery, location="query")
@blp.response(200, schemas.AccountPage)
def list_accounts(args: dict[str, Any]) -> dict[str, Any]:
    """The accounts you may see, newest first, by part of the name, owner or kind."""
    query = (
        select(Account)
        .options(joinedload(Account.owner))
        .where(accounts_visible_to(api_user()))
        .order_by(Account.id.desc())
        .limit(args["limit"] + 1)
    )
    if args.get("q"):
        query = query.where(Account.name.contains(args["q"], autoescape=True))
    for name in ("owner_id", "kind"):
        if args.get(name) is not None:
            query = query.where(getattr(Account, name) == args[name])
    if args["cursor"]:
        query = query.where(Account.id < args["cursor"])
    return page(list(db.session.scalars(query)), args["limit"])


@blp.route("", methods=["POST"])
@blp.arguments(schemas.AccountSchema)
@blp.response(201, schemas.AccountDetailSchema)
@blp.alt_response(422, schema=ErrorSchema)
def create_account(body: dict[str, Any]) -> Account:
    """Add an account, owned by you unless you may assign it to someone else."""
    name = body.pop("name")
    return services.create_account(api_user(), name, **body)


@blp.route("/<int:account_id>")
@blp.response(200, schemas.AccountDetailSchema)
@blp.alt_response(404, schema=ErrorSchema)
def get_account(account_id: int) -> Account:
    """One account with its contacts."""
    return visible_account(api_user(), account_id)


@blp.route("/<int:account_id>/contacts", methods=["POST"])
@blp.arguments(schemas.ContactSchema)
@blp.response(201, schemas.ContactSchema)
@blp.alt_response(422, schema=ErrorSchema)
def create_contact(body: dict[str, Any], account_id: int) -> Contact:
    """Add a person at one of your accounts."""
    account = visible_account(api_user(), account_id)
    name = body.pop("name")
    return services.create_contact(api_user(), account, name, **body)
