"""Slow password guessing down: after too many failed sign-ins, refuse that account or address for a while.

Only failures count, per account (the normalised e-mail, whether or not such a user exists, so a refusal
tells nobody who has an account) and per client address. While either limit is reached no password is
checked at all, not even the right one. A successful sign-in clears its account's count but not the
address's, so one known password cannot wash away guesses at other accounts. The counts live in the
shared Redis (PIPELINE_REDIS_URL, or a `limits` URI in PIPELINE_RATELIMIT_STORAGE) so that every app
instance sees the same counts; without one, in this process (pipeline/core/shared.py).
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
from dataclasses import dataclass

from flask import Flask, current_app
from limits import RateLimitItem, parse
from limits.errors import StorageError
from limits.strategies import MovingWindowRateLimiter

from pipeline.core.shared import counter_prefix, limits_storage

log = logging.getLogger(__name__)

EXTENSION = "pipeline.login_throttle"


@dataclass(frozen=True)
class LoginThrottle:
    """One app's counter store and its two limits on failed sign-ins."""

    limiter: MovingWindowRateLimiter
    per_account: RateLimitItem
    per_address: RateLimitItem
    key_prefix: str


def init_app(app: Flask) -> None:
    """Build the app's throttle from its settings; the storage is first reached at the first sign-in."""
    config = app.config
    app.extensions[EXTENSION] = LoginThrottle(
        # "N failures in the last 15 minutes", without a window edge to exploit
        limiter=MovingWindowRateLimiter(limits_storage(app)),
        per_account=parse(config["PIPELINE_LOGIN_LIMIT_PER_ACCOUNT"]),
        per_address=parse(config["PIPELINE_LOGIN_LIMIT_PER_ADDRESS"]),
        key_prefix=counter_prefix(app),
    )


def _throttle() -> LoginThrottle:
    throttle: LoginThrottle = current_app.extensions[EXTENSION]
    return throttle


def _account_key(throttle: LoginThrottle, email: str) -> tuple[str, ...]:
    """The account's counter key; the e-mail is hashed so the store holds no addresses."""
    digest = hashlib.sha256(email.strip().lower().encode()).hexdigest()
    return (throttle.key_prefix, "login-account", digest)


def _address_key(throttle: LoginThrottle, address: str) -> tuple[str, ...]:
    return (throttle.key_prefix, "login-address", address or "unknown")


def _limits(throttle: LoginThrottle, email: str, address: str) -> list[tuple[str, RateLimitItem, tuple[str, ...]]]:
    return [
        ("account", throttle.per_account, _account_key(throttle, email)),
        ("address", throttle.per_address, _address_key(throttle, address)),
    ]


def seconds_to_wait(email: str, address: str) -> int:
    """0 when this sign-in may be tried; else how many seconds until both its limits allow one again."""
    throttle = _throttle()
    waits: dict[str, int] = {}
    try:
        for name, item, key in _limits(throttle, email, address):
            if not throttle.limiter.test(item, *key):
                reset = throttle.limiter.get_window_stats(item, *key).reset_time
                waits[name] = max(1, math.ceil(reset - time.time()))
    except StorageError as exc:
        # Fail open: an unreachable store must not lock everybody out; Argon2 still makes each guess slow.
        log.error("sign-in throttle: counter store unreachable, not throttling %s from %s: %s", email, address, exc)
        return 0
    if not waits:
        return 0
    log.warning(
        "sign-in throttled: %s from %s, too many failures per %s; next try in %d s",
        email.strip().lower(),
        address,
        " and ".join(waits),
        max(waits.values()),
    )
    return max(waits.values())


def record_failure(email: str, address: str) -> None:
    """Count a failed sign-in against the account and the address."""
    throttle = _throttle()
    try:
        for _name, item, key in _limits(throttle, email, address):
            throttle.limiter.hit(item, *key)
    except StorageError as exc:
        log.error(
            "sign-in throttle: counter store unreachable, failure of %s from %s not counted: %s", email, address, exc
        )


def record_success(email: str) -> None:
    """Forget the account's failures after the right password (the address keeps its count)."""
    throttle = _throttle()
    try:
        throttle.limiter.clear(throttle.per_account, *_account_key(throttle, email))
    except StorageError as exc:
        log.error("sign-in throttle: counter store unreachable, failures of %s not cleared: %s", email, exc)
