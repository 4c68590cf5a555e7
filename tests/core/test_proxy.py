"""Behind a reverse proxy: forwarded headers believed from PIPELINE_TRUSTED_PROXIES proxies, by default from none."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from flask import request
from flask.testing import FlaskClient

from pipeline import create_app
from pipeline.auth.models import User
from tests.conftest import People

NGINX = "127.0.0.1"  # the proxy's address: what the app sees as the peer
ADDRESS_LIMIT = 3


def config(hops: int) -> dict[str, Any]:
    return {"PIPELINE_TRUSTED_PROXIES": hops, "PIPELINE_LOGIN_LIMIT_PER_ADDRESS": f"{ADDRESS_LIMIT} per 15 minutes"}


def through_proxy(client: FlaskClient, forwarded_for: str, email: str, password: str) -> Any:
    """A sign-in as nginx passes it on: from nginx's address, the client's address in X-Forwarded-For."""
    return client.post(
        "/login",
        data={"email": email, "password": password},
        environ_base={"REMOTE_ADDR": NGINX},
        headers={"X-Forwarded-For": forwarded_for, "X-Forwarded-Proto": "https"},
    )


def guesses(client: FlaskClient, forwarded_for: list[str]) -> None:
    for n, address in enumerate(forwarded_for):
        assert through_proxy(client, address, f"guess{n}@example.com", "wrong-pass-1").status_code == 422


class TestOneTrustedProxy:
    @pytest.fixture
    def app_config(self) -> dict[str, Any]:
        return config(1)

    def test_the_client_behind_the_proxy_is_counted_not_the_proxy(self, client: FlaskClient, people: People) -> None:
        guesses(client, ["198.51.100.7"] * ADDRESS_LIMIT)
        assert through_proxy(client, "198.51.100.7", "rep@example.com", "rep-pass-1").status_code == 429
        # everybody else comes through the same nginx and is not locked out with the guesser
        assert through_proxy(client, "198.51.100.8", "rep@example.com", "rep-pass-1").status_code == 302

    def test_an_address_the_client_put_in_front_does_not_change_whom_it_counts(
        self, client: FlaskClient, people: People
    ) -> None:
        # nginx appends the address it saw; only that last one is believed
        guesses(client, [f"10.0.0.{n}, 198.51.100.7" for n in range(ADDRESS_LIMIT)])
        assert through_proxy(client, "10.9.9.9, 198.51.100.7", "rep@example.com", "rep-pass-1").status_code == 429
        assert through_proxy(client, "10.0.0.1, 198.51.100.8", "rep@example.com", "rep-pass-1").status_code == 302

    def test_the_calendar_address_is_the_public_https_one(self, client: FlaskClient, people: People) -> None:
        # signed in through nginx too: over HTTPS the session cookie is __Host-session (core/security.py)
        assert through_proxy(client, "198.51.100.7", "rep@example.com", "rep-pass-1").status_code == 302
        page = client.post(
            "/care/calendar/token",
            headers={
                "X-Forwarded-For": "198.51.100.7",
                "X-Forwarded-Proto": "https",
                "X-Forwarded-Host": "crm.example.cn",
            },
        )
        assert re.search(r'value="https://crm\.example\.cn/care/calendar/[^"]+\.ics"', page.get_data(as_text=True))


class TestNoTrustedProxy:
    """The default: a client that sends forwarded headers itself chooses nothing."""

    @pytest.fixture
    def app_config(self) -> dict[str, Any]:
        return config(0)

    def test_made_up_forwarded_addresses_all_count_against_the_real_one(
        self, client: FlaskClient, people: People
    ) -> None:
        guesses(client, [f"198.51.100.{n}" for n in range(ADDRESS_LIMIT)])  # a new "address" for every guess
        assert through_proxy(client, "198.51.100.99", "rep@example.com", "rep-pass-1").status_code == 429

    def test_the_calendar_address_ignores_forwarded_headers(
        self, browser: Callable[[User], FlaskClient], people: People
    ) -> None:
        page = browser(people.rep).post(
            "/care/calendar/token", headers={"X-Forwarded-Proto": "https", "X-Forwarded-Host": "evil.example"}
        )
        body = page.get_data(as_text=True)
        assert re.search(r'value="http://localhost/care/calendar/[^"]+\.ics"', body) and "evil.example" not in body


def test_a_number_of_proxies_that_is_not_one_stops_the_app_at_start_up(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PIPELINE_TRUSTED_PROXIES", "nginx")
    with pytest.raises(ValueError, match="PIPELINE_TRUSTED_PROXIES"):
        create_app({"SECRET_KEY": "t", "SQLALCHEMY_DATABASE_URI": "sqlite://"})


def test_the_app_behind_two_proxies_believes_two_hops() -> None:
    two = create_app(
        {
            "SECRET_KEY": "t",
            "SQLALCHEMY_DATABASE_URI": "sqlite://",
            "PIPELINE_CHECK_MIGRATED": False,
            "PIPELINE_TRUSTED_PROXIES": "2",
        }
    )
    seen: dict[str, Any] = {}

    @two.get("/_peer")
    def peer() -> str:
        seen.update(addr=request.remote_addr, secure=request.is_secure)
        return ""

    two.test_client().get(
        "/_peer",
        environ_base={"REMOTE_ADDR": "10.0.0.2"},
        headers={"X-Forwarded-For": "6.6.6.6, 198.51.100.7, 10.0.0.1", "X-Forwarded-Proto": "https, https"},
    )
    assert seen == {"addr": "198.51.100.7", "secure": True}
