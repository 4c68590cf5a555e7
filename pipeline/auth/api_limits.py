"""API calls counted per token, and per client address for calls without a valid token, across every instance.

Each token may make PIPELINE_API_RATE_LIMIT calls ("600 per minute"); a call that brings no valid token
counts against its address under the stricter PIPELINE_API_ANONYMOUS_RATE_LIMIT, so guessing tokens from one
address is slowed down without touching anybody's token. One call too many answers 429 with Retry-After and
the API's JSON error. The counts are a moving window (no window edge to burst across) in the store the
sign-in throttle uses, shared by every instance through Redis (pipeline/core/shared.py). When that store is
unreachable calls go through, logged (at most once a minute per process, not once per call).
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass

from flask import Flask, Response, current_app
from limits import RateLimitItem, parse
from limits.errors import StorageError
from limits.strategies import MovingWindowRateLimiter

from pipeline.core.shared import counter_prefix, limits_storage
from pipeline.core.web import error_response

log = logging.getLogger(__name__)

EXTENSION = "pipeline.api_limits"
OUTAGE_LOG_EVERY_S = 60.0
TOKEN, ADDRESS = "token", "address"


@dataclass
class ApiLimits:
    """One app's API limits and the store they count in."""

    limiter: MovingWindowRateLimiter
    per_token: RateLimitItem
    per_address: RateLimitItem
    key_prefix: str
    outage_logged_at: float = -math.inf


def init_app(app: Flask) -> None:
    """Read the two limits from the app's settings; the store is first reached at the first API call."""
    app.extensions[EXTENSION] = ApiLimits(
        limiter=MovingWindowRateLimiter(limits_storage(app)),
        per_token=parse(app.config["PIPELINE_API_RATE_LIMIT"]),
        per_address=parse(app.config["PIPELINE_API_ANONYMOUS_RATE_LIMIT"]),
        key_prefix=counter_prefix(app),
    )


def _store_unreachable(limits: ApiLimits, exc: StorageError) -> None:
    now = time.monotonic()
    if now - limits.outage_logged_at >= OUTAGE_LOG_EVERY_S:
        limits.outage_logged_at = now
        log.error("API rate limit: counter store unreachable, calls are not limited meanwhile: %s", exc)


def refusal(kind: str, identity: str, who: str) -> Response | None:
    """Count this call against its token (kind TOKEN) or address (ADDRESS); a 429 when it is one too many."""
    limits: ApiLimits = current_app.extensions[EXTENSION]
    item = limits.per_token if kind == TOKEN else limits.per_address
    key = (limits.key_prefix, f"api-{kind}", identity or "unknown")
    try:
        if limits.limiter.hit(item, *key):
            return None
        reset = limits.limiter.get_window_stats(item, *key).reset_time
    except StorageError as exc:
        _store_unreachable(limits, exc)
        return None
    wait = max(1, math.ceil(reset - time.time()))
    log.warning("API rate limit: %s (%s) made more than %s calls; next in %d s", who, kind, item, wait)
    response = error_response(429, f"too many API calls: at most {item} for each {kind}; retry in {wait} s")
    response.headers["Retry-After"] = str(wait)
    return response
