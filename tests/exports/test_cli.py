"""`pipeline export weekly`: the week, the scope, the file, the one-line summary, refusals, and the audit log."""

from __future__ import annotations

import errno
import getpass
import os
import pty
import select as io_select
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import func, select

from pipeline.auth.models import Team, User
from pipeline.auth.services import create_user
from pipeline.core.audit import AuditEvent
from pipeline.deals.models import Deal
from pipeline.exports import cli, services, xlsx
from pipeline.extensions import db
from tests.conftest import People
from tests.exports.conftest import MADE_AT, SHEETS, TODAY, W10, count_changes, expected_deals, open_book, values

PIPELINE = Path(sys.executable).with_name("pipeline")


def set_clock(monkeypatch: pytest.MonkeyPatch, moment: datetime) -> None:
    """Make `now` a chosen moment for the command (its default week and the moment the export is made at)."""
    monkeypatch.setattr(cli, "utcnow", lambda: moment)
    monkeypatch.setattr(services, "utcnow", lambda: moment)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> None:
    set_clock(monkeypatch, MADE_AT)


def export(runner: FlaskCliRunner, *args: str) -> Result:
    return runner.invoke(args=["export", "weekly", *args])


def audit_events() -> list[AuditEvent]:
    db.session.rollback()  # read what the command committed
    return list(db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)))


def size_text(n: int) -> str:
    return f"{n:,} bytes" if n < 1024 else f"{n / 1024:.1f} KB" if n < 1024 * 1024 else f"{n / 1024 / 1024:.1f} MB"


@pytest.fixture
def out(tmp_path: Path) -> Path:
    """An empty folder for the files (the test's SQLite database lives in tmp_path itself)."""
    folder = tmp_path / "out"
    folder.mkdir()
    return folder


def only_line(text: str) -> str:
    lines = text.splitlines()
    assert len(lines) == 1, text
    return lines[0]


# ---- The default week -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "week"),
    [
        # Monday 23 November 00:30 in Shanghai is still Sunday 22 November in UTC: the week that just ended is W47.
        (datetime(2026, 11, 22, 16, 30, tzinfo=UTC), "2026-W47"),
        # Sunday 29 November 23:59 in Shanghai: still week 48, so the week before is W47 as well.
        (datetime(2026, 11, 29, 15, 59, tzinfo=UTC), "2026-W47"),
        # Monday 4 January 2027 (ISO 2027-W01): the week before is the 53rd of 2026.
        (datetime(2027, 1, 4, 2, 0, tzinfo=UTC), "2026-W53"),
    ],
)
def test_the_default_week_is_the_one_before_todays_local_week(
    runner: FlaskCliRunner, people: People, out: Path, monkeypatch: pytest.MonkeyPatch, now: datetime, week: str
) -> None:
    set_clock(monkeypatch, now)
    result = export(runner, "-o", str(out))
    assert result.exit_code == 0, result.output
    assert [p.name for p in out.iterdir()] == [f"pipeline-{week}-全公司.xlsx"]
    assert audit_events()[0].details["week"] == week


