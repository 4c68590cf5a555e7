"""Hand-built customer histories for the customer analyses: won deals written straight in, on chosen days."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from pipeline.accounts.models import Account
from pipeline.deals.models import Deal
from pipeline.extensions import db


def won(account: Account, amount: str, on: date, **fields: Any) -> Deal:
    """A deal of `account`'s owner, won on `on` for `amount` (history as an import brings it)."""
    deal = Deal(
        account_id=account.id,
        owner_id=fields.pop("owner_id", account.owner_id),
        title=fields.pop("title", f"{account.name} 项目"),
        amount=Decimal(amount),
        stage="follow_up",
        won_on=on,
        **fields,
    )
    db.session.add(deal)
    db.session.flush()
    return deal
