"""`pipeline serve`: the app under gunicorn with defaults chosen for it, refusing an unmigrated database.

The defaults, and why:
- workers = the usable cores. A request here is mostly Python (rendering, the deal machine, report shaping)
  around short database calls, so a worker per core keeps every core busy; more workers only take turns on
  the same cores (and PostgreSQL on the same machine needs CPU too).
- 2 threads per worker (gunicorn's gthread worker). While one request waits for PostgreSQL (a board is a few
  queries of a few milliseconds each) or streams an export, the other runs; with the GIL more threads add
  waiting, not throughput. `--threads 1` gives the sync worker.
- The app is imported and built once in the master and the workers are forked from it (preload), so they
  share its memory pages and start in milliseconds; the master's heap is frozen for the garbage collector
  first so that the workers' collections do not touch (and copy) those shared pages. The database pool the
  start-up check used is closed before the fork, so no connection is shared across processes.
- Each worker is replaced after 2,000 requests (± 10%, so they do not all restart at once), which bounds
  whatever a long-running process might leak; a worker stuck for --timeout seconds is replaced; on
  SIGTERM or a restart the requests in flight get --graceful-timeout seconds to finish.
- The access log goes to stdout (one line per request with its duration), the server's own log to stderr:
  systemd's journal or a container's log collects both.
- Forwarded headers are read by the app (PIPELINE_TRUSTED_PROXIES) and by nothing else: gunicorn's own
  trust in X-Forwarded-Proto from 127.0.0.1 is switched off, so there is one rule and one place for it.
"""

from __future__ import annotations

import contextvars
import gc
import os
from collections.abc import Callable
from typing import Any

import click
from flask import Flask
from flask.cli import ScriptInfo, pass_script_info
from gunicorn.app.base import BaseApplication
from gunicorn.util import parse_address

from pipeline.core.database import unmigrated_message
from pipeline.core.shared import per_process_state
from pipeline.extensions import db

THREADS = 2
TIMEOUT_S = 60
GRACEFUL_TIMEOUT_S = 30
MAX_REQUESTS = 2000
ACCESS_LOG_FORMAT = '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" %(M)sms'


def usable_cores() -> int:
    """The cores this process may run on (a container's or taskset's share, not the machine's count)."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _dispose_inherited_pool(app: Flask) -> Callable[[Any, Any], None]:
    """A post_fork hook: a worker drops the connections it may have inherited without closing the master's."""

    def post_fork(_server: Any, _worker: Any) -> None:
        with app.app_context():
            for engine in db.engines.values():
                engine.dispose(close=False)

    return post_fork


def _freeze_heap(_server: Any) -> None:
    """A when_ready hook: move the loaded app out of the collector's sight before workers are forked."""
    gc.collect()
    gc.freeze()


class PipelineServer(BaseApplication):  # type: ignore[misc]
    """gunicorn serving one already-built app with the given settings."""

    def __init__(self, app: Flask, options: dict[str, Any]) -> None:
        self.application = app
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        known = self.cfg.settings
        for name, value in self.options.items():
            if name in known:  # settings of newer gunicorns are left out on older ones
                self.cfg.set(name, value)

    def load(self) -> Flask:
        return self.application


def server_options(
    app: Flask, bind: tuple[str, ...], workers: int, threads: int, timeout: int, graceful_timeout: int
) -> dict[str, Any]:
    """gunicorn's settings for this app."""
    return {
        "bind": list(bind),
        "workers": workers,
        "threads": threads,
        "worker_class": "gthread" if threads > 1 else "sync",
        "timeout": timeout,
        "graceful_timeout": graceful_timeout,
        "keepalive": 5,
        "preload_app": True,
        "max_requests": MAX_REQUESTS,
        "max_requests_jitter": MAX_REQUESTS // 10,
        "accesslog": "-",
        "errorlog": "-",
        "access_log_format": ACCESS_LOG_FORMAT,
        "proc_name": "pipeline",
        "secure_scheme_headers": {},
        "forwarder_headers": "",
        "control_socket_disable": True,  # gunicorn ≥ 25: one fixed socket path would clash between instances
        "post_fork": _dispose_inherited_pool(app),
        "when_ready": _freeze_heap,
    }


def _address(_ctx: click.Context, _param: click.Parameter, values: tuple[str, ...]) -> tuple[str, ...]:
    """Each --bind as gunicorn reads it: HOST:PORT, unix:PATH or fd://N."""
    for value in values:
        try:
            parse_address(value)
        except RuntimeError as exc:
            raise click.BadParameter(str(exc)) from None
    return values


def _check_database() -> None:
    """Refuse to serve a database whose schema is missing or behind; then close the pool before forking."""
    try:
        message = unmigrated_message(db.engine)
    finally:
        for engine in db.engines.values():
            engine.dispose()
    if message:
        raise click.ClickException(message)


def _warn_about_per_process_state(app: Flask, workers: int) -> None:
    """One line when several workers would each keep what they must share (no Redis configured)."""
    kept = per_process_state(app)
    if workers > 1 and kept:
        things = ", ".join(kept[:-1]) + " and " + kept[-1] if len(kept) > 1 else kept[0]
        click.echo(
            f"pipeline serve: warning: without PIPELINE_REDIS_URL each of the {workers} workers (and each other"
            f" instance) keeps its own {things}; set PIPELINE_REDIS_URL=redis://… to share them",
            err=True,
        )


@click.command("serve")
@click.option(
    "--bind",
    "-b",
    multiple=True,
    default=("127.0.0.1:8000",),
    show_default=True,
    callback=_address,
    envvar="PIPELINE_BIND",
    help="Address to listen on: HOST:PORT, unix:PATH or fd://N (repeat for several).",
)
@click.option(
    "--workers",
    "-w",
    type=click.IntRange(min=1),
    default=lambda: usable_cores(),
    show_default="the usable cores",
    envvar="PIPELINE_WORKERS",
    help="Worker processes.",
)
@click.option(
    "--threads",
    type=click.IntRange(min=1),
    default=THREADS,
    show_default=True,
    envvar="PIPELINE_THREADS",
    help="Threads per worker (1: gunicorn's sync worker).",
)
@click.option(
    "--timeout",
    type=click.IntRange(min=1),
    default=TIMEOUT_S,
    show_default=True,
    envvar="PIPELINE_TIMEOUT",
    help="Seconds before a silent worker is replaced.",
)
@click.option(
    "--graceful-timeout",
    type=click.IntRange(min=0),
    default=GRACEFUL_TIMEOUT_S,
    show_default=True,
    help="Seconds the requests in flight get to finish on a stop or restart.",
)
@pass_script_info
def serve_command(
    info: ScriptInfo, bind: tuple[str, ...], workers: int, threads: int, timeout: int, graceful_timeout: int
) -> None:
    """Serve the app with gunicorn (run `pipeline db upgrade` once first; start as many instances as needed)."""
    app = info.load_app()
    with app.app_context():
        _check_database()
        _warn_about_per_process_state(app, workers)
    server = PipelineServer(app, server_options(app, bind, workers, threads, timeout, graceful_timeout))
    # Outside the command's app context: a worker forked inside it would reuse that one context (and its `g`,
    # where Flask-Login keeps the signed-in user) for every request it serves.
    contextvars.Context().run(server.run)


def register(app: Flask) -> None:
    """Attach `serve` to `app.cli`."""
    app.cli.add_command(serve_command)
