"""What the customer analyses count: the accounts in a report's scope, their won deals, touches and complaints.

A report's scope picks accounts by their owner (a rep's own, a lead's team's, an admin's any), and counts a won
deal only when both its account and the deal itself are in scope, so nobody sees figures of deals they cannot.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.sql.functions import coalesce

from pipeline.accounts.models import Account, Contact
from pipeline.activities.models import Activity
from pipeline.care.models import Complaint
from pipeline.deals.models import Deal
from pipeline.extensions import db
from pipeline.reports.periods import Period
from pipeline.reports.scope import ReportScope


def accounts_in(scope: ReportScope) -> ColumnElement[bool]:
    """A WHERE clause over Account for the scope's owners (a deal strategy does not pick accounts)."""
    return replace(scope, strategy=None).deals(owner_column=Account.owner_id)


def deals_of(scope: ReportScope) -> list[ColumnElement[bool]]:
    """WHERE clauses over Deal: the deal's owner and its account's owner both in scope (no strategy filter)."""
    owners = replace(scope, strategy=None)
    if owners.whole_company:
        return []
    return [owners.deals(), Deal.account_id.in_(select(Account.id).where(accounts_in(owners)))]


def won_in(scope: ReportScope, period: Period) -> list[ColumnElement[bool]]:
    """WHERE clauses over Deal: won in the period, the deal in scope, and its account in scope."""
    return [Deal.won_on >= period.first, Deal.won_on <= period.last, *deals_of(scope)]


def customers_by(scope: ReportScope, day: date) -> set[int]:
    """Accounts in scope that had bought (a won deal in scope) by `day`: customers, not prospects."""
    conditions = [Deal.won_on <= day, *deals_of(scope)]
    return set(db.session.scalars(select(Deal.account_id).where(*conditions).distinct()))


def previous_period(period: Period) -> Period:
    """The period of the same length just before `period`, to measure growth against."""
    return Period(
        date.fromordinal(period.first.toordinal() - period.days), date.fromordinal(period.first.toordinal() - 1)
    )


def activities_per_account(scope: ReportScope, period: Period) -> dict[int, int]:
    """Touches per account in scope in the period; an activity logged on a deal or a contact counts for its account."""
    account_id = coalesce(Activity.account_id, Deal.account_id, Contact.account_id).label("account_id")
    touches = (
        select(account_id)
        .select_from(Activity)
        .outerjoin(Deal, Deal.id == Activity.deal_id)
        .outerjoin(Contact, Contact.id == Activity.contact_id)
        .where(Activity.occurred_at >= period.start(), Activity.occurred_at < period.end())
        .subquery()
    )
    rows = db.session.execute(
        select(touches.c.account_id, func.count())
        .join(Account, Account.id == touches.c.account_id)
        .where(accounts_in(scope))
        .group_by(touches.c.account_id)
    )
    return {account: count for account, count in rows}


def complaints_per_account(scope: ReportScope, period: Period) -> dict[int, int]:
    """Complaints received per account in scope in the period."""
    rows = db.session.execute(
        select(Complaint.account_id, func.count())
        .join(Account, Account.id == Complaint.account_id)
        .where(Complaint.received_at >= period.start(), Complaint.received_at < period.end(), accounts_in(scope))
        .group_by(Complaint.account_id)
    )
    return {account: count for account, count in rows}


def names_and_owners(account_ids: set[int]) -> dict[int, tuple[str, int]]:
    """Name and owner of the given accounts, in one query (the lists a page shows, not every account)."""
    if not account_ids:
        return {}
    rows = db.session.execute(select(Account.id, Account.name, Account.owner_id).where(Account.id.in_(account_ids)))
    return {account_id: (name, owner_id) for account_id, name, owner_id in rows}
