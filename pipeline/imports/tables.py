"""A file as a header and a stream of rows, numbered as Excel numbers them (the header is line 1)."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import IO, Any

from pipeline.imports.encoding import SAMPLE_BYTES, UnreadableFile, checked, detect

DELIMITERS = (",", ";", "\t")
MAX_COLUMNS = 200
MAX_CELL = 100_000  # characters: csv's own limit is 131,072; a longer cell is a broken file, not a contact
csv.field_size_limit(MAX_CELL)

Row = tuple[int, list[str]]


@dataclass
class Table:
    """What a reader found: the kind of file, its encoding (for text), the header, and the rows to come."""

    kind: str
    headers: list[str]
    rows: Iterator[Row]
    encoding: str | None = None
    delimiter: str | None = None
    # For a progress bar: how much there is (bytes of a text file, rows of a sheet) and how much is read.
    total: int = 0
    done: Callable[[int], int] = field(default=lambda line: line, repr=False)
    _closing: ExitStack = field(default_factory=ExitStack, repr=False)

    def close(self) -> None:
        self._closing.close()


def sniff_delimiter(first_line: str) -> str:
    """The delimiter the header uses most: comma, semicolon (Excel in many locales) or tab (Excel's text export)."""
    counts = {d: first_line.count(d) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","


def _cells(values: list[str]) -> list[str]:
    return list(map(str.strip, values if len(values) <= MAX_COLUMNS else values[:MAX_COLUMNS]))


def _text_stream(path: Path, encoding: str | None) -> tuple[IO[str], str]:
    if encoding:
        name = checked(encoding)
    else:
        with open(path, "rb") as probe:
            name = detect(probe.read(SAMPLE_BYTES))
    raw = open(path, "rb")  # noqa: SIM115  (handed to the wrapper, which closes it)
    return io.TextIOWrapper(raw, encoding=name, newline=""), name


def _csv_rows(reader: Any, first_line: int) -> Iterator[Row]:
    line = first_line
    try:
        for values in reader:
            line += 1
            yield line, _cells(values)
    except UnicodeDecodeError as exc:
        raise UnreadableFile(
            f"line {line + 1}: the file is not valid {exc.encoding}; name its encoding (--encoding gb18030 or utf-8)"
        ) from None
    except csv.Error as exc:
        raise UnreadableFile(f"line {line + 1}: {exc}") from None


def read_csv(path: Path, encoding: str | None = None) -> Table:
    """A CSV or tab-separated text file, in any of the encodings Excel and WPS write, streamed."""
    stream, name = _text_stream(path, encoding)
    stack = ExitStack()
    stack.callback(stream.close)
    try:
        first = stream.readline()
        stream.seek(0)
        delimiter = sniff_delimiter(first)
        reader = csv.reader(stream, delimiter=delimiter)
        headers = next(reader, [])
    except UnicodeDecodeError as exc:
        stack.close()
        raise UnreadableFile(
            f"the file is not {exc.encoding}; name its encoding (--encoding gb18030 or utf-8)"
        ) from None
    except csv.Error as exc:
        stack.close()
        raise UnreadableFile(f"line 1: {exc}") from None
    if headers and headers[0].startswith("\ufeff"):  # a BOM inside a file read as plain UTF-8
        headers[0] = headers[0][1:]
    return Table(
        "csv", _cells(headers), _csv_rows(reader, 1), name, delimiter, path.stat().st_size, _bytes_read(stream), stack
    )


def _bytes_read(stream: IO[str]) -> Callable[[int], int]:
    raw = stream.buffer  # type: ignore[attr-defined]
    return lambda _line: raw.tell()


def cell_text(value: Any) -> str:
    """A spreadsheet cell as the text a user sees: whole numbers without ".0", dates as YYYY-MM-DD."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e16:
        return str(int(value))  # a phone number typed into Excel is a number: 13800138000.0
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time() else value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()


def _xlsx_rows(rows: Iterator[tuple[Any, ...]], header_line: int) -> Iterator[Row]:
    for line, values in enumerate(rows, start=header_line + 1):
        yield line, [cell_text(v) for v in values[:MAX_COLUMNS]]


def read_xlsx(path: Path) -> Table:
    """The first sheet of a workbook, streamed (openpyxl's read-only mode keeps memory flat)."""
    from openpyxl import load_workbook  # imported here: loading it costs time the CSV path does not need

    stack = ExitStack()
    # A file object: openpyxl would refuse a name without .xlsx (an upload kept under its token).
    source = stack.enter_context(open(path, "rb"))  # noqa: SIM115  (closed with the table)
    try:
        book = load_workbook(source, read_only=True, data_only=True)
    except Exception as exc:  # a damaged zip raises many kinds (BadZipFile, KeyError, XML errors …)
        stack.close()
        raise UnreadableFile(f"not an Excel workbook (.xlsx): {str(exc)[:200]}") from None
    stack.callback(book.close)
    sheet = book.worksheets[0] if book.worksheets else None
    if sheet is None:
        stack.close()
        raise UnreadableFile("the workbook has no sheet")
    rows = sheet.iter_rows(values_only=True)
    try:
        header_line, headers = 0, ()
        for header_line, headers in enumerate(rows, start=1):  # noqa: B007  (the first row with any text)
            if any(v not in (None, "") for v in headers):
                break
    except Exception as exc:  # openpyxl raises many kinds for a damaged sheet
        stack.close()
        raise UnreadableFile(f"the sheet cannot be read: {exc}") from None
    headers_text = [cell_text(v) for v in headers[:MAX_COLUMNS]]
    total = sheet.max_row if isinstance(sheet.max_row, int) else 0
    return Table("xlsx", headers_text, _guarded(_xlsx_rows(rows, header_line)), None, None, total, _same, stack)


def _same(line: int) -> int:
    return line


def _guarded(rows: Iterator[Row]) -> Iterator[Row]:
    """Turn a damaged sheet's failure mid-way into a refusal naming the file, not a crash."""
    line = 1
    try:
        for line, cells in rows:
            yield line, cells
    except UnreadableFile:
        raise
    except Exception as exc:
        raise UnreadableFile(f"after line {line}: the sheet cannot be read: {exc}") from None


XLSX_MAGIC = b"PK\x03\x04"


def open_table(path: Path, filename: str = "", encoding: str | None = None) -> AbstractContextManager[Table]:
    """Open any supported file by its name (.csv, .txt, .tsv, .xlsx, .vcf) or, failing that, its first bytes."""
    from pipeline.imports.vcard import read_vcard

    suffix = Path(filename or path.name).suffix.lower()
    with open(path, "rb") as probe:
        head = probe.read(512)
    if suffix == ".xlsx" or (suffix not in (".csv", ".txt", ".tsv", ".vcf") and head.startswith(XLSX_MAGIC)):
        table = read_xlsx(path)
    elif suffix == ".xls":
        raise UnreadableFile("old Excel files (.xls) cannot be read: save the sheet as .xlsx or CSV")
    elif suffix == ".vcf" or b"BEGIN:VCARD" in head.upper().replace(b"\x00", b""):
        table = read_vcard(path, encoding)
    else:
        table = read_csv(path, encoding)
    return _Opened(table)


class _Opened(AbstractContextManager[Table]):
    def __init__(self, table: Table) -> None:
        self.table = table

    def __enter__(self) -> Table:
        return self.table

    def __exit__(self, *exc: object) -> None:
        self.table.close()
