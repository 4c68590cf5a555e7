"""Files shaped like the ones users bring: Excel and WPS CSVs in their encodings, phone vCards, workbooks."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook
from sqlalchemy import select

from pipeline.accounts.models import Account, Contact, Tag, contact_tags
from pipeline.extensions import db

HEADER = ["姓名", "手机", "公司", "邮箱", "职位", "分组"]


@pytest.fixture
def app_config() -> dict[str, Any]:
    """Commands and refusals in English, so the tests read the same before and after the catalogs grow."""
    return {"BABEL_DEFAULT_LOCALE": "en"}


def write_csv(
    path: Path,
    rows: Sequence[Sequence[str]],
    *,
    encoding: str = "utf-8",
    delimiter: str = ",",
    newline: str = "\r\n",
) -> Path:
    """Write rows as Excel does: every field quoted when it needs it, CRLF, in the given encoding (with BOM if -sig)."""

    def field(value: str) -> str:
        if any(c in value for c in (delimiter, '"', "\n", "\r")):
            return '"' + value.replace('"', '""') + '"'
        return value

    text = newline.join(delimiter.join(field(v) for v in row) for row in rows) + newline
    path.write_bytes(text.encode(encoding))
    return path


def write_xlsx(path: Path, rows: Sequence[Sequence[object]]) -> Path:
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(list(row))
    book.save(path)
    return path


def qp(text: str, charset: str = "utf-8") -> str:
    """Quoted-printable as Android writes it: every byte =XX, soft line breaks every 75 characters."""
    encoded = "".join(f"={b:02X}" for b in text.encode(charset))
    lines = [encoded[i : i + 72] for i in range(0, len(encoded), 72)]
    return "=\r\n".join(lines)


def contacts_by_name() -> dict[str, Contact]:
    db.session.expire_all()
    return {c.name: c for c in db.session.scalars(select(Contact))}


def account_names() -> list[str]:
    db.session.expire_all()
    return sorted(db.session.scalars(select(Account.name)))


def tags_of(contact: Contact) -> list[str]:
    query = select(Tag.name).join(contact_tags).where(contact_tags.c.contact_id == contact.id).order_by(Tag.name)
    return list(db.session.scalars(query))
