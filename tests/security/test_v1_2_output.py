"""ASVS 5.0 V1.2.1 output encoding, V1.3.5 Markdown and V1.3.7 template injection: hostile text in every field a
user can write comes out as text on every page, never as markup or as a template expression.

Each free-text column of the schema gets its own numbered payload (a <script>, an attribute break-out with an
onerror handler, and a {{n*7}} template expression), is walked through every page an admin and the owner can open,
and must appear escaped somewhere and raw nowhere. A new text column fails the test until it is listed here.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from html.parser import HTMLParser
from urllib.parse import quote

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import String, Text

from pipeline.accounts.models import Account, Qualification, Tag
from pipeline.activities.models import Activity
from pipeline.auth.models import ApiToken
from pipeline.care.models import Complaint, SatisfactionSurvey
from pipeline.deals import services as deal_services
from pipeline.deals.models import BuyingInfluence
from pipeline.extensions import db
from tests.conftest import People
from tests.security.conftest import Records, routes, url_for_rule
from tests.test_access_matrix import _records

# Text columns no user writes: keys and codes checked against a list, hashes, the seeded method's own labels, what
# the app itself writes. Everything else in the schema is user text and must be in FIELDS below.
NOT_USER_TEXT = {
    "checklist_templates": {"key", "stage", "label_zh", "label_en"},
    "lost_reasons": {"key", "label_zh", "label_en"},
    "users": {"email", "password_hash", "role", "locale", "calendar_token_hash"},  # e-mail: checked by create_user
    "accounts": {"kind", "relationship_level", "churn_reason_key"},
    "api_tokens": {"token_hash"},
    "audit_events": {"actor", "via", "action"},
    "field_changes": {"entity", "field", "stage"},
    "settings": {"key"},
    "contacts": {"mobile", "phone", "email"},  # normalised and checked by the forms, the API and the imports
    "deals": {"currency", "stage", "strategy", "lost_reason_key", "lost_from_stage"},
    "activities": {"kind", "call_result"},
    "buying_influences": {"role", "attitude", "influence"},
    "complaints": {"severity", "state"},
    "deal_checklist_items": {"item_key", "stage"},
    "satisfaction_surveys": {"occasion"},
    "stage_events": {"from_stage", "to_stage", "trigger", "lost_reason_key"},
    # an API call's Idempotency-Key and the answer kept for its retry: never on a page, only replayed as sent
    "idempotency_keys": {"key", "method", "path", "fingerprint", "body"},
    # the kept report figures (reports/rollup): stage codes copied from the deals, the server's time zone name
    "rollup_state": {"zone"},
    **{
        table: {"stage"}
        for table in (
            "rollup_deals",
            "rollup_stays",
            "rollup_stay_counts",
            "rollup_entry_counts",
            "rollup_stage_totals",
        )
    },
}
# User text that no page shows (the API answers it as JSON, which is not HTML): still checked never to appear raw.
NOT_ON_A_PAGE = {("api_tokens", "name"), ("deals", "import_ref")}


class Markup(HTMLParser):
    """What a page's HTML really contains: the elements and attributes an injection would add."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.injected: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "img" or (tag == "script" and not dict(attrs).get("src")):
            self.injected.append(f"<{tag}>")
        self.injected += [f"<{tag} {name}>" for name, _value in attrs if name.startswith("on")]


@dataclass
class Hostile:
    """Each user-text column and the payload stored in it."""

    numbers: Iterator[int] = field(default_factory=lambda: itertools.count(7001))
    payloads: dict[tuple[str, str], int] = field(default_factory=dict)

    def __call__(self, table: str, column: str, room: int = 200) -> str:
        n = next(self.numbers)
        self.payloads[(table, column)] = n
        text = f'<script>alert({n})</script>"><img src=x onerror=alert({n})>{{{{{n}*7}}}}'
        return text if len(text) <= room else f'"><img src=x onerror=alert({n})>{{{{{n}*7}}}}'