@pytest.mark.parametrize("app_config", [{"PIPELINE_TIMEZONE": "America/Los_Angeles"}])
def test_the_default_week_follows_the_configured_zone(
    runner: FlaskCliRunner, people: People, out: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 06:30 UTC on Monday 23 November is 22:30 on Sunday 22 November in Los Angeles: week 47 there, so W46.
    set_clock(monkeypatch, datetime(2026, 11, 23, 6, 30, tzinfo=UTC))
    result = export(runner, "-o", str(out))
    assert result.exit_code == 0, result.output
    assert [p.name for p in out.iterdir()] == ["pipeline-2026-W46-全公司.xlsx"]


# ---- The file, the summary line, the audit log ------------------------------------------------------------------


def test_an_export_to_a_folder_gets_the_default_name_and_one_summary_line(
    week: dict[str, Deal], runner: FlaskCliRunner, out: Path, clock: None
) -> None:
    result = export(runner, "--week", "2026-W10", "-o", str(out))
    assert result.exit_code == 0, result.output
    target = out / "pipeline-2026-W10-全公司.xlsx"
    assert [p.name for p in out.iterdir()] == [target.name]
    # The counts, from the database: deals in the five stages, the week's moves and tracked changes, the stalled.
    on_board = db.session.scalar(select(func.count()).where(Deal.stage.notin_(("lost", "done"))))
    changes = count_changes(W10)
    stalled = sum(e.stalled for e in expected_deals(TODAY))
    assert (on_board, changes, stalled) == (6, 9, 2)
    size = target.stat().st_size
    line = only_line(result.stdout)
    counts = f"汇总 15, 商机 {on_board}, 本周变化 {changes}, 停滞 {stalled}"
    assert line == f"wrote {target.name}: {counts} rows ({size_text(size)})"
    assert result.stderr == ""  # no progress bar: the output is not a terminal
    book = open_book(target)
    assert book.sheetnames == SHEETS["zh"]
    assert len(values(book["商机"])) == on_board and len(values(book["本周变化"])) == changes


def test_o_naming_a_folder_that_does_not_exist_is_refused_not_taken_for_a_file(
    week: dict[str, Deal], runner: FlaskCliRunner, out: Path, clock: None
) -> None:
    result = export(runner, "--week", "2026-W10", "-o", f"{out / 'missing'}/")
    assert result.exit_code == 2
    assert "-o" in result.output and "missing" in result.output and "does not exist" in result.output
    assert list(out.iterdir()) == []


def test_an_export_to_a_file_uses_that_name(
    week: dict[str, Deal], runner: FlaskCliRunner, out: Path, clock: None
) -> None:
    target = out / "本周.xlsx"
    result = export(runner, "--week", "2026-W10", "-o", str(target))
    assert result.exit_code == 0, result.output
    assert [p.name for p in out.iterdir()] == ["本周.xlsx"]
    assert only_line(result.stdout).startswith("wrote 本周.xlsx: 汇总 15, 商机 6, 本周变化 9, 停滞 2 rows (")
    assert open_book(target).sheetnames == SHEETS["zh"]


def test_without_o_the_file_goes_to_the_current_folder(
    week: dict[str, Deal], runner: FlaskCliRunner, out: Path, clock: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(out)
    result = export(runner, "--week", "2026-W10", "--format", "csv")
    assert result.exit_code == 0, result.output
    assert [p.name for p in out.iterdir()] == ["pipeline-2026-W10-全公司.csv"]
    assert only_line(result.stdout).startswith("wrote pipeline-2026-W10-全公司.csv: 商机 6 rows (")
    assert (out / "pipeline-2026-W10-全公司.csv").read_bytes().startswith(b"\xef\xbb\xbf")


def test_every_export_is_logged_with_who_what_and_which_week(
    week: dict[str, Deal], runner: FlaskCliRunner, people: People, out: Path, clock: None
) -> None:
    assert export(runner, "--week", "2026-W10", "-o", str(out)).exit_code == 0
    assert export(runner, "--week", "2026-W09", "--team", "华东", "--format", "csv", "-o", str(out)).exit_code == 0
    first, second = audit_events()
    assert (first.action, first.via, first.user_id) == ("export.weekly", "cli", None)
    assert first.actor == f"cli:{getpass.getuser()}"
    assert abs(first.at - datetime.now(UTC)) < timedelta(minutes=5)  # stamped when logged, not the export's week
    assert first.details == {
        "week": "2026-W10",
        "team_id": None,
        "owner_id": None,
        "strategy": None,
        "scope": "全公司",
        "format": "xlsx",
        "rows": {"汇总": 15, "商机": 6, "本周变化": 9, "停滞": 2},
        "file": "pipeline-2026-W10-全公司.xlsx",
        "lang": "zh",
        "kept": True,
        "mailed_to": [],
    }
    east = db.session.scalar(select(Team.id).where(Team.name == "华东"))
    assert second.details["week"] == "2026-W09" and second.details["team_id"] == east
    assert second.details["format"] == "csv" and second.details["file"] == "pipeline-2026-W09-华东.csv"
    assert second.details["rows"] == {"商机": 5}


def test_in_english(week: dict[str, Deal], runner: FlaskCliRunner, out: Path, clock: None) -> None:
    result = export(runner, "--week", "2026-W10", "--lang", "en", "-o", str(out))
    assert result.exit_code == 0, result.output
    target = out / "pipeline-2026-W10-Whole-company.xlsx"
    assert open_book(target).sheetnames == SHEETS["en"]
    assert only_line(result.stdout).startswith(
        f"wrote {target.name}: Summary 15, Deals 6, Changes this week 9, Stalled 2 rows ("
    )
    assert values(open_book(target)["Deals"])[0][5] == "Qualify"
    assert audit_events()[0].details["lang"] == "en"


def test_a_team_or_one_rep(
    week: dict[str, Deal], runner: FlaskCliRunner, people: People, out: Path, clock: None
) -> None:
    team = export(runner, "--week", "2026-W10", "--team", "华东", "-o", str(out))
    assert team.exit_code == 0, team.output
    members = db.session.scalars(select(User.id).join(Team, Team.id == User.team_id).where(Team.name == "华东")).all()
    ids = [row[0] for row in values(open_book(out / "pipeline-2026-W10-华东.xlsx")["商机"])]
    assert ids == [e.id for e in expected_deals(TODAY, members)] and len(ids) == 5
    rep = export(runner, "--week", "2026-W10", "--owner", " REP2@Example.com ", "-o", str(out))
    assert rep.exit_code == 0, rep.output
    ids = [row[0] for row in values(open_book(out / "pipeline-2026-W10-张伟.xlsx")["商机"])]
    assert ids == [week[k].id for k in "IBF"]
    both = export(runner, "--week", "2026-W10", "--team", "华东", "--owner", "rep@example.com", "-o", str(out))
    assert both.exit_code == 0, both.output
    assert (out / "pipeline-2026-W10-王芳.xlsx").exists()
    assert audit_events()[-1].details["owner_id"] == people.rep.id


def test_a_scope_name_cannot_lead_the_file_out_of_its_folder(
    runner: FlaskCliRunner, people: People, out: Path, clock: None
) -> None:
    create_user("far@example.com", "远方", "rep", team="../上海/一组")
    db.session.commit()
    result = export(runner, "--week", "2026-W10", "--team", "../上海/一组", "-o", str(out))
    assert result.exit_code == 0, result.output
    assert [p.name for p in out.iterdir()] == ["pipeline-2026-W10-上海-一组.xlsx"]
    assert sorted(p.name for p in out.parent.iterdir() if p.suffix == ".xlsx") == []


# ---- Refusals ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (["--week", "2026-W99"], "--week"),
        (["--week", "2025-W53"], "--week"),  # 2025 has 52 ISO weeks
        (["--week", "2026-47"], "--week"),
        (["--team", "nope"], "--team"),
        (["--owner", "nobody@x"], "--owner"),
        (["--team", "华南", "--owner", "rep@example.com"], "--owner"),  # not in that team
        (["--format", "pdf"], "--format"),
        (["--lang", "fr"], "--lang"),
        (["-o", "/nonexistent/folder/file.xlsx"], "-o"),
    ],
)
def test_bad_input_exits_2_naming_the_option_and_writes_nothing(
    runner: FlaskCliRunner,
    people: People,
    out: Path,
    monkeypatch: pytest.MonkeyPatch,
    args: list[str],
    option: str,
) -> None:
    monkeypatch.chdir(out)
    result = export(runner, *args)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and result.stdout == ""
    assert option in result.stderr.strip().splitlines()[-1]
    assert list(out.iterdir()) == [] and audit_events() == []


