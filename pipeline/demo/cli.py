"""`pipeline demo`: a fresh database full of realistic Chinese B2B data, served at once."""

from __future__ import annotations

import os
import time
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from sqlalchemy import Engine, inspect, text
from sqlalchemy.engine import make_url

from pipeline import create_app
from pipeline.cli import describe
from pipeline.config import sqlite_url
from pipeline.core.errors import DomainError
from pipeline.demo.generate import DemoResult, DemoScale, generate
from pipeline.extensions import db
from pipeline.reports.rollup.store import refresh

DATABASE_ENV = "PIPELINE_DATABASE_URL"
DEMO_FILE = "demo.db"


def _remove_sqlite_file(path: Path) -> None:
    """Delete a SQLite database with its WAL and shared-memory files."""
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


APPEND_ONLY_TABLES = ("stage_events", "audit_events")  # each has a PostgreSQL trigger function of its migrations


def drop_everything(engine: Engine) -> None:
    """Drop every table (and our trigger functions) so the migrations can start from nothing."""
    with engine.connect() as conn:
        sqlite = engine.dialect.name == "sqlite"
        if sqlite:  # outside any transaction, where the pragma takes effect: straight to the driver
            conn.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")
        try:
            names = inspect(conn).get_table_names()
            if engine.dialect.name == "postgresql":
                for name in names:
                    conn.execute(text(f'DROP TABLE IF EXISTS "{name}" CASCADE'))
                for table in APPEND_ONLY_TABLES:
                    conn.execute(text(f"DROP FUNCTION IF EXISTS {table}_append_only() CASCADE"))
            elif sqlite:
                for name in names:
                    conn.exec_driver_sql(f'DROP TABLE IF EXISTS "{name}"')
            else:
                raise click.ClickException(f"--reset does not know how to empty a {engine.dialect.name} database")
            conn.commit()
        finally:
            if sqlite:
                conn.rollback()
                conn.connection.driver_connection.execute("PRAGMA foreign_keys=ON")


def demo_database() -> str:
    """The database the demo fills: a throw-away file in the instance folder, or PIPELINE_DATABASE_URL."""
    url = os.environ.get(DATABASE_ENV)
    if not url:
        path = Path(current_app.instance_path) / DEMO_FILE
        path.parent.mkdir(parents=True, exist_ok=True)
        _remove_sqlite_file(path)
        return sqlite_url(path)
    return url


def _print_result(result: DemoResult, url: str, shown_url: str, seconds_migrate: float) -> None:
    c = result.counts
    click.echo(f"database: {shown_url}")
    click.echo(
        f"generated {c['teams']} teams, {c['users']} users, {c['accounts']} accounts, {c['contacts']} contacts, "
        f"{c['buying_influences']} buying influences, "
        f"{c['deals']} deals, {c['stage_events']} stage moves, {c['activities']} activities "
        f"in {result.seconds:.1f} s (migrations {seconds_migrate:.1f} s)"
    )
    click.echo("")
    click.echo(f"open {url}/ and sign in; every demo user's password is: {result.password}")
    for role, user in (("rep", result.rep), ("lead", result.lead), ("admin", result.admin)):
        team = f", {user.team.name}" if user.team else ""
        click.echo(f"  {role:<6} {user.email}  ({user.name}{team})")
    click.echo("")
    click.echo(f"API token of the rep {result.rep.email}: {result.rep_token}")
    click.echo(f'  curl -H "Authorization: Bearer {result.rep_token}" {url}/api/v1/deals')


@click.command("demo")
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535), help="Port to serve on.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to serve on.")
@click.option("--no-serve", is_flag=True, help="Build the database and print the sign-ins, then stop.")
@click.option("--seed", default=1, show_default=True, type=int, help="The same seed builds the same data.")
@click.option("--reset", is_flag=True, help=f"Empty the database named by {DATABASE_ENV} first (it is destroyed).")
@click.option("--accounts", default=DemoScale.accounts, show_default=True, type=click.IntRange(1, 100_000))
@click.option("--deals", default=DemoScale.deals, show_default=True, type=click.IntRange(7, 1_000_000))
@with_appcontext
def demo_command(port: int, host: str, no_serve: bool, seed: int, reset: bool, accounts: int, deals: int) -> None:
    """Build a fresh database with realistic demo data (six months of history) and serve the app on it."""
    url = demo_database()
    shown = make_url(url).render_as_string(hide_password=True)
    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        try:
            if os.environ.get(DATABASE_ENV):
                tables = inspect(db.engine).get_table_names()
                if tables and not reset:
                    raise click.ClickException(
                        f"{shown} already has {len(tables)} tables; pass --reset to destroy its data and start over"
                    )
                if tables:
                    drop_everything(db.engine)
            started = time.perf_counter()
            from flask_migrate import upgrade  # alembic only in the processes that migrate

            upgrade()
            migrate_seconds = time.perf_counter() - started
            try:
                result = generate(DemoScale(accounts=accounts, deals=deals), seed=seed)
                db.session.commit()
                refresh(db.session)  # the company's report figures counted, as cron would keep them
            except DomainError as exc:
                db.session.rollback()
                raise click.ClickException(f"the demo data was refused: {describe(exc)}") from None
            _print_result(result, f"http://{host}:{port}", shown, migrate_seconds)
        finally:
            db.session.remove()
            db.engine.dispose()
    if no_serve:
        return
    from werkzeug.serving import run_simple

    click.echo(f"\nserving {shown} at http://{host}:{port}/ (Ctrl+C to stop)")
    run_simple(host, port, app, use_reloader=False, threaded=True)


def register(app: Flask) -> None:
    """Attach `demo` to `app.cli`."""
    app.cli.add_command(demo_command)
