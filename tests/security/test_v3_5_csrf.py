"""ASVS 5.0 V3.5 browser origin separation: no request forgery, and no change through a safe method.

Every page form carries Flask-WTF's CSRF token; the JSON API takes only bearer tokens, never the session cookie.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from pipeline.core.audit import AuditEvent
from pipeline.core.web import CSRF_REFUSED
from pipeline.extensions import db
from pipeline.reports.rollup import reads
from tests.conftest import People
from tests.security.conftest import (
    WRITE_METHODS,
    Records,
    changed,
    csrf_token,
    fingerprint,
    new_browser,
    routes,
    sign_in,
    source_fingerprint,
    url_for_rule,
)

REFUSAL = "表单已过期"  # the page a refused form answers with, in Chinese: "The form has expired…"


@pytest.fixture
def app_config() -> dict[str, Any]:
    """CSRF checked, as in production (the suite's default app turns it off so tests can post freely)."""
    return {"WTF_CSRF_ENABLED": True}


def _refusals() -> list[AuditEvent]:
    db.session.expire_all()
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == CSRF_REFUSED)))


@pytest.mark.parametrize("token", [None, "forged-token", "other-session"], ids=["missing", "forged", "stolen"])
def test_every_page_form_refuses_a_request_without_its_csrf_token_and_changes_nothing(
    app: Flask, people: People, world: dict[str, Records], signed_in: Callable[..., FlaskClient], token: str | None
) -> None:
    """V3.5.1: every POST/PUT/PATCH/DELETE page route (sign-in, sign-out and the language switch included), sent
    with no token, a made-up one, or another browser's valid one, answers 400 and writes nothing but its refusal."""
    admin = signed_in(people.admin)
    data: dict[str, str] = {}
    if token == "forged-token":
        data["csrf_token"] = token
    elif token == "other-session":  # a valid token, but of the attacker's own session
        attacker = new_browser(app)
        data["csrf_token"] = csrf_token(attacker)
    before = fingerprint(skip_tables=frozenset({"audit_events"}))
    refused_before = len(_refusals())
    wrong: list[str] = []
    sent = 0
    for rule, method in routes(app, WRITE_METHODS):
        if rule.rule.startswith("/api/"):
            continue
        url = url_for_rule(app, rule, world["rep_b"])
        response = admin.open(url, method=method, data=data)
        sent += 1
        if response.status_code != 400 or REFUSAL not in response.get_data(as_text=True):
            wrong.append(f"{method} {url} → {response.status_code}")
    assert sent >= 30, "the walk found fewer write routes than the app has"
    assert not wrong, "\n".join(wrong)
    assert changed(before, fingerprint(skip_tables=frozenset({"audit_events"}))) == []
    assert len(_refusals()) == refused_before + sent  # each refusal is logged (V16.3.2)
    assert admin.get("/deals").status_code == 200  # and the admin is still signed in


def test_the_same_forms_work_with_the_token_the_page_gave(
    app: Flask, people: People, world: dict[str, Records]
) -> None:
    """V3.5.1, the other side: the refusal above is the token's doing, not a broken form (sign-in, a change)."""
    browser = new_browser(app)
    assert sign_in(browser, people.rep.email).status_code == 302
    deal = world["rep"].deal
    page = browser.get(f"/deals/{deal.id}").get_data(as_text=True)
    token = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    response = browser.post(f"/accounts/{deal.account_id}/notes", data={"csrf_token": token, "note": "带令牌的备注"})
    assert response.status_code == 302, response.get_data(as_text=True)
    assert "带令牌的备注" in browser.get(f"/accounts/{deal.account_id}").get_data(as_text=True)


def test_a_signed_in_browser_cannot_call_the_api_with_its_cookie(
    app: Flask, people: People, world: dict[str, Records], signed_in: Callable[..., FlaskClient]
) -> None:
    """V3.5.1 for the API: it is exempt from CSRF because it reads only `Authorization: Bearer`, never the session
    cookie, so a forged cross-site request (which can carry cookies, never that header) gets 401 and changes nothing."""
    admin = signed_in(people.admin)
    before = fingerprint()
    wrong: list[str] = []
    walked = 0
    for rule, method in routes(app):
        if not rule.rule.startswith("/api/v1/"):
            continue
        url = url_for_rule(app, rule, world["rep_b"])
        response = admin.open(url, method=method, json={})
        walked += 1
        if response.status_code != 401:
            wrong.append(f"{method} {url} → {response.status_code}")
    assert walked >= 40
    assert not wrong, "\n".join(wrong)
    assert changed(before, fingerprint()) == []


def test_no_get_changes_anything_even_for_an_admin_on_a_full_database(
    app: Flask,
    people: People,
    world: dict[str, Records],
    signed_in: Callable[..., FlaskClient],
    token_for: Callable[..., dict[str, str]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """V3.5.3: no safe method changes state. Every GET page and API call, as an admin (who reaches every record),
    leaves every table as it was; only three things are written on purpose: the audit log notes each export
    downloaded (the download is the act audited, V16), an API token's coarse last-used time, and the report pages'
    derived cache (rollup_* and deals.rollup_version), which a report may fold pending deals into as it reads."""
    monkeypatch.setattr(reads, "OVERLAY_CAP", 0)  # every report page folds the pending deals in before it reads
    admin = signed_in(people.admin)
    headers = token_for(people.admin)
    before, cache_before = source_fingerprint(), fingerprint()
    logged_before = db.session.scalar(select(db.func.max(AuditEvent.id))) or 0
    failed: list[str] = []
    walked = 0
    for rule, _method in routes(app, ("GET",)):
        for records in world.values() if rule.arguments else [world["rep"]]:
            url = url_for_rule(app, rule, records)
            response = admin.get(url, headers=headers if url.startswith("/api/") else None)
            walked += 1
            if response.status_code != (302 if rule.endpoint == "auth.login" else 200):  # signed in: sent on
                failed.append(f"GET {url} → {response.status_code}")
    assert walked >= 60
    assert not failed, "\n".join(failed)
    assert changed(before, source_fingerprint()) == []
    assert "rollup_deals" in changed(cache_before, fingerprint())  # the one write allowed did happen, and only it
    written = db.session.scalars(select(AuditEvent.action).where(AuditEvent.id > logged_before)).all()
    assert written and set(written) == {"export.weekly"}, written
