"""Files appear complete or not at all: a failing export leaves nothing behind and never touches an older file."""

from __future__ import annotations

import contextlib
import csv
import gc
import io
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskCliRunner
from sqlalchemy import func, select, text

from pipeline.core.audit import AuditEvent
from pipeline.deals.models import Deal
from pipeline.exports import copycsv, csvfile, sheets, xlsx
from pipeline.exports.services import write_export_file
from pipeline.extensions import db
from tests.exports.conftest import SHEETS, make_export, open_book

FORMATS = ["xlsx", "csv"]
REAL_DEALS_ON_BOARD = sheets.deals_on_board
REAL_CRLF_ROWS = copycsv.crlf_rows


class Boom(RuntimeError):
    pass


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    out = tmp_path / "out"
    out.mkdir()
    return out


@pytest.fixture
def failing_rows(monkeypatch: pytest.MonkeyPatch, folder: Path) -> list[list[str]]:
    """Make the Deals sheet's row source fail after its first row; record the folder as it was at that moment."""
    seen: list[list[str]] = []
    real = REAL_DEALS_ON_BOARD

    def deals_then_boom(*args: Any, **kwargs: Any) -> Iterator[Any]:
        rows = real(*args, **kwargs)
        try:
            yield next(rows)
            seen.append(sorted(p.name for p in folder.iterdir()))
            raise Boom("the database went away")
        finally:
            rows.close()  # as a source failing inside itself would end its own query

    def copy_then_boom(chunks: Any, counted: Any) -> Iterator[bytes]:
        rows = REAL_CRLF_ROWS(chunks, counted)
        try:
            yield next(rows)
            seen.append(sorted(p.name for p in folder.iterdir()))
            raise Boom("the database went away")
        finally:
            rows.close()

    monkeypatch.setattr(sheets, "deals_on_board", deals_then_boom)
    monkeypatch.setattr(copycsv, "crlf_rows", copy_then_boom)  # the CSV's rows on PostgreSQL: COPY's stream
    return seen


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_failing_export_leaves_neither_the_file_nor_a_temporary_one(
    week: dict[str, Deal], folder: Path, failing_rows: list[list[str]], fmt: str
) -> None:
    target = folder / f"pipeline-2026-W10.{fmt}"
    with pytest.raises(Boom):
        write_export_file(make_export(), fmt, target)
    # While it was writing, only a hidden temporary file beside the target existed, never the final name.
    (during,) = failing_rows
    assert len(during) == 1 and during[0].startswith(f".{target.name}.") and during[0].endswith(".part")
    assert list(folder.iterdir()) == []


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_failing_export_leaves_an_existing_file_untouched(
    week: dict[str, Deal], folder: Path, failing_rows: list[list[str]], fmt: str
) -> None:
    target = folder / f"pipeline-2026-W10.{fmt}"
    target.write_bytes(b"last week's good file")
    before = target.stat()
    with pytest.raises(Boom):
        write_export_file(make_export(), fmt, target)
    assert target.read_bytes() == b"last week's good file"
    assert target.stat().st_mtime_ns == before.st_mtime_ns and target.stat().st_ino == before.st_ino
    assert [p.name for p in folder.iterdir()] == [target.name]


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_failing_export_closes_its_streaming_query(
    week: dict[str, Deal], folder: Path, failing_rows: list[list[str]], fmt: str, is_postgres: bool
) -> None:
    """Rows are streamed through a server-side cursor on PostgreSQL: stopping midway must close it, not leave it
    open in the transaction until a garbage collector complains (ResourceWarning) or the transaction ends."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with contextlib.suppress(Boom):
            write_export_file(make_export(), fmt, folder / f"x.{fmt}")
        gc.collect()
        if is_postgres:
            assert db.session.scalar(text("SELECT count(*) FROM pg_cursors")) == 0
    assert [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)] == []


def test_a_failure_on_the_changes_sheet_leaves_nothing_behind(
    week: dict[str, Deal], folder: Path, monkeypatch: pytest.MonkeyPatch, is_postgres: bool
) -> None:
    calls: list[int] = []
    real = sheets.change_values

    def second_change_fails(*args: Any) -> Any:
        calls.append(1)
        if len(calls) == 2:
            raise Boom("a label went missing")
        return real(*args)

    monkeypatch.setattr(sheets, "change_values", second_change_fails)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with contextlib.suppress(Boom):
            write_export_file(make_export(), "xlsx", folder / "x.xlsx")
        gc.collect()
        if is_postgres:
            assert db.session.scalar(text("SELECT count(*) FROM pg_cursors")) == 0
    assert len(calls) == 2 and list(folder.iterdir()) == []
    assert [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)] == []


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_writer_failing_midway_ends_the_query_too(
    week: dict[str, Deal], folder: Path, monkeypatch: pytest.MonkeyPatch, fmt: str, is_postgres: bool
) -> None:
    """A full disk stops the writer with the Deals query half read: no file, and no cursor left open."""
    calls: list[str] = []

    def full_disk(text: str) -> Any:
        calls.append(text)
        if text == "B 项目":  # the fourth deal's title: the Deals query is half read
            raise OSError(28, "No space left on device")
        return real(text)

    if fmt == "xlsx":  # the workbook's table rows: text goes to XlsxWriter row by row

        def full_disk_row(table: Any, r: int, cells: tuple[Any, ...]) -> Any:
            for cell in cells:
                if isinstance(cell, str):
                    full_disk(cell)
            return real_row(table, r, cells)

        real, real_row = str, xlsx._Table._add_table_row
        monkeypatch.setattr(xlsx._Table, "_add_table_row", full_disk_row)
    elif copycsv.available():  # PostgreSQL's COPY streams the rows: the disk fills on the fourth

        def full_disk_rows(chunks: Any, counted: Any) -> Iterator[bytes]:
            for chunk in REAL_CRLF_ROWS(chunks, counted):
                for row in csv.reader(io.StringIO(chunk.decode(), newline="")):
                    full_disk(row[1])
                yield chunk

        real = str
        monkeypatch.setattr(copycsv, "crlf_rows", full_disk_rows)
    else:
        real = csvfile.neutralised
        monkeypatch.setattr(csvfile, "neutralised", full_disk)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with contextlib.suppress(OSError):
            write_export_file(make_export(), fmt, folder / f"x.{fmt}")
        gc.collect()
        if is_postgres:
            assert db.session.scalar(text("SELECT count(*) FROM pg_cursors")) == 0
    assert "B 项目" in calls and "F 项目" not in calls and list(folder.iterdir()) == []
    assert [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)] == []


def test_an_interrupted_export_cleans_up_too(
    week: dict[str, Deal], folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = REAL_DEALS_ON_BOARD

    def interrupted(*args: Any, **kwargs: Any) -> Iterator[Any]:
        yield next(real(*args, **kwargs))
        raise KeyboardInterrupt  # Ctrl-C at a terminal

    monkeypatch.setattr(sheets, "deals_on_board", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_export_file(make_export(), "xlsx", folder / "x.xlsx")
    assert list(folder.iterdir()) == []


def test_a_failing_workbook_leaves_no_scratch_files_in_the_temporary_folder(
    week: dict[str, Deal], folder: Path, failing_rows: list[list[str]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))  # where XlsxWriter's constant-memory rows go
    with pytest.raises(Boom):
        write_export_file(make_export(), "xlsx", folder / "x.xlsx")
    assert list(scratch.iterdir()) == [] and list(folder.iterdir()) == []
    monkeypatch.setattr(sheets, "deals_on_board", REAL_DEALS_ON_BOARD)
    write_export_file(make_export(), "xlsx", folder / "x.xlsx")
    assert list(scratch.iterdir()) == [] and [p.name for p in folder.iterdir()] == ["x.xlsx"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_completed_export_has_exactly_the_final_name(week: dict[str, Deal], folder: Path, fmt: str) -> None:
    target = folder / f"pipeline-2026-W10.{fmt}"
    target.write_bytes(b"old")
    written = write_export_file(make_export(), fmt, target)
    assert [p.name for p in folder.iterdir()] == [target.name]
    assert written.path == target and written.size == target.stat().st_size > 3
    assert target.stat().st_mode & 0o777 == 0o644  # readable by the mail relay or a colleague, as any report
    if fmt == "xlsx":
        assert open_book(target).sheetnames == SHEETS["zh"]
        assert written.rows == {"汇总": 15, "商机": 6, "本周变化": 9, "停滞": 2}
    else:
        assert written.rows == {"商机": 6}


def test_a_failing_command_leaves_no_file_and_logs_nothing(
    week: dict[str, Deal], runner: FlaskCliRunner, folder: Path, failing_rows: list[list[str]]
) -> None:
    result = runner.invoke(args=["export", "weekly", "--week", "2026-W10", "-o", str(folder)])
    assert result.exit_code == 1 and isinstance(result.exception, Boom)
    assert list(folder.iterdir()) == []
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == 0
