"""State every app instance must see alike lives in one Redis (PIPELINE_REDIS_URL), never in one process's memory.

`redis_client()` is the one way in: a client on one connection pool per process and URL (redis-py starts a
fresh pool in a forked worker by itself), with short timeouts so that a Redis that is down costs a request
milliseconds, not seconds. The sign-in throttle and the API rate limits keep their counters in a `limits`
store built on the same pool (the kept report figures are in the database). Without PIPELINE_REDIS_URL they
stay in the process (right for one process, wrong for several: `pipeline serve` says so).
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from flask import Flask, current_app
from limits.storage import MemoryStorage, RedisStorage, Storage, storage_from_string

if TYPE_CHECKING:  # redis-py is imported on first use: 4 MB that a process without Redis (an export) never needs
    import redis

STORAGE_EXTENSION = "pipeline.limits_storage"
CONNECT_TIMEOUT_S = 0.5  # a healthy Redis on the same network answers in well under a millisecond
COMMAND_TIMEOUT_S = 0.5

_pools: dict[str, redis.ConnectionPool] = {}
_pools_lock = threading.Lock()


def _pool(url: str) -> redis.ConnectionPool:
    """This process's connection pool for `url`, made on first use."""
    import redis

    with _pools_lock:
        pool = _pools.get(url)
        if pool is None:
            pool = redis.ConnectionPool.from_url(
                url, socket_connect_timeout=CONNECT_TIMEOUT_S, socket_timeout=COMMAND_TIMEOUT_S
            )
            _pools[url] = pool
        return pool


def redis_url(app: Flask | None = None) -> str:
    """The app's PIPELINE_REDIS_URL ("" when it shares nothing)."""
    return str((app or current_app).config.get("PIPELINE_REDIS_URL") or "")


def redis_client(app: Flask | None = None) -> redis.Redis | None:
    """A client for the shared Redis, or None when none is configured (then keep state in the process)."""
    import redis

    url = redis_url(app)
    return redis.Redis(connection_pool=_pool(url)) if url else None


def key(*parts: object, app: Flask | None = None) -> str:
    """A Redis key under the app's prefix (PIPELINE_REDIS_KEY_PREFIX), so several apps can share one Redis."""
    prefix = (app or current_app).config["PIPELINE_REDIS_KEY_PREFIX"]
    return ":".join([str(prefix), *map(str, parts)])


def counter_prefix(app: Flask) -> str:
    """The first part of every counter's key: PIPELINE_RATELIMIT_KEY_PREFIX, else the Redis prefix."""
    return str(app.config.get("PIPELINE_RATELIMIT_KEY_PREFIX") or app.config["PIPELINE_REDIS_KEY_PREFIX"])


def limits_storage(app: Flask) -> Storage:
    """Where counters (failed sign-ins, API calls) live: one store per app, built on first use.

    PIPELINE_RATELIMIT_STORAGE, when set, is a `limits` storage URI and wins (kept for existing deployments);
    else the shared Redis; else this process's memory.
    """
    storage: Storage | None = app.extensions.get(STORAGE_EXTENSION)
    if storage is None:
        explicit = app.config.get("PIPELINE_RATELIMIT_STORAGE") or ""
        url = redis_url(app)
        if explicit:
            storage = storage_from_string(explicit, wrap_exceptions=True)
        elif url:
            storage = RedisStorage(url, connection_pool=_pool(url), wrap_exceptions=True)
        else:
            storage = MemoryStorage(wrap_exceptions=True)
        app.extensions[STORAGE_EXTENSION] = storage
    return storage


def per_process_state(app: Flask) -> list[str]:
    """What this app would keep in one process's memory although other processes need it too."""
    kept = []
    if isinstance(limits_storage(app), MemoryStorage):
        kept += ["failed sign-in counts", "API call counts"]
    return kept
