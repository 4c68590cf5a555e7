"""Database plumbing: SQLite pragmas, engine options, and the refusal to run on an unmigrated schema."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, event
from sqlalchemy.engine import make_url

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
SQLITE_BUSY_TIMEOUT_S = 30


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """Every SQLite connection: WAL for concurrent readers, foreign keys enforced, durable-enough sync."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_S * 1000}")
        cursor.close()


def engine_options(url: str) -> dict[str, Any]:
    """Per-database engine options: a busy timeout for SQLite, pre-ping for PostgreSQL."""
    if make_url(url).get_backend_name() == "sqlite":
        return {"connect_args": {"timeout": SQLITE_BUSY_TIMEOUT_S}}
    # JIT compilation costs PostgreSQL a second or more on report queries whose estimated cost is high but
    # which run in tens of milliseconds; this app's queries are short, so it is off for its connections.
    return {"pool_pre_ping": True, "connect_args": {"options": "-c jit=off"}}


def head_revision() -> str | None:
    """The newest migration shipped with this code."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return ScriptDirectory.from_config(config).get_current_head()


def current_revision(engine: Engine) -> str | None:
    """The migration the database is at, or None when it has never been migrated."""
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def unmigrated_message(engine: Engine) -> str | None:
    """Why the app must not run on this database, or None when its schema is up to date."""
    current, head = current_revision(engine), head_revision()
    if current == head:
        return None
    url = engine.url.render_as_string(hide_password=True)
    if current is None:
        return f"the database {url} has no schema yet: run `pipeline init` (or `pipeline db upgrade`)"
    return f"the database {url} is at migration {current}, this code needs {head}: run `pipeline db upgrade`"
