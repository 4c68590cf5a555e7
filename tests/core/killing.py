"""Kill -9 the real `pipeline` command at a chosen point of its work, and fingerprint a database's tables.

Run as `python -m tests.core.killing POINT MARKER -- pipeline-args…`: the command runs as the console script
does (pipeline.cli:main), and when it reaches POINT it writes MARKER and waits there, so the test can SIGKILL it
at exactly that point instead of guessing a moment. The points:

- ``sql:WORD:N``: just after the N-th statement containing WORD (``sql:INSERT INTO contacts:3``);
- ``rows:TABLE:N``: just after the N-th bulk insert of a batch into TABLE (the contact import writes its rows
  through the driver, COPY or executemany, not through statements the ``sql`` point sees);
- ``commit``: just before the transaction's COMMIT goes to the database;
- ``write:N``: just after the N-th write to the export's file (under its temporary name), the rest not written;
- ``rename``: a file complete under its temporary name (``*.part``), just before it is renamed to the final one;
- ``restore:N``: `pipeline restore` with N pages of the backup written into the live database (its write
  transaction open). The restore copies every page in one step; here it goes a page a step so that it can be
  stopped between two (SQLite holds the destination's write lock from the first step to the last either way).
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, inspect, text

ROOT = Path(__file__).resolve().parents[2]


_REPLACE = os.replace  # the real one, whatever a point patches


def _pause(marker: Path) -> None:
    """Say we are at the point, then wait for the SIGKILL (never for long: a test that forgot us ends us)."""
    tmp = marker.with_suffix(".tmp")
    tmp.write_text(str(os.getpid()))
    _REPLACE(tmp, marker)
    time.sleep(120)
    os._exit(99)


class _PausingFile:
    """A file whose N-th write pauses the process once its bytes are out (and the ones after it are not)."""

    def __init__(self, file: Any, at: int, marker: Path) -> None:
        self._file, self._at, self._marker, self._writes = file, at, marker, 0

    def write(self, data: Any) -> int:
        written = self._file.write(data)
        self._writes += 1
        if self._writes == self._at:
            self._file.flush()
            _pause(self._marker)
        return written

    def __getattr__(self, name: str) -> Any:
        return getattr(self._file, name)


def _install(point: str, marker: Path) -> None:
    from sqlalchemy import Engine, event

    kind, _, rest = point.partition(":")
    if kind == "sql":
        word, _, n = rest.rpartition(":")
        seen = {"n": 0}

        @event.listens_for(Engine, "after_cursor_execute")
        def _after(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
            if word in statement:
                seen["n"] += 1
                if seen["n"] == int(n):
                    _pause(marker)

    elif kind == "rows":
        from pipeline.imports import contacts_write

        table_name, _, n = rest.rpartition(":")
        batches = {"n": 0}
        insert_rows = contacts_write.insert_rows

        def counted(table: Any, *args: Any, **kw: Any) -> int:
            inserted = insert_rows(table, *args, **kw)
            if table.name == table_name:
                batches["n"] += 1
                if batches["n"] == int(n):
                    _pause(marker)
            return inserted

        contacts_write.insert_rows = counted  # type: ignore[assignment]

    elif kind == "commit":

        @event.listens_for(Engine, "commit")
        def _commit(_conn: Any) -> None:
            _pause(marker)

    elif kind == "write":
        from pipeline.exports import services

        original = services.write_export

        def write_export(export: Any, fmt: str, out: Any, *args: Any, **kw: Any) -> Any:
            return original(export, fmt, _PausingFile(out, int(rest), marker), *args, **kw)

        services.write_export = write_export  # type: ignore[assignment]
    elif kind == "rename":
        from pipeline.exports import files

        def replace(src: Any, dst: Any, *args: Any, **kw: Any) -> None:
            if str(src).endswith(".part"):
                _pause(marker)
            _REPLACE(src, dst, *args, **kw)

        files.os.replace = replace  # type: ignore[attr-defined]
    elif kind == "restore":
        from pipeline.core import backup

        real_connect = backup._connect

        class Stepping:
            def __init__(self, conn: Any) -> None:
                self._conn = conn

            def backup(self, target: Any, **_kw: Any) -> None:
                def progress(_status: int, remaining: int, _total: int) -> None:
                    progress.steps += 1  # type: ignore[attr-defined]
                    if progress.steps == int(rest) and remaining > 0:  # type: ignore[attr-defined]  (not the last)
                        _pause(marker)

                progress.steps = 0  # type: ignore[attr-defined]
                self._conn.backup(target, pages=1, progress=progress)

            def __getattr__(self, name: str) -> Any:
                return getattr(self._conn, name)

        def connect(path: Path, *, read_only: bool = False) -> Any:
            conn = real_connect(path, read_only=read_only)
            return Stepping(conn) if read_only else conn

        backup._connect = connect  # type: ignore[assignment]
    else:
        raise SystemExit(f"unknown point {point!r}")


def main() -> None:
    point, marker, dashes, *args = sys.argv[1:]
    assert dashes == "--"
    _install(point, Path(marker))
    from pipeline.cli import main as pipeline_main

    sys.argv = ["pipeline", *args]
    pipeline_main()


# ---- What the tests call ------------------------------------------------------------------------------------


def command_env(database_url: str, **more: str) -> dict[str, str]:
    """The environment the command runs in: this test's database, English messages."""
    return {**os.environ, "PIPELINE_DATABASE_URL": database_url, "PIPELINE_SECRET_KEY": "t", **more}


