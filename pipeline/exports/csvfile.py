"""The 商机 sheet as CSV for Excel on a Chinese Windows: UTF-8 with a BOM, CRLF line ends, RFC 4180 quoting."""

from __future__ import annotations

import csv
from collections.abc import Callable
from typing import Any, TextIO

from pipeline.core.timeutil import team_zone
from pipeline.exports.cells import CENTS, MOMENT, TEXT, neutralised
from pipeline.exports.sheets import Sheet

ENCODING = "utf-8-sig"  # the BOM tells Excel the file is UTF-8; without it Excel reads GBK and shows mojibake
PROGRESS_EVERY = 1000


def _money(cents: int) -> str:
    sign, cents = ("-", -cents) if cents < 0 else ("", cents)
    return f"{sign}{cents // 100}.{cents % 100:02d}"


def _formatter(kind: str) -> Callable[[Any], Any] | None:
    """How a column's cells become CSV text: user text neutralised, money as 1234.50, moments local; numbers
    and dates need nothing (the csv module writes str(value): 12, 2026-11-23; None as an empty field)."""
    if kind == TEXT:
        return neutralised
    if kind == CENTS:
        return _money
    if kind == MOMENT:
        zone = team_zone()
        return lambda moment: moment.astimezone(zone).strftime("%Y-%m-%d %H:%M")
    return None


def write_csv(sheet: Sheet, out: TextIO, progress: Callable[[int], None] | None = None) -> int:
    """Write the sheet's header and rows to `out` (opened with ENCODING and newline=""); return the row count."""
    writer = csv.writer(out, lineterminator="\r\n")  # QUOTE_MINIMAL: fields with , " CR or LF quoted, " doubled
    writer.writerow([neutralised(column.header()) for column in sheet.columns])
    plan = [(i, f) for i, column in enumerate(sheet.columns) if (f := _formatter(column.kind)) is not None]
    n = 0
    for n, cells in enumerate(sheet.rows, 1):
        row = list(cells)
        for i, f in plan:
            value = row[i]
            if value is not None:
                row[i] = f(value)
        writer.writerow(row)
        if progress is not None and n % PROGRESS_EVERY == 0:
            progress(PROGRESS_EVERY)
    if progress is not None:
        progress(n % PROGRESS_EVERY)
    return n