def escaped_marker(n: int) -> str:
    """What the attribute break-out looks like once escaped, by Jinja or by the Markdown renderer alike."""
    return f"&lt;img src=x onerror=alert({n})&gt;"


@pytest.fixture
def hostile(app: Flask, people: People) -> tuple[Hostile, Records]:
    """A rep whose team, name, account, contact, deal, activities, influence, checklist note, moves, complaint,
    survey, tags, qualification and churn all hold payloads."""
    p = Hostile()
    rep = people.rep
    rep.name = p("users", "name", 100)
    assert rep.team is not None
    rep.team.name = p("teams", "name", 100)
    records = _records(rep, "恶意")
    account, contact, deal = records.account, records.contact, records.deal
    account.name = p("accounts", "name")
    account.industry = p("accounts", "industry", 100)
    account.region = p("accounts", "region", 100)
    account.notes = p("accounts", "notes")
    account.churned_on, account.churn_reason_key = date(2026, 1, 5), "price"
    account.churn_note = p("accounts", "churn_note")
    account.tags = [Tag(name=p("tags", "name", 50))]
    db.session.add(Qualification(account=account, growth=True, note=p("qualifications", "note")))
    contact.name = p("contacts", "name", 100)
    contact.title = p("contacts", "title", 100)
    contact.address = p("contacts", "address", 300)
    contact.notes = p("contacts", "notes")
    contact.birthday = date.today()
    for column, room in (("product_line", 100), ("channel", 100), ("import_ref", 120)):
        setattr(deal, column, p("deals", column, room))
    db.session.add(ApiToken(user_id=rep.id, token_hash="0" * 64, name=p("api_tokens", "name", 100)))
    db.session.commit()
    changes = {
        "title": p("deals", "title"),
        "next_step": p("deals", "next_step"),
        "strategy_rationale": p("deals", "strategy_rationale"),
        "competitors": p("deals", "competitors"),
    }
    deal_services.update_deal(rep, deal, changes, expected_version=None)  # the history keeps old and new values
    p.payloads[("field_changes", "new_value")] = p.payloads[("deals", "title")]
    p.payloads[("field_changes", "old_value")] = p.payloads[("deals", "title")]
    deal_services.move(people.lead, deal, "advance", override=True, reason=p("stage_events", "reason"))
    item = deal_services.checklist_for(deal.stage)[0]  # the page shows the checklist of the stage the deal is in
    deal_services.set_checklist_item(rep, deal, item.key, True, note=p("deal_checklist_items", "note"))
    db.session.get(BuyingInfluence, records.influence.id).note = p("buying_influences", "note")
    activity = db.session.get(Activity, records.activity.id)
    activity.summary, activity.outcome = p("activities", "summary"), p("activities", "outcome")
    db.session.add(
        Activity(kind="note", account_id=account.id, user_id=rep.id, occurred_at=datetime.now(UTC), summary="备注")
    )
    complaint = db.session.get(Complaint, records.complaint.id)
    complaint.title = p("complaints", "title")
    for column in ("description", "core_issue", "solution", "closing_note"):
        setattr(complaint, column, p("complaints", column))
    db.session.get(SatisfactionSurvey, records.survey.id).comment = p("satisfaction_surveys", "comment")
    db.session.commit()
    return p, records


def user_text_columns() -> set[tuple[str, str]]:
    """Every String or Text column of the schema that is not in NOT_USER_TEXT."""
    return {
        (table.name, column.name)
        for table in db.metadata.sorted_tables
        for column in table.columns
        if isinstance(column.type, String | Text) and column.name not in NOT_USER_TEXT.get(table.name, set())
    }


def test_every_user_text_column_holds_a_payload(hostile: tuple[Hostile, Records]) -> None:
    """The walk below covers the schema: a text column added later must get a payload (or be declared not text)."""
    payloads, _records = hostile
    assert user_text_columns() == set(payloads.payloads)


