"""The 商机 sheet as CSV for Excel on a Chinese Windows: UTF-8 with a BOM, CRLF line ends, RFC 4180 quoting."""

from __future__ import annotations

import csv
from collections.abc import Callable
from typing import Any, TextIO

from pipeline.core.timeutil import team_zone
from pipeline.exports.cells import CENTS, DATE, MOMENT, TEXT, neutralised
from pipeline.exports.weekly import Sheet

ENCODING = "utf-8-sig"  # the BOM tells Excel the file is UTF-8; without it Excel reads GBK and shows mojibake
PROGRESS_EVERY = 1000


def _money(cents: int) -> str:
    sign, cents = ("-", -cents) if cents < 0 else ("", cents)
    return f"{sign}{cents // 100}.{cents % 100:02d}"


def _formatter(kind: str) -> Callable[[Any], Any]:
    """A column's cells as CSV text: plain numbers, ISO dates, local moments, user text neutralised."""
    if kind == TEXT:
        return neutralised
    if kind == CENTS:
        return _money
    if kind == DATE:
        return date_text
    if kind == MOMENT:
        zone = team_zone()
        return lambda moment: moment.astimezone(zone).strftime("%Y-%m-%d %H:%M")
    return str


def date_text(day: Any) -> str:
    return day.isoformat()


def write_csv(sheet: Sheet, out: TextIO, progress: Callable[[int], None] | None = None) -> int:
    """Write the sheet's header and rows to `out` (opened with ENCODING and newline=""); return the row count."""
    writer = csv.writer(out, lineterminator="\r\n")  # QUOTE_MINIMAL: fields with , " CR or LF quoted, " doubled
    writer.writerow([neutralised(column.header()) for column in sheet.columns])
    formats = [_formatter(column.kind) for column in sheet.columns]
    n = 0
    for n, cells in enumerate(sheet.rows, 1):
        writer.writerow([None if v is None else f(v) for f, v in zip(formats, cells, strict=True)])
        if progress is not None and n % PROGRESS_EVERY == 0:
            progress(PROGRESS_EVERY)
    if progress is not None:
        progress(n % PROGRESS_EVERY)
    return n
