"""Backups: `pipeline backup`/`restore` on SQLite while the app runs; pg_dump/pg_restore as the README gives them.

A backup taken while deals keep moving is one consistent moment (each deal's stage is its last history row's),
and a restore brings back every row of every table, seen at once by the app that kept running.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import threading
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

import psycopg
import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from pipeline.accounts.models import Contact
from pipeline.auth.models import User
from pipeline.core.database import head_revision, writing
from pipeline.deals import services
from pipeline.deals.method import QUALIFY
from pipeline.deals.models import Deal
from pipeline.extensions import db
from tests.conftest import PG_URL, People, _pg_admin, refused
from tests.core.killing import fingerprint, kill_at

README = Path(__file__).resolve().parents[2] / "README.md"


@pytest.fixture
def sqlite_only(is_postgres: bool) -> None:
    if is_postgres:
        pytest.skip("`pipeline backup` is SQLite's; PostgreSQL's round trip is pg_dump's test below")


@pytest.fixture
def filled(people: People, make_deal: Callable[..., Deal]) -> list[int]:
    """Deals (some moved on, one lost), a contact, the audit log: rows in most tables."""
    deals = [make_deal(people.rep if n % 2 else people.rep_b, title=f"项目 {n}") for n in range(12)]
    for deal in deals[:6]:
        services.move(people.admin, deal, "advance", override=True, reason="按计划")
    services.move(people.admin, deals[6], "lose", lost_reason="price")
    db.session.add(Contact(account_id=deals[0].account_id, name="周建国", mobile="+8613800138000"))
    db.session.commit()
    return [d.id for d in deals]


def _stages_agree_with_history(path: Path) -> int:
    """Check the backup in itself: whole, and every deal's stage the one its last history row moved it to."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        rows = conn.execute(
            "SELECT d.id, d.stage, d.version, e.to_stage,"
            " (SELECT count(*) FROM stage_events WHERE deal_id = d.id) FROM deals d"
            " JOIN stage_events e ON e.id = (SELECT max(id) FROM stage_events WHERE deal_id = d.id)"
        ).fetchall()
        assert rows
        for deal_id, stage, _version, last, _moves in rows:
            assert stage == last, (deal_id, stage, last)
        assert conn.execute("SELECT version_num FROM alembic_version").fetchall() == [(head_revision(),)]
        return sum(moves for *_, moves in rows)
    finally:
        conn.close()


def test_a_backup_taken_while_deals_keep_moving_is_one_consistent_moment(
    app: Flask, runner: FlaskCliRunner, people: People, filled: list[int], tmp_path: Path, sqlite_only: None
) -> None:
    stop, moved, failed = threading.Event(), [0], []
    admin_id = people.admin.id

    def keep_moving() -> None:
        """Another connection moving deals back and forth, one commit per move, until told to stop."""
        with app.app_context():
            try:
                while not stop.is_set():
                    for deal_id in filled[7:]:
                        with writing():
                            deal, admin = db.session.get(Deal, deal_id), db.session.get(User, admin_id)
                            if deal.stage == QUALIFY:
                                services.move(admin, deal, "advance", override=True, reason="推进")
                            else:
                                services.move(admin, deal, "revert", reason="退回")
                            db.session.commit()
                        moved[0] += 1
            except Exception as exc:  # reported below: a thread's exception would vanish
                failed.append(exc)
            finally:
                db.session.remove()

    writer = threading.Thread(target=keep_moving)
    writer.start()
    try:
        histories = []
        for n in range(4):
            while moved[0] < 5 * (n + 1) and not failed:  # the writer is really at work between the backups
                stop.wait(0.01)
            target = tmp_path / f"backup-{n}.db"
            result = runner.invoke(args=["backup", str(target)])
            assert result.exit_code == 0, result.output
            assert f"to {target}" in result.output
            assert not [p for p in tmp_path.iterdir() if p.name.endswith(".part")]
            histories.append(_stages_agree_with_history(target))
    finally:
        stop.set()
        writer.join()
    assert not failed, failed
    assert histories == sorted(histories) and histories[0] < histories[-1]  # each a later moment than the one before
    assert (tmp_path / "backup-0.db").stat().st_mode & 0o077 == 0  # password hashes: the owner's eyes only


def test_restore_brings_back_every_row_of_every_table_into_the_running_app(
    app: Flask,
    runner: FlaskCliRunner,
    people: People,
    filled: list[int],
    make_deal: Callable[..., Deal],
    database_url: str,
    tmp_path: Path,
    sqlite_only: None,
) -> None:
    before = fingerprint(database_url)
    target = tmp_path / "pipeline-backup.db"
    assert runner.invoke(args=["backup", str(target)]).exit_code == 0

    # Life goes on after the backup: a new deal, a deal deleted, a user changed.
    make_deal(people.rep, title="备份之后的项目")
    db.session.delete(db.session.get(Contact, db.session.scalar(select(Contact.id))))
    people.rep.name = "改了名字"
    db.session.commit()
    assert fingerprint(database_url) != before

    result = runner.invoke(args=["restore", str(target), "--yes"])
    assert result.exit_code == 0, result.output
    assert fingerprint(database_url) == before
    db.session.expire_all()  # the app's own session, still open: it reads the restored rows
    assert db.session.scalar(select(func.count()).select_from(Deal)) == len(filled)
    assert db.session.get(User, people.rep.id).name == "王芳"
    make_deal(people.rep, title="恢复之后的项目")  # and goes on writing
    assert db.session.scalar(select(func.count()).select_from(Deal)) == len(filled) + 1


