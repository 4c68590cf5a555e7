"""The account page's own forms with CSRF on, as a browser sends them: each carries its form's token."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask.testing import FlaskClient

from pipeline.accounts.models import Account, Contact, Qualification
from pipeline.extensions import db
from tests.accounts.test_views import section
from tests.conftest import People


@pytest.fixture
def app_config() -> dict[str, Any]:
    return {"WTF_CSRF_ENABLED": True}


def sign_in(client: FlaskClient) -> None:
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', client.get("/login").text)[1]
    data = {"email": "rep@example.com", "password": "rep-pass-1", "csrf_token": token}
    assert client.post("/login", data=data).status_code == 302


def token(html: str, prefix: str) -> str:
    return re.search(rf'name="{prefix}-csrf_token"[^>]*value="([^"]+)"', html)[1]


def test_tags_worksheet_and_lost_mark_are_saved_with_the_pages_tokens(
    client: FlaskClient, people: People, make_account: Any
) -> None:
    account = make_account(people.rep, "华信科技")
    person = Contact(account_id=account.id, name="刘洋")
    db.session.add(person)
    db.session.commit()
    sign_in(client)
    url = f"/accounts/{account.id}"
    forged = client.post(f"{url}/tags", data={"tagging-tags": "伪造"})
    assert forged.status_code == 400
    page = client.get(url).text
    tags = {"tagging-tags": "重要客户", "tagging-csrf_token": token(section(page, "account-tags"), "tagging")}
    assert client.post(f"{url}/tags", data=tags).status_code == 302
    sheet = {"worksheet-growth": "y", "worksheet-csrf_token": token(section(page, "qualification"), "worksheet")}
    assert client.post(f"{url}/qualification", data=sheet).status_code == 302
    lost = {"churn-reason": "price", "churn-churned_on": "2026-06-01"}
    lost["churn-csrf_token"] = token(section(page, "churn"), "churn")
    assert client.post(f"{url}/churn", data=lost).status_code == 302
    clear = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', section(client.get(url).text, "churn"))[1]
    assert client.post(f"{url}/churn/clear", data={"csrf_token": clear}).status_code == 302
    contact_page = client.get(f"/contacts/{person.id}").text
    contact_tags = {"tagging-tags": "朋友", "tagging-csrf_token": token(contact_page, "tagging")}
    assert client.post(f"/contacts/{person.id}/tags", data=contact_tags).status_code == 302
    db.session.expire_all()
    saved = db.session.get(Account, account.id)
    assert [t.name for t in saved.tags] == ["重要客户"] and saved.churned_on is None
    assert db.session.get(Qualification, account.id).score == 1
    assert [t.name for t in db.session.get(Contact, person.id).tags] == ["朋友"]
