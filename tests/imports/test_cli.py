"""`pipeline import contacts`: the plan's counts, every bad row, all-or-nothing, the owner."""

from __future__ import annotations

from pathlib import Path

from flask.testing import FlaskCliRunner
from sqlalchemy import func, select

from pipeline.accounts.models import Account, Contact
from pipeline.core.audit import AuditEvent
from pipeline.extensions import db
from tests.conftest import People, refused
from tests.imports.conftest import HEADER, contacts_by_name, write_csv

ROWS = [
    HEADER,
    ["张伟", "+86 138-0013-8000", "上海华信科技有限公司", "zw@huaxin.cn", "采购经理", "重要客户"],
    ["李娜", "139 1234 5678", "上海华信科技有限公司", "", "", ""],
]


def count(model) -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(model))


def test_dry_run_prints_the_plan_and_changes_nothing(runner: FlaskCliRunner, people: People, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "通讯录.csv", ROWS, encoding="gb18030")
    result = runner.invoke(args=["import", "contacts", str(path), "--dry-run", "--owner", people.rep.email])
    assert result.exit_code == 0, result.output
    assert "gb18030" in result.output and "name=姓名" in result.output and "mobile=手机" in result.output
    header, figures = result.output.splitlines()[1:3]
    assert header.split()[:4] == ["create", "merge", "skip", "bad"]
    assert figures.split()[:5] == ["2", "0", "0", "0", "1"]  # two contacts, one new account
    assert "dry run" in result.output
    assert count(Contact) == 0


def test_real_run_imports_for_the_owner_and_is_audited(runner: FlaskCliRunner, people: People, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "通讯录.csv", ROWS)
    result = runner.invoke(args=["import", "contacts", str(path), "--owner", people.rep.email])
    assert result.exit_code == 0, result.output
    assert "2 created" in result.output
    found = contacts_by_name()
    assert found["张伟"].account.owner_id == people.rep.id
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "import_contacts"))
    assert event.via == "cli" and event.actor.startswith("cli:") and event.details["owner"] == people.rep.email


def test_bad_rows_are_all_listed_and_nothing_is_imported(
    runner: FlaskCliRunner, people: People, tmp_path: Path
) -> None:
    rows = [*ROWS, ["", "12", "", "", "", ""], ["王芳", "13700001111", "", "bad@", "", ""]]
    path = write_csv(tmp_path / "x.csv", rows)
    result = runner.invoke(args=["import", "contacts", str(path), "--owner", people.rep.email])
    line = refused(result, "2 bad rows", "line 4", "line 5")
    assert "nothing imported" in line
    assert "line 4:" in result.stdout and "line 5:" in result.stdout
    assert count(Contact) == 0 and count(Account) == 0


def test_map_overrides_and_unknown_columns_are_refused(runner: FlaskCliRunner, people: People, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "x.csv", [["Who", "Cell 2"], ["Ann", "13800138000"]])
    maps = ["--map", "name=Who", "--map", "mobile=Cell 2"]
    result = runner.invoke(args=["import", "contacts", str(path), *maps, "--owner", "rep@example.com"])
    assert result.exit_code == 0, result.output
    assert contacts_by_name()["Ann"].mobile == "+8613800138000"
    refused(runner.invoke(args=["import", "contacts", str(path), "--map", "mobile=Nope"]), "mobile", "Nope")
    refused(runner.invoke(args=["import", "contacts", str(path), "--map", "shoe=Who"]), "shoe")


def test_unknown_owner_and_unreadable_files(runner: FlaskCliRunner, people: People, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "x.csv", ROWS)
    result = runner.invoke(args=["import", "contacts", str(path), "--owner", "nobody@example.com"])
    assert result.exit_code == 2 and "--owner" in result.stderr and "nobody@example.com" in result.stderr
    old = tmp_path / "old.xls"
    old.write_bytes(b"\xd0\xcf\x11\xe0" + b"\x00" * 100)
    refused(runner.invoke(args=["import", "contacts", str(old)]), ".xls")
    utf8 = tmp_path / "u.csv"
    utf8.write_bytes("姓名\n张伟\n".encode())
    refused(runner.invoke(args=["import", "contacts", str(utf8), "--encoding", "klingon"]), "klingon")
