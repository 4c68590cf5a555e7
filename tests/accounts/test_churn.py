"""Marking a customer lost (流失) with why and when, taking it back, and listing the lost ones."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from flask.testing import FlaskClient

from pipeline.accounts.models import Account
from pipeline.auth.models import User
from pipeline.core.changelog import FieldChange
from pipeline.core.pages import today
from pipeline.extensions import db
from tests.accounts.test_views import field_block, section
from tests.conftest import People

Browser = Callable[[User], FlaskClient]


def listed(html: str) -> list[str]:
    return re.findall(r'<td><a href="/accounts/\d+">(.*?)</a>', html)


def mark(client: FlaskClient, account: Account, **fields: Any) -> Any:
    data = {"churn-reason": "competitor", "churn-churned_on": str(today() - timedelta(days=3)), "churn-note": ""}
    return client.post(f"/accounts/{account.id}/churn", data=data | {f"churn-{k}": v for k, v in fields.items()})


def test_a_rep_marks_a_customer_lost_with_reason_date_and_note(
    browser: Browser, people: People, make_account: Any
) -> None:
    account = make_account(people.rep, "华信科技")
    db.session.commit()
    client = browser(people.rep)
    on = today() - timedelta(days=3)
    response = mark(client, account, note="新领导换了供应商，**价格**低两成")
    assert response.status_code == 302 and response.location.endswith("#churn")
    db.session.expire_all()
    saved = db.session.get(Account, account.id)
    assert (saved.churned_on, saved.churn_reason_key) == (on, "competitor")
    card = section(client.get(f"/accounts/{account.id}").text, "churn")
    assert str(on) in card and "转向竞争对手" in card and "新领导换了供应商" in card
    logged = {c.field: c.new_value for c in db.session.query(FieldChange).filter_by(entity="account")}
    assert logged == {"churned_on": str(on), "churn_reason_key": "competitor", "churn_note": saved.churn_note}


def test_a_lost_mark_needs_a_known_reason_and_a_date_not_after_today(
    browser: Browser, people: People, make_account: Any
) -> None:
    account = make_account(people.rep, "华信科技")
    db.session.commit()
    client = browser(people.rep)
    tomorrow = mark(client, account, churned_on=str(today() + timedelta(days=1)))
    assert tomorrow.status_code == 422
    assert 'class="field-error"' in field_block(tomorrow.text, "churn-churned_on")
    assert mark(client, account, reason="bored").status_code == 422
    missing = mark(client, account, churned_on="")
    assert missing.status_code == 422 and 'class="field-error"' in field_block(missing.text, "churn-churned_on")
    db.session.expire_all()
    assert db.session.get(Account, account.id).churned_on is None


def test_a_refused_mark_on_a_lost_customer_still_says_what_is_wrong(
    browser: Browser, people: People, make_account: Any
) -> None:
    """The lost card hides the mark form; a refusal there must still show its message (found by the form fuzz)."""
    account = make_account(people.rep, "华信科技")
    db.session.commit()
    client = browser(people.rep)
    assert mark(client, account).status_code == 302
    again = mark(client, account, churned_on="")
    assert again.status_code == 422
    assert 'href="#churn-churned_on"' in section(again.text, "churn")


def test_taking_the_mark_back_keeps_what_it_said_in_the_history(
    browser: Browser, people: People, make_account: Any
) -> None:
    account = make_account(people.rep, "华信科技")
    db.session.commit()
    client = browser(people.rep)
    mark(client, account, reason="price")
    assert client.post(f"/accounts/{account.id}/churn/clear").status_code == 302
    db.session.expire_all()
    saved = db.session.get(Account, account.id)
    assert (saved.churned_on, saved.churn_reason_key) == (None, None)
    history = section(client.get(f"/accounts/{account.id}").text, "history")
    assert "价格 → —" in history and "— → 价格" in history


def test_the_list_shows_lost_customers_apart(browser: Browser, people: People, make_account: Any) -> None:
    make_account(people.rep, "老客户")
    make_account(people.rep, "流失了", churned_on=date(2026, 5, 1), churn_reason_key="service")
    make_account(people.outsider, "别队流失", churned_on=date(2026, 5, 1), churn_reason_key="price")
    db.session.commit()
    client = browser(people.rep)
    assert listed(client.get("/accounts?status=churned").text) == ["流失了"]
    assert listed(client.get("/accounts?status=active").text) == ["老客户"]
    assert listed(client.get("/accounts").text) == ["流失了", "老客户"]


def test_a_rep_cannot_mark_or_unmark_another_teams_account(browser: Browser, people: People, make_account: Any) -> None:
    theirs = make_account(people.outsider, "别队客户")
    lost = make_account(people.outsider, "别队流失", churned_on=date(2026, 5, 1), churn_reason_key="price")
    db.session.commit()
    client = browser(people.rep)
    assert mark(client, theirs).status_code == 404
    assert client.post(f"/accounts/{lost.id}/churn/clear").status_code == 404
    db.session.expire_all()
    assert db.session.get(Account, theirs.id).churned_on is None
    assert db.session.get(Account, lost.id).churned_on == date(2026, 5, 1)


def test_the_api_marks_and_unmarks_and_filters_lost_accounts(
    client: FlaskClient, people: People, make_account: Any, token_for: Any
) -> None:
    account = make_account(people.rep, "华信科技")
    make_account(people.rep, "老客户")
    theirs = make_account(people.outsider, "别队客户")
    headers = token_for(people.rep)
    url = f"/api/v1/accounts/{account.id}/churn"
    body = {"reason": "no_need", "churned_on": str(today()), "note": "项目取消"}
    marked = client.put(url, json=body, headers=headers)
    assert marked.status_code == 200 and marked.json["churn_reason_key"] == "no_need"
    assert marked.json["churned_on"] == str(today()) and marked.json["churn_note"] == "项目取消"
    names = [a["name"] for a in client.get("/api/v1/accounts?churned=true", headers=headers).json["items"]]
    assert names == ["华信科技"]
    future = client.put(url, json=body | {"churned_on": str(today() + timedelta(days=2))}, headers=headers)
    assert future.status_code == 422 and "churned_on" in future.json["fields"]
    assert client.put(url, json=body | {"reason": "x"}, headers=headers).status_code == 422
    assert client.put(f"/api/v1/accounts/{theirs.id}/churn", json=body, headers=headers).status_code == 404
    cleared = client.delete(url, headers=headers)
    assert cleared.status_code == 200 and cleared.json["churned_on"] is None
