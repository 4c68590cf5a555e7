"""Sessions that really end: on sign-out, when a user is disabled, when a password changes."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

from pipeline.extensions import db
from tests.conftest import People


def sign_in(client: FlaskClient, email: str, password: str) -> Any:
    return client.post("/login", data={"email": email, "password": password})


def sent_to_login(client: FlaskClient) -> bool:
    """Whether the deal list sends this browser to the sign-in page (its session names nobody)."""
    response = client.get("/deals")
    return response.status_code == 302 and response.location.startswith("/login")


def session_cookie(client: FlaskClient) -> str:
    cookie = client.get_cookie("session")
    assert cookie is not None
    return cookie.value


def another_browser(app: Flask, cookie: str | None = None) -> FlaskClient:
    """A second browser (or a thief's), optionally carrying a copied session cookie."""
    browser = app.test_client()
    if cookie is not None:
        browser.set_cookie("session", cookie)
    return browser


def test_a_cookie_copied_before_sign_out_no_longer_works(app: Flask, client: FlaskClient, people: People) -> None:
    sign_in(client, "rep@example.com", "rep-pass-1")
    copied = session_cookie(client)
    assert not sent_to_login(another_browser(app, copied))  # the copy works while the session lasts
    assert client.post("/logout").status_code == 302
    assert sent_to_login(another_browser(app, copied))


def test_signing_out_ends_the_users_sessions_on_every_device(app: Flask, client: FlaskClient, people: People) -> None:
    phone = another_browser(app)
    sign_in(phone, "rep@example.com", "rep-pass-1")
    sign_in(client, "rep@example.com", "rep-pass-1")
    colleague = another_browser(app)
    sign_in(colleague, "rep2@example.com", "rep-pass-2")
    client.post("/logout")
    assert sent_to_login(phone)
    assert not sent_to_login(colleague)  # only this user's sessions end
    assert sign_in(phone, "rep@example.com", "rep-pass-1").status_code == 302
    assert not sent_to_login(phone)


def test_disabling_a_user_ends_their_open_session_at_the_next_request(
    client: FlaskClient, runner: FlaskCliRunner, people: People
) -> None:
    sign_in(client, "rep@example.com", "rep-pass-1")
    assert not sent_to_login(client)
    assert runner.invoke(args=["users", "disable", "rep@example.com"]).exit_code == 0
    assert sent_to_login(client)
    assert sign_in(client, "rep@example.com", "rep-pass-1").status_code == 422


def test_a_new_password_ends_the_sessions_signed_in_with_the_old_one(
    app: Flask, client: FlaskClient, runner: FlaskCliRunner, people: People
) -> None:
    laptop = another_browser(app)
    sign_in(laptop, "rep@example.com", "rep-pass-1")
    sign_in(client, "rep@example.com", "rep-pass-1")
    result = runner.invoke(args=["users", "password", "rep@example.com", "--password", "new-pass-22"])
    assert result.exit_code == 0, result.output
    assert sent_to_login(laptop)
    assert sent_to_login(client)
    assert sign_in(client, "rep@example.com", "rep-pass-1").status_code == 422
    assert sign_in(client, "rep@example.com", "new-pass-22").status_code == 302
    assert not sent_to_login(client)


@pytest.mark.parametrize("stored", ["{id}", "{id}:x", "{id}:", ":0", "abc", "{id}:0:0", "{id}:١"])
def test_an_old_or_garbled_session_id_is_simply_signed_out(client: FlaskClient, people: People, stored: str) -> None:
    with client.session_transaction() as session:
        session["_user_id"] = stored.format(id=people.rep.id)
        session["_fresh"] = True
    assert sent_to_login(client)


def test_a_session_of_an_earlier_epoch_is_signed_out(client: FlaskClient, people: People) -> None:
    people.rep.session_epoch = 2
    db.session.commit()
    with client.session_transaction() as session:
        session["_user_id"] = f"{people.rep.id}:1"
    assert sent_to_login(client)
    with client.session_transaction() as session:
        session["_user_id"] = f"{people.rep.id}:2"
    assert not sent_to_login(client)


# The cookie's own attributes (HttpOnly, SameSite, Secure over HTTPS): tests/security/test_v3_3_cookies.py.
