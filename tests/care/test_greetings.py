"""Holiday greetings in bulk: the CSV an SMS tool imports (cells neutralised), the mails, the audit, the scope."""

from __future__ import annotations

import csv
import io
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from pipeline.accounts.models import Account, Tag
from pipeline.activities.models import Activity
from pipeline.auth.models import User
from pipeline.care.greetings import RecipientFilter, recipients, write_greetings_file
from pipeline.core.audit import AuditEvent
from pipeline.extensions import db
from tests.care.conftest import contact
from tests.conftest import People
from tests.pages import plain, text

GREETING = "{name}，新春快乐！"


@pytest.fixture
def customers(people: People, make_account: Callable[..., Account]) -> dict[str, Any]:
    """王芳's contacts (some with formula-like names), one tagged 重要客户 through its account; 外队's contact."""
    vip = Tag(name="重要客户")
    db.session.add(vip)
    big = make_account(people.rep, "华信科技", relationship_level="partnership")
    big.tags.append(vip)
    small = make_account(people.rep, "小微商贸", kind="b2c")
    found = {
        "formula": contact(big, "=1+1", mobile="138-0000-0001", email="f@example.com"),
        "plus": contact(big, "+SUM(A1)", mobile="+86 138 0000 0002"),
        "at": contact(small, "@张三", mobile="13800000003", email="zhang@example.com"),
        "dash": contact(small, "-李四", mobile="=HYPERLINK(1)"),
        "plain": contact(small, "王总", mobile="", email="wang@example.com"),
        "outsider": contact(
            make_account(people.outsider, "外队客户"), "外队联系人", mobile="13900000000", email="out@example.com"
        ),
    }
    db.session.commit()
    return {"vip": vip, **found}


def rows_of(response: Any) -> list[list[str]]:
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.data.startswith(b"\xef\xbb\xbf")  # the BOM Excel needs to read UTF-8
    return list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"), newline="")))


def post(client: FlaskClient, url: str, **fields: Any) -> Any:
    data = {
        "holiday": "spring_festival",
        "tag_id": "",
        "kind": "",
        "relationship_level": "",
        "greeting": GREETING,
        "subject": "春节问候",
    }
    return client.post(url, data={**data, **fields})


def test_the_csv_has_name_mobile_greeting_with_formulas_neutralised(
    people: People, customers: dict[str, Any], browser: Callable[[User], FlaskClient]
) -> None:
    rows = rows_of(post(browser(people.rep), "/care/greetings/csv?lang=en"))
    assert rows[0] == ["Contact name", "Mobile", "Greeting"]
    assert sorted(rows[1:]) == sorted(
        [
            ["'=1+1", "13800000001", "'=1+1，新春快乐！"],
            ["'+SUM(A1)", "13800000002", "'+SUM(A1)，新春快乐！"],
            ["'@张三", "13800000003", "'@张三，新春快乐！"],
            ["'-李四", "'=HYPERLINK(1)", "'-李四，新春快乐！"],
        ]
    )  # 王总 has no mobile; 外队联系人 is out of reach
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "care.greetings_csv")).one()
    assert (event.user_id, event.via, event.details["count"], event.details["holiday"]) == (
        people.rep.id,
        "web",
        4,
        "spring_festival",
    )


def test_the_filters_pick_by_tag_kind_and_level(
    people: People, customers: dict[str, Any], browser: Callable[[User], FlaskClient]
) -> None:
    client = browser(people.rep)
    by_tag = rows_of(post(client, "/care/greetings/csv", tag_id=str(customers["vip"].id)))
    assert sorted(r[0] for r in by_tag[1:]) == ["'+SUM(A1)", "'=1+1"]
    by_kind = rows_of(post(client, "/care/greetings/csv", kind="b2c"))
    assert sorted(r[0] for r in by_kind[1:]) == ["'-李四", "'@张三"]
    by_level = rows_of(post(client, "/care/greetings/csv", relationship_level="partnership"))
    assert len(by_level) == 3


