"""Shared fixtures: a fresh, migrated database per test on SQLite or PostgreSQL, and factories.

The database is chosen by one variable: unset, every test gets its own SQLite file; with
PIPELINE_TEST_DATABASE_URL=postgresql+psycopg://…, every test gets its own PostgreSQL database cloned
from a template migrated once per run. Both are real databases with the real migrations applied.
"""

from __future__ import annotations

import itertools
import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
import pytest
import redis
from click.testing import Result
from flask import Flask, g
from flask.testing import FlaskClient, FlaskCliRunner
from flask_migrate import upgrade
from sqlalchemy import event
from sqlalchemy.engine import make_url

from pipeline import create_app
from pipeline.accounts.models import Account
from pipeline.auth.models import User
from pipeline.auth.services import create_user, issue_token
from pipeline.deals import services as deal_services
from pipeline.deals.influences import add_influence, influence_roles
from pipeline.deals.method import EVALUATE
from pipeline.deals.models import Deal
from pipeline.extensions import db

PG_URL = os.environ.get("PIPELINE_TEST_DATABASE_URL", "")
REDIS_URL = "redis://127.0.0.1:6379"
CLOSED_PORT_URL = "redis://127.0.0.1:1"  # nothing listens there: a Redis that is down
_counter = itertools.count()


def _pg_admin(url: str) -> psycopg.Connection[Any]:
    u = make_url(url)
    return psycopg.connect(
        host=u.host or "127.0.0.1",
        port=u.port or 5432,
        user=u.username or "postgres",
        password=u.password,
        dbname="postgres",
        autocommit=True,
    )


def _pg_url(name: str) -> str:
    return make_url(PG_URL).set(database=name).render_as_string(hide_password=False)


def _migrate(url: str) -> None:
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "t"})
    with app.app_context():
        upgrade()
        db.engine.dispose()


@pytest.fixture(scope="session")
def template_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A database migrated once per run, which every test's database is copied from."""
    if PG_URL:
        name = f"pipeline_tmpl_{os.getpid()}"
        with _pg_admin(PG_URL) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            conn.execute(f'CREATE DATABASE "{name}"')
        _migrate(_pg_url(name))
        yield name
        with _pg_admin(PG_URL) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    else:
        path = tmp_path_factory.mktemp("template") / "template.db"
        _migrate(f"sqlite:///{path}")
        yield str(path)


@contextmanager
def fresh_database(template_db: str, folder: Path) -> Iterator[str]:
    """A migrated database copied from the template (a SQLite file in `folder`), removed afterwards."""
    if PG_URL:
        name = f"pipeline_t{os.getpid()}_{next(_counter)}"
        with _pg_admin(PG_URL) as conn:
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template_db}"')
        try:
            yield _pg_url(name)
        finally:
            with _pg_admin(PG_URL) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    else:
        path = folder / "test.db"
        shutil.copyfile(template_db, path)
        yield f"sqlite:///{path}"


@pytest.fixture
def database_url(template_db: str, tmp_path: Path) -> Iterator[str]:
    """A fresh, migrated database for this test alone."""
    with fresh_database(template_db, tmp_path) as url:
        yield url


@pytest.fixture
def app_config() -> dict[str, Any]:
    """Settings a test module may override by redefining this fixture."""
    return {}


@pytest.fixture
def app(database_url: str, tmp_path: Path, app_config: dict[str, Any]) -> Iterator[Flask]:
    """The app on this test's database, with an app context pushed for the test's duration."""
    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": database_url,
            "SECRET_KEY": "test-secret",
            "WTF_CSRF_ENABLED": False,
            "PIPELINE_PASSWORD_PROFILE": "CHEAPEST",  # Argon2id still, at a cost tests can afford
            **app_config,
        }
    )
    app.instance_path = str(tmp_path / "instance")
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


class ServerLikeClient(FlaskClient):
    """Start every request with an empty `g`, as a server does.

    The `app` fixture keeps one app context pushed and Flask reuses it for each test request, so without
    this Flask-Login's user, Flask-Babel's locale and Flask-WTF's CSRF token would leak between requests.
    """

    def open(self, *args: Any, **kwargs: Any) -> Any:
        for name in list(g):
            g.pop(name)
        return super().open(*args, **kwargs)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    app.test_client_class = ServerLikeClient
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    """Runs `pipeline …` commands in-process against this test's app."""
    return app.test_cli_runner()


def refused(result: Result, *words: str) -> str:
    """Assert a clean CLI refusal: non-zero exit, no traceback, one line on stderr naming every word."""
    assert result.exit_code != 0, result.output
    assert isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert all(w in lines[0] for w in words), lines[0]
    return lines[0]


@pytest.fixture
def is_postgres(database_url: str) -> bool:
    return database_url.startswith("postgresql")


