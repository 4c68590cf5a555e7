"""Contact imports from real-world shaped files: encodings, delimiters, phones, duplicates, bad rows."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from pipeline.accounts.models import Account, Contact
from pipeline.accounts.services import create_contact
from pipeline.core.audit import AuditEvent
from pipeline.extensions import db
from pipeline.imports.contacts import CREATE, MERGE, SKIP, plan_file
from pipeline.imports.contacts_write import write_contacts
from pipeline.imports.errors import BadRows
from tests.conftest import People
from tests.imports.conftest import HEADER, account_names, contacts_by_name, tags_of, write_csv, write_xlsx

ROWS = [
    HEADER,
    ["张伟", "+86 138-0013-8000", "上海华信科技有限公司", "Zhang.Wei@HuaXin.cn", "采购经理", "重要客户,集团客户"],
    ["李娜", "139 1234 5678", "北京远景咨询", "lina@yuanjing.com", "总经理", ""],
    ["王芳", "13700001111", "", "", "", "朋友"],
]


def run(path: Path, owner, **kwargs):
    with plan_file(path, owner, **kwargs) as plan:
        done = write_contacts(plan, via="cli", actor=None, filename=path.name)
    db.session.commit()
    return done


@pytest.mark.parametrize("encoding", ["gb18030", "utf-8-sig", "utf-16", "utf-8"])
def test_each_encoding_excel_and_wps_write_reads_the_same(tmp_path: Path, people: People, encoding: str) -> None:
    path = write_csv(tmp_path / "通讯录.csv", ROWS, encoding=encoding)
    done = run(path, people.rep)
    assert done.created == 3
    found = contacts_by_name()
    assert found["张伟"].mobile == "+8613800138000"
    assert found["张伟"].email == "zhang.wei@huaxin.cn"
    assert found["张伟"].title == "采购经理"
    assert found["李娜"].mobile == "+8613912345678"
    assert tags_of(found["张伟"]) == ["重要客户", "集团客户"]
    assert found["张伟"].account.name == "上海华信科技有限公司"
    assert found["张伟"].account.owner_id == people.rep.id
    # no company: an account of their own, a person (B2C)
    assert found["王芳"].account.kind == "b2c" and found["王芳"].account.name == "王芳"


def test_gb18030_detected_without_bom(tmp_path: Path, people: People) -> None:
    path = write_csv(tmp_path / "wps.csv", ROWS, encoding="gb18030")
    with plan_file(path, people.rep) as plan:
        assert plan.encoding == "gb18030"
        assert plan.counts[CREATE] == 3 and not plan.bad_rows


@pytest.mark.parametrize("delimiter", [";", "\t"])
def test_semicolon_and_tab_delimiters(tmp_path: Path, people: People, delimiter: str) -> None:
    path = write_csv(tmp_path / "x.csv", ROWS, delimiter=delimiter, newline="\n")
    run(path, people.rep)
    assert set(contacts_by_name()) == {"张伟", "李娜", "王芳"}


def test_quoted_fields_with_commas_and_newlines_keep_their_line_numbers(tmp_path: Path, people: People) -> None:
    rows = [
        ["Name", "Mobile", "Company", "Address", "Notes"],
        ["Anna Li", "13800138000", "Acme, Inc.", "1 Road,\nShanghai", 'said "call me"\non Monday'],
        ["Bob", "12", "Acme, Inc.", "", ""],  # Excel calls this line 3 although the file's line 5
    ]
    path = write_csv(tmp_path / "x.csv", rows)
    with plan_file(path, people.rep) as plan:
        assert [r.line for r in plan.bad_rows] == [3]
        assert "Mobile" in plan.bad_rows[0].reasons[0] and "12" in plan.bad_rows[0].reasons[0]
    rows[2][1] = "13800138001"
    run(write_csv(tmp_path / "x.csv", rows), people.rep)
    anna = contacts_by_name()["Anna Li"]
    assert anna.account.name == "Acme, Inc."
    assert anna.address == "1 Road,\nShanghai"
    assert anna.notes == 'said "call me"\non Monday'
    assert account_names() == ["Acme, Inc."]  # one account for both


def test_full_width_characters_are_folded(tmp_path: Path, people: People) -> None:
    rows = [
        ["姓名", "手机号码", "电子邮件", "公司名称"],
        ["ＪＯＨＮ　Ｌｉ", "１３８　００１３　８０００", "ＪＯＨＮ＠ＥＸＡＭＰＬＥ．ＣＯＭ", "ＡＣＭＥ"],
    ]
    run(write_csv(tmp_path / "x.csv", rows), people.rep)
    john = contacts_by_name()["JOHN Li"]
    assert (john.mobile, john.email, john.account.name) == ("+8613800138000", "john@example.com", "ACME")


def test_company_matched_case_and_width_insensitively_among_visible_accounts(
    tmp_path: Path, people: People, make_account
) -> None:
    mine = make_account(people.rep, "Acme Trading")
    theirs = make_account(people.outsider, "Globex")  # another team's: the rep cannot see it
    rows = [["Name", "Mobile", "Company"], ["A", "13800138000", "ＡＣＭＥ  trading"], ["B", "13800138001", "globex"]]
    run(write_csv(tmp_path / "x.csv", rows), people.rep)
    found = contacts_by_name()
    assert found["A"].account_id == mine.id
    assert found["B"].account_id != theirs.id
    assert found["B"].account.owner_id == people.rep.id
    assert db.session.scalar(select(func.count()).select_from(Contact).where(Contact.account_id == theirs.id)) == 0


def test_duplicates_within_the_file_merge_or_skip(tmp_path: Path, people: People) -> None:
    rows = [
        ["姓名", "手机", "邮箱", "职位", "分组"],
        ["张伟", "13800138000", "", "", "重要客户"],
        ["张伟", "+86 138 0013 8000", "zw@x.cn", "经理", "朋友"],  # same mobile: fills e-mail and title, adds a tag
        ["张伟", "138-0013-8000", "", "", ""],  # adds nothing: skipped
        ["Z. Wei", "", "ZW@X.CN", "", ""],  # same e-mail as what line 3 brought: skipped
    ]
    path = write_csv(tmp_path / "x.csv", rows)
    with plan_file(path, people.rep) as plan:
        assert plan.counts == {CREATE: 1, MERGE: 1, SKIP: 2}
        assert [(r.line, r.fills) for r in plan.samples[MERGE]] == [(3, ("title", "email", "tag:朋友"))]
    run(path, people.rep)
    (zhang,) = contacts_by_name().values()
    assert (zhang.mobile, zhang.email, zhang.title) == ("+8613800138000", "zw@x.cn", "经理")
    assert tags_of(zhang) == ["朋友", "重要客户"]


def test_duplicates_against_the_database_fill_empty_fields_only(tmp_path: Path, people: People, make_account) -> None:
    account = make_account(people.rep, "上海华信科技有限公司")
    existing = create_contact(people.rep, account, "张伟", mobile="138 0013 8000", title="采购经理")
    hidden = create_contact(people.outsider, make_account(people.outsider, "Globex"), "李娜", email="lina@x.cn")
    db.session.commit()
    rows = [
        ["姓名", "手机", "邮箱", "职位", "公司"],
        ["张伟", "13800138000", "zw@x.cn", "总监", "别的公司"],  # merges: e-mail filled, title kept
        ["李娜", "", "LiNa@x.cn", "", ""],  # another team's contact: not seen, so created for the rep
    ]
    path = write_csv(tmp_path / "x.csv", rows)
    with plan_file(path, people.rep) as plan:
        assert plan.counts == {CREATE: 1, MERGE: 1, SKIP: 0}
    run(path, people.rep)
    db.session.expire_all()
    zhang = db.session.get(Contact, existing.id)
    assert (zhang.email, zhang.title, zhang.account_id) == ("zw@x.cn", "采购经理", account.id)
    assert db.session.get(Contact, hidden.id).account.owner_id == people.outsider.id
    assert db.session.scalar(select(func.count()).select_from(Contact).where(Contact.name == "李娜")) == 2
    # the same file again adds nothing
    with plan_file(path, people.rep) as plan:
        assert plan.counts == {CREATE: 0, MERGE: 0, SKIP: 2}


def test_a_bad_row_in_the_middle_imports_nothing_and_names_the_row(tmp_path: Path, people: People) -> None:
    rows = [HEADER] + [[f"客户{i}", f"1380013{i:04d}", "华信", "", "", ""] for i in range(1, 50)]
    rows[25] = ["", "12345", "华信", "not-an-email", "", ""]
    path = write_csv(tmp_path / "x.csv", rows, encoding="gb18030")
    with plan_file(path, people.rep) as plan, pytest.raises(BadRows) as refused:
        write_contacts(plan, via="cli", actor=None, filename="x.csv")
    db.session.rollback()
    assert "line 26" in refused.value.message
    (bad,) = refused.value.rows
    assert bad.line == 26 and len(bad.reasons) == 3  # the phone, the e-mail, no name
    assert db.session.scalar(select(func.count()).select_from(Contact)) == 0
    assert db.session.scalar(select(func.count()).select_from(Account)) == 0


def test_too_long_values_are_bad_rows(tmp_path: Path, people: People) -> None:
    rows = [["Name", "Title"], ["A" * 101, ""], ["B", "T" * 101]]
    with plan_file(write_csv(tmp_path / "x.csv", rows), people.rep) as plan:
        assert [r.line for r in plan.bad_rows] == [2, 3]
        assert all("100" in r.reasons[0] for r in plan.bad_rows)


def test_xlsx_with_numbers_and_dates(tmp_path: Path, people: People) -> None:
    from datetime import date, datetime

    rows = [["Full Name", "Mobile Phone", "Organization", "Birthday"]]
    rows.append(["Ann", 13800138000, "Acme", datetime(1985, 3, 15)])
    rows.append(["Bo", "139-1234-5678", "Acme", date(1990, 1, 2)])
    run(write_xlsx(tmp_path / "contacts.xlsx", rows), people.rep)
    found = contacts_by_name()
    assert found["Ann"].mobile == "+8613800138000" and found["Ann"].birthday == date(1985, 3, 15)
    assert found["Bo"].birthday == date(1990, 1, 2)


def test_first_and_last_name_columns_and_overrides(tmp_path: Path, people: People) -> None:
    rows = [["First Name", "Last Name", "Tel 2", "Company"], ["Wei", "Zhang", "13800138000", "Acme"]]
    path = write_csv(tmp_path / "x.csv", rows)
    run(path, people.rep, overrides={"mobile": "Tel 2", "company": ""})
    wei = contacts_by_name()["Wei Zhang"]
    assert wei.mobile == "+8613800138000" and wei.account.kind == "b2c"


def test_the_real_run_is_audited(tmp_path: Path, people: People) -> None:
    run(write_csv(tmp_path / "通讯录.csv", ROWS), people.rep)
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "import_contacts"))
    assert event.details["file"] == "通讯录.csv" and event.details["created"] == 3
    assert event.details["accounts_created"] == 3  # two companies and one person
