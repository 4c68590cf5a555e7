"""Database plumbing: SQLite pragmas and transactions, engine options, and the refusal to run on an unmigrated schema.

SQLite transactions are SQLAlchemy's, not the sqlite3 driver's: the driver's own handling (its "legacy transaction
control") is switched off and every transaction begins with a real BEGIN, so a transaction's reads see one snapshot,
SAVEPOINTs nest inside it and DDL is transactional (SQLAlchemy's documented recipe for pysqlite). A transaction
expected to write begins with BEGIN IMMEDIATE: it takes the database's one write lock before it reads anything, so
it waits its turn (the busy timeout) instead of failing. A deferred transaction that has read and then writes
after another writer committed cannot wait: SQLite refuses it at once with "database is locked"
(SQLITE_BUSY_SNAPSHOT), however long the busy timeout. Requests with unsafe methods (POST, PUT, PATCH, DELETE) and
the commands that write (`writing()`) begin IMMEDIATE; reads (GET) begin deferred and run beside the writer.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from flask import has_request_context, request
from sqlalchemy import Connection, Engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
SQLITE_BUSY_TIMEOUT_S = 30
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

# True inside writing(), False inside reading(), None: decided by the request's method (no request: deferred).
_writes: ContextVar[bool | None] = ContextVar("pipeline_transaction_writes", default=None)
_WROTE = "pipeline_sqlite_wrote"  # in a SQLite connection's info: its transaction holds the write lock
_READS = ("SELECT", "PRAGMA", "BEGIN", "SAVEPOINT", "RELEASE", "ROLLBACK", "COMMIT")  # statements that take no lock


@contextmanager
def _expecting(writes: bool) -> Iterator[None]:
    token = _writes.set(writes)
    try:
        yield
    finally:
        _writes.reset(token)


def writing() -> Any:
    """Transactions begun in this block will write: on SQLite they take the write lock at BEGIN (IMMEDIATE)."""
    return _expecting(True)


def reading() -> Any:
    """Transactions begun in this block only read, even within a POST: on SQLite they begin deferred."""
    return _expecting(False)


def expects_writes() -> bool:
    """Whether a transaction begun now should take SQLite's write lock at once."""
    decided = _writes.get()
    if decided is not None:
        return decided
    return has_request_context() and request.method not in SAFE_METHODS


def _sqlite_code(exc: BaseException) -> int:
    orig = getattr(exc, "orig", exc)
    return int(getattr(orig, "sqlite_errorcode", 0)) if isinstance(orig, sqlite3.OperationalError) else 0


def is_sqlite_busy(exc: BaseException) -> bool:
    """Whether SQLite refused for its write lock ("database is locked": SQLITE_BUSY or one of its extended codes)."""
    return _sqlite_code(exc) & 0xFF == sqlite3.SQLITE_BUSY


# SQLite's codes for a database that cannot be used at all (not one that is only busy): the file cannot be opened,
# read or written (a missing volume, a full disk, permissions), or is not a database.
_SQLITE_UNAVAILABLE = frozenset(
    {
        sqlite3.SQLITE_CANTOPEN,
        sqlite3.SQLITE_IOERR,
        sqlite3.SQLITE_NOTADB,
        sqlite3.SQLITE_CORRUPT,
        sqlite3.SQLITE_PERM,
        sqlite3.SQLITE_READONLY,
        sqlite3.SQLITE_FULL,
    }
)


def is_unavailable(exc: BaseException) -> bool:
    """Whether the database could not be reached or used at all, so the answer is "try later", not a bug (500).

    PostgreSQL: the driver's OperationalError (connection refused or lost, the server shutting down, too many
    clients) or a connection SQLAlchemy found dead; the pool's wait for a free connection running out. SQLite: the
    file cannot be opened, read or written. "database is locked" is not this: it has its own answer (is_sqlite_busy).
    """
    import psycopg
    from sqlalchemy.exc import DBAPIError
    from sqlalchemy.exc import TimeoutError as PoolTimeout

    if isinstance(exc, PoolTimeout):
        return True
    if not isinstance(exc, DBAPIError):
        return False
    if exc.connection_invalidated:
        return True
    orig = exc.orig
    if isinstance(orig, psycopg.OperationalError | psycopg.InterfaceError):
        return True
    return _sqlite_code(exc) & 0xFF in _SQLITE_UNAVAILABLE


def is_stale_snapshot(exc: BaseException) -> bool:
    """Whether SQLite refused a write because another writer committed after this (deferred) transaction read."""
    return _sqlite_code(exc) == sqlite3.SQLITE_BUSY_SNAPSHOT


@event.listens_for(Engine, "begin")
def _sqlite_begin(conn: Connection) -> None:
    """Begin every SQLite transaction ourselves: IMMEDIATE when it will write, else deferred."""
    if conn.dialect.name != "sqlite" or conn.get_execution_options().get("isolation_level") == "AUTOCOMMIT":
        return
    immediate = expects_writes()
    conn.info[_WROTE] = immediate
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


@event.listens_for(Engine, "before_cursor_execute")
def _note_sqlite_write(conn: Connection, _cursor: Any, statement: str, *_args: Any) -> None:
    """Remember that this SQLite transaction holds the write lock: it sent something that is not a plain read."""
    if conn.dialect.name == "sqlite" and not conn.info.get(_WROTE):
        conn.info[_WROTE] = not statement.lstrip().upper().startswith(_READS)


def holds_write_lock(session: Session) -> bool:
    """Whether the session's SQLite transaction holds the write lock, so no other connection may write till it ends."""
    conn = session.connection()
    return conn.dialect.name == "sqlite" and bool(conn.info.get(_WROTE))


def see_latest_commits(session: Session) -> None:
    """Let the session's next reads see what other connections committed since its transaction began.

    PostgreSQL's statements (READ COMMITTED) each see the latest commits already. A SQLite transaction reads one
    snapshot throughout; one that has written nothing is ended and begun again, losing nothing. One that has
    written keeps its snapshot (callers check holds_write_lock first).
    """
    conn = session.connection()
    if conn.dialect.name == "sqlite" and not conn.info.get(_WROTE) and not conn.in_nested_transaction():
        conn.exec_driver_sql("COMMIT")
        conn.exec_driver_sql("BEGIN")


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """Every SQLite connection: WAL for concurrent readers, foreign keys enforced, durable-enough sync."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        dbapi_connection.isolation_level = None  # the driver emits no BEGIN of its own: _sqlite_begin does
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
    from alembic.config import Config  # here, not at the top: alembic and mako cost every process 11 MB
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return ScriptDirectory.from_config(config).get_current_head()


def current_revision(engine: Engine) -> str | None:
    """The migration the database is at, or None when it has never been migrated."""
    from alembic.migration import MigrationContext

    with reading(), engine.connect() as conn:
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
