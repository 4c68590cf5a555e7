"""The shared Redis: none unless configured, one pool per process and URL, keys under the app's prefix."""

from __future__ import annotations

from typing import Any

import pytest
import redis
from flask import Flask

from pipeline import create_app
from pipeline.core import shared
from tests.conftest import CLOSED_PORT_URL, REDIS_URL


def _app(**config: Any) -> Flask:
    return create_app({"SECRET_KEY": "t", "SQLALCHEMY_DATABASE_URI": "sqlite://", **config})


def test_without_a_redis_url_there_is_no_client_and_the_counts_stay_in_the_process() -> None:
    app = _app()
    assert shared.redis_client(app) is None
    assert shared.per_process_state(app) == ["failed sign-in counts", "API call counts"]


def test_apps_on_one_url_share_one_pool_and_keys_are_prefixed(redis_prefix: str) -> None:
    first = _app(PIPELINE_REDIS_URL=REDIS_URL, PIPELINE_REDIS_KEY_PREFIX=redis_prefix)
    second = _app(PIPELINE_REDIS_URL=REDIS_URL, PIPELINE_REDIS_KEY_PREFIX=redis_prefix)
    one, other = shared.redis_client(first), shared.redis_client(second)
    assert one is not None and other is not None
    assert one.connection_pool is other.connection_pool
    with first.app_context():
        name = shared.key("report", 42)
    assert name == f"{redis_prefix}:report:42"
    one.set(name, "figures", ex=60)
    assert other.get(name) == b"figures"
    assert shared.per_process_state(first) == []


def test_a_redis_that_is_down_answers_with_redis_own_error_for_the_caller_to_handle() -> None:
    client = shared.redis_client(_app(PIPELINE_REDIS_URL=CLOSED_PORT_URL))
    assert client is not None
    with pytest.raises(redis.ConnectionError):
        client.get("anything")
