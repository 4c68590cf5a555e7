"""The 商机 sheet's CSV written by PostgreSQL: `COPY (SELECT …) TO STDOUT (FORMAT csv)` streamed to the file.

A million rows through Python's csv module cost 10 s of CPU here; COPY formats them in the server and Python only
turns LF row ends into CRLF. The SELECT makes every cell the text `csvfile.write_csv` writes (the same
neutralisation, money as 1234.50, local dates, labels), so the two files are the same bytes (tests/exports).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator
from datetime import date
from typing import IO, Any

from flask import current_app
from sqlalchemy import ColumnElement, Date, Integer, Text, case, cast, func, literal, null

from pipeline.accounts.models import Account
from pipeline.auth.models import Team, User
from pipeline.core.timeutil import team_zone
from pipeline.deals.board import stall_days
from pipeline.deals.method import STAGE_KEYS
from pipeline.deals.models import Deal
from pipeline.exports.cells import FORMULA_STARTS, neutralised
from pipeline.exports.csvfile import PROGRESS_EVERY
from pipeline.exports.sheets import Sheet, deal_labels
from pipeline.exports.weekly import PERCENT, WeeklyExport, board_query, plan_for_every_row
from pipeline.extensions import db
from pipeline.reports.sql import raw_cents

BOM = "\ufeff".encode()
# A formula can start only with these in PostgreSQL text (which never holds NUL).
SQL_FORMULA_STARTS = [c for c in FORMULA_STARTS if c != "\0"]


def available() -> bool:
    """Whether the session's database can write the CSV itself (PostgreSQL through psycopg)."""
    return db.session.get_bind().dialect.name == "postgresql"


def _safe(text: Any) -> ColumnElement[Any]:
    """User text as `neutralised` makes it, empty as NULL (COPY writes '' as "", the csv module as nothing)."""
    flagged = case((func.left(func.ltrim(text, " "), 1).in_(SQL_FORMULA_STARTS), "'" + text), else_=text)
    return func.nullif(flagged, "")


def _money(cents: Any) -> ColumnElement[str]:
    """Whole cents (never negative: the deals' check) as 1234.50, as `csvfile._money` writes them."""
    return cast(cents // 100, Text) + "." + func.lpad(cast(func.mod(cents, 100), Text), 2, "0")


def _local_date(naive_utc: Any, zone: str) -> ColumnElement[date]:
    return cast(func.timezone(zone, func.timezone("UTC", naive_utc)), Date)


def _labels(mapping: dict[str, str], column: Any) -> ColumnElement[Any]:
    return case({key: neutralised(label) for key, label in mapping.items() if label}, value=column, else_=null())


def cells_query(export: WeeklyExport) -> Any:
    """The 商机 rows, each cell already the CSV text the Python writer would write (NULL for an empty field)."""
    zone = team_zone().key
    limits = stall_days(current_app.config.get("PIPELINE_STALL_DAYS"))
    stages, strategies, yes, no = deal_labels()
    cents = raw_cents(Deal.__table__.c.amount_cents)
    percent = case({key: PERCENT[key] for key in STAGE_KEYS}, value=Deal.stage)
    entered_on = _local_date(Deal.stage_entered_at, zone)
    days = func.greatest(cast(literal(export.today.isoformat()), Date) - entered_on, 0)
    threshold = case({key: limits[key] for key in STAGE_KEYS}, value=Deal.stage)
    return board_query(
        export.scope,
        Deal.id,
        _safe(Deal.title),
        _safe(Account.name),
        _safe(User.name),
        _safe(Team.name),
        _labels(stages, Deal.stage),
        entered_on,
        days,
        _money(cents),
        _safe(Deal.currency),
        percent,
        _money((cents * percent + 50) // 100),  # half up, as every weighted amount
        Deal.expected_close_date,
        _labels({k: v for k, v in strategies.items() if k is not None}, Deal.strategy),
        _safe(Deal.next_step),
        Deal.next_step_due,
        cast(Deal.checklist_done, Integer),
        cast(Deal.checklist_required, Integer),
        _local_date(Deal.last_activity_at, zone),
        case((days > threshold, neutralised(yes)), else_=neutralised(no)),
    )


def crlf_rows(chunks: Iterable[bytes], counted: Callable[[int], None]) -> Iterator[bytes]:
    """COPY's LF row ends as CRLF; a line break inside a quoted cell stays as it is, as the csv module leaves it.

    Quote state carries across chunks (a `""` inside a cell flips it twice), so any chunking is read right.
    `counted` gets the rows ended in each chunk.
    """
    quoted = False
    for chunk in chunks:
        if b'"' not in chunk:
            if not quoted:
                counted(chunk.count(b"\n"))
                chunk = chunk.replace(b"\n", b"\r\n")
            yield chunk
            continue
        parts = chunk.split(b'"')
        ended = 0
        for i, part in enumerate(parts):
            if i:
                quoted = not quoted
            if not quoted and b"\n" in part:
                ended += part.count(b"\n")
                parts[i] = part.replace(b"\n", b"\r\n")
        counted(ended)
        yield b'"'.join(parts)


def write_copy_csv(export: WeeklyExport, sheet: Sheet, out: IO[bytes], progress: Callable[[int], None] | None) -> int:
    """Write the BOM, the sheet's header and COPY's rows to `out`; return the row count."""
    header = io.StringIO()
    csv.writer(header, lineterminator="\r\n").writerow([neutralised(column.header()) for column in sheet.columns])
    out.write(BOM + header.getvalue().encode())
    compiled = cells_query(export).compile(
        dialect=db.session.get_bind().dialect, compile_kwargs={"render_postcompile": True}
    )
    rows = [0, 0]  # all rows, rows not yet reported

    def counted(n: int) -> None:
        rows[0] += n
        rows[1] += n
        if progress is not None and rows[1] >= PROGRESS_EVERY:
            progress(rows[1])
            rows[1] = 0

    connection = db.session.connection()
    connection.exec_driver_sql("SET LOCAL DateStyle = 'ISO, YMD'")  # dates as 2026-11-23, as str(date)
    plan_for_every_row()  # the streamed query's work_mem, as the Python path has it
    cursor = connection.connection.driver_connection.cursor()
    try:
        with cursor.copy(f"COPY ({compiled.string}) TO STDOUT (FORMAT csv)", compiled.params) as copy:
            write = out.write
            for chunk in crlf_rows((bytes(data) for data in copy), counted):
                write(chunk)
    finally:
        cursor.close()
    if progress is not None and rows[1]:
        progress(rows[1])
    return rows[0]
