"""Holiday greetings to many customers at once (seed 001): the recipients, the CSV an SMS tool imports, the mails."""

from __future__ import annotations

import io
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from flask_babel import gettext as _
from sqlalchemy import exists, or_, select

from pipeline.accounts.models import Account, Contact, account_tags, contact_tags
from pipeline.accounts.scales import RELATIONSHIP_KEYS
from pipeline.auth.models import User
from pipeline.auth.scope import accounts_visible_to
from pipeline.core.audit import record
from pipeline.core.errors import InvalidInput
from pipeline.exports.cells import TEXT, Column
from pipeline.exports.csvfile import ENCODING, write_csv
from pipeline.exports.files import atomic_path
from pipeline.exports.sheets import Sheet
from pipeline.extensions import db

NAME_SLOT = "{name}"
MAX_GREETING = 500  # a long SMS is split in parts of 70 characters; 500 is already seven
CSV_ACTION, MAIL_ACTION = "care.greetings_csv", "care.greetings_mail"
PHONE_ONLY = re.compile(r"^\+?[\d\s()-]+$")


@dataclass(frozen=True)
class RecipientFilter:
    """Whom to greet: a tag or group (on the contact or its account), an account kind, a relationship level."""

    tag_id: int | None = None
    kind: str | None = None
    relationship_level: str | None = None


@dataclass(frozen=True)
class Recipient:
    """A contact to greet and how to reach them."""

    contact_id: int
    account_id: int
    name: str
    account_name: str
    mobile: str
    email: str


def recipients(user: User, wanted: RecipientFilter) -> list[Recipient]:
    """The contacts in the user's scope matching the filter, of accounts that have not left (one query)."""
    query = (
        select(Contact.id, Contact.account_id, Contact.name, Account.name, Contact.mobile, Contact.email)
        .join(Account, Account.id == Contact.account_id)
        .where(accounts_visible_to(user), Account.churned_on.is_(None))
        .order_by(Account.name, Contact.name, Contact.id)
    )
    if wanted.kind:
        query = query.where(Account.kind == wanted.kind)
    if wanted.relationship_level:
        query = query.where(Account.relationship_level == wanted.relationship_level)
    if wanted.tag_id is not None:
        on_contact = exists().where(contact_tags.c.contact_id == Contact.id, contact_tags.c.tag_id == wanted.tag_id)
        on_account = exists().where(account_tags.c.account_id == Account.id, account_tags.c.tag_id == wanted.tag_id)
        query = query.where(or_(on_contact, on_account))
    return [Recipient(*row) for row in db.session.execute(query)]


def check_greeting(text: str) -> str:
    """The greeting as typed, refused (naming the field) when empty or too long for a few SMS parts."""
    text = text.strip()
    if not text:
        raise InvalidInput({"greeting": "write the greeting; {name} becomes each contact's name"})
    if len(text) > MAX_GREETING:
        raise InvalidInput({"greeting": f"at most {MAX_GREETING} characters"})
    return text


def personal(greeting: str, name: str) -> str:
    """The greeting with the contact's name in place of {name} (nothing else in it is interpreted)."""
    return greeting.replace(NAME_SLOT, name)


def sms_number(mobile: str) -> str:
    """A mobile as SMS tools take it: a Chinese number as its 11 digits, another as 00<country><number>; text that
    is not a phone number is left to the CSV writer, which neutralises it."""
    text = mobile.strip()
    if not PHONE_ONLY.match(text):
        return text
    digits = re.sub(r"\D", "", text)
    if text.startswith("+"):
        return digits[2:] if digits.startswith("86") else "00" + digits
    return digits


def greeting_sheet(greeting: str, people: list[Recipient]) -> Sheet:
    """The CSV's columns (name, mobile, greeting) and one row per contact with a mobile."""
    columns = [
        Column(lambda: _("Contact name"), TEXT),
        Column(lambda: _("Mobile"), TEXT),
        Column(lambda: _("Greeting"), TEXT),
    ]

    def rows() -> Iterator[tuple[Any, ...]]:
        for person in people:
            if person.mobile.strip():
                yield (person.name, sms_number(person.mobile), personal(greeting, person.name))

    return Sheet("greetings", columns, rows())


def write_greetings(greeting: str, people: list[Recipient], out: IO[bytes]) -> int:
    """Write the CSV (UTF-8 with BOM for Excel, formula-like cells neutralised) to `out`; return the rows."""
    text = io.TextIOWrapper(out, encoding=ENCODING, newline="")
    try:
        return write_csv(greeting_sheet(greeting, people), text)
    finally:
        text.flush()
        text.detach()


def write_greetings_file(greeting: str, people: list[Recipient], target: Path) -> int:
    """Write the CSV to `target`, which appears only once complete (a temporary name, then a rename)."""
    with atomic_path(target) as tmp, open(tmp, "wb") as out:
        return write_greetings(greeting, people, out)


def greetings_csv(
    user: User, holiday: str, greeting: str, wanted: RecipientFilter, *, via: str
) -> tuple[IO[bytes], int]:
    """The CSV in an anonymous temporary file, rewound, and its row count; the export is in the audit log."""
    text = check_greeting(greeting)
    people = recipients(user, wanted)
    out = tempfile.TemporaryFile()  # noqa: SIM115  (outlives this call: the response closes it once sent)
    try:
        rows = write_greetings(text, people, out)
        audit(CSV_ACTION, user, via, holiday, wanted, rows)
        out.seek(0)
    except BaseException:
        out.close()
        raise
    return out, rows


def audit(
    action: str, user: User | None, via: str, holiday: str, wanted: RecipientFilter, count: int, **more: Any
) -> None:
    """Record who greeted how many of whom, for which holiday (the caller commits)."""
    record(
        action,
        via=via,
        user=user,
        holiday=holiday,
        tag_id=wanted.tag_id,
        kind=wanted.kind,
        relationship_level=wanted.relationship_level,
        count=count,
        **more,
    )


def check_filter(kind: str | None, level: str | None) -> None:
    """Refuse an unknown account kind or relationship level, naming the field."""
    if kind and kind not in ("b2b", "b2c"):
        raise InvalidInput({"kind": "b2b or b2c"})
    if level and level not in RELATIONSHIP_KEYS:
        raise InvalidInput({"relationship_level": f"one of {', '.join(RELATIONSHIP_KEYS)}"})
