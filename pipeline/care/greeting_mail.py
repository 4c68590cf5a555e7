"""Holiday greetings by e-mail: one personal mail per contact through the configured SMTP server."""

from __future__ import annotations

import logging
import smtplib
from dataclasses import dataclass, field

from pipeline.activities.services import log_activity
from pipeline.auth.models import User
from pipeline.care.greetings import MAIL_ACTION, Recipient, RecipientFilter, audit, check_greeting, personal, recipients
from pipeline.core.errors import InvalidInput
from pipeline.exports.mail import new_message, smtp_session
from pipeline.exports.mail import recipients as check_addresses

log = logging.getLogger(__name__)


@dataclass
class MailResult:
    """What a bulk send did: who got the greeting, whose address the server refused, and why it stopped early."""

    sent: list[Recipient] = field(default_factory=list)
    refused: list[Recipient] = field(default_factory=list)
    skipped: int = 0  # contacts without a usable e-mail address
    stopped: str | None = None  # the server failed part-way: the rest were not sent


def _addressable(people: list[Recipient]) -> tuple[list[Recipient], int]:
    """The contacts whose e-mail is one address, and how many others were left out."""
    usable = []
    for person in people:
        try:
            check_addresses(person.email)
        except InvalidInput:
            continue
        if "," in person.email or ";" in person.email:
            continue
        usable.append(person)
    return usable, len(people) - len(usable)


def mail_greetings(
    user: User, holiday: str, subject: str, greeting: str, wanted: RecipientFilter, *, via: str
) -> MailResult:
    """Mail each matching contact their greeting; each sent one is logged as an e-mail touch on the contact, and the
    send is in the audit log (the caller commits). Sent mails cannot be taken back, so the record keeps what was sent
    even when the server fails part-way."""
    text = check_greeting(greeting)
    subject = subject.strip()
    if not subject:
        raise InvalidInput({"subject": "give the mail a subject"})
    usable, skipped = _addressable(recipients(user, wanted))
    result = MailResult(skipped=skipped)
    if usable:
        try:
            with smtp_session() as smtp:
                for person in usable:
                    try:
                        smtp.send_message(new_message([person.email], subject, personal(text, person.name)))
                    except smtplib.SMTPRecipientsRefused:
                        result.refused.append(person)
                    else:
                        result.sent.append(person)
        except (smtplib.SMTPException, OSError) as exc:
            log.warning("greetings: the mail server failed after %d mails: %s", len(result.sent), exc)
            result.stopped = str(exc) or exc.__class__.__name__
    for person in result.sent:
        log_activity(
            user,
            "email",
            f"{subject}：{personal(text, person.name)}",
            account_id=person.account_id,
            contact_id=person.contact_id,
        )
    audit(
        MAIL_ACTION,
        user,
        via,
        holiday,
        wanted,
        len(result.sent),
        refused=len(result.refused),
        skipped=skipped,
        stopped=result.stopped,
    )
    return result
