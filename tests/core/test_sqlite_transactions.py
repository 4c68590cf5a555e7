"""SQLite transactions: writers take the write lock when they begin, so none is told "database is locked".

These are SQLite's own rules (one writer at a time, snapshots per transaction); PostgreSQL runs skip them.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, select, text
from sqlalchemy.exc import OperationalError

from pipeline.auth.models import ApiToken
from pipeline.core import database
from pipeline.core.database import holds_write_lock, is_stale_snapshot, see_latest_commits, writing
from pipeline.extensions import db
from tests.conftest import People, counting_statements


@pytest.fixture(autouse=True)
def _sqlite_only(is_postgres: bool) -> None:
    if is_postgres:
        pytest.skip("SQLite's locking")


@pytest.fixture
def raw_path(app: Flask) -> str:
    return str(db.engine.url.database)


def _begins(statements: list[str]) -> list[str]:
    return [s for s in statements if s.startswith("BEGIN")]


def _someone_else_writes(path: str) -> None:
    """A real change committed through another connection (SQLite skips an update that changes nothing)."""
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("UPDATE lost_reasons SET position = position + 1")
    other.close()


def test_a_deferred_transaction_that_read_is_refused_at_once_when_another_wrote(app: Flask, raw_path: str) -> None:
    """The failure the write lock at BEGIN prevents: no busy timeout helps a snapshot that went stale."""
    with db.engine.connect() as mine:
        mine.execute(text("SELECT count(*) FROM deals")).scalar()  # BEGIN (deferred): the snapshot is taken here
        _someone_else_writes(raw_path)
        started = time.monotonic()
        with pytest.raises(OperationalError, match="database is locked") as refused:
            mine.execute(text("UPDATE deals SET title = 'x'"))
        assert is_stale_snapshot(refused.value)
        assert time.monotonic() - started < database.SQLITE_BUSY_TIMEOUT_S / 2  # refused, not waited for
        mine.rollback()


def test_a_writing_transaction_waits_for_the_other_writer_and_reads_what_it_wrote(
    people: People, raw_path: str
) -> None:
    db.session.commit()
    holder = sqlite3.connect(raw_path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")  # another writer, mid-transaction
    holder.execute("UPDATE users SET name = '已改名'")
    released = threading.Timer(0.5, holder.commit)
    released.start()
    try:
        with writing(), db.engine.connect() as mine:
            names = set(mine.execute(text("SELECT name FROM users")).scalars())
            mine.execute(text("UPDATE users SET locale = 'en'"))
            mine.commit()
    finally:
        released.join()
        holder.close()
    assert names == {"已改名"}  # it began after the other committed, so it read the other's write


def _positions() -> int:
    return int(db.session.scalar(text("SELECT sum(position) FROM lost_reasons")) or 0)


def test_a_transaction_that_only_read_can_take_a_new_snapshot_with_what_others_committed(
    app: Flask, raw_path: str
) -> None:
    db.session.commit()
    before = _positions()  # the snapshot is taken here
    _someone_else_writes(raw_path)
    assert _positions() == before  # one snapshot for the whole transaction
    assert not holds_write_lock(db.session)
    see_latest_commits(db.session)
    assert _positions() > before


def test_a_transaction_that_wrote_holds_the_lock_and_keeps_its_work(people: People) -> None:
    db.session.commit()
    db.session.execute(text("UPDATE users SET locale = 'en'"))
    assert holds_write_lock(db.session)
    see_latest_commits(db.session)  # nothing is ended: its write is still there, uncommitted
    assert set(db.session.scalars(text("SELECT locale FROM users"))) == {"en"}
    db.session.rollback()
    assert not holds_write_lock(db.session)  # a new transaction, deferred, that has only begun
    db.session.rollback()
    with writing():
        assert holds_write_lock(db.session)  # BEGIN IMMEDIATE took the lock before anything was sent


def test_requests_that_write_begin_immediate_and_reads_begin_deferred(
    client: FlaskClient, people: People, token_for: Any
) -> None:
    headers = token_for(people.rep)
    client.get("/api/v1/deals", headers=headers)  # the token's first use is stamped now, not during the counting
    db.session.rollback()
    with counting_statements() as read:
        assert client.get("/api/v1/deals", headers=headers).status_code == 200
    with counting_statements() as wrote:
        assert client.post("/api/v1/accounts", headers=headers, json={"name": "苏州精工机械"}).status_code == 201
    assert _begins(read) == ["BEGIN"] and _begins(wrote) == ["BEGIN IMMEDIATE"]


@pytest.fixture
def another_writer_commits_before_the_token_stamp(raw_path: str) -> Iterator[list[str]]:
    """Once: right before a request writes its token's last use, someone else commits a write."""
    fired: list[str] = []

    def interfere(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.startswith("UPDATE api_tokens") and not fired:
            fired.append(statement)
            _someone_else_writes(raw_path)

    event.listen(db.engine, "before_cursor_execute", interfere)
    yield fired
    event.remove(db.engine, "before_cursor_execute", interfere)


def test_a_read_whose_write_was_refused_runs_again_and_answers(
    client: FlaskClient, people: People, token_for: Any, another_writer_commits_before_the_token_stamp: list[str]
) -> None:
    headers = token_for(people.rep)  # never used: the first call stamps its last use, a write inside a GET
    assert client.get("/api/v1/deals").status_code == 401  # the schema check is done (once per app)
    db.session.commit()
    with counting_statements() as statements:
        response = client.get("/api/v1/deals", headers=headers)
    assert another_writer_commits_before_the_token_stamp, "the GET never wrote"
    assert response.status_code == 200, response.json
    assert _begins(statements) == ["BEGIN", "BEGIN IMMEDIATE"]  # refused once, then run again writing from the start
    db.session.rollback()
    assert db.session.scalar(select(ApiToken.last_used_at)) is not None


def test_a_write_that_waits_out_the_busy_timeout_answers_503_not_a_lock_error(
    client: FlaskClient, people: People, token_for: Any, raw_path: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    headers = token_for(people.rep)
    monkeypatch.setattr(database, "SQLITE_BUSY_TIMEOUT_S", 0.2)
    db.session.remove()
    db.engine.dispose()  # new connections, with the short timeout
    holder = sqlite3.connect(raw_path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # a writer that does not let go
    try:
        response = client.post("/api/v1/accounts", headers=headers, json={"name": "苏州精工机械"})
    finally:
        holder.rollback()
        holder.close()
    assert response.status_code == 503 and response.headers["Retry-After"] == "1"
    assert "busy" in response.json["error"] and "locked" not in response.get_data(as_text=True)
