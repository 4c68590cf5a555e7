"""Notes on accounts and contacts are Markdown: formatted on the page, and nothing hostile reaches it."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from flask.testing import FlaskClient

from pipeline.accounts.models import Account, Contact
from pipeline.auth.models import User
from pipeline.core.changelog import FieldChange
from pipeline.extensions import db
from tests.accounts.test_views import section
from tests.conftest import People

Browser = Callable[[User], FlaskClient]

HOSTILE = (
    "**每月回访**\n\n"
    "<script>alert('x')</script>\n\n"
    "<img src=x onerror=alert(1)>\n\n"
    "[官网](javascript:alert(1)) [合同](https://example.com/c?a=1&b=2)\n\n"
    "A &amp; B &lt;b&gt;"
)


def no_live_markup(html: str) -> None:
    """Nothing the user typed became a script, an image, an event handler or a javascript: link."""
    assert "<script>alert" not in html
    assert not re.search(r"<img[^>]*onerror", html)
    assert 'href="javascript:' not in html.lower()


def edit_data(account: Account, **changes: Any) -> dict[str, Any]:
    return {
        "name": account.name,
        "kind": account.kind,
        "industry": account.industry,
        "region": account.region,
        "owner_id": account.owner_id,
        "relationship_level": account.relationship_level,
        "tags": ", ".join(t.name for t in account.tags),
        "notes": account.notes,
    } | changes


def test_the_account_notes_are_edited_on_its_form_and_shown_as_markdown(
    browser: Browser, people: People, make_account: Any
) -> None:
    account = make_account(people.rep, "华信科技")
    db.session.commit()
    client = browser(people.rep)
    assert 'name="notes"' in client.get(f"/accounts/{account.id}/edit").text
    saved = client.post(f"/accounts/{account.id}/edit", data=edit_data(account, notes=HOSTILE))
    assert saved.status_code == 302
    db.session.expire_all()
    assert db.session.get(Account, account.id).notes == HOSTILE.strip()  # kept exactly as typed

    about = section(client.get(f"/accounts/{account.id}").text, "about")
    assert "<strong>每月回访</strong>" in about
    assert '<a href="https://example.com/c?a=1&amp;b=2" rel="nofollow noopener noreferrer">合同</a>' in about
    assert "&lt;script&gt;" in about and "&lt;img src=x onerror=alert(1)&gt;" in about  # shown, as text
    assert "A &amp; B &lt;b&gt;" in about
    no_live_markup(about)
    change = db.session.query(FieldChange).filter_by(entity="account", field="notes").one()
    assert change.user_id == people.rep.id and change.new_value == HOSTILE.strip()


def test_the_note_timeline_renders_markdown_safely(browser: Browser, people: People, make_account: Any) -> None:
    account = make_account(people.rep, "华信科技")
    db.session.commit()
    client = browser(people.rep)
    assert client.post(f"/accounts/{account.id}/notes", data={"note": HOSTILE}).status_code == 302
    notes = section(client.get(f"/accounts/{account.id}").text, "account-notes")
    assert "<strong>每月回访</strong>" in notes and "&lt;script&gt;" in notes
    assert "[官网](javascript:alert(1))" in notes  # not a link: left as the text typed
    no_live_markup(notes)


def test_a_contacts_notes_render_as_markdown_on_the_account_and_the_contact_page(
    browser: Browser, people: People, make_account: Any
) -> None:
    account = make_account(people.rep, "华信科技")
    db.session.commit()
    client = browser(people.rep)
    added = client.post(
        f"/accounts/{account.id}/contacts/new", data={"name": "刘洋", "notes": "- 喜欢*绿茶*\n- <svg onload=alert(1)>"}
    )
    assert added.status_code == 302
    contact = db.session.query(Contact).filter_by(name="刘洋").one()
    contacts = section(client.get(f"/accounts/{account.id}").text, "contacts")
    assert "<li>喜欢<em>绿茶</em></li>" in contacts and "&lt;svg onload=alert(1)&gt;" in contacts
    assert "<svg" not in contacts
    page = client.get(f"/contacts/{contact.id}")
    assert page.status_code == 200
    notes = section(page.text, "contact-notes")
    assert "<li>喜欢<em>绿茶</em></li>" in notes and "<svg" not in notes
