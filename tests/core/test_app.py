"""The app as an operator meets it: schema guard, migrations, SQLite settings, secrets."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask import Flask
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text
from sqlalchemy.exc import DBAPIError

from pipeline import create_app
from pipeline.deals import services
from pipeline.extensions import db


def test_an_unmigrated_database_is_refused_with_the_command_to_run(tmp_path: Path) -> None:
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'empty.db'}", "SECRET_KEY": "x"})
    response = app.test_client().get("/api/v1/deals")
    assert response.status_code == 503
    assert "pipeline init" in response.json["error"]
    page = app.test_client().get("/login")
    assert page.status_code == 503 and "pipeline init" in page.get_data(as_text=True)


def test_the_models_and_the_migrations_agree(app: Flask) -> None:
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), db.metadata)
    assert diff == []


def test_migrations_go_down_and_up_again(app: Flask) -> None:
    downgrade(revision="base")
    assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
    upgrade()
    count = db.session.execute(text("SELECT count(*) FROM checklist_templates")).scalar()
    assert count == 27


def test_sqlite_runs_with_wal_foreign_keys_and_a_busy_timeout(app: Flask, is_postgres: bool) -> None:
    if is_postgres:
        pytest.skip("SQLite settings")
    with db.engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() >= 5000


def test_foreign_keys_are_enforced(app: Flask) -> None:
    from sqlalchemy.exc import IntegrityError

    with pytest.raises(IntegrityError), db.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO contacts (account_id, name, title, mobile, phone, email, address, notes, "
                "created_at, updated_at) VALUES (424242, 'x', '', '', '', '', '', '', "
                "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
            )
        )


def test_secret_key_is_generated_once_into_the_instance_folder(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("PIPELINE_SECRET_KEY", raising=False)
    from pipeline.config import secret_key

    first = secret_key(tmp_path / "instance")
    assert len(first) >= 64 and secret_key(tmp_path / "instance") == first
    assert (tmp_path / "instance" / "secret_key").stat().st_mode & 0o077 == 0
    monkeypatch.setenv("PIPELINE_SECRET_KEY", "from-the-environment")
    assert secret_key(tmp_path / "elsewhere") == "from-the-environment"
    assert not (tmp_path / "elsewhere").exists()


def test_database_url_comes_from_the_environment(monkeypatch: Any, tmp_path: Path) -> None:
    monkeypatch.setenv("PIPELINE_DATABASE_URL", f"sqlite:///{tmp_path / 'chosen.db'}")
    app = create_app({"SECRET_KEY": "x"})
    assert app.config["SQLALCHEMY_DATABASE_URI"].endswith("chosen.db")
    monkeypatch.delenv("PIPELINE_DATABASE_URL")
    app = create_app({"SECRET_KEY": "x"})
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{Path(app.instance_path) / 'pipeline.db'}"


def test_api_errors_are_json_and_never_500_for_client_mistakes(client: Any, people: Any, token_for: Any) -> None:
    headers = token_for(people.rep)
    assert client.get("/api/v1/nowhere", headers=headers).json["error"]
    response = client.delete("/api/v1/deals", headers=headers)
    assert response.status_code == 405 and "error" in response.json
    response = client.post("/api/v1/deals", headers=headers, data=b"\xff\xfe", content_type="application/json")
    assert 400 <= response.status_code < 500 and "error" in response.json


def test_page_errors_are_our_page_in_the_readers_language(app: Flask, client: Any, people: Any) -> None:
    missing = client.get("/no-such-page")
    assert missing.status_code == 404
    assert "<title>404 · 商机管道</title>" in missing.text and "未找到" in missing.text
    assert "Werkzeug" not in missing.text and "requested URL" not in missing.text
    app.config["WTF_CSRF_ENABLED"] = True
    forged = client.post("/login", data={"email": people.rep.email, "password": "rep-pass-1"})
    assert forged.status_code == 400
    assert "表单已过期，请返回并刷新页面后重试。" in forged.text


def test_oversized_bodies_are_refused_with_413_before_anything_is_read(
    app: Flask, client: Any, people: Any, token_for: Any
) -> None:
    big = "x" * (app.config["MAX_CONTENT_LENGTH"] + 1)
    api = client.post("/api/v1/deals", data=big, headers={**token_for(people.rep), "Content-Type": "application/json"})
    assert api.status_code == 413 and "error" in api.get_json()
    page = client.post("/login", data={"email": "rep@example.com", "password": big})
    assert page.status_code == 413
    assert "<html" in page.get_data(as_text=True)


def test_migration_0003_fills_each_moves_stay_start_from_the_history_before_it(
    app: Flask, people: Any, make_deal: Any, tick_stage: Any
) -> None:
    deal = make_deal(people.rep, "迁移测试")
    start = datetime(2026, 1, 5, 2, 0, tzinfo=UTC)
    tick_stage(people.rep, deal)
    services.move(people.rep, deal, "advance", at=start + timedelta(days=1))
    services.move(people.rep, deal, "revert", reason="再确认", at=start + timedelta(days=3))
    db.session.commit()
    downgrade(revision="0002")
    upgrade()
    rows = db.session.execute(text("SELECT at, from_entered_at FROM stage_events ORDER BY id")).all()
    assert rows[0][1] is None
    assert [r[1] for r in rows[1:]] == [r[0] for r in rows[:-1]]
    with pytest.raises(DBAPIError):  # history is append-only again after the fill
        db.session.execute(text("UPDATE stage_events SET reason = 'x'"))
    db.session.rollback()
