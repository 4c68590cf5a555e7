"""`pipeline care greetings`: a holiday's greetings as CSV for an SMS tool, for the contacts one user may see."""

from __future__ import annotations

from pathlib import Path

import click
from flask import Flask
from flask.cli import AppGroup
from sqlalchemy import select

from pipeline.accounts.models import Tag
from pipeline.accounts.scales import RELATIONSHIP_KEYS
from pipeline.auth.models import User
from pipeline.care.greetings import (
    CSV_ACTION,
    RecipientFilter,
    audit,
    check_greeting,
    recipients,
    write_greetings_file,
)
from pipeline.care.holidays import DEFAULT_GREETINGS, HOLIDAY_KEYS
from pipeline.cli import one_transaction
from pipeline.extensions import db

care = AppGroup("care", help="Customer care: greetings for SMS tools.")


@care.command("greetings")
@click.option("--as", "email", required=True, help="Whose contacts: a user's e-mail (their scope applies).")
@click.option("--holiday", type=click.Choice(HOLIDAY_KEYS), required=True, help="Which holiday's greeting.")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), required=True, help="The CSV file.")
@click.option("--greeting", default=None, help="The text; {name} becomes each contact's name (default per holiday).")
@click.option("--tag", default=None, help="Only contacts with this tag or group (on them or their account).")
@click.option("--kind", type=click.Choice(("b2b", "b2c")), default=None, help="Only accounts of this kind.")
@click.option("--level", type=click.Choice(RELATIONSHIP_KEYS), default=None, help="Only this relationship level.")
@one_transaction
def greetings(
    email: str,
    holiday: str,
    output: Path,
    greeting: str | None,
    tag: str | None,
    kind: str | None,
    level: str | None,
) -> None:
    """Write NAME, MOBILE, GREETING for each contact with a mobile; the file appears complete or not at all."""
    user = db.session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None or not user.active:
        raise click.ClickException(f"--as: no active user {email!r}")
    tag_id = None
    if tag:
        tag_id = db.session.scalar(select(Tag.id).where(Tag.name == tag.strip()))
        if tag_id is None:
            raise click.ClickException(f"--tag: no tag or group named {tag!r}")
    wanted = RecipientFilter(tag_id=tag_id, kind=kind, relationship_level=level)
    text = check_greeting(greeting if greeting is not None else DEFAULT_GREETINGS[holiday])
    rows = write_greetings_file(text, recipients(user, wanted), output)
    audit(CSV_ACTION, user, "cli", holiday, wanted, rows, file=output.name)
    click.echo(f"{rows} greetings written to {output}")


def register(app: Flask) -> None:
    """Attach `care` to `app.cli`."""
    app.cli.add_command(care)
