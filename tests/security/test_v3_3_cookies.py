"""ASVS 5.0 V3.3 cookie setup: the session cookie is HttpOnly and SameSite always, Secure with the __Host- prefix
whenever the request came over HTTPS, and Secure everywhere when PIPELINE_SECURE_COOKIES forces it.

(Moved here from tests/auth/test_sessions.py, which keeps the tests of sessions ending.)
"""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from pipeline import create_app
from pipeline.extensions import db
from tests.conftest import PASSWORDS, People
from tests.security.conftest import CSRF_FIELD

HTTPS = "https://localhost"


def session_cookie(response: object) -> str:
    """The Set-Cookie line of the session cookie, whichever name it has."""
    lines = [h for h in response.headers.getlist("Set-Cookie") if h.split("=", 1)[0] in ("session", "__Host-session")]
    assert len(lines) == 1, lines
    return lines[0]


def attributes(cookie: str) -> set[str]:
    return {part.strip().split("=", 1)[0] for part in cookie.split(";")[1:]}


def test_the_session_cookie_is_http_only_and_same_site(client: FlaskClient, people: People) -> None:
    """V3.3.2, V3.3.4: scripts cannot read the session cookie, and other sites' forms and images do not carry it."""
    response = client.post("/login", data={"email": "rep@example.com", "password": PASSWORDS["rep@example.com"]})
    cookie = session_cookie(response)
    assert cookie.startswith("session=")
    assert "HttpOnly" in attributes(cookie) and "SameSite=Lax" in cookie
    assert "Secure" not in attributes(cookie)  # plain local http keeps working by default


def test_over_https_the_session_cookie_is_secure_and_host_only(client: FlaskClient, people: People) -> None:
    """V3.3.1, V3.3.3: a request that came over HTTPS gets a Secure cookie named __Host-session (Path=/, no Domain),
    which no other host of the domain can set or read, and signing in over HTTPS keeps working with it."""
    response = client.post(
        "/login", data={"email": "rep@example.com", "password": PASSWORDS["rep@example.com"]}, base_url=HTTPS
    )
    assert response.status_code == 302
    cookie = session_cookie(response)
    assert cookie.startswith("__Host-session=")
    assert {"Secure", "HttpOnly", "Path", "SameSite"} <= attributes(cookie) and "Domain" not in attributes(cookie)
    assert "Path=/;" in cookie or cookie.endswith("Path=/")
    assert client.get("/deals", base_url=HTTPS).status_code == 200  # the browser sends it back: still signed in
    assert client.get("/deals").status_code == 302  # over plain http that cookie is not the session


def test_a_form_fetched_over_https_posts_with_its_token_over_https(app: Flask, people: People) -> None:
    """V3.3.1 with CSRF on: the token lives in the __Host- session, so the form it came with still validates (over
    HTTPS Flask-WTF also wants a same-origin Referer, which our Referrer-Policy: same-origin lets browsers send)."""
    app.config["WTF_CSRF_ENABLED"] = True
    browser = app.test_client()
    page = browser.get("/login", base_url=HTTPS).get_data(as_text=True)
    found = CSRF_FIELD.search(page)
    assert found
    data = {"email": "rep@example.com", "password": PASSWORDS["rep@example.com"], "csrf_token": found.group(1)}
    referer = {"Referer": f"{HTTPS}/login"}
    assert browser.post("/login", data=data, base_url=HTTPS, headers=referer).status_code == 302


def test_cookies_are_https_only_everywhere_when_configured(monkeypatch: pytest.MonkeyPatch, database_url: str) -> None:
    """V3.3.1 behind a proxy that does not say it terminated TLS: PIPELINE_SECURE_COOKIES=1 forces Secure on http."""
    monkeypatch.setenv("PIPELINE_SECURE_COOKIES", "1")
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "t"})
    assert app.config["REMEMBER_COOKIE_SECURE"] is True
    for base_url in ("http://localhost", HTTPS):
        response = app.test_client().get("/login", base_url=base_url)  # the CSRF token starts a session
        cookie = session_cookie(response)
        assert cookie.startswith("__Host-session=")
        assert {"Secure", "HttpOnly", "SameSite"} <= attributes(cookie)
    with app.app_context():
        db.engine.dispose()


def test_signing_in_sets_no_remember_me_cookie(client: FlaskClient, people: People) -> None:
    """V3.3: the session is the only cookie; sign-in offers no "remember me", so no long-lived cookie exists."""
    response = client.post(
        "/login", data={"email": "rep@example.com", "password": PASSWORDS["rep@example.com"]}, base_url=HTTPS
    )
    names = {h.split("=", 1)[0] for h in response.headers.getlist("Set-Cookie")}
    assert names == {"__Host-session"}


@pytest.mark.parametrize("hops", [1, 0], ids=["trusted-proxy", "no-proxy-trusted"])
def test_behind_a_trusted_proxy_https_is_what_the_proxy_says(database_url: str, hops: int) -> None:
    """V3.3.1 and HSTS behind nginx (PIPELINE_TRUSTED_PROXIES=1): a request nginx forwarded as X-Forwarded-Proto:
    https gets the Secure __Host- cookie and Strict-Transport-Security; with no proxy trusted, a client sending that
    header itself over plain http gets neither (and a cookie its plain-http browser can still use)."""
    app = create_app(
        {"TESTING": True, "SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "t", "PIPELINE_TRUSTED_PROXIES": hops}
    )
    response = app.test_client().get(
        "/login", environ_base={"REMOTE_ADDR": "127.0.0.1"}, headers={"X-Forwarded-Proto": "https"}
    )
    cookie = session_cookie(response)
    if hops:
        assert cookie.startswith("__Host-session=") and "Secure" in attributes(cookie)
        assert response.headers["Strict-Transport-Security"] == "max-age=31556926; includeSubDomains"
    else:
        assert cookie.startswith("session=") and "Secure" not in attributes(cookie)
        assert "Strict-Transport-Security" not in response.headers
    with app.app_context():
        db.engine.dispose()
