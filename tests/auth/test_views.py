"""Signing in and out, and choosing the language, as a person in a browser does it."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from pipeline.auth.models import User
from pipeline.extensions import db
from tests.conftest import People

GENERIC_REFUSAL = "电子邮箱或密码错误，或账号已停用。"


def sign_in(client: FlaskClient, email: str, password: str, **extra: str) -> Any:
    return client.post("/login", data={"email": email, "password": password, **extra})


def signed_in(client: FlaskClient) -> bool:
    """Whether the browser's session opens the deal list (anonymous visitors are sent to /login)."""
    return client.get("/deals").status_code == 200


def test_sign_in_with_the_right_password_opens_my_day(client: FlaskClient, people: People) -> None:
    page = client.get("/login")
    assert page.status_code == 200
    response = sign_in(client, "REP@example.com ", "rep-pass-1")
    assert response.status_code == 302
    assert response.location == "/"
    home = client.get("/")
    assert home.status_code == 200 and "我的一天" in home.get_data(as_text=True)
    assert "王芳" in home.get_data(as_text=True)


@pytest.mark.parametrize(
    ("email", "password"),
    [("rep@example.com", "wrong-password"), ("nobody@example.com", "rep-pass-1"), ("rep@example.com", "")],
)
def test_a_failed_sign_in_says_the_same_thing_whatever_was_wrong(
    client: FlaskClient, people: People, email: str, password: str
) -> None:
    response = sign_in(client, email, password)
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert not signed_in(client)
    if password:
        assert GENERIC_REFUSAL in body
    else:
        assert "请输入密码。" in body


def test_a_disabled_user_cannot_sign_in(client: FlaskClient, people: People) -> None:
    people.rep.active = False
    db.session.commit()
    response = sign_in(client, "rep@example.com", "rep-pass-1")
    assert response.status_code == 422
    assert GENERIC_REFUSAL in response.get_data(as_text=True)
    assert not signed_in(client)


def test_a_user_disabled_while_signed_in_is_locked_out_at_once(client: FlaskClient, people: People) -> None:
    sign_in(client, "rep@example.com", "rep-pass-1")
    assert signed_in(client)
    people.rep.active = False
    db.session.commit()
    response = client.get("/deals")
    assert response.status_code == 302
    assert response.location.startswith("/login")


def test_signing_in_starts_a_fresh_session_that_keeps_only_the_language(client: FlaskClient, people: People) -> None:
    with client.session_transaction() as session:
        session["planted"] = "by someone else"
        session["lang"] = "en"
    sign_in(client, "rep@example.com", "rep-pass-1")
    with client.session_transaction() as session:
        assert "planted" not in session
        assert session["lang"] == "en"
        assert session["_user_id"] == f"{people.rep.id}:0"  # "<id>:<epoch>"


def test_a_page_that_needs_sign_in_sends_the_visitor_back_there_afterwards(client: FlaskClient, people: People) -> None:
    response = client.get("/deals/new")
    assert response.status_code == 302
    assert response.location.startswith("/login?next=")
    login_page = client.get(response.location).get_data(as_text=True)
    assert 'value="/deals/new"' in login_page
    assert "请先登录再查看此页面。" in login_page
    assert sign_in(client, "rep@example.com", "rep-pass-1", next="/deals/new").location == "/deals/new"


@pytest.mark.parametrize(
    "target", ["https://evil.example/x", "//evil.example/x", "/\\evil.example", "javascript:alert(1)", "deals"]
)
def test_sign_in_never_sends_anyone_to_another_site(client: FlaskClient, people: People, target: str) -> None:
    response = sign_in(client, "rep@example.com", "rep-pass-1", next=target)
    assert response.status_code == 302
    assert response.location == "/"


def test_signing_out_is_a_post_that_ends_the_session(client: FlaskClient, people: People) -> None:
    sign_in(client, "rep@example.com", "rep-pass-1")
    assert client.get("/logout").status_code == 405
    assert signed_in(client)
    response = client.post("/logout")
    assert response.status_code == 302
    assert response.location == "/login"
    assert not signed_in(client)
    with client.session_transaction() as session:
        assert "_user_id" not in session


