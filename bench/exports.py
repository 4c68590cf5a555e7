"""The weekly export at scale (issue 5): the service's CSV and workbook against the csv module and XlsxWriter alone.

    .venv/bin/python -m bench.exports --db URL [--repeat 3] [--week 2026-W47] [--only NAME,…] [--json FILE]
    .venv/bin/python -m bench.exports --db URL --profile csv|xlsx|sheet [--top 25]

The database is one `bench.generate` filled (use `--board-only` so that its board holds the --deals given; see
bench/README.md), read for the whole company, for the ISO week before the data's anchor (the local date of its
newest history row) and "now" at 18:00 local that day, as the generator has it. Each measured run is a fresh
child process (so its peak RSS is the workload's own), and each round runs every workload in turn:

1. **service CSV**: `pipeline.exports.services.write_export(export, "csv", file)` inside `create_app()` and an
   app context, as `pipeline export weekly --format csv` does (without the rename and fsync of the temp file);
2. **bare CSV**: one hand-written SQL query for the same rows (same columns, joins and order; the local dates and
   the days in stage computed in SQL), streamed through a server-side cursor (psycopg, under the service's planner
   settings) or a sqlite3 cursor and written by the csv module alone, the cells made with as little Python as
   they need; no Flask, no SQLAlchemy;
3. **service xlsx (workbook)**: `write_export(export, "xlsx", file)`: the whole four-sheet workbook;
4. **service xlsx (商机 only)**: `write_workbook([the 商机 sheet], file)`: like for like with the bare writer;
5. **bare xlsx**: the hand-written query's rows through XlsxWriter alone (constant_memory, one `write_row` per
   row, the same cells: numbers, money in yuan and dates under column formats, the header, frozen pane, filter).

Each child reports the seconds of the export itself (the app or connection made before the clock starts is
not counted, the connection itself is), its CPU seconds, its RSS just before the export and its peak RSS
(`getrusage(RUSAGE_SELF).ru_maxrss` at the end). Every round checks that the service and bare files hold the
same number of rows and that the two CSV files are byte for byte the same; the run exits 1 if not.
Targets (issue 5): CSV of 1,000,000 deals ≤ 10 s; xlsx ≤ 1.3× the bare writer; peak RSS ≤ 100 MB.
"""

from __future__ import annotations

import argparse
import csv
import filecmp
import io
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import date, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from bench import describe_db, is_postgres, machine_description, print_table, rss_mb

if TYPE_CHECKING:
    from flask import Flask

ROOT = Path(__file__).resolve().parents[1]
BATCH = 1000  # rows per round trip of the server-side cursor, as pipeline.exports.weekly.BATCH
# The planner settings the service's streamed query runs under (pipeline.exports.weekly.plan_for_every_row), so
# that the bare query does the same work in the database: planned for all its rows, sorted in memory.
PG_SETTINGS = ("SET LOCAL cursor_tuple_fraction = 1.0", "SET LOCAL work_mem = '64MB'")
CSV_TARGET_S, XLSX_TARGET_RATIO, RSS_TARGET_MB, CSV_TARGET_ROWS = 10.0, 1.3, 100.0, 1_000_000
SERVICE_CSV, BARE_CSV = "service CSV", "bare CSV"
SERVICE_XLSX, SERVICE_SHEET, BARE_XLSX = "service xlsx (workbook)", "service xlsx (商机 only)", "bare xlsx"
BARE_QUERY = "bare query alone (rows read, nothing written)"
BARE_BOOK = "bare xlsx (商机 + 停滞)"
WORKLOADS = (SERVICE_CSV, BARE_CSV, SERVICE_XLSX, SERVICE_SHEET, BARE_XLSX, BARE_BOOK, BARE_QUERY)
SHORT = {"service-csv": SERVICE_CSV, "bare-csv": BARE_CSV, "service-xlsx": SERVICE_XLSX}
SHORT |= {"service-sheet": SERVICE_SHEET, "bare-xlsx": BARE_XLSX, "bare-book": BARE_BOOK, "query": BARE_QUERY}
SLUG = {name: slug for slug, name in SHORT.items()}
SUFFIX = {SERVICE_CSV: "csv", BARE_CSV: "csv", SERVICE_XLSX: "xlsx", SERVICE_SHEET: "xlsx", BARE_XLSX: "xlsx"}
SUFFIX[BARE_QUERY], SUFFIX[BARE_BOOK] = "none", "xlsx"
# The workbook against XlsxWriter alone writing its two long sheets (商机 and 停滞, 99% of its cells), the 商机
# sheet against XlsxWriter alone writing that sheet.
BASELINE = {SERVICE_CSV: BARE_CSV, SERVICE_XLSX: BARE_BOOK, SERVICE_SHEET: BARE_XLSX}
BOARD = ("qualify", "evaluate", "propose", "close", "follow_up")  # pipeline.deals.method.STAGE_KEYS, in order


