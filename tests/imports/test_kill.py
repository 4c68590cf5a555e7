"""Kill -9 during `pipeline import contacts`: the database is as it was before, and the import then runs again.

The import is one transaction (pipeline.cli.one_transaction), so a process killed at any point of it, even with
its last COMMIT about to leave, leaves no account, contact, tag or audit line behind.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from flask.testing import FlaskCliRunner

from tests.conftest import People
from tests.core.killing import count, fingerprint, kill_at
from tests.imports.conftest import HEADER, write_csv

ROWS = 10_000  # a real run takes a second or two: long enough to be killed in the middle of
TABLES = ["accounts", "contacts", "tags", "contact_tags", "audit_events"]


@pytest.fixture
def big_csv(tmp_path: Path) -> Path:
    """A WPS-style CSV of many contacts at a few hundred companies, with tags (new accounts and tags to make)."""
    rows = [HEADER]
    for n in range(ROWS):
        mobile = f"+86 139 {n // 10000:04d} {n % 10000:04d}"
        rows.append([f"联系人{n:05d}", mobile, f"公司{n % 300:03d}有限公司", "", "经理", f"组{n % 7}"])
    return write_csv(tmp_path / "contacts.csv", rows)


@pytest.fixture
def before(people: People, make_account: object, database_url: str) -> dict[str, tuple[int, str]]:
    """Some data already there (users, an account with a contact the file would merge into)."""
    from pipeline.accounts.models import Contact
    from pipeline.extensions import db

    account = make_account(people.admin, name="公司001有限公司")  # type: ignore[operator]
    db.session.add(Contact(account_id=account.id, name="联系人00001", mobile="+8613900000001"))
    db.session.commit()
    db.session.close()
    return fingerprint(database_url, TABLES)


POINTS = [
    "sql:INSERT INTO audit_events:1",  # the import logged, nothing else written yet
    "rows:contacts:3",  # accounts and tags made, three of the ten batches of contacts written
    "commit",  # every row written, the COMMIT about to be sent
]


@pytest.mark.parametrize("point", POINTS)
def test_a_killed_import_leaves_the_database_as_before_and_runs_again(
    point: str,
    big_csv: Path,
    before: dict[str, tuple[int, str]],
    runner: FlaskCliRunner,
    database_url: str,
    tmp_path: Path,
) -> None:
    args = ["import", "contacts", str(big_csv)]
    kill_at(point, database_url, args, tmp_path)
    assert fingerprint(database_url, TABLES) == before

    again = runner.invoke(args=args)  # in this process: a new command run, on the database the kill left
    assert again.exit_code == 0, again.output
    assert f"imported: {ROWS - 1} created, 1 merged" in again.output
    assert count(database_url, "contacts") == before["contacts"][0] + ROWS - 1
