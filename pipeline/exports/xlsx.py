"""The workbook, written by XlsxWriter in constant-memory mode: each row reaches disk as soon as it is complete."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import IO, Any

import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

from pipeline.core.timeutil import team_zone
from pipeline.exports.cells import CENTS, DATE, INT, MOMENT, RISKY_FIRST, SIGNED, TEXT, Column, is_formula_like
from pipeline.exports.sheets import Sheet

EXCEL_ROWS = 1_048_576  # rows a sheet can hold; a longer table goes on in a second sheet "<name> (2)"
PROGRESS_EVERY = 1000
MONEY_FORMATS = {"CNY": '"¥"#,##0.00'}

Progress = Callable[[int], None]
CellWriter = Callable[[int, int, Any, tuple[Any, ...]], Any]


class _Formats:
    """Each cell format made once: dates, moments, money per currency, counts, headers, and quoted text."""

    def __init__(self, book: xlsxwriter.Workbook) -> None:
        self.book = book
        self.header = book.add_format({"bold": True, "bg_color": "#E8EEF4", "bottom": 1, "text_wrap": True})
        self.date = book.add_format({"num_format": "yyyy-mm-dd"})
        self.moment = book.add_format({"num_format": "yyyy-mm-dd hh:mm"})
        self.int = book.add_format({"num_format": "0"})
        self.signed = book.add_format({"num_format": "+#,##0;-#,##0;0"})
        self.quoted = book.add_format({"quote_prefix": True})  # shown as typed, never evaluated (even when edited)
        self._money: dict[str, Format] = {}

    def money(self, currency: str) -> Format:
        found = self._money.get(currency)
        if found is None:
            code = MONEY_FORMATS.get(currency, f'"{currency} "#,##0.00')
            found = self._money[currency] = self.book.add_format({"num_format": code})
        return found


def _cell_writer(
    sheet: Worksheet, column: Column, formats: _Formats
) -> Callable[[int, int, Any, tuple[Any, ...]], Any]:
    """How one column's cells are written: numbers as numbers, dates as Excel dates, text never as a formula."""
    zone = team_zone()

    def text(r: int, c: int, value: Any, row: tuple[Any, ...]) -> Any:
        if is_formula_like(value):
            return sheet.write_string(r, c, value, formats.quoted)
        return sheet.write_string(r, c, value)

    if column.kind == INT:
        return lambda r, c, value, row: sheet.write_number(r, c, value, formats.int)
    if column.kind == SIGNED:
        return lambda r, c, value, row: sheet.write_number(r, c, value, formats.signed)
    if column.kind == DATE:
        return lambda r, c, value, row: sheet.write_datetime(r, c, value, formats.date)
    if column.kind == MOMENT:

        def moment(r: int, c: int, value: datetime, row: tuple[Any, ...]) -> Any:
            return sheet.write_datetime(r, c, value.astimezone(zone).replace(tzinfo=None), formats.moment)

        return moment
    if column.kind == CENTS:
        at = column.currency_at

        def money(r: int, c: int, value: int, row: tuple[Any, ...]) -> Any:
            return sheet.write_number(r, c, value / 100, formats.money(row[at] if at is not None else "CNY"))

        return money
    return text


def _column_format(column: Column, formats: _Formats) -> Format | None:
    """The number format a table column's cells take unless a cell says otherwise (money: in yuan)."""
    return {
        INT: formats.int,
        SIGNED: formats.signed,
        DATE: formats.date,
        MOMENT: formats.moment,
        CENTS: formats.money("CNY"),
    }.get(column.kind)


