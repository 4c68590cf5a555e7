"""`pipeline import contacts FILE` and `pipeline import deals FILE`: the plan, every bad row, then the real run."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click
from flask import Flask
from flask.cli import AppGroup
from flask_babel import gettext as _
from sqlalchemy import func, select

from pipeline.auth.models import Role, User
from pipeline.cli import one_transaction, table
from pipeline.deals.method import OPEN_STAGES, QUALIFY
from pipeline.imports.contacts import CREATE, MERGE, SKIP, BadRow, plan_file
from pipeline.imports.contacts_write import write_contacts
from pipeline.imports.deals import plan_deals, write_deals
from pipeline.imports.errors import BadRows
from pipeline.imports.mapping import parse_overrides
from pipeline.imports.tables import Table

imports = AppGroup("import", help="Bring contacts, accounts and deals in from files.")


def owner_for(email: str | None) -> User:
    """Whose records the import makes: --owner, else the first admin (a command signs in as nobody)."""
    if email:
        user = db_user(email)
        if user is None or not user.active:
            raise click.BadParameter(f"no active user {email!r}", param_hint="--owner")
        return user
    from pipeline.extensions import db

    admin = db.session.scalar(select(User).where(User.role == Role.ADMIN, User.active).order_by(User.id))
    if admin is None:
        raise click.BadParameter("no admin yet: name the owner", param_hint="--owner")
    return admin


def db_user(email: str) -> User | None:
    """The user with this e-mail, case-insensitively."""
    from pipeline.extensions import db

    return db.session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))


@contextmanager
def progress_bar(label: str) -> Iterator[tuple[Callable[[Table], None], Callable[[int], None]]]:
    """A bar on a terminal, sized once the file is open; nothing when the output is piped or logged."""
    state: dict[str, Any] = {}

    def opened(t: Table) -> None:
        if sys.stderr.isatty() and t.total:
            state["bar"] = click.progressbar(length=t.total, label=label, file=sys.stderr)
            state["bar"].__enter__()

    def advance(n: int) -> None:
        if "bar" in state and n > 0:
            state["bar"].update(n)

    try:
        yield opened, advance
    finally:
        if "bar" in state:
            state["bar"].__exit__(None, None, None)


def print_bad_rows(rows: list[BadRow]) -> None:
    """Every bad row, one a line: the line as Excel numbers it, then every reason."""
    for row in rows:
        click.echo(_("line %(n)s", n=row.line) + ": " + "; ".join(row.reasons))


@imports.command("contacts")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Only say what would be created, merged or skipped, and the bad rows.")
@click.option("--map", "maps", multiple=True, metavar="FIELD=COLUMN", help="Read FIELD from COLUMN (repeatable).")
@click.option("--owner", "owner_email", metavar="EMAIL", help="Who owns the new accounts (default: the first admin).")
@click.option("--encoding", help="The file's encoding, when the guess is wrong (utf-8, gb18030, utf-16).")
@one_transaction
def contacts(file: Path, dry_run: bool, maps: tuple[str, ...], owner_email: str | None, encoding: str | None) -> None:
    """Import contacts and their accounts from a CSV, XLSX or vCard (.vcf) file: all rows, or none."""
    owner = owner_for(owner_email)
    overrides = parse_overrides(maps)
    with progress_bar("rows") as (opened, advance):
        plan = plan_file(file, owner, encoding=encoding, overrides=overrides, progress=advance, on_open=opened)
    with plan:
        mapped = ", ".join(f"{field}={plan.headers[i]}" for field, i in plan.mapping.items())
        click.echo(f"{file.name}: {plan.kind}{f' ({plan.encoding})' if plan.encoding else ''}; {mapped or '-'}")
        counts = plan.counts
        click.echo(
            table(
                ("create", "merge", "skip", "bad", "new accounts", "people (B2C)", "new tags"),
                [
                    (
                        counts[CREATE],
                        counts[MERGE],
                        counts[SKIP],
                        len(plan.bad_rows),
                        len(plan.new_accounts),
                        plan.people_accounts,
                        len(plan.new_tags),
                    )
                ],
            )
        )
        print_bad_rows(plan.bad_rows)
        if plan.bad_rows:
            raise BadRows(plan.bad_rows)
        if dry_run:
            click.echo("dry run: nothing imported")
            return
        done = write_contacts(plan, via="cli", actor=None, filename=file.name)
        click.echo(
            f"imported: {done.created} created, {done.merged} merged, {done.skipped} skipped, "
            f"{done.accounts} accounts and {done.tags} tags created"
        )


@imports.command("deals")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Only say what would be imported, and the bad rows.")
@click.option("--map", "maps", multiple=True, metavar="FIELD=COLUMN", help="Read FIELD from COLUMN (repeatable).")
@click.option("--stage-map", metavar="'Source=stage,…'", help="The export's stages as ours: 'Won=follow_up,Lost=lost'.")
@click.option(
    "--lost-from",
    type=click.Choice(OPEN_STAGES),
    default=QUALIFY,
    show_default=True,
    help="The stage lost deals are recorded as lost from (exports do not say).",
)
@click.option(
    "--owner", "owner_email", metavar="EMAIL", help="Who owns deals without a known owner (default: the first admin)."
)
@click.option("--encoding", help="The file's encoding, when the guess is wrong (utf-8, gb18030, utf-16).")
@one_transaction
def deals(
    file: Path,
    dry_run: bool,
    maps: tuple[str, ...],
    stage_map: str | None,
    lost_from: str,
    owner_email: str | None,
    encoding: str | None,
) -> None:
    """Import deals from another CRM's CSV or XLSX export, won and lost ones with their history: all rows, or none."""
    owner = owner_for(owner_email)
    plan = plan_deals(
        file, owner, encoding=encoding, overrides=parse_overrides(maps), stage_map=stage_map, lost_from=lost_from
    )
    mapped = ", ".join(f"{field}={plan.headers[i]}" for field, i in plan.mapping.items())
    click.echo(f"{file.name}: {mapped or '-'}")
    stages = plan.by_stage()
    click.echo(
        table(
            ("create", "already imported", "bad", *stages),
            [(len(plan.rows), plan.skipped, len(plan.bad_rows), *stages.values())],
        )
    )
    print_bad_rows(plan.bad_rows)  # type: ignore[arg-type]
    if plan.bad_rows:
        raise BadRows(plan.bad_rows)
    if dry_run:
        click.echo("dry run: nothing imported")
        return
    created = write_deals(plan, via="cli", actor=None, filename=file.name, lost_from=lost_from)
    click.echo(
        f"imported: {created} deals created, {plan.skipped} already there, {len(plan.new_accounts)} accounts created"
    )


def register(app: Flask) -> None:
    """Attach `import` to `app.cli`."""
    app.cli.add_command(imports)
