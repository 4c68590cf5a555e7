"""What a cell holds and how it reads: the column kinds both writers know, and text made safe for spreadsheets."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

# A text cell starting with one of these is a formula (or a DDE payload) to Excel, WPS and LibreOffice.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\0")  # OWASP and ASVS V1.2.10 name NUL too

TEXT, INT, SIGNED, CENTS, DATE, MOMENT = "text", "int", "signed", "cents", "date", "moment"


@dataclass(frozen=True)
class Column:
    """One column of a sheet: its header (translated when the sheet is written), what its cells hold, its width."""

    header: Callable[[], str]
    kind: str = TEXT
    width: int = 12
    currency_at: int | None = None  # for money: the cell of the row naming its currency (CNY when None)


RISKY_FIRST = frozenset((*FORMULA_STARTS, " "))  # a first character worth a closer look (most text has none)


def is_formula_like(text: str) -> bool:
    """Whether a spreadsheet could take this text for a formula (leading spaces do not hide one)."""
    return bool(text) and text[0] in RISKY_FIRST and text.lstrip(" ").startswith(FORMULA_STARTS)


def neutralised(text: str) -> str:
    """User text as a CSV cell no spreadsheet evaluates: a formula-like start gets a leading apostrophe (OWASP)."""
    return "'" + text if is_formula_like(text) else text
