"""Hand-built customer histories for the customer analyses: won deals written straight in, on chosen days."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from pipeline.accounts.models import Account, Contact
from pipeline.activities.models import Activity
from pipeline.care.models import Complaint
from pipeline.deals.models import Deal
from pipeline.extensions import db
from tests.reports.conftest import local


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


def touch(
    account: Account, on: date, times: int = 1, *, deal: Deal | None = None, contact: Contact | None = None
) -> None:
    """Calls logged on the account (or on one of its deals or contacts instead) at 10:00 Shanghai time on `on`."""
    for _ in range(times):
        subject = (
            {"deal_id": deal.id} if deal else {"contact_id": contact.id} if contact else {"account_id": account.id}
        )
        db.session.add(
            Activity(kind="call", user_id=account.owner_id, occurred_at=local(on), summary="回访", **subject)
        )
    db.session.flush()


def complain(account: Account, on: date, times: int = 1) -> None:
    """Complaints received from the account on `on`."""
    for _ in range(times):
        db.session.add(
            Complaint(account_id=account.id, owner_id=account.owner_id, title="交付延误", received_at=local(on))
        )
    db.session.flush()
