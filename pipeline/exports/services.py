"""Make a weekly export: pick the scope and week, write the file, log who exported what (CLI, web and API)."""

from __future__ import annotations

import io
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from flask_babel import force_locale, pgettext
from flask_babel import gettext as _

from pipeline.auth.models import Team, User
from pipeline.core.audit import record
from pipeline.core.models import utcnow
from pipeline.core.pages import strategy_label
from pipeline.exports import copycsv
from pipeline.exports.csvfile import ENCODING, write_csv
from pipeline.exports.files import atomic_path, safe_name
from pipeline.exports.sheets import Sheet, deal_cells, deal_columns, sheets
from pipeline.exports.spill import Spill
from pipeline.exports.weekly import WeeklyExport
from pipeline.exports.xlsx import write_workbook
from pipeline.extensions import db
from pipeline.reports.periods import Period
from pipeline.reports.scope import ReportScope

XLSX, CSV = "xlsx", "csv"
FORMATS = (XLSX, CSV)
MEDIA_TYPES = {
    XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    CSV: "text/csv; charset=utf-8",
}
EXPORT_ACTION = "export.weekly"


@dataclass(frozen=True)
class Written:
    """What an export wrote: the file, its format, and the rows of each sheet."""

    path: Path | None
    format: str
    rows: dict[str, int]
    size: int


def scope_name(scope: ReportScope) -> str:
    """Whose deals, in words: the whole company, a team, or one rep (and a strategy when one was chosen)."""
    if scope.owner_id is not None:
        owner = db.session.get(User, scope.owner_id)
        name = owner.name if owner is not None else str(scope.owner_id)
    elif scope.team_id is not None:
        team = db.session.get(Team, scope.team_id)
        name = team.name if team is not None else str(scope.team_id)
    else:
        name = _("Whole company")
    return name if scope.strategy is None else f"{name} · {strategy_label(scope.strategy)}"


def weekly_export(scope: ReportScope, week: Period, locale: str = "zh") -> WeeklyExport:
    """An export of `week` for the scope, as of now, with labels in `locale`."""
    with force_locale(locale):
        return WeeklyExport(scope, week, scope_name(scope), utcnow(), locale)


def file_name(export: WeeklyExport, fmt: str) -> str:
    """pipeline-2026-W47-华东一组.xlsx: the week and whose deals, so a folder of them sorts by week."""
    return f"pipeline-{export.week.week_label()}-{safe_name(export.scope_name)}.{fmt}"


def _deal_sheet(export: WeeklyExport) -> Sheet:
    return Sheet(pgettext("sheet", "Deals"), deal_columns(), deal_cells(export), counted=True)


def write_export(
    export: WeeklyExport, fmt: str, out: IO[bytes], progress: Callable[[int], None] | None = None
) -> dict[str, int]:
    """Write the export to an open binary file: the workbook, or the 商机 sheet as CSV; the rows per sheet."""
    with force_locale(export.locale):
        if fmt == XLSX:
            with Spill() as stalled:
                return write_workbook(sheets(export, stalled), out, progress)
        deals = _deal_sheet(export)
        if copycsv.available():  # PostgreSQL writes the rows itself: the same bytes, without Python's per-row cost
            return {deals.name: copycsv.write_copy_csv(export, deals, out, progress)}
        text = io.TextIOWrapper(out, encoding=ENCODING, newline="")  # utf-8-sig: the BOM goes first
        try:
            return {deals.name: write_csv(deals, text, progress)}
        finally:
            text.flush()
            text.detach()  # the caller owns `out`


def write_export_file(
    export: WeeklyExport, fmt: str, target: Path, progress: Callable[[int], None] | None = None
) -> Written:
    """Write the export to `target`, which appears only once complete."""
    with atomic_path(target) as tmp, open(tmp, "wb") as out:
        rows = write_export(export, fmt, out, progress)
    return Written(target, fmt, rows, target.stat().st_size)


def log_export(export: WeeklyExport, written: Written, *, via: str, user: User | None = None, **more: Any) -> None:
    """Append who exported what and when to the audit log (the caller commits)."""
    scope = export.scope
    record(
        EXPORT_ACTION,
        via=via,
        user=user,
        week=export.week.week_label(),
        team_id=scope.team_id,
        owner_id=scope.owner_id,
        strategy=scope.strategy,
        scope=export.scope_name,
        format=written.format,
        rows=written.rows,
        file=written.path.name if written.path is not None else None,
        **more,
    )


@dataclass(frozen=True)
class Download:
    """A complete export in an anonymous temporary file, rewound, to be sent under `name`."""

    file: IO[bytes]
    name: str
    media_type: str
    written: Written


def download(scope: ReportScope, week: Period, fmt: str, locale: str, *, user: User, via: str) -> Download:
    """Write the export into a temporary file with no name on disk, and log it (the caller commits).

    The file is complete before a byte of it is sent, and a failure closes it, which leaves nothing behind.
    The log's `file` is the name the file was sent under.
    """
    export = weekly_export(scope, week, locale)
    name = file_name(export, fmt)
    out = tempfile.TemporaryFile()  # noqa: SIM115  (outlives this call: the response closes it once sent)
    try:
        rows = write_export(export, fmt, out)
        written = Written(Path(name), fmt, rows, out.tell())
        log_export(export, written, via=via, user=user, lang=locale)
        out.seek(0)
    except BaseException:
        out.close()
        raise
    return Download(out, name, MEDIA_TYPES[fmt], written)
