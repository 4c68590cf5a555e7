"""The import's bulk writes (COPY on PostgreSQL, the sqlite3 driver's executemany on SQLite): what they store, and
that they stay inside the import's one transaction, so a refusal part-way through leaves nothing written."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import func, select

from pipeline.accounts.models import Account, Contact, Tag, contact_tags
from pipeline.core.audit import AuditEvent
from pipeline.extensions import db
from pipeline.imports import contacts as contacts_module
from pipeline.imports import contacts_write
from pipeline.imports.bulk import insert_rows
from pipeline.imports.contacts_write import allocate_ids
from tests.conftest import People, refused
from tests.imports.conftest import HEADER, write_csv

ACCOUNTS, CONTACTS = Account.__table__, Contact.__table__
AWKWARD = "tab\there, back\\slash, new\nline, \"quotes\", 'apostrophe', 中文, \\N, NULL"


def count(model: Any) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _account(people: People, name: str = "华信") -> int:
    (account_id,) = allocate_ids(ACCOUNTS, 1)
    now = datetime(2026, 12, 2, 8, 30, 15, 123456, tzinfo=UTC)
    insert_rows(
        ACCOUNTS,
        ("id", "name"),
        [(account_id, name)],
        {"kind": "b2b", "owner_id": people.rep.id, "created_at": now, "updated_at": now},
    )
    return account_id


def test_rows_are_stored_as_the_orm_reads_them_with_the_columns_defaults(app: Flask, people: People) -> None:
    account_id = _account(people)
    (contact_id,) = allocate_ids(CONTACTS, 1)
    now = datetime(2026, 12, 2, 8, 30, 15, 123456, tzinfo=UTC)
    columns = ("id", "account_id", "name", "mobile", "birthday", "notes")
    row = (contact_id, account_id, "张伟", "+8613800138000", date(1985, 3, 15), AWKWARD)
    insert_rows(CONTACTS, columns, [row], {"created_at": now, "updated_at": now})
    db.session.expire_all()
    account = db.session.get(Account, account_id)
    assert (account.name, account.kind, account.owner_id) == ("华信", "b2b", people.rep.id)
    assert (account.industry, account.region, account.relationship_level, account.notes) == ("", "", "basic", "")
    assert account.created_at == now and account.churned_on is None
    contact = db.session.get(Contact, contact_id)
    assert contact.account_id == account_id and contact.name == "张伟" and contact.birthday == date(1985, 3, 15)
    assert contact.notes == AWKWARD  # COPY's escapes (tab, backslash, \N) and quotes round-trip
    assert (contact.title, contact.phone, contact.email, contact.address) == ("", "", "", "")
    assert contact.created_at == contact.updated_at == now


def test_the_rows_are_part_of_the_sessions_transaction(app: Flask, people: People) -> None:
    db.session.commit()  # the users, so only what follows is rolled back
    _account(people, "回滚公司")
    assert count(Account) == 1  # seen by the session that wrote them
    db.session.rollback()
    assert count(Account) == 0


def test_a_database_refusal_comes_as_sqlalchemys_integrity_error(app: Flask, people: People) -> None:
    from sqlalchemy.exc import IntegrityError

    (contact_id,) = allocate_ids(CONTACTS, 1)
    now = datetime.now(UTC)
    with pytest.raises(IntegrityError):  # no such account
        insert_rows(
            CONTACTS,
            ("id", "account_id", "name"),
            [(contact_id, 10**9, "孤儿")],
            {"created_at": now, "updated_at": now},
        )
    db.session.rollback()


def test_a_refusal_part_way_through_the_write_leaves_nothing_written(
    runner: FlaskCliRunner, people: People, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Chunks of two rows; the database refuses the third chunk of contacts after two went in: none stays."""
    monkeypatch.setattr(contacts_module, "CHUNK", 2)
    monkeypatch.setattr(contacts_write, "CHUNK", 2)
    real, calls = insert_rows, []

    def refusing_third_chunk(table: Any, columns: Any, rows: Any, constants: Any = None) -> int:
        rows = list(rows)
        if table is CONTACTS:
            calls.append(len(rows))
            if len(calls) == 3:  # an account that does not exist: the database itself refuses the chunk
                rows[0] = (rows[0][0], 10**9, *rows[0][2:])
        return real(table, columns, rows, constants)

    monkeypatch.setattr(contacts_write, "insert_rows", refusing_third_chunk)
    rows = [HEADER] + [
        [f"联系人{i}", f"1380013{i:04d}", "上海华信科技有限公司" if i % 2 else "", "", "经理", "重要客户,展会"]
        for i in range(7)
    ]
    path = write_csv(tmp_path / "contacts.csv", rows, encoding="gb18030")
    result = runner.invoke(args=["import", "contacts", str(path), "--owner", people.rep.email])
    refused(result, "the database refused the change")
    assert calls[:2] == [2, 2]  # two chunks had been written before the refusal
    db.session.rollback()
    assert count(Contact) == 0 and count(Account) == 0 and count(Tag) == 0 and count(contact_tags) == 0
    assert db.session.scalar(select(func.count()).where(AuditEvent.action == "import_contacts")) == 0


def test_a_bad_row_late_in_a_file_of_many_chunks_refuses_it_all(
    runner: FlaskCliRunner, people: People, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(contacts_module, "CHUNK", 2)
    monkeypatch.setattr(contacts_write, "CHUNK", 2)
    rows = [HEADER] + [[f"联系人{i}", f"1380013{i:04d}", "华信", "", "", "展会"] for i in range(7)]
    rows.append(["王芳", "13700001111", "", "not-an-email", "", ""])
    path = write_csv(tmp_path / "contacts.csv", rows)
    result = runner.invoke(args=["import", "contacts", str(path), "--owner", people.rep.email])
    refused(result, "1 bad row", "line 9")
    assert "E-mail" in result.stdout and "not-an-email" in result.stdout
    db.session.rollback()
    assert count(Contact) == 0 and count(Account) == 0 and count(Tag) == 0


def test_a_file_of_many_chunks_imports_every_row_with_its_links(
    runner: FlaskCliRunner, people: People, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Chunks of two rows: people accounts, company accounts, tags and a fold within the file all line up."""
    monkeypatch.setattr(contacts_module, "CHUNK", 2)
    monkeypatch.setattr(contacts_write, "CHUNK", 2)
    rows = [HEADER] + [
        [f"联系人{i}", f"1380013{i:04d}", "华信" if i % 2 else "", "", "", "重要客户" if i % 3 else ""]
        for i in range(7)
    ]
    rows.append(["联系人0", "13800130000", "", "zero@example.cn", "经理", "展会"])  # fills in row 2's contact
    path = write_csv(tmp_path / "contacts.csv", rows)
    result = runner.invoke(args=["import", "contacts", str(path), "--owner", people.rep.email])
    assert result.exit_code == 0, result.output
    db.session.rollback()
    found = {c.name: c for c in db.session.scalars(select(Contact))}
    assert len(found) == 7
    for i in range(7):
        contact = found[f"联系人{i}"]
        assert contact.mobile == f"+861380013{i:04d}"
        assert contact.account.name == ("华信" if i % 2 else f"联系人{i}")
        assert contact.account.kind == ("b2b" if i % 2 else "b2c")
    assert found["联系人0"].email == "zero@example.cn" and found["联系人0"].title == "经理"
    assert [t.name for t in found["联系人0"].tags] == ["展会"]
    assert [t.name for t in found["联系人1"].tags] == ["重要客户"]
    assert count(Account) == 1 + 4  # 华信, and one B2C account for each of the four without a company
