"""Groups and tags (重要客户, 集团客户, 家人, 朋友 …): as many as people like, named by them, shared by everyone."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from sqlalchemy import ColumnElement, exists, func, or_, select

from pipeline.accounts.models import Account, Contact, Tag, account_tags, contact_tags
from pipeline.auth.models import User
from pipeline.auth.scope import accounts_visible_to
from pipeline.core.changelog import log_change
from pipeline.core.errors import InvalidInput
from pipeline.extensions import db

TAG_MAX = Tag.__table__.c.name.type.length  # 50, read from the table so the check and the column agree
# Commas (half- or full-width: NFKC folds "，" to ","), semicolons and the enumeration comma 、 separate tags.
SEPARATORS = re.compile(r"[,;、\n]")


def tag_name(text: str) -> str:
    """A tag as stored: full-width letters and digits folded (NFKC), trimmed, inner spaces collapsed.

    Control characters (NUL, ESC …) are dropped: no one means them in a name, and PostgreSQL refuses NUL in text.
    """
    folded = unicodedata.normalize("NFKC", text)
    return " ".join("".join(" " if unicodedata.category(ch) == "Cc" else ch for ch in folded).split())


def tag_key(text: str) -> str:
    """What makes two tags the same one: their name ignoring case and character width."""
    return tag_name(text).casefold()


def split_tags(text: str | Iterable[str]) -> list[str]:
    """Each tag named in `text` (comma-separated, or a list), cleaned, once each, in the order typed."""
    parts = SEPARATORS.split(unicodedata.normalize("NFKC", text)) if isinstance(text, str) else list(text)
    names: dict[str, str] = {}
    for part in parts:
        name = tag_name(str(part))
        if name:
            names.setdefault(name.casefold(), name)
    return list(names.values())


def too_long(names: list[str]) -> str | None:
    """The first name over the length limit, shortened for a message; None when all fit."""
    over = [n for n in names if len(n) > TAG_MAX]
    return f"{over[0][:20]}…" if over else None


def parse_tags(text: str | Iterable[str], field: str = "tags") -> list[str]:
    """The tags named in `text`, refusing one longer than the column holds (the message quotes it)."""
    names = split_tags(text)
    long_one = too_long(names)
    if long_one:
        raise InvalidInput({field: f"“{long_one}” is longer than {TAG_MAX} characters"})
    return names


def _cased_beyond_ascii(name: str) -> bool:
    """Whether the name has a letter outside ASCII that has an upper and a lower case (Chinese has none)."""
    return any(not ch.isascii() and ch.upper() != ch.lower() for ch in name)


def find_or_create(names: list[str]) -> list[Tag]:
    """The tags with these names, reusing an existing tag that differs only in case or width."""
    if not names:
        return []
    wanted = {n.casefold(): n for n in names}
    # lower() narrows the candidates in SQL; casefold() decides, the same way on SQLite and PostgreSQL.
    lowered = {n.lower() for n in names}
    found = {t.name.casefold(): t for t in db.session.scalars(select(Tag).where(func.lower(Tag.name).in_(lowered)))}
    if any(_cased_beyond_ascii(k) for k in wanted if k not in found):
        for tag in db.session.scalars(select(Tag)):  # SQLite's lower() leaves É, Ä … alone: compare them here
            found.setdefault(tag.name.casefold(), tag)
    tags = []
    for key, name in wanted.items():
        tag = found.get(key)
        if tag is None:
            tag = Tag(name=name)
            db.session.add(tag)
            found[key] = tag
        tags.append(tag)
    db.session.flush()
    return tags


def _joined(tags: list[Tag]) -> str:
    return ", ".join(sorted(t.name for t in tags))


def set_tags(actor: User, record: Account | Contact, names: list[str]) -> bool:
    """Give the account or contact exactly these tags, logging the change (who, when, from what to what)."""
    tags = find_or_create(parse_tags(names))
    if {t.id for t in tags} == {t.id for t in record.tags}:
        return False
    entity = "account" if isinstance(record, Account) else "contact"
    log_change(entity, record.id, "tags", _joined(record.tags) or None, _joined(tags) or None, actor.id)
    record.tags = sorted(tags, key=lambda t: t.name)
    db.session.flush()
    return True


def account_has_tag(key: str) -> ColumnElement[bool]:
    """Accounts carrying the tag named `key` (any case or width)."""
    return exists().where(account_tags.c.account_id == Account.id, account_tags.c.tag_id == Tag.id, _tag_is(key))


def contact_has_tag(key: str) -> ColumnElement[bool]:
    """Contacts carrying the tag named `key` (any case or width)."""
    return exists().where(contact_tags.c.contact_id == Contact.id, contact_tags.c.tag_id == Tag.id, _tag_is(key))


def _tag_is(name: str) -> ColumnElement[bool]:
    cleaned = tag_name(name)
    return or_(Tag.name == cleaned, func.lower(Tag.name) == cleaned.lower())


def tags_in_use(user: User) -> list[tuple[str, int, int]]:
    """Every tag on an account or contact `user` may see: (name, accounts, contacts), by name."""
    visible = select(Account.id).where(accounts_visible_to(user))
    on_accounts = (
        select(account_tags.c.tag_id, func.count().label("n"))
        .where(account_tags.c.account_id.in_(visible))
        .group_by(account_tags.c.tag_id)
        .subquery()
    )
    on_contacts = (
        select(contact_tags.c.tag_id, func.count().label("n"))
        .join(Contact, Contact.id == contact_tags.c.contact_id)
        .where(Contact.account_id.in_(visible))
        .group_by(contact_tags.c.tag_id)
        .subquery()
    )
    rows = db.session.execute(
        select(Tag.name, func.coalesce(on_accounts.c.n, 0), func.coalesce(on_contacts.c.n, 0))
        .outerjoin(on_accounts, on_accounts.c.tag_id == Tag.id)
        .outerjoin(on_contacts, on_contacts.c.tag_id == Tag.id)
        .where(or_(on_accounts.c.n.is_not(None), on_contacts.c.n.is_not(None)))
        .order_by(Tag.name)
    )
    return [(name, int(a), int(c)) for name, a, c in rows]
