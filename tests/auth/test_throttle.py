"""Repeated failed sign-ins are slowed down: per account, per address, and shared between app instances."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from pipeline import create_app
from pipeline.auth import views
from pipeline.extensions import db
from tests.conftest import CLOSED_PORT_URL, REDIS_URL, People

ACCOUNT_LIMIT, ADDRESS_LIMIT = 3, 5
WAIT_MESSAGE = "登录失败次数过多，请等待 15 分钟后再试。"


@pytest.fixture
def app_config() -> dict[str, Any]:
    return {
        "PIPELINE_LOGIN_LIMIT_PER_ACCOUNT": f"{ACCOUNT_LIMIT} per 15 minutes",
        "PIPELINE_LOGIN_LIMIT_PER_ADDRESS": f"{ADDRESS_LIMIT} per 15 minutes",
    }


def sign_in(client: FlaskClient, email: str, password: str, address: str = "203.0.113.7", **headers: str) -> Any:
    return client.post(
        "/login",
        data={"email": email, "password": password},
        environ_base={"REMOTE_ADDR": address},
        headers=headers,
    )


def fail(client: FlaskClient, email: str, times: int, address: str = "203.0.113.7") -> None:
    for _ in range(times):
        assert sign_in(client, email, "not-the-password", address).status_code == 422


def assert_throttled(response: Any) -> None:
    assert response.status_code == 429
    assert WAIT_MESSAGE in response.get_data(as_text=True)
    assert 0 < int(response.headers["Retry-After"]) <= 15 * 60


def test_after_too_many_failures_even_the_right_password_is_refused_unchecked(
    client: FlaskClient, people: People, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    fail(client, "rep@example.com", ACCOUNT_LIMIT)
    checked: list[str] = []
    real_check = views.check_password
    monkeypatch.setattr(views, "check_password", lambda user, pw: checked.append(pw) or real_check(user, pw))
    with caplog.at_level(logging.WARNING, logger="pipeline.auth.throttle"):
        response = sign_in(client, "REP@example.com", "rep-pass-1")
    assert_throttled(response)
    assert checked == []  # no password was looked at, so no Argon2 work either
    assert "rep@example.com" in caplog.text and "203.0.113.7" in caplog.text
    assert client.get("/deals").status_code == 302


def test_the_wait_is_told_in_english_too(client: FlaskClient, people: People) -> None:
    fail(client, "rep@example.com", ACCOUNT_LIMIT)
    response = sign_in(client, "rep@example.com", "rep-pass-1", **{"Accept-Language": "en"})
    assert response.status_code == 429
    assert "Too many failed sign-ins. Wait 15 minutes, then try again." in response.get_data(as_text=True)


def test_an_unknown_email_is_throttled_like_a_real_one(client: FlaskClient, people: People) -> None:
    fail(client, "nobody@example.com", ACCOUNT_LIMIT)
    assert_throttled(sign_in(client, "nobody@example.com", "whatever-1"))


def test_counts_are_per_account_until_the_address_limit(client: FlaskClient, people: People) -> None:
    fail(client, "rep@example.com", ACCOUNT_LIMIT)
    assert_throttled(sign_in(client, "rep@example.com", "rep-pass-1"))
    assert sign_in(client, "rep2@example.com", "rep-pass-2").status_code == 302  # same address, other account
    client.post("/logout")
    fail(client, "lead@example.com", ADDRESS_LIMIT - ACCOUNT_LIMIT)  # the address's fifth failure
    assert_throttled(sign_in(client, "admin@example.com", "admin-pass-1"))
    assert_throttled(sign_in(client, "rep2@example.com", "rep-pass-2"))


def test_counts_are_per_address(client: FlaskClient, people: People) -> None:
    for n in range(ADDRESS_LIMIT):
        assert sign_in(client, f"guess{n}@example.com", "guessed-1", "198.51.100.1").status_code == 422
    assert_throttled(sign_in(client, "rep@example.com", "rep-pass-1", "198.51.100.1"))
    assert sign_in(client, "rep@example.com", "rep-pass-1", "198.51.100.2").status_code == 302


def test_signing_in_clears_the_accounts_failures(client: FlaskClient, people: People) -> None:
    fail(client, "rep@example.com", ACCOUNT_LIMIT - 1)
    assert sign_in(client, "rep@example.com", "rep-pass-1").status_code == 302
    client.post("/logout")
    fail(client, "rep@example.com", ACCOUNT_LIMIT - 1)  # without the reset this would have been the limit
    assert sign_in(client, "rep@example.com", "rep-pass-1").status_code == 302


@pytest.mark.parametrize("setting", ["PIPELINE_REDIS_URL", "PIPELINE_RATELIMIT_STORAGE"])
def test_an_unreachable_counter_store_does_not_lock_everybody_out(
    database_url: str, people: People, caplog: pytest.LogCaptureFixture, setting: str
) -> None:
    other = _instance(database_url, {setting: CLOSED_PORT_URL})
    try:
        with caplog.at_level(logging.ERROR, logger="pipeline.auth.throttle"):
            fail(other.test_client(), "rep@example.com", ACCOUNT_LIMIT + 1)  # not counted, so never refused
            assert sign_in(other.test_client(), "rep@example.com", "rep-pass-1").status_code == 302
        assert "unreachable" in caplog.text
    finally:
        _close(other)


def test_a_limit_that_does_not_parse_stops_the_app_at_start_up(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PIPELINE_LOGIN_LIMIT_PER_ACCOUNT", "lots")
    with pytest.raises(ValueError, match="PIPELINE_LOGIN_LIMIT_PER_ACCOUNT"):
        create_app({"SECRET_KEY": "t", "SQLALCHEMY_DATABASE_URI": "sqlite://"})


# ---- Redis: several app instances share the counts ---------------------------------------------------------


def _instance(database_url: str, config: dict[str, Any]) -> Flask:
    """Another app instance on the same database, as a second server process would be."""
    return create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": database_url,
            "SECRET_KEY": "test-secret",
            "WTF_CSRF_ENABLED": False,
            "PIPELINE_PASSWORD_PROFILE": "CHEAPEST",
            "PIPELINE_LOGIN_LIMIT_PER_ACCOUNT": f"{ACCOUNT_LIMIT} per 15 minutes",
            "PIPELINE_LOGIN_LIMIT_PER_ADDRESS": f"{ADDRESS_LIMIT} per 15 minutes",
            **config,
        }
    )


def _close(app: Flask) -> None:
    with app.app_context():
        db.engine.dispose()


@pytest.mark.parametrize(
    "settings",
    [
        {"PIPELINE_REDIS_URL": REDIS_URL, "PIPELINE_REDIS_KEY_PREFIX": "{prefix}"},
        {"PIPELINE_RATELIMIT_STORAGE": REDIS_URL, "PIPELINE_RATELIMIT_KEY_PREFIX": "{prefix}"},  # as before Redis URL
    ],
    ids=["redis-url", "ratelimit-storage"],
)
def test_two_app_instances_share_the_counts_through_redis(
    database_url: str, people: People, redis_prefix: str, settings: dict[str, str]
) -> None:
    shared = {name: value.format(prefix=redis_prefix) for name, value in settings.items()}
    first, second = _instance(database_url, shared), _instance(database_url, shared)
    try:
        fail(first.test_client(), "rep@example.com", ACCOUNT_LIMIT - 1)
        fail(second.test_client(), "rep@example.com", 1)
        assert_throttled(sign_in(first.test_client(), "rep@example.com", "rep-pass-1"))
        assert_throttled(sign_in(second.test_client(), "rep@example.com", "rep-pass-1"))
        assert sign_in(second.test_client(), "rep2@example.com", "rep-pass-2").status_code == 302
    finally:
        _close(first)
        _close(second)