def test_pages_are_in_chinese_by_default_and_in_english_after_switching(client: FlaskClient, people: People) -> None:
    page = client.get("/login").get_data(as_text=True)
    assert '<html lang="zh-CN">' in page
    assert "<h1>登录</h1>" in page
    response = client.post("/lang", data={"lang": "en", "next": "/login"})
    assert response.status_code == 302
    assert response.location == "/login"
    page = client.get("/login").get_data(as_text=True)
    assert '<html lang="en">' in page
    assert "<h1>Sign in</h1>" in page
    client.post("/lang", data={"lang": "zh", "next": "/login"})
    assert "<h1>登录</h1>" in client.get("/login").get_data(as_text=True)


def test_the_pages_style_sheet_is_served_by_the_app_itself(client: FlaskClient) -> None:
    page = client.get("/login").get_data(as_text=True)
    sheets = re.findall(r'<link rel="stylesheet" href="([^"]+)"', page)
    assert sheets == ["/static/style.css"]
    assert "<script" not in page
    css = client.get(sheets[0])
    assert css.status_code == 200
    assert css.mimetype == "text/css"
    css.close()


def test_the_browser_language_is_used_until_a_choice_is_made(client: FlaskClient, people: People) -> None:
    page = client.get("/login", headers={"Accept-Language": "en-US,en;q=0.9"}).get_data(as_text=True)
    assert "<h1>Sign in</h1>" in page


def test_the_language_choice_is_kept_on_the_signed_in_user(client: FlaskClient, people: People) -> None:
    sign_in(client, "rep@example.com", "rep-pass-1")
    client.post("/lang", data={"lang": "en", "next": "/deals"})
    db.session.expire_all()
    assert db.session.get(User, people.rep.id).locale == "en"
    client.post("/logout")
    with client.session_transaction() as session:
        session.clear()
    sign_in(client, "rep@example.com", "rep-pass-1")
    assert "<h1>Deals</h1>" in client.get("/deals").get_data(as_text=True)


def test_an_unknown_language_or_a_foreign_return_address_is_refused(client: FlaskClient, people: People) -> None:
    assert client.post("/lang", data={"lang": "fr", "next": "/login"}).status_code == 422
    response = client.post("/lang", data={"lang": "en", "next": "https://evil.example/"})
    assert response.location == "/deals"


# ---- CSRF: on in this class only (the suite's default turns it off) -------------------------------------------

TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def token_from(client: FlaskClient, path: str) -> str:
    match = TOKEN.search(client.get(path).get_data(as_text=True))
    assert match, f"no CSRF token on {path}"
    return match.group(1)


class TestCsrf:
    @pytest.fixture
    def app_config(self) -> dict[str, Any]:
        return {"WTF_CSRF_ENABLED": True}

    def test_sign_in_needs_the_token_from_the_page(self, app: Flask, client: FlaskClient, people: People) -> None:
        assert sign_in(client, "rep@example.com", "rep-pass-1").status_code == 400
        token = token_from(client, "/login")
        assert sign_in(client, "rep@example.com", "rep-pass-1", csrf_token=token).status_code == 302

    def test_a_forged_sign_out_or_language_switch_does_nothing(self, client: FlaskClient, people: People) -> None:
        sign_in(client, "rep@example.com", "rep-pass-1", csrf_token=token_from(client, "/login"))
        assert client.post("/logout").status_code == 400
        assert client.post("/lang", data={"lang": "en", "next": "/deals"}).status_code == 400
        page = client.get("/deals").get_data(as_text=True)
        assert "<h1>商机</h1>" in page  # still signed in, still in Chinese
        token = TOKEN.search(page).group(1)  # type: ignore[union-attr]
        assert client.post("/logout", data={"csrf_token": token}).status_code == 302
        assert not signed_in(client)