# ---- What the children share: the export's settings and labels, worked out once with the app ---------------------


def make_spec(url: str, week: str | None = None, anchor: date | None = None, locale: str = "zh") -> dict[str, Any]:
    """Everything a child needs, as JSON: the export's week and moment, the sheet's headers and labels (needs an
    app context on `url`'s database)."""
    from flask import current_app
    from flask_babel import force_locale, pgettext
    from flask_babel import gettext as _

    from bench.reports import data_anchor, periods_for
    from pipeline.core.pages import stage_label, strategy_label
    from pipeline.core.timeutil import team_zone
    from pipeline.deals.board import stall_days
    from pipeline.deals.method import STAGE_KEYS, STAGES, STRATEGIES
    from pipeline.exports.services import scope_name
    from pipeline.exports.sheets import deal_columns, stalled_columns
    from pipeline.exports.weekly import count_on_board
    from pipeline.reports.periods import iso_week
    from pipeline.reports.scope import ReportScope

    assert tuple(STAGE_KEYS) == BOARD, "the bare query lists the board's stages by hand"
    anchor = anchor or data_anchor()
    _period, last_week, _compare, now = periods_for(anchor)
    period = iso_week(week) if week else last_week
    zone = team_zone()
    with force_locale(locale):
        spec = {
            "url": url,
            "week": period.week_label(),
            "made_at": now.isoformat(),
            "today": now.astimezone(zone).date().isoformat(),
            "locale": locale,
            "scope_name": scope_name(ReportScope()),
            "sheet": pgettext("sheet", "Deals"),
            "headers": [column.header() for column in deal_columns()],
            "stalled_sheet": pgettext("sheet", "Stalled"),
            "stalled_headers": [column.header() for column in stalled_columns()],
            "stages": {key: stage_label(key) for key in STAGE_KEYS},
            "strategies": {s.key: strategy_label(s.key) for s in STRATEGIES},
            "yes": _("Yes"),
            "no": _("No"),
        }
    offset = now.astimezone(zone).utcoffset()
    return spec | {
        "zone": str(zone),
        "utc_offset_hours": offset.total_seconds() / 3600 if offset else 0.0,
        "limits": stall_days(current_app.config.get("PIPELINE_STALL_DAYS")),
        "percent": {s.key: int(s.probability * 100) for s in STAGES},
        "board": count_on_board(ReportScope()),
    }


# ---- The bare path: one hand-written query, the csv module or XlsxWriter, nothing else ----------------------------


def bare_sql(dialect: str) -> str:
    """The 商机 sheet's rows in one query: the deal, its account, owner and team, its checklist progress in its
    stage (required items) and its last activity as the deal keeps them (migration 0014: no aggregate, as the
    service); local dates and days in stage computed here; board order."""
    stages = ", ".join(f"'{s}'" for s in BOARD)
    order = " ".join(f"WHEN '{s}' THEN {i}" for i, s in enumerate(BOARD))
    if dialect == "postgresql":
        today = "%(today)s::date"
        local = "(({}) AT TIME ZONE 'UTC' AT TIME ZONE %(zone)s)::date"
        entered, last = local.format("d.stage_entered_at"), local.format("d.last_activity_at")
        days = f"GREATEST({today} - {entered}, 0)"
    else:  # SQLite keeps UTC text: a fixed offset (exact for Asia/Shanghai, which has no daylight saving)
        local = "date({}, :offset)"
        entered, last = local.format("d.stage_entered_at"), local.format("d.last_activity_at")
        days = f"MAX(CAST(julianday(:today) - julianday({entered}) AS INTEGER), 0)"
    return f"""
SELECT d.id, d.title, a.name, u.name, tm.name, d.stage, {entered}, {days}, d.amount_cents, d.currency,
       d.expected_close_date, d.strategy, d.next_step, d.next_step_due, d.checklist_done, d.checklist_required,
       {last}
FROM deals d
JOIN accounts a ON a.id = d.account_id
JOIN users u ON u.id = d.owner_id
LEFT JOIN teams tm ON tm.id = u.team_id
WHERE d.stage IN ({stages})
ORDER BY CASE d.stage {order} END, d.stage_entered_at, d.id
"""


