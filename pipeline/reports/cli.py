"""`pipeline reports refresh`: fold the deals changed since the last refresh into the kept report figures."""

from __future__ import annotations

import time

import click
from flask import Flask
from flask.cli import AppGroup

from pipeline.cli import require_schema
from pipeline.extensions import db
from pipeline.reports.rollup.store import pending_count, rebuild, refresh

reports = AppGroup("reports", help="Reports: keep the company's figures ready.")


@reports.command("refresh")
@click.option("--rebuild", "from_scratch", is_flag=True, help="Count every deal again from nothing.")
def refresh_command(from_scratch: bool) -> None:
    """Count the changed deals into the kept figures (run it from cron every minute; reports stay exact without)."""
    require_schema()
    started = time.perf_counter()
    if from_scratch:
        rebuild(db.session)
    waiting = pending_count(db.session, 10**9)
    done = refresh(db.session)
    click.echo(
        f"reports refresh: {done.deals:,} of {waiting:,} pending deals counted ({done.stays:,} stays) "
        f"in {done.batches} batches, {time.perf_counter() - started:.1f} s"
        + ("; the time zone changed, so everything was counted again" if done.rebuilt else "")
    )


def register(app: Flask) -> None:
    app.cli.add_command(reports)