def kill_at(point: str, database_url: str, args: Sequence[str], folder: Path, cwd: Path | None = None) -> None:
    """Run `pipeline args…` until it reaches `point`, then SIGKILL it; fail if it ends or errs before."""
    marker = folder / f"at-{os.getpid()}-{time.monotonic_ns()}"
    env = command_env(database_url, PYTHONPATH=str(ROOT))
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.core.killing", point, str(marker), "--", *args],
        env=env,
        cwd=cwd or ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 300  # a generous bound on a slow shared machine; never a timed assertion
        while not marker.exists():
            if process.poll() is not None:
                out, err = process.communicate()
                raise AssertionError(f"ended (exit {process.returncode}) before {point}: {out}\n{err}")
            if time.monotonic() > deadline:
                raise AssertionError(f"never reached {point}")
            time.sleep(0.01)
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        assert process.returncode == -signal.SIGKILL
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        process.stdout.close()  # type: ignore[union-attr]
        process.stderr.close()  # type: ignore[union-attr]
        marker.unlink(missing_ok=True)


def fingerprint(database_url: str, names: Sequence[str] | None = None) -> dict[str, tuple[int, str]]:
    """Each table's row count and a digest of its content (rows in key order), read through a fresh connection.

    Without `names`, every table the database has (the migrations' bookkeeping and the kept report figures too).
    """
    engine = create_engine(database_url)
    try:
        tables = inspect(engine)
        with engine.connect() as conn:
            found: dict[str, tuple[int, str]] = {}
            for name in names or sorted(tables.get_table_names()):
                key = tables.get_pk_constraint(name)["constrained_columns"]
                columns = key or [c["name"] for c in tables.get_columns(name)]
                order = ", ".join(f'"{c}"' for c in columns)
                digest, n = hashlib.sha256(), 0
                for row in conn.execute(text(f'SELECT * FROM "{name}" ORDER BY {order}')):
                    digest.update(repr(tuple(row)).encode())
                    n += 1
                found[name] = (n, digest.hexdigest())
            return found
    finally:
        engine.dispose()


def count(database_url: str, name: str) -> int:
    """Rows in a table, read through a fresh connection."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(text(f'SELECT count(*) FROM "{name}"')).scalar_one())
    finally:
        engine.dispose()


if __name__ == "__main__":
    main()