def _console(database_url: str, *args: str, **kw: Any) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PIPELINE_DATABASE_URL": database_url, "PIPELINE_SECRET_KEY": "t"}
    return subprocess.run([str(PIPELINE), "export", "weekly", *args], text=True, env=env, timeout=120, **kw)


@pytest.mark.parametrize(
    ("args", "option", "word"),
    [
        (["--week", "2026-W99"], "--week", "2026-W99"),
        (["--team", "nope"], "--team", "nope"),
        (["--owner", "nobody@x"], "--owner", "nobody@x"),
    ],
)
def test_the_console_script_says_what_is_wrong_in_one_line(
    app: Flask, people: People, database_url: str, out: Path, args: list[str], option: str, word: str
) -> None:
    done = _console(database_url, *args, capture_output=True, cwd=out)
    assert done.returncode == 2
    assert done.stdout == "" and "Traceback" not in done.stderr
    line = only_line(done.stderr.strip())
    assert line.startswith("pipeline: error: ") and option in line and word in line
    assert list(out.iterdir()) == []


def test_the_console_script_shows_no_progress_bar_when_piped_and_one_on_a_terminal(
    week: dict[str, Deal], database_url: str, out: Path
) -> None:
    piped = _console(database_url, "-o", str(out / "piped.xlsx"), capture_output=True)
    assert piped.returncode == 0, piped.stderr
    assert piped.stderr == ""
    assert only_line(piped.stdout).startswith("wrote piped.xlsx: 汇总 15, 商机 6, ")
    # The same command with its stderr on a terminal draws the bar there (and only there).
    leader, follower = pty.openpty()
    try:
        shown = _console(database_url, "-o", str(out / "tty.xlsx"), stdout=subprocess.PIPE, stderr=follower)
        chunks = []
        while io_select.select([leader], [], [], 0.5)[0]:
            chunks.append(os.read(leader, 65536))
    finally:
        os.close(leader)
        os.close(follower)
    assert shown.returncode == 0
    bar = b"".join(chunks).decode()
    assert "deals" in bar and "100%" in bar, bar
    assert "deals" not in shown.stdout and only_line(shown.stdout).startswith("wrote tty.xlsx: ")


# ---- A file that cannot be written ------------------------------------------------------------------------------


def test_a_full_disk_ends_in_one_line_not_a_traceback(
    week: dict[str, Deal], runner: FlaskCliRunner, out: Path, clock: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    def full_disk(*args: Any, **kwargs: Any) -> Any:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(xlsx, "is_formula_like", full_disk)  # the first text cell written: the disk is full
    result = export(runner, "--week", "2026-W10", "-o", str(out))
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.exception
    line = only_line(result.stderr.strip())
    assert "pipeline-2026-W10-全公司.xlsx" in line and "No space left on device" in line
    assert result.stdout == "" and list(out.iterdir()) == [] and audit_events() == []


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux's /proc, where no file can be created")
def test_the_console_script_says_in_one_line_that_it_cannot_write_there(
    app: Flask, people: People, database_url: str
) -> None:
    done = _console(database_url, "--week", "2026-W10", "-o", "/proc/pipeline.xlsx", capture_output=True)
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
    line = only_line(done.stderr.strip())
    assert line.startswith("pipeline: error: ") and "/proc/pipeline.xlsx" in line
