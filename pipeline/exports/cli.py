"""`pipeline export weekly`: the week's pipeline as a workbook or CSV, to a file or by mail (cron runs it)."""

from __future__ import annotations

import os
import smtplib
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import func, select

from pipeline.auth.models import Team, User
from pipeline.cli import one_transaction
from pipeline.core.errors import InvalidInput
from pipeline.core.models import utcnow
from pipeline.core.pages import money, stage_label
from pipeline.core.timeutil import local_date
from pipeline.deals.method import STAGE_KEYS
from pipeline.exports.mail import recipients, send_file
from pipeline.exports.services import (
    FORMATS,
    MEDIA_TYPES,
    XLSX,
    Written,
    file_name,
    log_export,
    weekly_export,
    write_export_file,
)
from pipeline.exports.weekly import WeeklyExport, count_on_board, summary
from pipeline.extensions import db
from pipeline.reports.periods import Period, iso_week, week_containing
from pipeline.reports.scope import ReportScope

export = AppGroup("export", help="Export the pipeline for review.")


def _week(text: str | None) -> Period:
    if not text:
        return week_containing(local_date(utcnow()) - timedelta(days=7))
    try:
        return iso_week(text.strip())
    except ValueError:
        raise click.BadParameter(f"{text!r} is not an ISO week such as 2026-W47", param_hint="--week") from None


def _scope(team_name: str | None, owner_email: str | None) -> ReportScope:
    team = owner = None
    if team_name:
        team = db.session.scalar(select(Team).where(Team.name == team_name.strip()))
        if team is None:
            known = ", ".join(db.session.scalars(select(Team.name).order_by(Team.name)).all()) or "none yet"
            raise click.BadParameter(f"no team {team_name!r} (teams: {known})", param_hint="--team")
    if owner_email:
        owner = db.session.scalar(select(User).where(func.lower(User.email) == owner_email.strip().lower()))
        if owner is None:
            raise click.BadParameter(f"no user {owner_email!r}", param_hint="--owner")
        if team is not None and owner.team_id != team.id:
            raise click.BadParameter(f"{owner.email} is not in team {team.name!r}", param_hint="--owner")
    return ReportScope(None if owner else (team.id if team else None), owner.id if owner else None)


def _target(given: str | None, name: str) -> Path:
    """Where -o says to write: into a folder under the default name, or to a file whose folder exists."""
    if given is None:
        return Path.cwd() / name
    output = Path(given)
    if output.is_dir():
        return output / name
    if given.endswith(("/", os.sep)):  # meant a folder (Path() would drop the slash and make it a file name)
        raise click.BadParameter(f"the folder {given!r} does not exist", param_hint="-o")
    if not output.parent.is_dir():
        raise click.BadParameter(f"the folder {str(output.parent)!r} does not exist", param_hint="-o")
    return output


@contextmanager
def _progress(export: WeeklyExport) -> Iterator[Callable[[int], None] | None]:
    """A bar on a terminal (following the 商机 sheet), nothing when the output is piped or logged by cron."""
    if not sys.stderr.isatty():
        yield None
        return
    total = count_on_board(export.scope)
    with click.progressbar(length=total, label="deals", file=sys.stderr) as bar:
        done = 0

        def advance(n: int) -> None:
            nonlocal done
            step = min(n, total - done)
            done += step
            if step:
                bar.update(step)

        yield advance


def _size(n: int) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:,} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return str(n)


def _mail_body(export: WeeklyExport) -> str:
    """The mail's text: the pipeline per stage at the end of the week against the week before."""
    figures = summary(export)
    lines = [
        _(
            "Pipeline %(week)s (%(first)s – %(last)s): %(scope)s",
            week=export.week.week_label(),
            first=export.week.first,
            last=export.week.last,
            scope=export.scope_name,
        ),
        "",
    ]
    for key in STAGE_KEYS:
        now, before = figures.now[key], figures.before[key]
        lines.append(f"{stage_label(key)}: {now.count} ({now.count - before.count:+d}), {money(now.amount)}")
    won = figures.won_lost
    lines += [
        "",
        _("Won %(won)s, lost %(lost)s this week.", won=won.won, lost=won.lost),
        "",
        _("The attached file has every deal, the week's changes and the stalled deals."),
    ]
    return "\n".join(lines) + "\n"


