"""`pipeline demo --no-serve`: a fresh database each run, a refusal before destroying data, usable sign-ins."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from pipeline import create_app
from pipeline.auth.models import User
from pipeline.auth.services import check_password, user_for_token
from pipeline.deals.method import ALL_STATES
from pipeline.deals.models import Deal
from pipeline.demo.generate import DEMO_PASSWORD
from pipeline.extensions import db
from pipeline.reports.rollup.store import pending_count
from tests.conftest import refused

SMALL = ["--no-serve", "--accounts", "10", "--deals", "20"]
TOKEN_RE = re.compile(r"API token of the rep (\S+): (\S+)")


@pytest.fixture
def outer_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Flask]:
    """The app the `pipeline` command runs in, with its instance folder in tmp and no context pushed."""
    monkeypatch.setenv("PIPELINE_SECRET_KEY", "t")
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'outer.db'}"})
    app.instance_path = str(tmp_path / "instance")
    yield app
    with app.app_context():
        db.engine.dispose()


def _inspect(url: str, token: str) -> dict[str, Any]:
    """What a visitor to the demo would find: deal states, the rep the token belongs to, the password."""
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "t"})
    with app.app_context():
        try:
            rep = user_for_token(token)
            return {
                "stages": set(db.session.scalars(select(Deal.stage))),
                "deals": [tuple(r) for r in db.session.execute(select(Deal.title, Deal.amount, Deal.stage))],
                "rep": rep.email if rep else None,
                "password_ok": bool(rep and check_password(rep, DEMO_PASSWORD)),
                "users": db.session.scalar(select(db.func.count()).select_from(User)),
                "pending": pending_count(db.session, 10_000),  # deals the kept report figures have not counted
            }
        finally:
            db.session.remove()
            db.engine.dispose()


def _token(output: str) -> tuple[str, str]:
    match = TOKEN_RE.search(output)
    assert match, output
    return match.group(1), match.group(2)


def test_demo_builds_a_fresh_instance_database_on_every_run(outer_app: Flask, tmp_path: Path) -> None:
    runner = outer_app.test_cli_runner()
    env = {"PIPELINE_DATABASE_URL": None}
    first = runner.invoke(args=["demo", *SMALL, "--port", "5055"], env=env)
    assert first.exit_code == 0, first.output
    second = runner.invoke(args=["demo", *SMALL, "--port", "5055"], env=env)
    assert second.exit_code == 0, second.output
    demo_db = tmp_path / "instance" / "demo.db"
    assert demo_db.exists() and str(demo_db) in second.stdout
    out = second.stdout
    assert "http://127.0.0.1:5055/" in out and DEMO_PASSWORD in out
    assert all(re.search(rf"^\s+{role}\s+\S+@", out, re.M) for role in ("rep", "lead", "admin"))
    email, token = _token(out)
    assert f'curl -H "Authorization: Bearer {token}" http://127.0.0.1:5055/api/v1/deals' in out
    found = _inspect(f"sqlite:///{demo_db}", token)
    assert found["rep"] == email and found["password_ok"]
    assert found["stages"] == set(ALL_STATES)
    assert len(found["deals"]) == 20 and found["users"] == 16  # rebuilt, not added to the first run's data
    assert found["pending"] == 0  # the company's report figures are counted, as `pipeline reports refresh` does


def test_demo_refuses_a_database_with_tables_unless_reset(outer_app: Flask, database_url: str) -> None:
    runner = outer_app.test_cli_runner()
    env = {"PIPELINE_DATABASE_URL": database_url}
    refused(runner.invoke(args=["demo", *SMALL], env=env), "--reset")

    first = runner.invoke(args=["demo", *SMALL, "--reset", "--seed", "7"], env=env)
    assert first.exit_code == 0, first.output
    second = runner.invoke(args=["demo", *SMALL, "--reset", "--seed", "7"], env=env)
    assert second.exit_code == 0, second.output
    one, two = _inspect(database_url, _token(first.stdout)[1]), _inspect(database_url, _token(second.stdout)[1])
    assert one["rep"] is None  # the first run's data is gone, its token with it
    assert two["rep"] is not None and two["stages"] == set(ALL_STATES)
    assert one["deals"] == two["deals"]  # the same seed builds the same deals


def test_demo_console_script_on_a_new_database_file(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'new-demo.db'}"
    env = {**os.environ, "PIPELINE_DATABASE_URL": url, "PIPELINE_SECRET_KEY": "t"}
    pipeline = str(Path(sys.executable).with_name("pipeline"))
    done = subprocess.run([pipeline, "demo", *SMALL], capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    assert f"database: {url}" in done.stdout
    email, token = _token(done.stdout)
    assert _inspect(url, token)["rep"] == email
    wrong = subprocess.run([pipeline, "demo", "--port", "web"], capture_output=True, text=True, env=env, timeout=60)
    assert wrong.returncode == 2
    lines = wrong.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("pipeline: error: ") and "--port" in lines[0]
