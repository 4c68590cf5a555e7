"""The group view (seed 001: 家人, 朋友, 重要客户, 普通用户, 集团客户 …): the contacts that carry a tag."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from pipeline.accounts.models import Contact
from pipeline.accounts.tags import contact_has_tag
from pipeline.auth.models import User
from pipeline.auth.scope import accounts_visible_to
from pipeline.extensions import db


def contacts_in_group(
    user: User, tag: str | None, *, before: int | None = None, size: int = 50
) -> tuple[list[Contact], bool]:
    """A page of the contacts `user` may see (in the group `tag`, when given), newest first; and whether more follow."""
    query = (
        select(Contact)
        .join(Contact.account)
        .options(joinedload(Contact.account), selectinload(Contact.tags))
        .where(accounts_visible_to(user))
        .order_by(Contact.id.desc())
        .limit(size + 1)
    )
    if tag:
        query = query.where(contact_has_tag(tag))
    if before is not None:
        query = query.where(Contact.id < before)
    found = list(db.session.scalars(query))
    return found[:size], len(found) > size
