"""Send an export by mail through the configured SMTP server (the standard library's smtplib does it well)."""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from pathlib import Path

from flask import current_app

from pipeline.core.errors import InvalidInput


def recipients(text: str) -> list[str]:
    """ "a@x.com, b@y.com" as a list of addresses; InvalidInput names the first that is not one."""
    found = [part.strip() for part in text.replace(";", ",").split(",") if part.strip()]
    if not found:
        raise InvalidInput({"mail_to": "give at least one address, such as lead@example.com"})
    for address in found:
        name, parsed = parseaddr(address)
        local, at, domain = parsed.rpartition("@")
        # The whole text must be the address: parseaddr finds one inside "a@x.com\nBcc: …" or "a@x.com>" too.
        if parsed != address or name or not at or not local or "." not in domain or " " in parsed:
            raise InvalidInput({"mail_to": f"{address!r} is not an e-mail address"})
    return found


def send_file(
    to: Sequence[str], subject: str, body: str, attachment: Path, filename: str, media_type: str
) -> dict[str, tuple[int, bytes]]:
    """Mail `attachment` to `to`; return the recipients the server refused (it raises when it refuses them all).

    A file over PIPELINE_MAIL_MAX_BYTES is refused before connecting.
    """
    config = current_app.config
    limit = int(config["PIPELINE_MAIL_MAX_BYTES"])
    size = attachment.stat().st_size
    if size > limit:
        raise InvalidInput(
            {"mail_to": f"the file is {size:,} bytes, over the {limit:,} a mail may carry; export one team per mail"}
        )
    message = new_message(to, subject, body)
    maintype, _, subtype = media_type.partition(";")[0].partition("/")
    message.add_attachment(attachment.read_bytes(), maintype=maintype, subtype=subtype, filename=filename)
    with smtp_session() as smtp:
        return smtp.send_message(message)


def new_message(to: Sequence[str], subject: str, body: str) -> EmailMessage:
    """A plain-text message from the configured sender, dated and with its own Message-ID."""
    config = current_app.config
    message = EmailMessage()
    message["From"] = config["PIPELINE_MAIL_FROM"]
    message["To"] = ", ".join(to)
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=str(config["PIPELINE_MAIL_FROM"]).rpartition("@")[2] or None)
    message.set_content(body)
    return message


@contextmanager
def smtp_session() -> Iterator[smtplib.SMTP]:
    """A connection to the configured SMTP server (TLS and sign-in as configured), closed when the block ends."""
    config = current_app.config
    security = config["PIPELINE_SMTP_SECURITY"]
    host, port, timeout = config["PIPELINE_SMTP_HOST"], int(config["PIPELINE_SMTP_PORT"]), 60
    context = ssl.create_default_context()
    smtp = (
        smtplib.SMTP_SSL(host, port, timeout=timeout, context=context)
        if security == "ssl"
        else smtplib.SMTP(host, port, timeout=timeout)
    )
    with smtp:
        if security == "starttls":
            smtp.starttls(context=context)
        if config.get("PIPELINE_SMTP_USER"):
            smtp.login(config["PIPELINE_SMTP_USER"], config.get("PIPELINE_SMTP_PASSWORD") or "")
        yield smtp
