"""`pipeline backup FILE` and `pipeline restore FILE`: a SQLite database copied whole while the app runs.

Both go through SQLite's online backup API (sqlite3.Connection.backup), never a file copy: a copy of a database
in WAL mode taken while it is written can miss the pages still in the -wal file, or catch a page half-written.
The backup reads one snapshot in one step (a reader in WAL mode: the app's writers go on), so the file is the
database as of one commit; it is written under a temporary name and renamed once complete and checked. A restore
writes the file's pages into the live database as one write transaction: the app's connections see the old
database or the new one, never a mix, and nothing has to be stopped first (commands and requests in flight wait
for the write lock, then read the restored data).

PostgreSQL has its own tools for this: pg_dump -Fc and pg_restore (README, "Backup").
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
from contextlib import closing, suppress
from pathlib import Path

import click
from alembic.config import Config
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from flask import Flask
from sqlalchemy.engine import make_url

from pipeline.core.database import MIGRATIONS_DIR, SQLITE_BUSY_TIMEOUT_S, head_revision

POSTGRES_HINT = (
    "on PostgreSQL back up with `pg_dump -Fc --no-owner -f pipeline.dump URL` and restore with "
    "`pg_restore --clean --if-exists --no-owner --single-transaction -d URL pipeline.dump`, URL being "
    "PIPELINE_DATABASE_URL without +psycopg (README, section Backup)"
)


def sqlite_path() -> Path:
    """The app's SQLite file; a clear refusal on PostgreSQL, naming its own tools."""
    from flask import current_app

    url = make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() != "sqlite":
        raise click.ClickException(f"`pipeline backup` and `pipeline restore` work on SQLite only; {POSTGRES_HINT}")
    if not url.database or url.database == ":memory:":
        raise click.ClickException("the database is in memory: there is no file to back up or restore")
    return Path(url.database)


def _connect(path: Path, *, read_only: bool = False) -> sqlite3.Connection:
    uri = f"file:{path}?mode=ro" if read_only else f"file:{path}"
    conn = sqlite3.connect(uri, uri=True, timeout=SQLITE_BUSY_TIMEOUT_S, isolation_level=None)
    conn.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_S * 1000}")
    return conn


def _known_revisions() -> set[str]:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return {script.revision for script in ScriptDirectory.from_config(config).walk_revisions()}


def check_database(conn: sqlite3.Connection, name: str) -> str:
    """The pipeline database's migration, after checking the file is whole and is one; else a clear refusal."""
    try:
        result = conn.execute("PRAGMA integrity_check").fetchall()
    except sqlite3.DatabaseError as exc:
        raise click.ClickException(f"{name} is not a SQLite database ({exc})") from None
    if result != [("ok",)]:
        problems = "; ".join(str(r[0]) for r in result[:3])
        raise click.ClickException(f"{name} is damaged (integrity_check: {problems})")
    try:
        rows = conn.execute("SELECT version_num FROM alembic_version").fetchall()
    except sqlite3.OperationalError:
        raise click.ClickException(f"{name} is not a pipeline database (it has no migration revision)") from None
    if len(rows) != 1:
        raise click.ClickException(f"{name} is not a pipeline database (it has {len(rows)} migration revisions)")
    revision = str(rows[0][0])
    try:
        known = _known_revisions()
    except CommandError:  # pragma: no cover  (the shipped migrations are always readable)
        known = set()
    if revision not in known:
        raise click.ClickException(
            f"{name} is at migration {revision}, which this code does not know (a newer release made it?)"
        )
    return revision


def _tables(conn: sqlite3.Connection) -> int:
    return int(conn.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table'").fetchone()[0])


def backup(source: Path, target: Path) -> str:
    """Copy the live database to `target` (appearing only once complete and checked); its migration revision."""
    if not source.is_file():
        raise click.ClickException(f"there is no database at {source}")
    if target.is_dir():
        raise click.ClickException(f"{target} is a folder: name the backup file")
    if not target.parent.is_dir():
        raise click.ClickException(f"the folder {str(target.parent)!r} does not exist")
    if target.resolve() == source.resolve():
        raise click.ClickException("the backup cannot be the database itself")
    fd, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    os.close(fd)
    tmp = Path(name)
    try:
        with closing(_connect(source)) as src, closing(_connect(tmp)) as dst:
            src.backup(dst)  # every page in one step: one snapshot, however busy the writers are
            dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
            revision = check_database(dst, "the backup")
        with open(tmp, "rb+") as written:
            os.fsync(written.fileno())
        tmp.chmod(0o600)  # password hashes and API token digests are in it
        os.replace(tmp, target)
    except BaseException:
        with suppress(FileNotFoundError):
            tmp.unlink()
        raise
    return revision


def restore(source: Path, target: Path) -> str:
    """Replace the live database's content with the backup's, in one write transaction; the backup's revision."""
    with closing(_connect(source, read_only=True)) as src:
        revision = check_database(src, str(source))
        with closing(_connect(target)) as dst:
            try:
                src.backup(dst)
            except sqlite3.OperationalError as exc:
                raise click.ClickException(f"could not restore into {target}: {exc}") from None
            dst.execute("PRAGMA journal_mode=WAL")  # as the app runs it (the backup's header said DELETE)
            check_database(dst, str(target))
    return revision


@click.command("backup")
@click.argument("file", type=click.Path(path_type=Path))
def backup_command(file: Path) -> None:
    """Copy the SQLite database to FILE while the app runs (a consistent copy; on PostgreSQL use pg_dump)."""
    source = sqlite_path()
    revision = backup(source, file)
    with closing(_connect(file, read_only=True)) as conn:
        tables = _tables(conn)
    click.echo(f"backed up {source} to {file}: {tables} tables, migration {revision}, {file.stat().st_size:,} bytes")


@click.command("restore")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Do not ask before replacing everything in the database.")
def restore_command(file: Path, yes: bool) -> None:
    """Replace everything in the SQLite database with FILE, a `pipeline backup` (on PostgreSQL use pg_restore)."""
    target = sqlite_path()
    with closing(_connect(file, read_only=True)) as conn:
        check_database(conn, str(file))
    if not yes:
        click.confirm(f"replace everything in {target} with {file}?", abort=True)
    revision = restore(file, target)
    click.echo(f"restored {file} into {target}: migration {revision}")
    head = head_revision()
    if revision != head:
        click.echo(f"the backup is at migration {revision}, this code needs {head}: run `pipeline db upgrade`")


def register(app: Flask) -> None:
    """Attach `backup` and `restore` to `app.cli`."""
    app.cli.add_command(backup_command)
    app.cli.add_command(restore_command)
