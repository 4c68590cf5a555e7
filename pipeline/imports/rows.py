"""One file row as a contact: each mapped cell cleaned, or every reason the row cannot be imported."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any, NamedTuple

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
FILLABLE = ("title", "mobile", "phone", "email", "birthday", "address", "notes")  # Candidate.filled's bits, in order
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
        """A bit per FILLABLE field this row has a value for (written out: it runs for every created row)."""
        return (
            (1 if self.title else 0)
            | (2 if self.mobile else 0)
            | (4 if self.phone else 0)
            | (8 if self.email else 0)
            | (16 if self.birthday else 0)
            | (32 if self.address else 0)
            | (64 if self.notes else 0)
        )


def _shown(value: str) -> str:
    return value if len(value) <= 40 else value[:39] + "…"


def _problem(field: str, problem: str, value: str) -> str:
    label = FIELD_LABELS.get(field, field)
    if value:
        return _("%(field)s: %(problem)s (%(value)s)", field=label, problem=problem, value=_shown(value))
    return _("%(field)s: %(problem)s", field=label, problem=problem)


# How each field's cell is cleaned: names and titles with full-width letters folded; address and notes only
# trimmed (full-width punctuation is how Chinese text is written).
CLEANERS = {
    "name": values.folded,
    "first_name": values.folded,
    "last_name": values.folded,
    "title": values.folded,
    "company": values.folded,
    "address": values.text,
    "notes": values.text,
    "mobile": values.phone,
    "phone": values.office_phone,
    "email": values.email,
    "birthday": values.day,
    "tags": values.tags,
}
# For a row without control characters (nearly every row): the same results, without checking each cell.
CLEAN_ROW_CLEANERS = {
    **CLEANERS,
    **dict.fromkeys(("name", "first_name", "last_name"), values.folded_clean),
    **dict.fromkeys(("title", "company"), values.repeated_clean),
    "address": values.text_clean,
    "notes": values.text_clean,
}
TOO_LONG = ("name", "title", "mobile", "phone", "email", "address")


def _too_long(field: str, limit: int, value: str) -> str:
    return _problem(field, _("too long: at most %(n)s characters", n=limit), value)


Reader = Callable[[int, list[str]], "Candidate | list[str]"]


def candidate_reader(mapping: dict[str, int]) -> Reader:
    """read_candidate for one mapping, with the per-field lookups done once for all the file's rows."""
    fields = [(f, i, CLEANERS[f], CLEAN_ROW_CLEANERS[f]) for f, i in mapping.items()]
    limits = [(f, LIMITS[f]) for f in TOO_LONG if f in mapping or f == "name"]
    control = values.CONTROL.search

    def read(line: int, cells: list[str]) -> Candidate | list[str]:
        if cells and cells[0].startswith(BAD_CARD):
            return [_("the card cannot be read: %(why)s", why=cells[0][1:])]
        reasons: list[str] = []
        out: dict[str, Any] = {}
        width = len(cells)
        checking = control("".join(cells)) is not None
        for field, i, checked, quick in fields:
            value = cells[i] if i < width else ""
            if value:
                try:
                    out[field] = checked(value) if checking else quick(value)
                except BadValue as exc:
                    reasons.append(_problem(field, str(exc), value))
        get = out.get
        name = get("name", "")
        if not name:
            first, last = get("first_name", ""), get("last_name", "")
            name = (last + first if values.CJK.search(last + first) else f"{first} {last}").strip()
            out["name"] = name
            if not name:
                reasons.append(_("no name"))
        for field, limit in limits:
            if len(get(field, "")) > limit:
                reasons.append(_too_long(field, limit, out[field]))
        company = get("company", "")
        if len(company) > COMPANY_LIMIT:
            reasons.append(_too_long("company", COMPANY_LIMIT, company))
        tags = get("tags", ())
        if tags:
            reasons.extend(_too_long("tags", TAG_LIMIT, tag) for tag in tags if len(tag) > TAG_LIMIT)
        if reasons:
            return reasons
        return Candidate(
            line,
            name,
            get("title", ""),
            get("mobile", ""),
            get("phone", ""),
            get("email", ""),
            get("birthday"),
            get("address", ""),
            get("notes", ""),
            company,
            tags,
        )

    return read


def read_candidate(line: int, cells: list[str], mapping: dict[str, int]) -> Candidate | list[str]:
    """The row as a Candidate, or the list of everything wrong with it."""
    return candidate_reader(mapping)(line, cells)
