"""`pipeline care greetings`: the CSV for an SMS tool from the command line, in one user's scope, audited."""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path

from flask.testing import FlaskCliRunner
from sqlalchemy import select

from pipeline.accounts.models import Account
from pipeline.core.audit import AuditEvent
from pipeline.extensions import db
from tests.care.conftest import contact
from tests.conftest import People, refused


def test_writes_the_users_contacts_greetings_and_audits_it(
    people: People, make_account: Callable[..., Account], runner: FlaskCliRunner, tmp_path: Path
) -> None:
    contact(make_account(people.rep, "华信科技"), "刘洋", mobile="+86 139 1111 2222")
    contact(make_account(people.outsider, "外队客户"), "外队联系人", mobile="13900000000")
    db.session.commit()
    out = tmp_path / "out" / "中秋.csv"
    out.parent.mkdir()
    result = runner.invoke(
        args=["care", "greetings", "--as", people.rep.email, "--holiday", "mid_autumn", "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(out.read_text(encoding="utf-8-sig").splitlines()))
    assert rows[1:] == [["刘洋", "13911112222", "刘洋，中秋快乐！月圆人团圆，祝您阖家幸福、事业兴旺！"]]
    event = db.session.scalars(select(AuditEvent)).one()
    assert (event.action, event.via, event.user_id, event.details["count"]) == (
        "care.greetings_csv",
        "cli",
        people.rep.id,
        1,
    )
    assert [p.name for p in out.parent.iterdir()] == ["中秋.csv"]


def test_an_unknown_user_or_tag_is_refused_on_one_line(people: People, runner: FlaskCliRunner, tmp_path: Path) -> None:
    out = str(tmp_path / "x.csv")
    refused(
        runner.invoke(args=["care", "greetings", "--as", "nobody@example.com", "--holiday", "qixi", "-o", out]),
        "--as",
        "nobody@example.com",
    )
    refused(
        runner.invoke(
            args=["care", "greetings", "--as", people.rep.email, "--holiday", "qixi", "--tag", "无", "-o", out]
        ),
        "--tag",
    )
    assert not Path(out).exists()