def _report(written: Written) -> str:
    counts = ", ".join(f"{sheet} {n:,}" for sheet, n in written.rows.items())
    shown = written.path.name if written.path is not None else "-"
    return f"wrote {shown}: {counts} rows ({_size(written.size)})"


@export.command("weekly")
@click.option("--week", help="ISO week, such as 2026-W47 (default: the week that just ended, in PIPELINE_TIMEZONE).")
@click.option("--team", "team_name", metavar="NAME", help="Only this team's deals (default: the whole company).")
@click.option("--owner", "owner_email", metavar="EMAIL", help="Only this rep's deals.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default=XLSX, show_default=True)
@click.option("-o", "--output", type=click.Path(), help="File or folder to write (default: a name for the week).")
@click.option("--lang", type=click.Choice(("zh", "en")), help="Sheet names and headers (default: Chinese).")
@click.option("--mail-to", metavar="ADDRESSES", help="Mail the file to these comma-separated addresses.")
@one_transaction
def weekly(
    week: str | None,
    team_name: str | None,
    owner_email: str | None,
    fmt: str,
    output: str | None,
    lang: str | None,
    mail_to: str | None,
) -> None:
    """Write the week's pipeline: summary, every deal on the board, the week's changes, the stalled deals."""
    period = _week(week)
    scope = _scope(team_name, owner_email)
    try:
        to = recipients(mail_to) if mail_to is not None else []
    except InvalidInput as exc:
        raise click.BadParameter(exc.fields["mail_to"], param_hint="--mail-to") from None
    locale = lang or current_app.config.get("BABEL_DEFAULT_LOCALE", "zh")
    export = weekly_export(scope, period, locale)
    name = file_name(export, fmt)
    with tempfile.TemporaryDirectory(prefix="pipeline-export-") as scratch:
        target = _target(output, name) if output is not None or not to else Path(scratch) / name
        try:
            with _progress(export) as progress:
                written = write_export_file(export, fmt, target, progress)
        except OSError as exc:  # a folder it may not write in, a full disk: one line, as for any wrong input
            raise click.ClickException(f"could not write {target}: {exc.strerror or exc}") from None
        refused: dict[str, tuple[int, bytes]] = {}
        if to:
            with force_locale(locale):
                subject = _("Pipeline %(week)s: %(scope)s", week=export.week.week_label(), scope=export.scope_name)
                body = _mail_body(export)
            try:
                refused = send_file(to, subject, body, target, name, MEDIA_TYPES[fmt])
            except (smtplib.SMTPException, OSError) as exc:
                host = f"{current_app.config['PIPELINE_SMTP_HOST']}:{current_app.config['PIPELINE_SMTP_PORT']}"
                raise click.ClickException(f"could not mail {name} through {host}: {exc}") from None
        kept = output is not None or not to
        mailed = [address for address in to if address not in refused]
        log_export(
            export,
            Written(Path(name) if not kept else written.path, written.format, written.rows, written.size),
            via="cli",
            kept=kept,
            lang=locale,
            mailed_to=mailed,
        )
        click.echo(_report(written if kept else Written(None, fmt, written.rows, written.size)))
        if mailed:
            click.echo(f"mailed {name} to {', '.join(mailed)}")
        if refused:
            db.session.commit()  # the file did reach the others: the log keeps that although the command fails
            replies = "; ".join(
                f"{a} ({code} {reply.decode(errors='replace')})" for a, (code, reply) in refused.items()
            )
            raise click.ClickException(f"the mail server refused {replies}")


def register(app: Flask) -> None:
    """Attach `export` to `app.cli`."""
    app.cli.add_command(export)