def test_a_killed_backup_leaves_no_file_under_the_backups_name_and_the_database_untouched(
    runner: FlaskCliRunner, people: People, filled: list[int], database_url: str, tmp_path: Path, sqlite_only: None
) -> None:
    db.session.remove()
    before = fingerprint(database_url)
    out = tmp_path / "backups"
    out.mkdir()
    target = out / "pipeline.db"
    kill_at("rename", database_url, ["backup", str(target)], tmp_path)  # complete and checked, not yet renamed
    left = [p.name for p in out.iterdir()]
    assert len(left) == 1 and left[0].startswith(".pipeline.db.") and left[0].endswith(".part"), left
    assert fingerprint(database_url) == before

    again = runner.invoke(args=["backup", str(target)])
    assert again.exit_code == 0, again.output
    assert _stages_agree_with_history(target) > 0


def test_a_killed_restore_leaves_the_database_as_it_was_and_runs_again(
    runner: FlaskCliRunner,
    people: People,
    filled: list[int],
    make_deal: Callable[..., Deal],
    database_url: str,
    tmp_path: Path,
    sqlite_only: None,
) -> None:
    target = tmp_path / "pipeline-backup.db"
    assert runner.invoke(args=["backup", str(target)]).exit_code == 0
    backed_up = fingerprint(database_url)
    make_deal(people.rep, title="备份之后的项目")
    db.session.remove()
    before = fingerprint(database_url)

    kill_at("restore:5", database_url, ["restore", str(target), "--yes"], tmp_path)  # pages half copied over
    assert fingerprint(database_url) == before
    with closing(sqlite3.connect(str(make_url(database_url).database))) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]

    again = runner.invoke(args=["restore", str(target), "--yes"])
    assert again.exit_code == 0, again.output
    assert fingerprint(database_url) == backed_up


def test_restore_refuses_what_is_not_a_pipeline_backup_and_changes_nothing(
    app: Flask, runner: FlaskCliRunner, people: People, database_url: str, tmp_path: Path, sqlite_only: None
) -> None:
    before = fingerprint(database_url)
    text_file = tmp_path / "notes.db"
    text_file.write_text("这不是数据库")
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE things (id INTEGER PRIMARY KEY)")
    newer = tmp_path / "newer.db"
    assert runner.invoke(args=["backup", str(newer)]).exit_code == 0
    with sqlite3.connect(newer) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '9999'")

    refused(runner.invoke(args=["restore", str(text_file), "--yes"]), "notes.db", "not a SQLite database")
    refused(runner.invoke(args=["restore", str(other), "--yes"]), "other.db", "not a pipeline database")
    refused(runner.invoke(args=["restore", str(newer), "--yes"]), "newer.db", "9999")
    refused(runner.invoke(args=["backup", str(tmp_path / "nowhere" / "b.db")]), "nowhere", "does not exist")
    declined = runner.invoke(args=["restore", str(tmp_path / "newer.db")], input="n\n")
    assert declined.exit_code != 0
    assert fingerprint(database_url) == before


def test_on_postgresql_backup_and_restore_point_to_pg_dump(
    runner: FlaskCliRunner, tmp_path: Path, is_postgres: bool
) -> None:
    if not is_postgres:
        pytest.skip("PostgreSQL's refusal")
    for args in (["backup", str(tmp_path / "b.db")], ["restore", str(README), "--yes"]):
        line = refused(runner.invoke(args=args), "SQLite only", "pg_dump -Fc", "pg_restore --clean --if-exists")
        assert "README" in line


def _libpq(url: str) -> str:
    """The URL as pg_dump and pg_restore take it (libpq's, without SQLAlchemy's +psycopg)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _readme_line(tool: str) -> str:
    """The README's own pg_dump / pg_restore line, so the test runs what the README tells people to run."""
    text = README.read_text()
    section = text[text.index("## Backup") :]
    return next(line for line in section.splitlines() if line.startswith(f"{tool} "))


def _sequences(url: str) -> list[tuple[str, int | None]]:
    with psycopg.connect(_libpq(url)) as conn:
        return conn.execute("SELECT sequencename, last_value FROM pg_sequences ORDER BY sequencename").fetchall()


def test_pg_dump_and_pg_restore_as_the_readme_gives_them_keep_every_row(
    app: Flask, people: People, filled: list[int], database_url: str, tmp_path: Path, is_postgres: bool
) -> None:
    if not is_postgres:
        pytest.skip("pg_dump is PostgreSQL's")
    db.session.remove()
    before, sequences = fingerprint(database_url), _sequences(database_url)
    name = f"{make_url(database_url).database}_restored"
    restored = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    with _pg_admin(PG_URL) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:

        def run(tool: str, url: str) -> None:
            line, env = _readme_line(tool), {**os.environ, "URL": _libpq(url)}
            done = subprocess.run(
                ["bash", "-c", line], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300, check=False
            )
            assert done.returncode == 0, (line, done.stderr)

        run("pg_dump", database_url)
        run("pg_restore", restored)  # into an empty database
        assert fingerprint(restored) == before
        assert _sequences(restored) == sequences  # new rows get new ids, not ones the restored rows hold

        run("pg_restore", restored)  # --clean: over a database that has it all already
        assert fingerprint(restored) == before
    finally:
        with _pg_admin(PG_URL) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
