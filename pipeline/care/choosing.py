"""Which account a new complaint or survey is for: the one its link came from, else the user picks one."""

from __future__ import annotations

from flask import render_template, request
from sqlalchemy import select

from pipeline.accounts.models import Account
from pipeline.auth.models import User
from pipeline.auth.scope import accounts_visible_to, visible_account, visible_deal
from pipeline.core.errors import NotFound
from pipeline.deals.models import Deal
from pipeline.extensions import db


def preselected(user: User) -> tuple[Account | None, Deal | None]:
    """The account (and deal) the link came from (`deal_id` first, then `account_id`); one out of reach is as
    if not given."""
    deal_id = request.args.get("deal_id", type=int)
    if deal_id is not None:
        try:
            deal = visible_deal(user, deal_id)
            return deal.account, deal
        except NotFound:
            pass
    account_id = request.args.get("account_id", type=int)
    if account_id is not None:
        try:
            return visible_account(user, account_id), None
        except NotFound:
            pass
    return None, None


def choose_account_page(
    user: User, *, title: str, question: str, action: str, back: tuple[str, str] | None = None
) -> str:
    """The page that asks which of the user's accounts the new record is for, then comes back to `action`."""
    accounts = db.session.execute(
        select(Account.id, Account.name).where(accounts_visible_to(user)).order_by(Account.name)
    )
    return render_template(
        "care/choose_account.html", accounts=list(accounts), title=title, question=question, action=action, back=back
    )
