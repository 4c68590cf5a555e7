"""`pipeline init` and `pipeline users …`: success paths, and refusals that are one clear line."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import func, select

from pipeline import create_app
from pipeline.auth.models import Role, User
from pipeline.auth.services import check_password, user_for_token
from pipeline.extensions import db
from tests.conftest import PG_URL, People, _pg_admin, _pg_url, refused

PIPELINE = Path(sys.executable).with_name("pipeline")


def _users() -> int:
    return db.session.scalar(select(func.count()).select_from(User)) or 0


# ---- users create -----------------------------------------------------------------------------------------


def test_users_create_adds_a_user_who_can_sign_in(runner: FlaskCliRunner) -> None:
    args = ["users", "create", "Wang.Fang@Example.com", "--name", "王芳", "--role", "rep", "--team", "华东"]
    result = runner.invoke(args=[*args, "--password", "secret-pass-1"])
    assert result.exit_code == 0, result.output
    assert "wang.fang@example.com" in result.stdout
    user = db.session.scalar(select(User).where(User.email == "wang.fang@example.com"))
    assert user is not None and user.role == Role.REP and user.team is not None and user.team.name == "华东"
    assert check_password(user, "secret-pass-1")


def test_users_create_a_lead_leads_the_new_team(runner: FlaskCliRunner) -> None:
    result = runner.invoke(
        args=["users", "create", "li@example.com", "--name", "李经理", "--role", "lead", "--team", "华南"]
    )
    assert result.exit_code == 0, result.output
    lead = db.session.scalar(select(User).where(User.email == "li@example.com"))
    assert lead is not None and lead.team is not None and lead.team.lead_id == lead.id


def test_users_create_refuses_a_duplicate_email(runner: FlaskCliRunner, people: People) -> None:
    before = _users()
    result = runner.invoke(args=["users", "create", "REP@example.com", "--name", "又一个", "--role", "rep"])
    refused(result, "email", "already exists")
    assert _users() == before


def test_users_create_names_every_wrong_field_at_once(runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["users", "create", "not-an-email", "--name", " ", "--role", "boss", "--password", "x"])
    line = refused(result, "email:", "name:", "role:", "password:")
    assert "rep, lead, admin" in line
    assert _users() == 0


def test_users_create_without_a_name_is_a_usage_error(runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["users", "create", "a@example.com", "--role", "rep"])
    assert result.exit_code == 2
    assert "--name" in result.stderr and "Traceback" not in result.output
    assert _users() == 0


# ---- users token / list / disable ---------------------------------------------------------------------------


def test_users_token_prints_only_a_working_token(runner: FlaskCliRunner, people: People) -> None:
    result = runner.invoke(args=["users", "token", "rep@example.com", "--name", "scripts"])
    assert result.exit_code == 0, result.output
    token = result.stdout.strip()
    assert result.stdout == token + "\n"
    assert user_for_token(token) == people.rep


def test_users_token_refuses_an_unknown_user(runner: FlaskCliRunner, people: People) -> None:
    result = runner.invoke(args=["users", "token", "nobody@example.com"])
    refused(result, "nobody@example.com")
    assert result.stdout == ""


def test_users_list_shows_each_user_with_role_team_and_status(runner: FlaskCliRunner, people: People) -> None:
    people.rep_b.active = False
    db.session.commit()
    result = runner.invoke(args=["users", "list"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == 1 + 6
    rep_line = next(line for line in lines if line.startswith("rep@example.com"))
    assert "王芳" in rep_line and "rep" in rep_line and "华东" in rep_line and "active" in rep_line
    assert "disabled" in next(line for line in lines if line.startswith("rep2@example.com"))


def test_users_disable_locks_the_user_out_of_pages_and_api(runner: FlaskCliRunner, people: People) -> None:
    token = runner.invoke(args=["users", "token", "rep@example.com"]).stdout.strip()
    result = runner.invoke(args=["users", "disable", "rep@example.com"])
    assert result.exit_code == 0, result.output
    db.session.refresh(people.rep)
    assert people.rep.active is False and people.rep.is_active is False
    assert user_for_token(token) is None
    refused(runner.invoke(args=["users", "token", "rep@example.com"]), "disabled")


def test_users_disable_refuses_an_unknown_user_and_the_last_admin(runner: FlaskCliRunner, people: People) -> None:
    refused(runner.invoke(args=["users", "disable", "ghost@example.com"]), "ghost@example.com")
    refused(runner.invoke(args=["users", "disable", "admin@example.com"]), "last active admin")
    db.session.refresh(people.admin)
    assert people.admin.active


def test_users_password_sets_a_new_password(runner: FlaskCliRunner, people: People) -> None:
    result = runner.invoke(args=["users", "password", "REP@example.com", "--password", "new-pass-22"])
    assert result.exit_code == 0, result.output
    assert "rep@example.com" in result.stdout
    db.session.refresh(people.rep)
    assert check_password(people.rep, "new-pass-22")
    assert not check_password(people.rep, "rep-pass-1")


def test_users_password_refuses_a_short_password_an_unknown_user_and_no_password(
    runner: FlaskCliRunner, people: People
) -> None:
    refused(runner.invoke(args=["users", "password", "rep@example.com", "--password", "short"]), "password", "8")
    refused(runner.invoke(args=["users", "password", "ghost@example.com", "--password", "new-pass-22"]), "ghost")
    refused(runner.invoke(args=["users", "password", "rep@example.com"]), "--password")
    db.session.refresh(people.rep)
    assert check_password(people.rep, "rep-pass-1")
    assert people.rep.session_epoch == 0  # a refusal ends no sessions


# ---- init ------------------------------------------------------------------------------------------------


def _admins() -> list[str]:
    return list(db.session.scalars(select(User.email).where(User.role == Role.ADMIN)))


def test_init_creates_the_first_admin_once(runner: FlaskCliRunner) -> None:
    args = ["init", "--admin-email", "boss@example.com", "--admin-password", "first-pass-1"]
    first = runner.invoke(args=args)
    assert first.exit_code == 0, first.output
    assert _admins() == ["boss@example.com"]
    again = runner.invoke(args=["init", "--admin-email", "other@example.com", "--admin-password", "other-pass-1"])
    assert again.exit_code == 0, again.output
    assert "already exists" in again.stdout
    assert _admins() == ["boss@example.com"]


def test_init_takes_the_password_from_the_environment(runner: FlaskCliRunner) -> None:
    result = runner.invoke(
        args=["init", "--admin-email", "boss@example.com"], env={"PIPELINE_ADMIN_PASSWORD": "from-env-pass"}
    )
    assert result.exit_code == 0, result.output
    admin = db.session.scalar(select(User).where(User.email == "boss@example.com"))
    assert admin is not None and check_password(admin, "from-env-pass")


def test_init_refuses_without_a_password_or_email_when_nobody_can_answer(runner: FlaskCliRunner) -> None:
    no_password = runner.invoke(args=["init", "--admin-email", "boss@example.com"], env={"PIPELINE_ADMIN_PASSWORD": ""})
    refused(no_password, "--admin-password", "PIPELINE_ADMIN_PASSWORD")
    refused(runner.invoke(args=["init"]), "--admin-email")
    refused(runner.invoke(args=["init", "--admin-email", "boss", "--admin-password", "short"]), "email:", "password:")
    assert _admins() == []


@pytest.fixture
def empty_database_url(tmp_path: Path) -> Iterator[str]:
    """A database with no tables at all, as a new installation has."""
    if PG_URL:
        name = f"pipeline_empty_{os.getpid()}"
        with _pg_admin(PG_URL) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
        yield _pg_url(name)
        with _pg_admin(PG_URL) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    else:
        yield f"sqlite:///{tmp_path / 'empty.db'}"


@pytest.fixture
def fresh_app(empty_database_url: str, tmp_path: Path) -> Iterator[Flask]:
    """An app on an empty database, with no app context pushed: the command pushes its own."""
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": empty_database_url, "SECRET_KEY": "t"})
    app.instance_path = str(tmp_path / "instance")
    yield app
    with app.app_context():
        db.engine.dispose()


def test_commands_on_an_unmigrated_database_say_to_run_init(fresh_app: Flask) -> None:
    refused(fresh_app.test_cli_runner().invoke(args=["users", "list"]), "pipeline init")


def test_init_migrates_an_empty_database_and_can_run_again(fresh_app: Flask) -> None:
    runner = fresh_app.test_cli_runner()
    args = ["init", "--admin-email", "boss@example.com", "--admin-password", "first-pass-1"]
    assert runner.invoke(args=args).exit_code == 0
    again = runner.invoke(args=args)
    assert again.exit_code == 0, again.output
    listed = runner.invoke(args=["users", "list"])
    assert listed.exit_code == 0 and "boss@example.com" in listed.stdout
    with fresh_app.app_context():
        assert _admins() == ["boss@example.com"]
        db.session.remove()


# ---- the console script -------------------------------------------------------------------------------------


def _pipeline(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env: dict[str, Any] = {**os.environ, "PIPELINE_DATABASE_URL": database_url, "PIPELINE_SECRET_KEY": "t"}
    return subprocess.run([str(PIPELINE), *args], capture_output=True, text=True, env=env, timeout=120)


def test_console_script_turns_bad_input_into_one_error_line(app: Flask, database_url: str) -> None:
    done = _pipeline(database_url, "users", "create", "bad", "--name", "某人", "--role", "boss")
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("pipeline: error: ")
    assert "email:" in lines[0] and "role:" in lines[0]


def test_console_script_turns_a_wrong_option_into_one_error_line(app: Flask, database_url: str) -> None:
    done = _pipeline(database_url, "users", "create", "a@example.com", "--name", "某人", "--role", "rep", "--bogus")
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("pipeline: error: ") and "--bogus" in lines[0]


def test_console_script_creates_a_user(app: Flask, database_url: str) -> None:
    done = _pipeline(database_url, "users", "create", "new@example.com", "--name", "新人", "--role", "rep")
    assert done.returncode == 0, done.stderr
    db.session.remove()
    assert db.session.scalar(select(User.name).where(User.email == "new@example.com")) == "新人"
