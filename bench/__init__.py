"""Benchmarks that print their figures beside a baseline measured in the same run (never timed tests).

Run them as modules from the repository root, e.g. `.venv/bin/python -m bench.transitions`; see bench/README.md.
Nothing here imports the app at import time, so a child process can measure without `transitions` loaded.
"""

from __future__ import annotations

import logging
import os
import platform
import resource
import secrets
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask

_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def rss_mb() -> float:
    """Resident memory of this process now (Linux /proc), else its peak from getrusage."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * _PAGE / 2**20
    except OSError:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak / 2**20 if sys.platform == "darwin" else peak / 2**10


def machine_description() -> dict[str, Any]:
    """What the figures were measured on, so a reader can compare them with their own."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as info:
            cpu = next((line.split(":", 1)[1].strip() for line in info if line.startswith("model name")), cpu)
    except OSError:
        pass
    import sqlalchemy
    import transitions

    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "python": platform.python_version(),
        "sqlalchemy": sqlalchemy.__version__,
        "transitions": transitions.__version__,
        "platform": platform.platform(),
        "load_average_1m": round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None,
    }


def is_postgres(url: str | None) -> bool:
    return bool(url) and url.startswith("postgresql")  # type: ignore[union-attr]


def _pg_admin(url: str) -> Any:
    """An autocommit connection to the server named by `url`, on the database `url` names (the maintenance one)."""
    import psycopg
    from sqlalchemy.engine import make_url

    u = make_url(url)
    return psycopg.connect(
        host=u.host or "127.0.0.1",
        port=u.port or 5432,
        user=u.username or "postgres",
        password=u.password,
        dbname=u.database or "postgres",
        autocommit=True,
    )


@contextmanager
def scratch_database(url: str | None) -> Iterator[str]:
    """A new, empty database for one run, removed afterwards.

    None or "sqlite": a SQLite file in a temporary folder. A PostgreSQL URL names the server to use; the
    benchmark creates its own uniquely named database there and drops it at the end, so the database in the
    URL (e.g. `postgres`) is only connected to, never written. A `sqlite:///path` URL must not exist yet.
    """
    if is_postgres(url):
        from sqlalchemy.engine import make_url

        assert url is not None
        name = f"pipeline_bench_{os.getpid()}_{secrets.token_hex(3)}"
        with _pg_admin(url) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        try:
            yield make_url(url).set(database=name).render_as_string(hide_password=False)
        finally:
            with _pg_admin(url) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    elif url in (None, "", "sqlite"):
        with tempfile.TemporaryDirectory(prefix="pipeline-bench-") as folder:
            yield f"sqlite:///{Path(folder) / 'bench.db'}"
    elif url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        if path.exists():
            raise SystemExit(f"--db {url}: the file exists; a benchmark needs a fresh database")
        yield url
    else:
        raise SystemExit(f"--db {url}: expected sqlite, sqlite:///FILE or postgresql+psycopg://USER@HOST/DB")


@contextmanager
def kept_database(url: str) -> Iterator[str]:
    """A database kept between runs: a PostgreSQL database made on the server if missing, or a SQLite file."""
    if is_postgres(url):
        from sqlalchemy.engine import make_url

        name = make_url(url).database
        with _pg_admin(make_url(url).set(database="postgres").render_as_string(hide_password=False)) as conn:
            if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is None:
                conn.execute(f'CREATE DATABASE "{name}"')
    elif not url.startswith("sqlite:///"):
        raise SystemExit(f"--keep {url}: expected sqlite:///FILE or postgresql+psycopg://USER@HOST/DB")
    yield url


def migrated_app(url: str) -> Flask:
    """The real app on `url`, migrated to head with the real Alembic migrations."""
    from flask_migrate import upgrade

    from pipeline import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "PIPELINE_CHECK_MIGRATED": False})
    with app.app_context():
        upgrade()
    logging.getLogger("alembic").setLevel(logging.WARNING)
    return app


def describe_db(url: str) -> str:
    """The database kind and server version, for the report."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            if engine.dialect.name == "sqlite":
                return "SQLite " + conn.execute(text("select sqlite_version()")).scalar_one()
            return "PostgreSQL " + conn.execute(text("show server_version")).scalar_one().split()[0]
    finally:
        engine.dispose()


def print_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """Print rows as a Markdown table (pasteable into bench/README.md) and return it."""
    cells = [[str(h) for h in headers], *[[_cell(v) for v in row] for row in rows]]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = ["| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |" for r in cells]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    text = "\n".join(lines)
    print(text, flush=True)
    return text


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.2f}" if abs(value) < 100 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)