class _Table:
    """One table on one or more sheets (a sheet holds at most EXCEL_ROWS rows): header frozen, filter on."""

    def __init__(self, book: xlsxwriter.Workbook, formats: _Formats, spec: Sheet) -> None:
        self.book, self.formats, self.spec = book, formats, spec
        self.parts = 0
        self.headers = [column.header() for column in spec.columns]
        self._start()

    def _start(self) -> None:
        self.parts += 1
        name = self.spec.name if self.parts == 1 else f"{self.spec.name} ({self.parts})"
        self.sheet = sheet = self.book.add_worksheet(name[:31])
        formats = self.formats
        for c, column in enumerate(self.spec.columns):
            # A table's cells take their column's format (as XlsxWriter's write_row leaves them): one per kind.
            sheet.set_column(c, c, column.width, _column_format(column, formats) if self.spec.table else None)
        sheet.set_row(0, 30)
        for c, header in enumerate(self.headers):
            sheet.write_string(0, c, header, self.formats.header)
        sheet.freeze_panes(1, 0)
        self.writers = [_cell_writer(sheet, column, self.formats) for column in self.spec.columns]
        self.text = _cell_writer(sheet, Column(str), self.formats)
        self.row = 0
        columns = list(enumerate(self.spec.columns))
        zone = team_zone()
        self.cents = [c for c, column in columns if column.kind == CENTS]
        self.moments = [c for c, column in columns if column.kind == MOMENT]
        self.texts = [c for c, column in columns if column.kind == TEXT]
        self.priced = [(c, column.currency_at) for c, column in columns if column.kind == CENTS and column.currency_at]
        self.local = lambda moment: moment.astimezone(zone).replace(tzinfo=None)

    def _finish(self) -> None:
        if self.spec.table:
            self.sheet.autofilter(0, 0, max(self.row, 1), len(self.spec.columns) - 1)

    def add(self, cells: tuple[Any, ...]) -> None:
        if self.row == EXCEL_ROWS - 1:
            self._finish()
            self._start()
        self.row += 1
        r, writers = self.row, self.writers
        if self.spec.table:
            self._add_table_row(r, cells)
            return
        for c, value in enumerate(cells):  # the summary: labels and notes may stand in figure columns
            if isinstance(value, str):
                self.text(r, c, value, cells)
            elif value is not None:
                writers[c](r, c, value, cells)

    def _add_table_row(self, r: int, cells: tuple[Any, ...]) -> None:
        """One row by XlsxWriter's write_row, as XlsxWriter alone writes it; Python touches only the cells that
        need it: money to yuan, moments to local time, formula-like text quoted, money in another currency."""
        row = list(cells)
        for c in self.cents:
            if row[c] is not None:
                row[c] /= 100
        for c in self.moments:
            if row[c] is not None:
                row[c] = self.local(row[c])
        quoted = []
        for c in self.texts:
            value = row[c]
            if value and value[0] in RISKY_FIRST and is_formula_like(value):
                quoted.append((c, value))
                row[c] = None
        sheet = self.sheet
        sheet.write_row(r, 0, row)
        for c, value in quoted:
            sheet.write_string(r, c, value, self.formats.quoted)
        for c, at in self.priced:
            currency = row[at]
            if currency != "CNY" and row[c] is not None:
                sheet.write_number(r, c, row[c], self.formats.money(currency))

    def close(self) -> None:
        self._finish()


def write_workbook(
    sheets: Iterable[Sheet], target: str | IO[bytes], progress: Progress | None = None, tmpdir: str | None = None
) -> dict[str, int]:
    """Write the sheets to `target` (a path or a binary file); return how many rows each sheet got."""
    book = xlsxwriter.Workbook(
        target,
        {
            "constant_memory": True,
            "tmpdir": tmpdir,
            "strings_to_numbers": False,
            "strings_to_formulas": False,
            "strings_to_urls": False,
        },
    )
    formats = _Formats(book)
    counts: dict[str, int] = {}
    try:
        for spec in sheets:
            table = _Table(book, formats, spec)
            counted = progress if spec.counted else None  # the bar follows the deals: the one long sheet
            n = 0
            for n, cells in enumerate(spec.rows, 1):
                table.add(cells)
                if counted is not None and n % PROGRESS_EVERY == 0:
                    counted(PROGRESS_EVERY)
            if counted is not None:
                counted(n % PROGRESS_EVERY)
            table.close()
            counts[spec.name] = n
    finally:
        book.close()
    return counts
