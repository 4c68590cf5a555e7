"""The API fuzzed from its own OpenAPI description: never a 500, every refusal a clear JSON body."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, seed, settings
from schemathesis.checks import not_a_server_error

from pipeline.extensions import db

EXAMPLES_PER_OPERATION = 25
MINIMUM_CASES = 1000


@pytest.fixture
def app_config() -> dict[str, Any]:
    """Limits so high the fuzzer reaches the handlers instead of the rate limiter."""
    return {
        "PIPELINE_API_RATE_LIMIT": "1000000 per minute",
        "PIPELINE_API_ANONYMOUS_RATE_LIMIT": "1000000 per minute",
    }


def clear_json_error(ctx: Any, response: Any, case: Any) -> bool | None:
    """A 4xx tells the client what is wrong, in JSON, with a message or the fields' errors."""
    if not 400 <= response.status_code < 500:
        return None
    content_type = response.headers.get("content-type", [""])
    content_type = content_type[0] if isinstance(content_type, list) else content_type
    assert content_type.startswith("application/json"), (
        f"{response.status_code} answered with {content_type!r}: {response.text[:200]}"
    )
    body = response.json()
    assert isinstance(body, dict) and any(body.get(k) for k in ("message", "error", "errors")), (
        f"{response.status_code} without a message: {body!r}"
    )
    return None


def test_every_operation_survives_generated_requests(
    app: Flask, client: FlaskClient, people: Any, make_deal: Any, token_for: Any
) -> None:
    make_deal(people.rep)
    make_deal(people.rep_b)
    db.session.commit()
    headers = token_for(people.rep)
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    counted = {"cases": 0, "operations": 0}
    for result in schema.get_all_operations():
        operation = result.ok()
        counted["operations"] += 1

        @seed(20260)
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy())
        def run(case: Any) -> None:
            counted["cases"] += 1
            kwargs = case.as_transport_kwargs(headers=headers)
            response = client.open(**kwargs)
            case.validate_response(response, checks=[not_a_server_error, clear_json_error])

        run()
    print(f"schemathesis: {counted['cases']} cases over {counted['operations']} operations")
    assert counted["cases"] >= MINIMUM_CASES
