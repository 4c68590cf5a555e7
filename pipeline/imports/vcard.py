"""vCard files (.vcf 2.1, 3.0, 4.0) as phones export them, one card at a time, as rows of contact columns."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import IO, Any

import vobject

from pipeline.imports.encoding import UnreadableFile
from pipeline.imports.tables import Row, Table, _bytes_read, _text_stream

# The columns a card becomes; the column mapping knows these headers like any other file's.
HEADERS = ["Name", "Mobile", "Phone", "E-mail", "Company", "Title", "Address", "Birthday", "Notes", "Groups"]
MAX_CARD_LINES = 2_000  # a card longer than this is a photo or a broken file: refused as a bad row
QP = re.compile(r"ENCODING=QUOTED-PRINTABLE|;QUOTED-PRINTABLE[;:]", re.IGNORECASE)
CJK = re.compile(r"[\u3400-\u9fff]")


class BadCard(Exception):
    """A card vobject cannot read; the row becomes a bad row with this reason."""


def _types(prop: Any) -> set[str]:
    """A property's types, however the version writes them: TEL;CELL (2.1), TYPE=CELL (3.0), TYPE=cell (4.0)."""
    found = {str(p).upper() for p in getattr(prop, "singletonparams", [])}
    for value in prop.params.get("TYPE", []):
        found.update(part.strip().upper() for part in str(value).split(","))
    return found


def _text(value: Any) -> str:
    if isinstance(value, list):
        return " ".join(_text(v) for v in value if _text(v))
    return str(value or "").strip()


def _number(prop: Any) -> str:
    text = _text(prop.value)
    return text[4:] if text.lower().startswith("tel:") else text  # 4.0 writes TEL;VALUE=uri:tel:+86...


def _name(card: Any) -> str:
    if "fn" in card.contents and _text(card.fn.value):
        return _text(card.fn.value)
    if "n" in card.contents:
        n = card.n.value
        family, given = _text(getattr(n, "family", "")), _text(getattr(n, "given", ""))
        if CJK.search(family + given):
            return family + given  # 张 + 三 = 张三
        return " ".join(p for p in (given, family) if p)
    return ""


def _address(prop: Any) -> str:
    a = prop.value
    if isinstance(a, str):
        return a.strip()
    parts = (a.country, a.region, a.city, a.street, a.extended, a.box, a.code)
    return " ".join(_text(p) for p in parts if _text(p))


def card_cells(card: Any) -> list[str]:
    """One card's values in the order of HEADERS."""
    tels = card.contents.get("tel", [])
    cells = [t for t in tels if "CELL" in _types(t)]
    others = [t for t in tels if t not in cells]
    mobile = _number(cells[0]) if cells else (_number(others.pop(0)) if others else "")
    org = card.contents.get("org", [])
    company = _text(org[0].value[0] if isinstance(org[0].value, list) and org[0].value else org[0].value) if org else ""
    first = {
        key: _text(card.contents[key][0].value) if key in card.contents else ""
        for key in ("email", "title", "bday", "note", "categories")
    }
    groups = card.contents.get("categories", [])
    tags = ",".join(_text(v) for g in groups for v in (g.value if isinstance(g.value, list) else [g.value]))
    address = _address(card.contents["adr"][0]) if "adr" in card.contents else ""
    return [
        _name(card),
        mobile,
        _number(others[0]) if others else "",
        first["email"],
        company,
        first["title"],
        address,
        first["bday"],
        first["note"],
        tags,
    ]


def _cards(stream: IO[str]) -> Iterator[tuple[int, list[str]]]:
    """Each card's physical lines, with quoted-printable soft line breaks joined (vobject fails on them)."""
    card: list[str] | None = None
    start = 0
    pending = ""
    for number, raw in enumerate(stream, start=1):
        line = pending + raw.rstrip("\r\n")
        if line.endswith("=") and QP.search(line.split(":", 1)[0] if not pending else line[: line.find(":")]):
            pending = line[:-1]
            continue
        pending = ""
        upper = line.strip().upper()
        if upper == "BEGIN:VCARD":
            card, start = [line.strip()], number
        elif card is not None:
            card.append(line)
            if upper == "END:VCARD":
                yield start, card
                card = None
            elif len(card) > MAX_CARD_LINES:
                yield start, []
                card = None
    if card is not None:
        yield start, [*card, "END:VCARD"]  # a cut-off last card: read what is there


def parse_card(lines: list[str]) -> list[str]:
    """A card's cells, or BadCard saying why it cannot be read."""
    if not lines:
        raise BadCard("the card is too long")
    try:
        card = vobject.readOne("\r\n".join(lines) + "\r\n", ignoreUnreadable=True)
        cells = card_cells(card)
    except Exception as exc:  # vobject raises many kinds (ParseError, ValueError, UnicodeError …) on a bad card
        raise BadCard(str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__) from None
    if not any(cells):
        raise BadCard("nothing readable in the card")
    return cells


def _rows(stream: IO[str]) -> Iterator[Row]:
    try:
        for start, lines in _cards(stream):
            try:
                yield start, parse_card(lines)
            except BadCard as exc:
                yield start, [f"\x00{exc}"]  # a marker the planner turns into a bad row with this reason
    except UnicodeDecodeError as exc:
        raise UnreadableFile(f"the file is not valid {exc.encoding}; name its encoding (--encoding utf-8)") from None


def read_vcard(path: Path, encoding: str | None = None) -> Table:
    """A phone's contacts export: every card a row, numbered by the line its BEGIN:VCARD is on."""
    stream, name = _text_stream(path, encoding)
    stack = ExitStack()
    stack.callback(stream.close)
    return Table("vcard", list(HEADERS), _rows(stream), name, None, path.stat().st_size, _bytes_read(stream), stack)
