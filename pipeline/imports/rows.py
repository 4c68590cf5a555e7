"""One file row as a contact: each mapped cell cleaned, or every reason the row cannot be imported."""

from __future__ import annotations

from datetime import date
from typing import NamedTuple

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from pipeline.accounts.models import Account, Contact, Tag
from pipeline.imports import values
from pipeline.imports.values import BadValue

# What a contact file's columns may feed, in the order the preview shows the mapping.
CONTACT_FIELDS = (
    "name",
    "first_name",
    "last_name",
    "mobile",
    "phone",
    "email",
    "company",
    "title",
    "address",
    "birthday",
    "notes",
    "tags",
)
FIELD_LABELS = {
    "name": _l("Name"),
    "first_name": _l("First name"),
    "last_name": _l("Last name"),
    "mobile": _l("Mobile"),
    "phone": _l("Phone"),
    "email": _l("E-mail"),
    "company": _l("Company"),
    "title": _l("Title"),
    "address": _l("Address"),
    "birthday": _l("Birthday"),
    "notes": _l("Notes"),
    "tags": _l("Groups and tags"),
}
# The fields a later row or an import may fill in on an existing contact, when the contact has none.
FILLABLE = ("title", "mobile", "phone", "email", "birthday", "address", "notes")
LIMITS = {c.key: c.type.length for c in Contact.__table__.columns if getattr(c.type, "length", None)}
COMPANY_LIMIT = Account.__table__.c.name.type.length
TAG_LIMIT = Tag.__table__.c.name.type.length
BAD_CARD = "\x00"  # a vCard reader's marker: the rest of the cell is why the card could not be read


class Candidate(NamedTuple):
    """A clean row, ready to become a contact (or to fill in one)."""

    line: int
    name: str
    title: str
    mobile: str
    phone: str
    email: str
    birthday: date | None
    address: str
    notes: str
    company: str  # as first written in the file; "" for a person without a company
    tags: tuple[str, ...]

    def filled(self) -> int:
        """A bit per FILLABLE field this row has a value for."""
        return sum(1 << i for i, f in enumerate(FILLABLE) if getattr(self, f))


def _shown(value: str) -> str:
    return value if len(value) <= 40 else value[:39] + "…"


def _problem(field: str, problem: str, value: str) -> str:
    label = FIELD_LABELS.get(field, field)
    if value:
        return _("%(field)s: %(problem)s (%(value)s)", field=label, problem=problem, value=_shown(value))
    return _("%(field)s: %(problem)s", field=label, problem=problem)


def read_candidate(line: int, cells: list[str], mapping: dict[str, int]) -> Candidate | list[str]:
    """The row as a Candidate, or the list of everything wrong with it."""
    if cells and cells[0].startswith(BAD_CARD):
        return [_("the card cannot be read: %(why)s", why=cells[0][1:])]
    raw = {field: (cells[i] if i < len(cells) else "") for field, i in mapping.items()}
    reasons: list[str] = []
    out: dict[str, object] = {}

    def take(field: str, clean: object) -> None:
        value = raw.get(field, "")
        try:
            out[field] = clean(value) if value else ("" if field != "birthday" else None)  # type: ignore[operator]
        except BadValue as exc:
            out[field] = ""
            reasons.append(_problem(field, str(exc), value))

    for field in ("name", "first_name", "last_name", "title", "company"):  # full-width letters folded
        take(field, values.folded)
    for field in ("address", "notes"):  # kept as written (only trimmed): full-width punctuation is Chinese text
        take(field, values.text)
    take("mobile", values.phone)
    take("phone", values.office_phone)
    take("email", values.email)
    take("birthday", values.day)
    take("tags", values.tags)
    name = str(out.get("name") or "")
    if not name:
        first, last = str(out.get("first_name") or ""), str(out.get("last_name") or "")
        joined = last + first if values.CJK.search(last + first) else f"{first} {last}"
        name = joined.strip()
    if not name:
        reasons.append(_("no name"))
    for field in ("name", "title", "mobile", "phone", "email", "address"):
        value = name if field == "name" else str(out.get(field) or "")
        if len(value) > LIMITS[field]:
            reasons.append(_problem(field, _("too long: at most %(n)s characters", n=LIMITS[field]), value))
    company = str(out.get("company") or "")
    if len(company) > COMPANY_LIMIT:
        reasons.append(_problem("company", _("too long: at most %(n)s characters", n=COMPANY_LIMIT), company))
    tags = out.get("tags") or ()
    for tag in tags:  # type: ignore[union-attr]
        if len(tag) > TAG_LIMIT:
            reasons.append(_problem("tags", _("too long: at most %(n)s characters", n=TAG_LIMIT), tag))
    if reasons:
        return reasons
    return Candidate(
        line,
        name,
        str(out["title"]),
        str(out["mobile"]),
        str(out["phone"]),
        str(out["email"]),
        out["birthday"],  # type: ignore[arg-type]
        str(out["address"]),
        str(out["notes"]),
        company,
        tuple(tags),  # type: ignore[arg-type]
    )
