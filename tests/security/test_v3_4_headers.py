"""ASVS 5.0 V3.4 browser security headers, on every kind of response, and pages a strict CSP leaves working:
no inline script, event handler, javascript: URL or style attribute anywhere in what the templates draw.
"""

from __future__ import annotations

from collections.abc import Callable
from html.parser import HTMLParser

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import People
from tests.security.conftest import Records, routes, url_for_rule

HTTPS = "https://localhost"
ONE_YEAR = 365 * 24 * 3600


def directives(response: object) -> dict[str, str]:
    policy = response.headers["Content-Security-Policy"]
    return {part.split()[0]: " ".join(part.split()[1:]) for part in policy.split(";") if part.strip()}


def assert_security_headers(response: object, what: str) -> None:
    """V3.4.3, V3.4.4, V3.4.5, V3.4.6: the headers every response carries."""
    csp = directives(response)
    assert csp.get("script-src") == "'self'", what
    assert csp.get("style-src") == "'self'", what
    assert csp.get("default-src") == "'self'", what
    assert csp.get("object-src") == "'none'" and csp.get("base-uri") == "'none'", what
    assert csp.get("frame-ancestors") == "'none'" and csp.get("form-action") == "'self'", what
    assert "unsafe" not in response.headers["Content-Security-Policy"], what
    assert response.headers["X-Content-Type-Options"] == "nosniff", what
    assert response.headers["X-Frame-Options"] == "DENY", what
    assert response.headers["Referrer-Policy"] == "same-origin", what
    assert "camera=()" in response.headers["Permissions-Policy"], what
    assert response.headers["Cross-Origin-Opener-Policy"] == "same-origin", what  # V3.4.8


@pytest.fixture
def samples(client: FlaskClient, people: People, world: dict[str, Records]) -> dict[str, object]:
    """One response of each kind: a page, a redirect, a 404 page, a refusal, a file, our script, JSON, a CSV."""
    anonymous = {
        "sign-in page": client.get("/login"),
        "redirect to sign-in": client.get("/deals"),
        "stylesheet": client.get("/static/style.css"),
        "script": client.get("/static/board.js"),
        "API without token": client.get("/api/v1/deals"),
        "OpenAPI": client.get("/api/openapi.json"),
    }
    client.post("/login", data={"email": people.rep.email, "password": "rep-pass-1"})
    signed_in = {
        "board": client.get("/board"),
        "404 page": client.get("/no-such-page"),
        "out of reach": client.get(f"/deals/{world['outsider'].deal.id}"),
        "CSV download": client.get("/exports/weekly/download?format=csv"),
        "refused form": client.post("/deals/new", data={}),
    }
    responses = anonymous | signed_in
    for response in responses.values():
        response.get_data()  # read, then closed: a file's answer holds it open until then
        response.close()
    return responses


def test_every_kind_of_response_carries_the_security_headers(samples: dict[str, object]) -> None:
    """V3.4.3 CSP with script-src 'self' (no inline script), object-src/base-uri 'none'; V3.4.4 nosniff; V3.4.5
    Referrer-Policy; V3.4.6 frame-ancestors 'none' (X-Frame-Options DENY for old browsers); V3.4.8 COOP."""
    statuses = {what: response.status_code for what, response in samples.items()}
    assert statuses["404 page"] == 404 and statuses["out of reach"] == 404 and statuses["refused form"] == 422
    for what, response in samples.items():
        assert_security_headers(response, what)


def test_hsts_is_sent_over_https_only_and_http_is_not_redirected(client: FlaskClient) -> None:
    """V3.4.1: HTTPS answers carry HSTS for a year with subdomains; plain HTTP gets none (a browser ignores it there)
    and is not redirected: whether to redirect is the proxy's decision."""
    secure = client.get("/login", base_url=HTTPS)
    hsts = secure.headers["Strict-Transport-Security"]
    assert int(hsts.split("max-age=")[1].split(";")[0]) >= ONE_YEAR and "includeSubDomains" in hsts
    plain = client.get("/login")
    assert plain.status_code == 200 and "Strict-Transport-Security" not in plain.headers


class InlineCode(HTMLParser):
    """Collects everything in a page that a CSP without 'unsafe-inline' would block."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self.scripts = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = dict(attrs)
        if tag == "script":
            self.scripts += 1
            if not names.get("src"):
                self.found.append("<script> without src")
        if tag == "style":
            self.found.append("<style> element")
        for name, value in attrs:
            if name.startswith("on"):
                self.found.append(f"<{tag} {name}=…>")
            if name == "style":
                self.found.append(f"<{tag} style=…>")
            if value and value.strip().lower().startswith("javascript:"):
                self.found.append(f"<{tag} {name}=javascript:…>")


def inline_code(html: str) -> InlineCode:
    parser = InlineCode()
    parser.feed(html)
    parser.close()
    return parser


def test_no_page_has_inline_script_handlers_or_styles(
    app: Flask, people: People, world: dict[str, Records], signed_in: Callable[..., FlaskClient]
) -> None:
    """V3.4.3: every GET page an admin can open (each with records to show) and the sign-in page hold no inline
    <script>, on*= handler, javascript: URL, <style> or style= attribute, so the strict CSP blocks nothing of ours."""
    admin = signed_in(people.admin)
    pages = {"/login": inline_code(app.test_client().get("/login").get_data(as_text=True))}
    for rule, _method in routes(app, ("GET",)):
        if rule.rule.startswith("/api/") or rule.endpoint == "auth.login":
            continue
        url = url_for_rule(app, rule, world["rep"])
        response = admin.get(url)
        assert response.status_code == 200, url
        if response.mimetype == "text/html":
            pages[url] = inline_code(response.get_data(as_text=True))
    assert len(pages) >= 40
    found = [f"{url}: {what}" for url, page in pages.items() for what in page.found]
    assert not found, "\n".join(found)
    assert pages["/board"].scripts == 1  # the parser does see scripts: the board's own file