def test_hostile_text_is_escaped_on_every_page_that_shows_it(
    app: Flask, people: People, hostile: tuple[Hostile, Records], signed_in: Callable[..., FlaskClient]
) -> None:
    """V1.2.1, V1.3.5, V1.3.7: on every GET page, as the admin and as the owner, no payload adds an element, an
    event handler or an evaluated {{…}}; each payload shows, escaped, on at least one page (NOT_ON_A_PAGE aside)."""
    payloads, records = hostile
    seen: set[int] = set()
    wrong: list[str] = []
    pages = 0
    for viewer in (people.admin, people.rep):
        browser = signed_in(viewer)
        for rule, _method in routes(app, ("GET",)):
            if rule.rule.startswith("/api/"):
                continue
            response = browser.get(url_for_rule(app, rule, records), follow_redirects=True)
            if response.mimetype != "text/html":
                continue
            pages += 1
            html = response.get_data(as_text=True)
            parser = Markup()
            parser.feed(html)
            wrong += [f"{viewer.email} {rule.rule}: {what}" for what in parser.injected]
            for n in payloads.payloads.values():
                if f"alert({n})</script>" in html or f"onerror=alert({n})>" in html or str(n * 7) in html:
                    wrong.append(f"{viewer.email} {rule.rule}: payload {n} raw or evaluated")
                if escaped_marker(n) in html:
                    seen.add(n)
    assert pages >= 70
    assert not wrong, "\n".join(wrong)
    unseen = {column for column, n in payloads.payloads.items() if n not in seen}
    assert unseen == NOT_ON_A_PAGE


def test_hostile_text_in_the_address_is_escaped_where_a_page_repeats_it(
    app: Flask, people: People, signed_in: Callable[..., FlaskClient]
) -> None:
    """V1.2.1 for reflected input: search words, filters and the sign-in page's `next` echo back escaped."""
    n = 9137
    payload = f'"><img src=x onerror=alert({n})>{{{{{n}*7}}}}'
    browser = signed_in(people.admin)
    wrong: list[str] = []
    query = "&".join(f"{name}={quote(payload)}" for name in ("q", "next", "stage", "owner", "tag", "week", "lang"))
    for rule, _method in routes(app, ("GET",)):
        if rule.arguments or rule.rule.startswith("/api/"):
            continue
        response = browser.get(f"{rule.rule}?{query}")
        html = response.get_data(as_text=True)
        parser = Markup()
        parser.feed(html)
        if response.status_code >= 500 or parser.injected or str(n * 7) in html:
            wrong.append(f"{rule.rule} → {response.status_code} {parser.injected}")
    anonymous = app.test_client().get(f"/login?{query}")
    parser = Markup()
    parser.feed(anonymous.get_data(as_text=True))
    assert not parser.injected and escaped_marker(n) in anonymous.get_data(as_text=True)  # `next` is echoed, escaped
    assert not wrong, "\n".join(wrong)


def test_notes_in_markdown_cannot_carry_html_or_script_links(
    app: Flask, people: People, make_account: Callable[..., Account], signed_in: Callable[..., FlaskClient]
) -> None:
    """V1.3.5: Markdown notes render raw HTML as text and drop javascript: and data: links (images are off)."""
    account = make_account(people.rep)
    account.notes = (
        '<b onclick="x()">粗</b> [点我](javascript:alert(1)) [数据](data:text/html,<script>alert(2)</script>) '
        "![图](http://tracker.example.com/p.gif) [官网](https://example.com)"
    )
    db.session.commit()
    html = signed_in(people.rep).get(f"/accounts/{account.id}").get_data(as_text=True)
    parser = Markup()
    parser.feed(html)
    assert not parser.injected
    assert 'href="javascript:' not in html and 'href="data:' not in html and "<img" not in html  # images off
    assert '<a href="https://example.com" rel="nofollow noopener noreferrer">官网</a>' in html
    assert "&lt;b onclick=" in html
