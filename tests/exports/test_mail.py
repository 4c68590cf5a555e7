"""`--mail-to`: the file goes through a real SMTP server on loopback (aiosmtpd), started and stopped by the test."""

from __future__ import annotations

import io
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from aiosmtpd.controller import Controller
from flask.testing import FlaskCliRunner
from sqlalchemy import select

from pipeline.core.audit import AuditEvent
from pipeline.deals.models import Deal
from pipeline.exports import cli, services
from pipeline.extensions import db
from tests.exports.conftest import MADE_AT, SHEETS, values

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Inbox:
    """Every envelope the server accepted."""

    envelopes: list[Any] = field(default_factory=list)
    unknown: set[str] = field(default_factory=set)  # mailboxes the server refuses (550)

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
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox, port = Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


@pytest.fixture
def app_config(smtp: tuple[Inbox, int]) -> dict[str, Any]:
    return {
        "PIPELINE_SMTP_HOST": "127.0.0.1",
        "PIPELINE_SMTP_PORT": smtp[1],
        "PIPELINE_SMTP_SECURITY": "none",
        "PIPELINE_MAIL_FROM": "pipeline@example.com",
    }


@pytest.fixture
def inbox(smtp: tuple[Inbox, int]) -> Inbox:
    return smtp[0]


@pytest.fixture(autouse=True)
def clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli, "utcnow", lambda: MADE_AT)
    monkeypatch.setattr(services, "utcnow", lambda: MADE_AT)


@pytest.fixture
def cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cwd"
    folder.mkdir()
    monkeypatch.chdir(folder)
    return folder


def export(runner: FlaskCliRunner, *args: str) -> Any:
    return runner.invoke(args=["export", "weekly", "--week", "2026-W10", *args])


def audit() -> list[AuditEvent]:
    db.session.rollback()
    return list(db.session.scalars(select(AuditEvent)))


def test_the_workbook_arrives_for_every_recipient(
    week: dict[str, Deal], runner: FlaskCliRunner, inbox: Inbox, cwd: Path, tmp_path: Path
) -> None:
    result = export(runner, "--mail-to", "a@x.com, b@y.com")
    assert result.exit_code == 0, result.output
    (envelope,) = inbox.envelopes
    assert envelope.mail_from == "pipeline@example.com"
    assert envelope.rcpt_tos == ["a@x.com", "b@y.com"]
    (message,) = inbox.messages()
    assert "2026-W10" in message["Subject"] and "全公司" in message["Subject"]
    assert message["To"] == "a@x.com, b@y.com" and message["From"] == "pipeline@example.com"
    body = message.get_body(("plain",)).get_content()
    assert "2026-W10" in body and "确认: 1 (-1)" in body
    (attachment,) = list(message.iter_attachments())
    assert attachment.get_filename() == "pipeline-2026-W10-全公司.xlsx"
    assert attachment.get_content_type() == XLSX_TYPE
    book = openpyxl.load_workbook(io.BytesIO(attachment.get_content()))
    assert book.sheetnames == SHEETS["zh"] and len(values(book["商机"])) == 6
    # Written to a temporary folder, mailed, removed: nothing left in the current folder.
    assert list(cwd.iterdir()) == []
    lines = result.stdout.splitlines()
    assert lines[0].startswith("wrote -: 汇总 15, 商机 6, 本周变化 9, 停滞 2 rows (")
    assert lines[1:] == ["mailed pipeline-2026-W10-全公司.xlsx to a@x.com, b@y.com"]
    (event,) = audit()
    assert event.details["mailed_to"] == ["a@x.com", "b@y.com"]
    assert event.details["file"] == "pipeline-2026-W10-全公司.xlsx" and event.details["kept"] is False


def test_a_csv_with_o_is_kept_and_mailed(
    week: dict[str, Deal], runner: FlaskCliRunner, inbox: Inbox, tmp_path: Path, cwd: Path
) -> None:
    target = cwd / "week.csv"
    result = export(runner, "--format", "csv", "-o", str(target), "--mail-to", "lead@example.com")
    assert result.exit_code == 0, result.output
    (message,) = inbox.messages()
    (attachment,) = list(message.iter_attachments())
    assert attachment.get_content_type() == "text/csv"
    assert attachment.get_filename() == "pipeline-2026-W10-全公司.csv"
    data = attachment.get_payload(decode=True)
    assert data == target.read_bytes() and data.startswith(b"\xef\xbb\xbf")
    assert audit()[0].details["file"] == "week.csv"


