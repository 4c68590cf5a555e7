"""Kill -9 during `pipeline export weekly -o FOLDER`: no file under the export's name, the database as before.

The file is written under a hidden temporary name beside the target and renamed once complete (exports/files.py),
so a process killed while writing, or with the file complete but not yet renamed, leaves at most that temporary
file; a cron job or a person looking for the week's file never finds a half-written one.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from flask.testing import FlaskCliRunner

from pipeline.deals.models import Deal
from tests.conftest import People
from tests.core.killing import fingerprint, kill_at
from tests.exports.conftest import open_book

WEEK = "2026-W10"
DEALS = 100  # the CSV is more than one 8 KiB buffer: the first write is part of it
NAME = f"pipeline-{WEEK}-全公司"  # the export's own name for the week, the whole company


@pytest.fixture
def deals(people: People, make_deal: Callable[..., Deal], database_url: str) -> dict[str, tuple[int, str]]:
    """A few deals on the board; the database's fingerprint before the export."""
    from pipeline.extensions import db

    for n in range(DEALS):
        make_deal(people.rep if n % 2 else people.rep_b, title=f"项目 {n}")
    db.session.close()
    return fingerprint(database_url)


POINTS = [
    ("xlsx", "write:3"),  # part of the workbook's zip written
    ("csv", "write:1"),  # the first 8 KiB out, the rest not yet
    ("xlsx", "rename"),  # complete and synced under the temporary name, not yet renamed
]


@pytest.mark.parametrize(("fmt", "point"), POINTS)
def test_a_killed_export_leaves_no_file_under_its_name_and_runs_again(
    fmt: str,
    point: str,
    deals: dict[str, tuple[int, str]],
    runner: FlaskCliRunner,
    database_url: str,
    tmp_path: Path,
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    args = ["export", "weekly", "--week", WEEK, "--format", fmt, "-o", str(out)]
    kill_at(point, database_url, args, tmp_path)

    left = sorted(p.name for p in out.iterdir())
    assert f"{NAME}.{fmt}" not in left
    assert all(name.startswith(".") and name.endswith(".part") for name in left), left
    assert len(left) == 1 and (out / left[0]).stat().st_size > 0, left  # part (or all) of it, under that name
    assert fingerprint(database_url) == deals  # not even the audit line of an export that did not happen

    again = runner.invoke(args=args)  # in this process: a new command run, on the database the kill left
    assert again.exit_code == 0, again.output
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == [f"{NAME}.{fmt}"]
    final = out / f"{NAME}.{fmt}"
    if fmt == "xlsx":
        assert len(list(open_book(final)["商机"].iter_rows(min_row=2))) == DEALS
    else:
        assert len(final.read_text("utf-8-sig").splitlines()) == DEALS + 1
