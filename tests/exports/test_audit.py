"""The audit log is append-only: the ORM refuses to change or remove an entry, and so does the database itself."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, func, select, text, update
from sqlalchemy.exc import DBAPIError

from pipeline.core.audit import APPEND_ONLY, AuditEvent, record
from pipeline.extensions import db
from tests.conftest import People


@pytest.fixture
def logged(people: People) -> list[int]:
    first = record("export.weekly", via="web", user=people.lead, week="2026-W10", rows={"商机": 3})
    second = record("export.weekly", via="cli", week="2026-W11")
    db.session.commit()
    return [first.id, second.id]


def snapshot() -> list[tuple[object, ...]]:
    db.session.rollback()
    db.session.expire_all()
    return [
        (e.id, e.at, e.user_id, e.actor, e.via, e.action, e.details)
        for e in db.session.scalars(select(AuditEvent).order_by(AuditEvent.id))
    ]


def test_entries_are_appended_with_who_and_how(logged: list[int], people: People) -> None:
    rows = snapshot()
    assert [r[0] for r in rows] == logged
    assert rows[0][2:] == (
        people.lead.id,
        "lead@example.com",
        "web",
        "export.weekly",
        {"week": "2026-W10", "rows": {"商机": 3}},
    )
    assert rows[1][2] is None and rows[1][3].startswith("cli:") and rows[1][4] == "cli"
    record("export.weekly", via="api", user=people.rep, week="2026-W12")
    db.session.commit()
    assert len(snapshot()) == 3  # appending goes on working


def test_the_orm_refuses_to_change_an_entry(logged: list[int]) -> None:
    before = snapshot()
    event = db.session.get(AuditEvent, logged[0])
    event.details = {"week": "2026-W01"}
    with pytest.raises(RuntimeError, match=APPEND_ONLY):
        db.session.flush()
    assert snapshot() == before


def test_the_orm_refuses_to_delete_an_entry(logged: list[int]) -> None:
    before = snapshot()
    db.session.delete(db.session.get(AuditEvent, logged[0]))
    with pytest.raises(RuntimeError, match=APPEND_ONLY):
        db.session.flush()
    assert snapshot() == before


@pytest.mark.parametrize(
    "statement",
    [
        text("UPDATE audit_events SET actor = 'someone else'"),
        text("UPDATE audit_events SET details = '{}' WHERE id = (SELECT min(id) FROM audit_events)"),
        text("DELETE FROM audit_events"),
        update(AuditEvent).values(via="web"),  # bulk statements skip the ORM's events
        delete(AuditEvent).where(AuditEvent.via == "cli"),
    ],
    ids=["update-all", "update-one", "delete-all", "bulk-update", "bulk-delete"],
)
def test_the_database_refuses_update_and_delete(logged: list[int], statement: object) -> None:
    before = snapshot()
    with pytest.raises(DBAPIError, match=APPEND_ONLY):
        db.session.execute(statement)  # type: ignore[call-overload]
    assert snapshot() == before


def test_the_database_refuses_a_raw_connection_too(logged: list[int]) -> None:
    """Below SQLAlchemy, straight through the driver: the triggers are in the schema, not in the app."""
    before = snapshot()
    db.session.remove()
    raw = db.engine.raw_connection()
    try:
        cursor = raw.cursor()
        for sql in ("UPDATE audit_events SET action = 'nothing'", "DELETE FROM audit_events"):
            with pytest.raises(Exception, match=APPEND_ONLY):
                cursor.execute(sql)
            raw.rollback()
    finally:
        raw.close()
    assert snapshot() == before
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == 2


def test_the_database_refuses_the_ways_around_its_row_triggers(logged: list[int], is_postgres: bool) -> None:
    """TRUNCATE fires no row trigger on PostgreSQL; INSERT OR REPLACE deletes without one on SQLite."""
    before = snapshot()
    first = min(logged)
    statement = (
        text("TRUNCATE audit_events")
        if is_postgres
        else text(
            "INSERT OR REPLACE INTO audit_events (id, at, actor, via, action, details) "
            "VALUES (:id, '2026-01-01 00:00:00', 'someone else', 'web', 'export.weekly', '{}')"
        ).bindparams(id=first)
    )
    with pytest.raises(DBAPIError, match=APPEND_ONLY):
        db.session.execute(statement)
    db.session.rollback()
    assert snapshot() == before
