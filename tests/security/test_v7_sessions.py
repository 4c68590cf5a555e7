"""ASVS 5.0 V7 session management: a new session at sign-in, and sessions that end for good.

Already proven in tests/auth/test_sessions.py (not repeated here):
- V7.4.1 sign-out ends the session: test_a_cookie_copied_before_sign_out_no_longer_works,
  test_signing_out_ends_the_users_sessions_on_every_device;
- V7.4.2 disabling a user ends their sessions: test_disabling_a_user_ends_their_open_session_at_the_next_request
  (and tests/auth/test_cli.py::test_users_disable_locks_the_user_out_of_pages_and_api for their API tokens);
- V7.4.3 a new password ends every other session: test_a_new_password_ends_the_sessions_signed_in_with_the_old_one;
- sessions of an earlier epoch or garbled ids load nobody: test_a_session_of_an_earlier_epoch_is_signed_out,
  test_an_old_or_garbled_session_id_is_simply_signed_out.
This module adds V7.2.4 (a new session token at every sign-in), the copied-cookie proof for each way a session ends,
and V7.4.4 (every signed-in page offers sign-out).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

from tests.conftest import PASSWORDS, People
from tests.security.conftest import Records, new_browser, routes, sign_in, url_for_rule


def cookie(client: FlaskClient) -> str:
    found = client.get_cookie("session")
    assert found is not None
    return found.value


def signed_in_as(app: Flask, session_cookie: str) -> bool:
    """Whether a browser carrying only this cookie is let into the deal list."""
    browser = new_browser(app)
    browser.set_cookie("session", session_cookie)
    return browser.get("/deals").status_code == 200


def test_signing_in_issues_a_new_session_and_drops_what_the_old_one_held(app: Flask, people: People) -> None:
    """V7.2.4: the session before sign-in (say, one an attacker planted) is not the one after; nothing planted in it
    survives (but the chosen language), and the planted cookie itself never becomes signed in."""
    browser = new_browser(app)
    browser.get("/login")
    with browser.session_transaction() as session:
        session["planted"] = "by someone else"
        session["lang"] = "en"
    before = cookie(browser)
    assert sign_in(browser, people.rep.email).status_code == 302
    after = cookie(browser)
    assert after != before
    with browser.session_transaction() as session:
        assert "planted" not in session and session["lang"] == "en"
    assert signed_in_as(app, after) and not signed_in_as(app, before)


def test_signing_in_again_as_someone_else_replaces_the_session(app: Flask, people: People) -> None:
    """V7.2.4, re-authentication: a second sign-in in the same browser gets a new token for the new user."""
    browser = new_browser(app)
    sign_in(browser, people.rep.email)
    first = cookie(browser)
    again = browser.post("/login", data={"email": people.rep_b.email, "password": PASSWORDS[people.rep_b.email]})
    assert again.status_code == 302
    second = cookie(browser)
    assert second != first
    assert "张伟" in browser.get("/deals").get_data(as_text=True)  # the header names the user now signed in


@pytest.mark.parametrize("ending", ["sign out", "disable", "new password"])
def test_a_copied_session_cookie_stops_working_however_the_session_ends(
    app: Flask, people: People, runner: FlaskCliRunner, ending: str
) -> None:
    """V7.4.1, V7.4.2, V7.4.3: a copy of the cookie taken while signed in (a stolen one) is refused afterwards."""
    browser = new_browser(app)
    sign_in(browser, people.rep.email)
    stolen = cookie(browser)
    assert signed_in_as(app, stolen)
    if ending == "sign out":
        token = browser.get("/deals").get_data(as_text=True).split('name="csrf_token" value="', 1)[1].split('"')[0]
        assert browser.post("/logout", data={"csrf_token": token}).status_code == 302
    elif ending == "disable":
        assert runner.invoke(args=["users", "disable", people.rep.email]).exit_code == 0
    else:
        assert runner.invoke(args=["users", "password", people.rep.email, "--password", "a-new-pass-9"]).exit_code == 0
    assert not signed_in_as(app, stolen)


def test_every_signed_in_page_offers_sign_out(
    app: Flask, people: People, world: dict[str, Records], signed_in: Callable[..., FlaskClient]
) -> None:
    """V7.4.4: every page a signed-in user opens carries the sign-out button (a POST form, so no link can do it)."""
    rep = signed_in(people.rep)
    missing: list[str] = []
    for rule, _method in routes(app, ("GET",)):
        if rule.rule.startswith("/api/") or rule.endpoint == "auth.login":
            continue
        response = rep.get(url_for_rule(app, rule, world["rep"]))
        if response.mimetype == "text/html" and 'action="/logout"' not in response.get_data(as_text=True):
            missing.append(rule.rule)
    assert not missing, missing