@pytest.mark.parametrize(
    "addresses",
    [
        "not-an-address",
        "a@x.com,bob",
        "a@x.com, @y.com",
        "张三 <a@x.com>",
        " , ",
        "a@x.com\nBcc: spy@evil.example",  # a second header smuggled in
        "a@x.com>",
    ],
)
def test_a_bad_address_exits_2_and_sends_nothing(
    week: dict[str, Deal], runner: FlaskCliRunner, inbox: Inbox, cwd: Path, addresses: str
) -> None:
    result = export(runner, "--mail-to", addresses)
    assert result.exit_code == 2, result.output
    assert "--mail-to" in result.stderr.strip().splitlines()[-1]
    assert inbox.envelopes == [] and list(cwd.iterdir()) == [] and audit() == []


def test_an_unreachable_server_exits_1_saying_it_could_not_mail(
    week: dict[str, Deal], runner: FlaskCliRunner, app: Any, cwd: Path
) -> None:
    app.config["PIPELINE_SMTP_PORT"] = free_port()  # nothing listens there
    result = export(runner, "--mail-to", "a@x.com")
    assert result.exit_code == 1, result.output
    line = result.stderr.strip()
    assert len(line.splitlines()) == 1 and "could not mail" in line and "pipeline-2026-W10-全公司.xlsx" in line
    assert f"127.0.0.1:{app.config['PIPELINE_SMTP_PORT']}" in line
    assert list(cwd.iterdir()) == [] and audit() == []


def test_a_file_over_the_mail_limit_is_refused(
    week: dict[str, Deal], runner: FlaskCliRunner, app: Any, inbox: Inbox, cwd: Path
) -> None:
    app.config["PIPELINE_MAIL_MAX_BYTES"] = 2000  # the workbook is several KB
    result = export(runner, "--mail-to", "a@x.com")
    assert result.exit_code != 0
    line = result.stderr.strip()
    assert len(line.splitlines()) == 1 and "2,000" in line and "bytes" in line
    assert inbox.envelopes == [] and list(cwd.iterdir()) == [] and audit() == []


def test_a_recipient_the_server_refuses_is_not_reported_as_mailed(
    week: dict[str, Deal], runner: FlaskCliRunner, inbox: Inbox, cwd: Path
) -> None:
    inbox.unknown = {"b@y.com"}  # a mistyped lead: the server takes the mail for a@x.com only
    result = export(runner, "--mail-to", "a@x.com,b@y.com")
    (envelope,) = inbox.envelopes
    assert envelope.rcpt_tos == ["a@x.com"]
    assert result.exit_code == 1, result.output  # cron must notice that someone did not get the file
    line = result.stderr.strip()
    assert len(line.splitlines()) == 1 and "b@y.com" in line and "550" in line
    assert "b@y.com" not in result.stdout
    # The file did go to a@x.com: the audit log says so, and only that.
    (event,) = audit()
    assert event.details["mailed_to"] == ["a@x.com"]


def test_a_server_refusing_every_recipient_is_a_failure_to_mail(
    week: dict[str, Deal], runner: FlaskCliRunner, inbox: Inbox, cwd: Path
) -> None:
    inbox.unknown = {"a@x.com"}
    result = export(runner, "--mail-to", "a@x.com")
    assert result.exit_code == 1 and inbox.envelopes == []
    line = result.stderr.strip()
    assert len(line.splitlines()) == 1 and "could not mail" in line and "a@x.com" in line
    assert audit() == [] and list(cwd.iterdir()) == []


def test_in_english_the_subject_text_and_attachment_are_english(
    week: dict[str, Deal], runner: FlaskCliRunner, inbox: Inbox, cwd: Path
) -> None:
    result = export(runner, "--lang", "en", "--mail-to", "boss@example.com")
    assert result.exit_code == 0, result.output
    (message,) = inbox.messages()
    assert message["Subject"] == "Pipeline 2026-W10: Whole company"
    body = message.get_body(("plain",)).get_content()
    assert "Qualify: 1 (-1)" in body and "Won 1, lost 1 this week." in body
    (attachment,) = list(message.iter_attachments())
    assert attachment.get_filename() == "pipeline-2026-W10-Whole-company.xlsx"
    assert openpyxl.load_workbook(io.BytesIO(attachment.get_content())).sheetnames == SHEETS["en"]
