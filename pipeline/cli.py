"""The `pipeline` console script: Flask's CLI over create_app, with one-line errors instead of tracebacks."""

from __future__ import annotations

import functools
import sys
import unicodedata
from collections.abc import Callable, Sequence
from typing import Any, ParamSpec, TypeVar

import click
from flask.cli import FlaskGroup
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm.exc import StaleDataError

from pipeline import create_app
from pipeline.core.errors import DomainError, InvalidInput

cli = FlaskGroup(create_app=create_app, help="商机管道 pipeline: sales-pipeline tracker.")

P = ParamSpec("P")
R = TypeVar("R")


def describe(exc: DomainError) -> str:
    """One line for a refusal; invalid input names every wrong field and what is wrong with it."""
    if isinstance(exc, InvalidInput) and exc.fields:
        return "invalid input: " + "; ".join(f"{k}: {v}" for k, v in sorted(exc.fields.items()))
    return exc.message


def require_schema() -> None:
    """Refuse to work on a database whose schema is missing or behind, saying which command to run."""
    from pipeline.core.database import unmigrated_message
    from pipeline.extensions import db

    message = unmigrated_message(db.engine)
    if message:
        raise click.ClickException(message)


def one_transaction(f: Callable[P, R]) -> Callable[P, R]:
    """Run a command's work as one transaction: commit once at the end, roll everything back on a refusal.

    On SQLite the transaction takes the write lock when it begins (core/database.py), so a command waits for the
    web's writers instead of failing with "database is locked" when it writes after reading.
    """
    from pipeline.core.database import writing
    from pipeline.extensions import db

    @functools.wraps(f)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        require_schema()
        try:
            with writing():
                result = f(*args, **kwargs)
                db.session.commit()
        except DomainError as exc:
            db.session.rollback()
            raise click.ClickException(describe(exc)) from None
        except (IntegrityError, StaleDataError) as exc:
            db.session.rollback()
            first_line = str(getattr(exc, "orig", exc)).splitlines()[0]
            raise click.ClickException(f"the database refused the change: {first_line}") from None
        except BaseException:
            db.session.rollback()
            raise
        return result

    return wrapper


def _width(text: str) -> int:
    """Columns `text` takes in a terminal: Chinese characters take two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """Rows as aligned plain-text columns (aligned for Chinese text too), ready to print or to grep."""
    cells = [[str(h) for h in headers], *[["" if c is None else str(c) for c in row] for row in rows]]
    widths = [max(_width(r[i]) for r in cells) for i in range(len(headers))]
    lines = ["  ".join(c + " " * (w - _width(c)) for c, w in zip(r, widths, strict=True)).rstrip() for r in cells]
    return "\n".join(lines)


def _usage_hint(exc: click.UsageError) -> str:
    ctx = exc.ctx
    return f" (see `{ctx.command_path} --help`)" if ctx is not None else ""


def main() -> None:
    """Run the CLI; wrong arguments and bad data end in one clear line and a non-zero exit."""
    try:
        code = cli.main(prog_name="pipeline", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("pipeline: aborted", err=True)
        sys.exit(1)
    except click.UsageError as exc:
        click.echo(f"pipeline: error: {exc.format_message()}{_usage_hint(exc)}", err=True)
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        click.echo(f"pipeline: error: {exc.format_message()}", err=True)
        sys.exit(exc.exit_code)
    except DomainError as exc:
        click.echo(f"pipeline: error: {describe(exc)}", err=True)
        sys.exit(1)
    except OperationalError as exc:
        first_line = str(exc.orig or exc).splitlines()[0]
        click.echo(f"pipeline: error: cannot use the database: {first_line}", err=True)
        sys.exit(1)
    sys.exit(code if isinstance(code, int) else 0)
