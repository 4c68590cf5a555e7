"""Every page and API read costs the same number of queries with one record as with many.

The walk reads the app's URL map (as the access matrix does), so a list added later is held to the budget
without touching this file. Each GET route is asked twice by the records' owner and by their lead: once with
one record of each kind, once after the same owner gained a dozen more accounts, contacts, deals, buying
influences and activities, both beside the first ones and under them (the first account's contacts and deals,
the first deal's activities and influences). A count that grows with the rows is an N+1 query: a page that
would crawl at a million deals.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from flask import Flask, Response
from flask.testing import FlaskClient

from pipeline.accounts.models import Account, Contact
from pipeline.activities.models import Activity
from pipeline.auth.models import User
from pipeline.deals import services as deal_services
from pipeline.deals.models import BuyingInfluence
from pipeline.extensions import db
from tests.conftest import PASSWORDS, People, ServerLikeClient, counting_statements
from tests.test_access_matrix import FILE_ROUTES, _records, _routes, _url, _with_file_args

MORE = 12


@pytest.fixture
def app_config() -> dict[str, object]:
    return {"WTF_CSRF_ENABLED": False}


def _grow(owner_id: int, account_id: int, deal_id: int) -> None:
    """A dozen more of everything, for the same owner: beside the first records and under them."""
    owner = db.session.get(User, owner_id)
    account = db.session.get(Account, account_id)
    assert owner is not None and account is not None
    for i in range(MORE):
        _records(owner, f"又一{i}")
        contact = Contact(account_id=account_id, name=f"联系人{i}", email=f"more{i}@example.com")
        db.session.add(contact)
        db.session.flush()
        db.session.add(BuyingInfluence(deal_id=deal_id, contact_id=contact.id, role="user"))
        deal_services.create_deal(owner, account, f"追加商机{i}")
        for subject in ({"deal_id": deal_id}, {"account_id": account_id}):
            db.session.add(
                Activity(kind="visit", user_id=owner_id, occurred_at=datetime.now(UTC), summary="拜访", **subject)
            )
    db.session.commit()


def _statements(client: FlaskClient, headers: dict[str, str], url: str) -> int:
    db.session.remove()  # each request starts with an empty session, as in a server
    with counting_statements() as statements:
        response = client.get(url, headers=headers)
    assert response.status_code in (200, 302), f"GET {url} → {response.status_code}"  # a redirect lists nothing
    return len(statements)


@pytest.mark.parametrize("viewer", ["rep", "lead"])
def test_no_page_or_api_read_costs_more_queries_with_more_rows(
    app: Flask, people: People, viewer: str, token_for: Callable[[User], dict[str, str]]
) -> None:
    records = _records(people.rep, "预算")
    first = (records.owner.id, records.account.id, records.deal.id)
    user: User = getattr(people, viewer)
    client = ServerLikeClient(app, Response, use_cookies=True)
    assert client.post("/login", data={"email": user.email, "password": PASSWORDS[user.email]}).status_code == 302
    headers = token_for(user)
    urls = [
        _with_file_args(_url(app, rule, records))
        for rule, method in _routes(app)
        if method == "GET" and rule.rule not in FILE_ROUTES
    ]
    assert len(urls) >= 30, "the walk found fewer pages than the app has"
    for url in urls:  # once, so first-use queries (the checklist templates, the session) are not counted
        _statements(client, headers, url)
    before = {url: _statements(client, headers, url) for url in urls}
    _grow(*first)
    grown = [
        f"GET {url}: {before[url]} → {after} queries"
        for url in urls
        if (after := _statements(client, headers, url)) > before[url]
    ]
    assert not grown, "queries grow with the rows (N+1):\n" + "\n".join(grown)