@contextmanager
def redis_keys() -> Iterator[str]:
    """A key prefix of one's own on the local Redis (the test skipped without one), its keys removed afterwards."""
    server = redis.Redis.from_url(REDIS_URL)
    try:
        server.ping()
    except redis.RedisError:
        pytest.skip(f"no Redis at {REDIS_URL}")
    prefix = f"pipeline-test-{uuid.uuid4().hex}"
    try:
        yield prefix
    finally:
        keys = list(server.scan_iter(match=f"*{prefix}*"))
        if keys:
            server.delete(*keys)
        server.close()


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    """This test's own key prefix on the local Redis."""
    with redis_keys() as prefix:
        yield prefix


# ---- Factories ---------------------------------------------------------------------------------------------


PASSWORDS = {
    "admin@example.com": "admin-pass-1",
    "lead@example.com": "lead-pass-1",
    "rep@example.com": "rep-pass-1",
    "rep2@example.com": "rep-pass-2",
    "lead2@example.com": "lead-pass-2",
    "rep3@example.com": "rep-pass-3",
}


class People:
    """The cast most tests need: two teams, a rep in each, the first team's lead, and an admin."""

    def __init__(self) -> None:
        def user(email: str, name: str, role: str, team: str | None = None) -> User:
            return create_user(email, name, role, team=team, password=PASSWORDS[email])

        self.admin = user("admin@example.com", "管理员", "admin")
        self.lead = user("lead@example.com", "李经理", "lead", "华东")
        self.rep = user("rep@example.com", "王芳", "rep", "华东")
        self.rep_b = user("rep2@example.com", "张伟", "rep", "华东")
        self.other_lead = user("lead2@example.com", "赵经理", "lead", "华南")
        self.outsider = user("rep3@example.com", "陈静", "rep", "华南")
        db.session.commit()


@pytest.fixture
def people(app: Flask) -> People:
    return People()


@pytest.fixture
def browser(client: FlaskClient) -> Callable[[User], FlaskClient]:
    """A client signed in as `user` through the real sign-in form."""

    def sign_in(user: User) -> FlaskClient:
        response = client.post("/login", data={"email": user.email, "password": PASSWORDS[user.email]})
        assert response.status_code == 302, response.get_data(as_text=True)
        return client

    return sign_in


@contextmanager
def counting_statements() -> Iterator[list[str]]:
    """Every SQL statement sent while the block runs (for query-count budgets)."""
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


@pytest.fixture
def make_account(app: Flask) -> Callable[..., Account]:
    def make(owner: User, name: str = "上海华信科技有限公司", **fields: Any) -> Account:
        account = Account(name=name, owner_id=owner.id, **fields)
        db.session.add(account)
        db.session.flush()
        return account

    return make


@pytest.fixture
def make_deal(app: Flask, make_account: Callable[..., Account]) -> Callable[..., Deal]:
    def make(owner: User, title: str = "ERP 系统升级项目", account: Account | None = None, **fields: Any) -> Deal:
        deal = deal_services.create_deal(owner, account or make_account(owner), title, **fields)
        db.session.commit()
        return deal

    return make


@pytest.fixture
def ready_fields() -> dict[str, Any]:
    """Fields that satisfy the 报价 gate."""
    return {"amount": Decimal("120000.00"), "expected_close_date": date(2027, 3, 31), "strategy": "frontal"}


@pytest.fixture
def identify_influences(app: Flask) -> Callable[[User, Deal], None]:
    """Name an economic buyer and a coach on the deal (new contacts at its account), as the 报价 gate asks."""

    def identify(actor: User, deal: Deal) -> None:
        held = influence_roles(deal)
        for role, name, title in (("economic_buyer", "周建国", "总经理"), ("coach", "李明", "信息中心主任")):
            if role not in held:
                add_influence(actor, deal, role=role, name=name, title=title, attitude="supporter", depth=3)
        db.session.commit()

    return identify


@pytest.fixture
def tick_stage(app: Flask, identify_influences: Callable[[User, Deal], None]) -> Callable[[User, Deal], None]:
    """Tick every checklist item of the deal's current stage, as a rep finishing the stage's work.

    考察's work is knowing the customer's people too, so there it also names an economic buyer and a coach.
    """

    def tick(actor: User, deal: Deal) -> None:
        for item in deal_services.checklist_for(deal.stage):
            deal_services.set_checklist_item(actor, deal, item.key, True)
        db.session.commit()
        if deal.stage == EVALUATE:
            identify_influences(actor, deal)

    return tick


@pytest.fixture
def token_for(app: Flask) -> Callable[[User], dict[str, str]]:
    """Authorization headers for an API call as `user`."""

    def headers(user: User) -> dict[str, str]:
        token = issue_token(user, "tests")
        db.session.commit()
        return {"Authorization": f"Bearer {token}"}

    return headers