def test_an_empty_greeting_is_refused_naming_the_field(
    people: People, customers: dict[str, Any], browser: Callable[[User], FlaskClient]
) -> None:
    response = post(browser(people.rep), "/care/greetings/csv", greeting="   ")
    assert response.status_code == 422
    assert 'href="#greeting"' in text(response)
    assert db.session.scalar(select(AuditEvent.id).where(AuditEvent.action.startswith("care.greetings"))) is None


def test_the_file_is_written_under_a_temporary_name_then_renamed(
    people: People, customers: dict[str, Any], tmp_path: Path
) -> None:
    (tmp_path / "out").mkdir()
    target = tmp_path / "out" / "greetings.csv"
    count = write_greetings_file(GREETING, recipients(people.rep, RecipientFilter()), target)
    assert count == 4 and target.exists()
    assert [p.name for p in target.parent.iterdir()] == ["greetings.csv"]  # no .part left behind


# ---- By e-mail, through a real SMTP server on loopback ---------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Inbox:
    envelopes: list[Any] = field(default_factory=list)
    unknown: set[str] = field(default_factory=set)

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if address in self.unknown:
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"

    def messages(self) -> list[EmailMessage]:
        return [message_from_bytes(e.content, policy=policy.default) for e in self.envelopes]  # type: ignore[misc]


@pytest.fixture
def smtp(app: Flask) -> Iterator[Inbox]:
    inbox, port = Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    app.config.update(PIPELINE_SMTP_HOST="127.0.0.1", PIPELINE_SMTP_PORT=port, PIPELINE_MAIL_FROM="crm@example.com")
    try:
        yield inbox
    finally:
        controller.stop()


def test_each_contact_gets_a_personal_mail_logged_as_an_email_touch(
    people: People, customers: dict[str, Any], browser: Callable[[User], FlaskClient], smtp: Inbox
) -> None:
    smtp.unknown.add("zhang@example.com")
    response = post(browser(people.rep), "/care/greetings/mail")
    assert response.status_code == 302
    got = {m["To"]: m for m in smtp.messages()}
    assert sorted(got) == ["f@example.com", "wang@example.com"]  # zhang refused; no address for the others
    assert got["wang@example.com"].get_content().strip() == "王总，新春快乐！"
    assert got["f@example.com"]["Subject"] == "春节问候" and got["f@example.com"]["From"] == "crm@example.com"
    touches = db.session.scalars(select(Activity).where(Activity.kind == "email")).all()
    assert sorted(a.contact_id for a in touches) == sorted([customers["formula"].id, customers["plain"].id])
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "care.greetings_mail")).one()
    assert (event.details["count"], event.details["refused"], event.details["skipped"]) == (2, 1, 2)
    assert "out@example.com" not in got


def test_a_lead_greets_the_team_never_the_other_team(
    people: People, customers: dict[str, Any], browser: Callable[[User], FlaskClient], smtp: Inbox
) -> None:
    post(browser(people.lead), "/care/greetings/mail")
    assert "out@example.com" not in {m["To"] for m in smtp.messages()}
    assert len(smtp.messages()) == 3


def test_a_server_that_is_down_is_reported_and_nothing_is_logged_as_sent(
    people: People, customers: dict[str, Any], browser: Callable[[User], FlaskClient], app: Flask
) -> None:
    app.config.update(PIPELINE_SMTP_HOST="127.0.0.1", PIPELINE_SMTP_PORT=free_port())
    client = browser(people.rep)
    response = post(client, "/care/greetings/mail")
    assert response.status_code == 302
    assert db.session.scalar(select(Activity.id).where(Activity.kind == "email")) is None
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "care.greetings_mail")).one()
    assert event.details["count"] == 0 and event.details["stopped"]
    assert "0" in plain(text(client.get("/care/greetings")))
