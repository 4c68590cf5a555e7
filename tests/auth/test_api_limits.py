"""API calls limited per token, and per address without a valid token; shared through Redis, open when it is down."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from pipeline import create_app
from pipeline.auth.models import User
from pipeline.extensions import db
from tests.conftest import CLOSED_PORT_URL, REDIS_URL, People

TOKEN_LIMIT, ANONYMOUS_LIMIT = 4, 2
LIMITS = {
    "PIPELINE_API_RATE_LIMIT": f"{TOKEN_LIMIT} per minute",
    "PIPELINE_API_ANONYMOUS_RATE_LIMIT": f"{ANONYMOUS_LIMIT} per minute",
}


@pytest.fixture
def app_config() -> dict[str, Any]:
    return dict(LIMITS)


def call(
    client: FlaskClient, headers: dict[str, str] | None = None, path: str = "/api/v1/deals", **environ: str
) -> Any:
    return client.get(path, headers=headers or {}, environ_base={"REMOTE_ADDR": "203.0.113.7", **environ})


def assert_too_many(response: Any) -> None:
    assert response.status_code == 429
    assert response.is_json and "too many API calls" in response.json["error"]
    assert 0 < int(response.headers["Retry-After"]) <= 60


def test_a_token_gets_its_limit_then_429_and_other_tokens_are_untouched(
    client: FlaskClient, people: People, token_for: Callable[[User], dict[str, str]]
) -> None:
    rep, lead = token_for(people.rep), token_for(people.lead)
    for _ in range(TOKEN_LIMIT):
        assert call(client, rep).status_code == 200
    assert_too_many(call(client, rep))
    assert_too_many(call(client, rep, "/api/v1/accounts"))  # the whole API, not one route
    assert call(client, lead).status_code == 200  # same address, another token
    assert call(client, token_for(people.rep)).status_code == 200  # the same rep's second token counts alone


def test_calls_without_a_valid_token_count_per_address(
    client: FlaskClient, people: People, token_for: Callable[[User], dict[str, str]]
) -> None:
    assert call(client).status_code == 401
    assert call(client, {"Authorization": "Bearer guessed-token"}).status_code == 401
    assert_too_many(call(client, {"Authorization": "Bearer another-guess"}))
    assert_too_many(call(client, path="/api/openapi.json"))  # unguarded API paths count against the address too
    assert call(client, REMOTE_ADDR="198.51.100.2").status_code == 401  # another address
    assert call(client, token_for(people.rep)).status_code == 200  # a valid token is not held up by the address


def test_the_spec_is_counted_per_address(client: FlaskClient) -> None:
    for _ in range(ANONYMOUS_LIMIT):
        assert call(client, path="/api/openapi.json").status_code == 200
    assert_too_many(call(client, path="/api/openapi.json"))
    assert call(client, path="/login").status_code == 200  # pages are not API calls


def _instance(database_url: str, config: dict[str, Any]) -> Flask:
    """Another app instance on the same database, as a second server would be."""
    return create_app(
        {"TESTING": True, "SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "test-secret", **LIMITS, **config}
    )


@pytest.fixture
def instances(database_url: str) -> Iterator[Callable[[dict[str, Any]], Flask]]:
    made: list[Flask] = []

    def make(config: dict[str, Any]) -> Flask:
        made.append(_instance(database_url, config))
        return made[-1]

    yield make
    for app in made:
        with app.app_context():
            db.engine.dispose()


def test_two_instances_share_the_counts_through_redis(
    instances: Callable[[dict[str, Any]], Flask],
    people: People,
    token_for: Callable[[User], dict[str, str]],
    redis_prefix: str,
) -> None:
    shared = {"PIPELINE_REDIS_URL": REDIS_URL, "PIPELINE_REDIS_KEY_PREFIX": redis_prefix}
    first, second = instances(shared).test_client(), instances(shared).test_client()
    rep = token_for(people.rep)
    for n in range(TOKEN_LIMIT):
        assert call(first if n % 2 else second, rep).status_code == 200
    assert_too_many(call(first, rep))
    assert_too_many(call(second, rep))
    assert call(first).status_code == 401
    assert call(second).status_code == 401
    assert_too_many(call(first))


def test_an_unreachable_redis_lets_calls_through_and_says_so_once(
    instances: Callable[[dict[str, Any]], Flask],
    people: People,
    token_for: Callable[[User], dict[str, str]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    down = instances({"PIPELINE_REDIS_URL": CLOSED_PORT_URL}).test_client()
    rep = token_for(people.rep)
    with caplog.at_level(logging.ERROR, logger="pipeline.auth.api_limits"):
        for _ in range(TOKEN_LIMIT + 2):
            assert call(down, rep).status_code == 200
        for _ in range(ANONYMOUS_LIMIT + 2):
            assert call(down).status_code == 401
    outages = [r for r in caplog.records if "unreachable" in r.getMessage()]
    assert len(outages) == 1, caplog.text  # once a minute, not once per call


def test_an_explicit_ratelimit_storage_wins_over_the_redis_url(
    instances: Callable[[dict[str, Any]], Flask], people: People, token_for: Callable[[User], dict[str, str]]
) -> None:
    app = instances({"PIPELINE_REDIS_URL": CLOSED_PORT_URL, "PIPELINE_RATELIMIT_STORAGE": "memory://"})
    client, rep = app.test_client(), token_for(people.rep)
    for _ in range(TOKEN_LIMIT):
        assert call(client, rep).status_code == 200
    assert_too_many(call(client, rep))  # counted in memory, as the explicit setting says


def test_a_limit_that_does_not_parse_stops_the_app_at_start_up(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PIPELINE_API_RATE_LIMIT", "plenty")
    with pytest.raises(ValueError, match="PIPELINE_API_RATE_LIMIT"):
        create_app({"SECRET_KEY": "t", "SQLALCHEMY_DATABASE_URI": "sqlite://"})