def bare_rows(spec: dict[str, Any]) -> Iterator[tuple[Any, ...]]:
    """The hand-written query's raw rows, streamed: a named (server-side) cursor on PostgreSQL."""
    url = spec["url"]
    if is_postgres(url):
        import psycopg

        conninfo = "postgresql://" + url.split("://", 1)[1]  # libpq's URL; jit off as the app's engine connects
        with psycopg.connect(conninfo, options="-c jit=off") as conn, conn.cursor(name="bare_export") as cursor:
            for setting in PG_SETTINGS:
                conn.execute(setting)
            cursor.itersize = BATCH
            cursor.execute(bare_sql("postgresql"), {"today": spec["today"], "zone": spec["zone"]})
            yield from cursor
        return
    import sqlite3

    hours = spec["utc_offset_hours"]
    conn = sqlite3.connect(url.removeprefix("sqlite:///"))
    try:
        offset = f"{'+' if hours >= 0 else '-'}{abs(hours) * 60:.0f} minutes"
        yield from conn.execute(bare_sql("sqlite"), {"today": spec["today"], "offset": offset})
    finally:
        conn.close()


def _money(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"  # amounts are never negative (a check constraint)


def bare_csv(spec: dict[str, Any], out: IO[bytes]) -> int:
    """Write the sheet as the csv module alone would: the same header and cells; return the rows written."""
    stages, strategies, limits, percent = spec["stages"], spec["strategies"], spec["limits"], spec["percent"]
    strategies = {**strategies, None: ""}
    yes, no = spec["yes"], spec["no"]
    text = io.TextIOWrapper(out, encoding="utf-8-sig", newline="")
    writer = csv.writer(text, lineterminator="\r\n")
    writer.writerow(spec["headers"])
    n = 0
    for (
        id_,
        title,
        account,
        owner,
        team,
        stage,
        entered,
        days,
        cents,
        currency,
        close_on,
        strategy,
        step,
        due,
        done,
        required,
        last,
    ) in bare_rows(spec):
        n += 1
        p = percent[stage]
        writer.writerow(
            (
                id_,
                title,
                account,
                owner,
                team,
                stages[stage],
                entered,
                days,
                _money(cents),
                currency,
                p,
                _money((cents * p + 50) // 100),
                close_on,
                strategies[strategy],
                step,
                due,
                done or 0,
                required or 0,
                last,
                yes if days > limits[stage] else no,
            )
        )
    text.flush()
    text.detach()  # the caller closes `out`
    return n


def bare_book(spec: dict[str, Any], out: IO[bytes]) -> int:
    """The 商机 and 停滞 sheets with XlsxWriter alone, from one pass over the rows; the deals written."""
    return bare_xlsx(spec, out, stalled=True)


def bare_xlsx(spec: dict[str, Any], out: IO[bytes], stalled: bool = False) -> int:
    """Write the sheet with XlsxWriter alone: the same cells, formats and header; return the rows written.

    With `stalled`, the 停滞 sheet too (its rows interleaved with the 商机 sheet's: constant_memory keeps a file
    per sheet, so each only needs its own rows in order).
    """
    import xlsxwriter

    stages, strategies, limits, percent = spec["stages"], spec["strategies"], spec["limits"], spec["percent"]
    strategies = {**strategies, None: ""}
    yes, no = spec["yes"], spec["no"]
    book = xlsxwriter.Workbook(
        out,
        {"constant_memory": True, "strings_to_numbers": False, "strings_to_formulas": False, "strings_to_urls": False},
    )
    sheet = book.add_worksheet(spec["sheet"])
    header = book.add_format({"bold": True, "bg_color": "#E8EEF4", "bottom": 1, "text_wrap": True})
    day, count, money = (book.add_format({"num_format": f}) for f in ("yyyy-mm-dd", "0", '"¥"#,##0.00'))
    formats = [count, None, None, None, None, None, day, count, money, None, count, money, day, None, None, day]
    formats += [count, count, day, None]
    widths = (9, 32, 24, 12, 12, 10, 12, 10, 16, 8, 10, 16, 12, 10, 32, 12, 10, 10, 12, 8)
    for c, (width, cell_format) in enumerate(zip(widths, formats, strict=True)):
        sheet.set_column(c, c, width, cell_format)  # cells written without a format take their column's
    sheet.set_row(0, 30)
    sheet.write_row(0, 0, spec["headers"], header)
    sheet.freeze_panes(1, 0)
    late = book.add_worksheet(spec["stalled_sheet"]) if stalled else None
    if late is not None:
        late_formats = [None, count, count, count, count, None, None, None, None, money, None, None, day, day]
        late_widths = (10, 10, 12, 10, 9, 32, 24, 12, 12, 16, 8, 32, 12, 12)
        for c, (width, cell_format) in enumerate(zip(late_widths, late_formats, strict=True)):
            late.set_column(c, c, width, cell_format)
        late.set_row(0, 30)
        late.write_row(0, 0, spec["stalled_headers"], header)
        late.freeze_panes(1, 0)
    as_date: Callable[[Any], Any] = (lambda v: v) if is_postgres(spec["url"]) else date.fromisoformat
    n = m = 0
    for (
        id_,
        title,
        account,
        owner,
        team,
        stage,
        entered,
        days,
        cents,
        currency,
        close_on,
        strategy,
        step,
        due,
        done,
        required,
        last,
    ) in bare_rows(spec):
        n += 1
        p = percent[stage]
        sheet.write_row(
            n,
            0,
            (
                id_,
                title,
                account,
                owner,
                team or "",
                stages[stage],
                as_date(entered),
                days,
                cents / 100,
                currency,
                p,
                (cents * p + 50) // 100 / 100,
                close_on and as_date(close_on),
                strategies[strategy],
                step,
                due and as_date(due),
                done or 0,
                required or 0,
                last and as_date(last),
                yes if days > limits[stage] else no,
            ),
        )
        if late is not None and days > limits[stage]:
            m += 1
            late.write_row(
                m,
                0,
                (
                    stages[stage],
                    days,
                    limits[stage],
                    days - limits[stage],
                    id_,
                    title,
                    account,
                    owner,
                    team or "",
                    cents / 100,
                    currency,
                    step,
                    due and as_date(due),
                    last and as_date(last),
                ),
            )
    sheet.autofilter(0, 0, max(n, 1), len(widths) - 1)
    if late is not None:
        late.autofilter(0, 0, max(m, 1), len(late_widths) - 1)
    book.close()
    return n


def bare_read(spec: dict[str, Any], out: IO[bytes]) -> int:
    """Only read the hand-written query's rows (what the database and the driver cost on their own)."""
    return sum(1 for _ in bare_rows(spec))


# ---- The service path -------------------------------------------------------------------------------------------


def service_export(spec: dict[str, Any], workload: str, out: IO[bytes]) -> dict[str, int]:
    """Write the export through pipeline.exports (needs an app context); return the rows of each sheet."""
    from flask_babel import force_locale, pgettext

    from pipeline.exports.services import write_export
    from pipeline.exports.sheets import Sheet, deal_cells, deal_columns
    from pipeline.exports.weekly import WeeklyExport
    from pipeline.exports.xlsx import write_workbook
    from pipeline.reports.periods import iso_week
    from pipeline.reports.scope import ReportScope

    made_at = datetime.fromisoformat(spec["made_at"])
    export = WeeklyExport(ReportScope(), iso_week(spec["week"]), spec["scope_name"], made_at, spec["locale"])
    if workload == SERVICE_SHEET:
        with force_locale(export.locale):
            return write_workbook([Sheet(pgettext("sheet", "Deals"), deal_columns(), deal_cells(export))], out)
    return write_export(export, "csv" if workload == SERVICE_CSV else "xlsx", out)


def service_app(url: str) -> Flask:
    from pipeline import create_app

    return create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench"})


# ---- One measured run, in a child process -----------------------------------------------------------------------


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def child(workload: str, spec: dict[str, Any], target: Path) -> dict[str, Any]:
    """Run one workload in this (fresh) process and say what it cost: seconds, CPU, RSS before and at peak."""
    if workload.startswith("service"):
        import pipeline.exports.services  # noqa: F401  (imported before the clock starts, as in a running app)

        app = service_app(spec["url"])
        with app.app_context():
            before, cpu, started = rss_mb(), _cpu(), time.perf_counter()
            with open(target, "wb") as out:
                rows = service_export(spec, workload, out)
            seconds, cpu = time.perf_counter() - started, _cpu() - cpu
    else:
        import psycopg  # noqa: F401  (imported before the clock starts)
        import xlsxwriter  # noqa: F401

        write = {BARE_CSV: bare_csv, BARE_XLSX: bare_xlsx, BARE_BOOK: bare_book, BARE_QUERY: bare_read}[workload]
        before, cpu, started = rss_mb(), _cpu(), time.perf_counter()
        with open(target, "wb") as out:
            rows = {spec["sheet"]: write(spec, out)}
        seconds, cpu = time.perf_counter() - started, _cpu() - cpu
    return {
        "rows": rows[spec["sheet"]],
        "sheets": rows,
        "seconds": seconds,
        "cpu_seconds": cpu,
        "rss_before_mb": before,
        # Linux carries the parent's high-water mark across fork and exec into ru_maxrss, so the parent stays
        # small (it never loads the app) and VmHWM, this program's own, is kept beside it as a check.
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,  # KiB on Linux
        "vm_hwm_mb": _vm_hwm_mb(),
        "bytes": target.stat().st_size,
    }


def _vm_hwm_mb() -> float | None:
    try:
        with open("/proc/self/status") as status:
            return next((int(line.split()[1]) / 1024 for line in status if line.startswith("VmHWM:")), None)
    except OSError:
        return None


def run_child(*arguments: str) -> dict[str, Any]:
    """Start a fresh interpreter on this module and read its figures (the last line it prints, as JSON)."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    command = [sys.executable, "-m", "bench.exports", *arguments]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(arguments)} failed (exit {done.returncode}):\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def run_workload(workload: str, spec_file: Path, target: Path) -> dict[str, Any]:
    return run_child("--child", workload, "--spec", str(spec_file), "--target", str(target))


# ---- Checks -----------------------------------------------------------------------------------------------------


def csv_differences(first: Path, second: Path, show: int = 5) -> tuple[int, list[str]]:
    """How many lines of two CSV files differ, and the first few pairs (none when the bytes are the same)."""
    if filecmp.cmp(first, second, shallow=False):
        return 0, []
    found, shown = 0, []
    with open(first, encoding="utf-8-sig", newline="") as a, open(second, encoding="utf-8-sig", newline="") as b:
        for number, (left, right) in enumerate(zip(a, b, strict=False), 1):
            if left != right:
                found += 1
                if len(shown) < show:
                    shown.append(f"line {number}: {left.rstrip()!r} != {right.rstrip()!r}")
        rest = sum(1 for _ in a) + sum(1 for _ in b)  # lines one file has and the other has not
    return found + rest, shown + ([f"{rest} lines in one file only"] if rest else [])


# ---- Summary ----------------------------------------------------------------------------------------------------


def summarise(runs: dict[str, list[dict[str, Any]]]) -> dict[str, dict[str, Any]]:
    """Per workload: the median of each figure over its runs, the baseline, the ratio and the verdict."""
    found: dict[str, dict[str, Any]] = {}
    for name, measured in runs.items():
        found[name] = {
            "runs": len(measured),
            "rows": measured[0]["rows"],
            "sheets": measured[0]["sheets"],
            "bytes": measured[0]["bytes"],
            "seconds": statistics.median(r["seconds"] for r in measured),
            "all_seconds": [r["seconds"] for r in measured],
            "cpu_seconds": statistics.median(r["cpu_seconds"] for r in measured),
            "peak_rss_mb": max(r["peak_rss_mb"] for r in measured),
            "vm_hwm_mb": max(r["vm_hwm_mb"] or 0 for r in measured),
            "rss_before_mb": statistics.median(r["rss_before_mb"] for r in measured),
        }
    for name, result in found.items():
        base = found.get(BASELINE.get(name, ""))
        result["baseline_seconds"] = base["seconds"] if base else None
        result["ratio"] = result["seconds"] / base["seconds"] if base else None
        result["target"], result["verdict"] = verdict(name, result)
    return found


def verdict(name: str, result: dict[str, Any]) -> tuple[str, str]:
    """The issue's targets for this workload, and pass or miss by how much (the bare writers have none)."""
    if name not in BASELINE:
        return "", ""
    misses = []
    if result["peak_rss_mb"] > RSS_TARGET_MB:
        misses.append(f"RSS {result['peak_rss_mb']:.0f} MB")
    if name == SERVICE_CSV:
        if result["rows"] < CSV_TARGET_ROWS:
            target = f"RSS ≤ {RSS_TARGET_MB:.0f} MB (≤ {CSV_TARGET_S:.0f} s is for 1M)"
        else:
            target = f"≤ {CSV_TARGET_S:.0f} s, RSS ≤ {RSS_TARGET_MB:.0f} MB"
            if result["seconds"] > CSV_TARGET_S:
                misses.append(f"{result['seconds'] / CSV_TARGET_S:.2f}× the time")
    else:
        target = f"≤ {XLSX_TARGET_RATIO}× bare, RSS ≤ {RSS_TARGET_MB:.0f} MB"
        if result["ratio"] is not None and result["ratio"] > XLSX_TARGET_RATIO:
            misses.append(f"{result['ratio']:.2f}×")
    return target, f"miss ({', '.join(misses)})" if misses else "pass"


# ---- Profile ----------------------------------------------------------------------------------------------------


def profile(spec: dict[str, Any], what: str, top: int) -> None:
    """Where the service's time goes: cProfile of one export in this process, by own time and by cumulative."""
    import cProfile
    import pstats

    workload = {"csv": SERVICE_CSV, "xlsx": SERVICE_XLSX, "sheet": SERVICE_SHEET}[what]
    app = service_app(spec["url"])
    profiler = cProfile.Profile()
    with (
        app.app_context(),
        tempfile.TemporaryDirectory(prefix="pipeline-bench-") as folder,
        open(Path(folder) / f"export.{SUFFIX[workload]}", "wb") as out,
    ):
        started = time.perf_counter()
        profiler.enable()
        rows = service_export(spec, workload, out)
        profiler.disable()
        seconds = time.perf_counter() - started
    print(f"{workload}: {rows} in {seconds:.2f} s under cProfile\n", flush=True)
    stats = pstats.Stats(profiler, stream=sys.stdout)
    stats.sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats(top)


# ---- Command line -----------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", help="a database bench.generate filled: sqlite:///FILE or PostgreSQL")
    parser.add_argument("--repeat", type=int, default=3, help="rounds; the table gives each workload's median")
    parser.add_argument("--warmup", type=int, default=1, help="untimed bare CSV runs first (warm the caches)")
    parser.add_argument("--week", help="ISO week such as 2026-W47 (default: the week before the data's anchor)")
    parser.add_argument("--anchor", type=date.fromisoformat, help="the data's last day (default: from the data)")
    parser.add_argument("--lang", default="zh", choices=("zh", "en"))
    parser.add_argument("--only", help=f"comma-separated workloads of {', '.join(SHORT)} (default: all)")
    parser.add_argument("--out-dir", help="where the files are written (default: a temporary folder)")
    parser.add_argument("--json", help="also write the results here")
    parser.add_argument("--profile", choices=("csv", "xlsx", "sheet"), help="profile one service export instead")
    parser.add_argument("--top", type=int, default=25, help="functions the profile lists")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--spec", help=argparse.SUPPRESS)
    parser.add_argument("--target", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child == "spec":  # the export's settings and labels, worked out with the app in a child
        with service_app(args.db).app_context():
            spec = make_spec(args.db, args.week, args.anchor, args.lang)
        print(json.dumps(spec | {"database": describe_db(args.db)}, ensure_ascii=False), flush=True)
        return 0
    if args.child:  # one measured run; its figures as the last line on stdout
        spec = json.loads(Path(args.spec).read_text(encoding="utf-8"))
        print(json.dumps(child(args.child, spec, Path(args.target))), flush=True)
        return 0
    if not args.db:
        parser.error("--db is required")
    wanted = list(WORKLOADS) if not args.only else [SHORT[name.strip()] for name in args.only.split(",")]

    if args.profile:
        with service_app(args.db).app_context():
            spec = make_spec(args.db, args.week, args.anchor, args.lang)
        profile(spec, args.profile, args.top)
        return 0
    # This process never loads the app: a child's ru_maxrss starts from this one's high-water mark.
    options = [f"--{k}={v}" for k, v in (("week", args.week), ("anchor", args.anchor), ("lang", args.lang)) if v]
    spec = run_child("--child", "spec", "--db", args.db, *options)
    database = spec["database"]
    print(
        f"{database}: {spec['board']:,} deals on the board; week {spec['week']}, made at {spec['made_at']} "
        f"(today {spec['today']} in {spec['zone']}); load average {_load()}",
        flush=True,
    )
    with tempfile.TemporaryDirectory(prefix="pipeline-bench-", dir=args.out_dir) as folder:
        spec_file = Path(folder) / "spec.json"
        spec_file.write_text(json.dumps(spec, ensure_ascii=False), encoding="utf-8")
        for _ in range(args.warmup):
            run_workload(BARE_CSV, spec_file, Path(folder) / "warmup.csv")
        runs, problems = measure(wanted, spec, spec_file, Path(folder), args.repeat)
    results = summarise(runs)
    for line in problems:
        print(f"!!! {line}", file=sys.stderr)
    print(f"\n{args.repeat} rounds, each workload in its own process; medians; load average now {_load()}\n")
    print_table(
        [
            "workload",
            "rows",
            "seconds",
            "CPU s",
            "baseline s",
            "ratio",
            "peak RSS MB",
            "RSS before export MB",
            "target",
            "pass/miss",
        ],
        [
            [
                name,
                r["rows"],
                r["seconds"],
                r["cpu_seconds"],
                r["baseline_seconds"] if r["baseline_seconds"] is not None else "",
                f"{r['ratio']:.2f}×" if r["ratio"] is not None else "",
                r["peak_rss_mb"],
                r["rss_before_mb"],
                r["target"],
                r["verdict"],
            ]
            for name, r in results.items()
        ],
    )
    workbook = results.get(SERVICE_XLSX)
    if workbook:
        print("\nworkbook sheets: " + ", ".join(f"{k} {v:,}" for k, v in workbook["sheets"].items()))
    if args.json:
        payload = {
            "machine": machine_description(),
            "database": database,
            "board_deals": spec["board"],
            "week": spec["week"],
            "made_at": spec["made_at"],
            "repeat": args.repeat,
            "problems": problems,
            "results": results,
        }
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(payload, fh, indent=2, ensure_ascii=False)
    return 1 if problems else 0


def measure(
    wanted: list[str], spec: dict[str, Any], spec_file: Path, folder: Path, repeat: int
) -> tuple[dict[str, list[dict[str, Any]]], list[str]]:
    """Every workload once per round, each in a new process; the checks after each round."""
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in wanted}
    problems: list[str] = []
    for round_ in range(1, repeat + 1):
        files: dict[str, Path] = {}
        for name in wanted:
            files[name] = folder / f"{SLUG[name]}.{SUFFIX[name]}"
            result = run_workload(name, spec_file, files[name])
            runs[name].append(result)
            print(
                f"round {round_}/{repeat} {name}: {result['rows']:,} rows in {result['seconds']:.2f} s "
                f"(CPU {result['cpu_seconds']:.2f} s), RSS {result['rss_before_mb']:.0f} MB before, peak "
                f"{result['peak_rss_mb']:.0f} MB (VmHWM {result['vm_hwm_mb']:.0f}), "
                f"{result['bytes'] / 2**20:.1f} MiB; load {_load()}",
                flush=True,
            )
        counts = {name: runs[name][-1]["rows"] for name in wanted}
        if len(set(counts.values())) > 1 or spec["board"] not in counts.values():
            problems.append(f"round {round_}: rows differ: {counts} ({spec['board']} deals on the board)")
        if SERVICE_CSV in files and BARE_CSV in files:
            differing, shown = csv_differences(files[SERVICE_CSV], files[BARE_CSV])
            if differing:
                problems.append(f"round {round_}: the two CSV files differ in {differing} lines: {shown}")
            elif round_ == 1:
                print("the service's CSV and the bare CSV are the same bytes", flush=True)
        for path in files.values():
            path.unlink(missing_ok=True)
    return runs, problems


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


if __name__ == "__main__":
    raise SystemExit(main())
