"""Who changed what, and when: an account's fields, its tags, its contacts, its level and its lost mark."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from flask.testing import FlaskClient

from pipeline.accounts.models import Contact
from pipeline.auth.models import User
from pipeline.core.pages import today
from pipeline.extensions import db
from tests.accounts.test_views import section
from tests.conftest import People

Browser = Callable[[User], FlaskClient]


def entries(html: str) -> list[str]:
    """The history's entries as text, newest first."""
    items = re.findall(r'<li class="entry entry-change">(.*?)</li>', html, re.S)
    return [" ".join(re.sub(r"<[^>]+>", " ", i).split()) for i in items]


def test_the_account_history_shows_every_kind_of_change_with_who_and_when(
    browser: Browser, people: People, make_account: Any
) -> None:
    account = make_account(people.rep, "华信科技")
    db.session.commit()
    rep = browser(people.rep)
    rep.post(f"/accounts/{account.id}/contacts/new", data={"name": "刘洋", "title": "采购经理"})
    person = db.session.query(Contact).filter_by(name="刘洋").one()
    rep.post(f"/contacts/{person.id}/edit", data={"name": "刘洋", "title": "采购总监", "tags": "朋友"})
    rep.post(f"/accounts/{account.id}/tags", data={"tagging-tags": "重要客户"})
    on = today() - timedelta(days=1)
    rep.post(f"/accounts/{account.id}/churn", data={"churn-reason": "price", "churn-churned_on": str(on)})
    lead = browser(people.lead)
    edit = {"name": "华信科技", "kind": "b2b", "owner_id": people.rep.id, "relationship_level": "partnership"}
    edit |= {"tags": "重要客户", "notes": "每季度回访"}
    assert lead.post(f"/accounts/{account.id}/edit", data=edit).status_code == 302

    history = entries(section(lead.get(f"/accounts/{account.id}").text, "history"))
    assert any("李经理" in e and "基本关系 → 伙伴关系" in e for e in history)
    assert any("李经理" in e and "— → 每季度回访" in e for e in history)
    assert any("王芳" in e and "— → 价格" in e for e in history)
    assert any("王芳" in e and f"— → {on}" in e for e in history)
    assert any("王芳" in e and "— → 重要客户" in e for e in history)
    assert any("王芳" in e and "刘洋" in e and "采购经理 → 采购总监" in e for e in history)  # the contact's change
    assert any("王芳" in e and "— → 朋友" in e for e in history)  # the contact's tags
    assert any("王芳" in e and "— → 刘洋" in e for e in history)  # the contact added
    assert all(re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d ", e) for e in history)  # each with its time
    assert history[0].count("李经理") == 1  # newest first: the lead's edit


def test_the_contact_page_shows_its_own_changes(browser: Browser, people: People, make_account: Any) -> None:
    account = make_account(people.rep, "华信科技")
    person = Contact(account_id=account.id, name="刘洋", mobile="13800000000")
    db.session.add(person)
    db.session.commit()
    client = browser(people.rep)
    client.post(f"/contacts/{person.id}/edit", data={"name": "刘洋", "mobile": "13900000000"})
    client.post(f"/contacts/{person.id}/tags", data={"tagging-tags": "家人, 朋友"})
    history = entries(section(client.get(f"/contacts/{person.id}").text, "history"))
    assert len(history) == 2
    assert "王芳" in history[0] and ("— → 家人, 朋友" in history[0] or "— → 朋友, 家人" in history[0])
    assert "王芳" in history[1] and "13800000000 → 13900000000" in history[1]


def test_a_rep_cannot_open_another_teams_contact(browser: Browser, people: People, make_account: Any) -> None:
    theirs = make_account(people.outsider, "别队客户")
    person = Contact(account_id=theirs.id, name="别队的人")
    db.session.add(person)
    db.session.commit()
    response = browser(people.rep).get(f"/contacts/{person.id}")
    assert response.status_code == 404 and "别队的人" not in response.text
