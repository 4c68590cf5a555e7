"""Every benchmark in one run, one table: workload, median, p95, baseline, ratio, target, pass/miss.

    .venv/bin/python -m bench run [--db URL] [--scale 100k|1m] [--only board,reports,…] [--json FILE]

Each benchmark runs as its own process (`python -m bench.<name> … --json FILE`), so one cannot warm the caches
or fill the memory of the next; the runner reads their JSON and lays every figure against the issue's targets.
The report data (years of history) and the export data (every deal on the board) are made by bench.generate
once per database and scale and then reused: SQLite files under --data-dir, PostgreSQL databases named
pipeline_bench_<scale> and pipeline_bench_board_<scale> on the --db server (generating 1M takes minutes).
Without --db the benchmarks run on SQLite. The whole run is written as JSON (default bench/results/), so
results can be compared over time; the latest table goes into bench/README.md by hand, with the machine.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import describe_db, is_postgres, machine_description, print_table

SCALES = {"100k": 100_000, "1m": 1_000_000}
RESULTS_DIR = Path(__file__).resolve().parent / "results"
DEFAULT_DATA_DIR = Path(tempfile.gettempdir()) / "pipeline-bench-data"

BOARD_P95_MS, BOARD_RATIO, DEAL_PAGE_P95_MS = 25.0, 3.0, 25.0
MOVES_PER_S, FLAT_MB = 1000.0, 5.0  # "memory flat": RSS grows by less than this after the first tenth


@dataclass
class Row:
    """One line of the table."""

    workload: str
    median: float | None
    p95: float | None
    unit: str
    baseline: float | None
    ratio: float | None
    target: str
    verdict: str
    note: str = ""


def _verdict(ok: bool, misses: list[str]) -> str:
    return "pass" if ok else "miss (" + "; ".join(misses) + ")" if misses else "miss"


# ---- Reading each benchmark's JSON -----------------------------------------------------------------------------


def board_rows(payload: dict[str, Any]) -> list[Row]:
    """The board: the page's server time against its p95 target, and the board service (the statement and the
    cards it fetches) against one raw query for the same rows; the whole page's ratio is in the note."""
    results, deals = payload["results"], payload["args"]["deals"]
    raw = results["raw SQL (one query, same rows)"]
    page = results["board page GET /board"]
    service = results["board service"]
    ratio = service["median_ms"] / raw["median_ms"]
    misses = []
    if page["p95_ms"] > BOARD_P95_MS:
        misses.append(f"p95 {page['p95_ms'] / BOARD_P95_MS:.2f}× the target")
    if ratio > BOARD_RATIO:
        misses.append(f"{ratio / BOARD_RATIO:.2f}× the ratio")
    rows = [
        Row(
            f"board for one rep ({payload['args']['mine']} open deals), {deals:,} deals",
            page["median_ms"],
            page["p95_ms"],
            "ms",
            raw["median_ms"],
            ratio,
            f"p95 ≤ {BOARD_P95_MS:.0f} ms, ≤ {BOARD_RATIO:.0f}× one raw query",
            _verdict(not misses, misses),
            f"median and p95: the whole GET /board; ratio: the board service ({service['median_ms']:.2f} ms) to the "
            f"raw query; the whole page is {page['median_ms'] / raw['median_ms']:.2f}× the raw query",
        )
    ]
    deal = results.get("deal page GET /deals/<id>")
    if deal:
        ok = deal["p95_ms"] <= DEAL_PAGE_P95_MS
        rows.append(
            Row(
                f"deal page with history and checklist, {deals:,} deals",
                deal["median_ms"],
                deal["p95_ms"],
                "ms",
                raw["median_ms"],
                deal["median_ms"] / raw["median_ms"],
                f"p95 ≤ {DEAL_PAGE_P95_MS:.0f} ms",
                _verdict(ok, [] if ok else [f"p95 {deal['p95_ms'] / DEAL_PAGE_P95_MS:.2f}× the target"]),
            )
        )
    return rows


def report_rows(payload: dict[str, Any]) -> list[Row]:
    """The funnel and the week-over-week report, as bench.reports judged them."""
    results = payload["results"]
    size = f"{payload['deals']:,} deals / {payload['history_rows']:,} history rows"
    rows = []
    raw = results.get("funnel, hand-written SQL", {}).get("median_ms")
    for name, floor in (
        ("funnel service", "funnel, hand-written SQL over the kept counts"),
        ("week over week service", "week over week, hand-written SQL"),
    ):
        r = results[name]
        label = "company-wide funnel + conversion" if name.startswith("funnel") else "week-over-week report"
        rows.append(
            Row(
                f"{label}, {size}",
                r["median_ms"],
                r["p95_ms"],
                "ms",
                results[floor]["median_ms"],
                r["ratio"],
                r["target"],
                r["verdict"],
                f"baseline: one hand-written query over the kept counts; over the raw history {raw:,.0f} ms"
                if name.startswith("funnel") and raw
                else "",
            )
        )
    refresh = payload.get("refresh") or {}
    if refresh.get("pending"):
        rows[0].note += f"; counting {refresh['pending']:,} pending deals first took {refresh['seconds']:,.0f} s"
    return rows


def transition_rows(payload: dict[str, Any]) -> list[Row]:
    """Moves per second through the services against bare UPDATE+INSERT, and whether memory stays flat."""
    by_name = {r["workload"].split()[0]: r for r in payload["results"] if r["commit_every"] == 1}
    service, bare = by_name["service"], by_name["bare"]
    rate, growth = service["moves_per_second"], service["growth_after_first_tenth_mb"]
    misses = []
    if rate < MOVES_PER_S:
        misses.append(f"{rate / MOVES_PER_S:.2f}× the rate")
    if growth > FLAT_MB:
        misses.append(f"RSS grew {growth:.1f} MB")
    return [
        Row(
            f"stage transitions through the service layer, {service['moves']:,} moves",
            rate,
            None,
            "moves/s",
            bare["moves_per_second"],
            service["seconds"] / bare["seconds"] if bare["seconds"] else None,
            f"≥ {MOVES_PER_S:,.0f}/s, RSS flat (< {FLAT_MB:.0f} MB growth after the first 10%)",
            _verdict(not misses, misses),
            f"RSS {service['rss_start_mb']:.0f} → {service['rss_end_mb']:.0f} MB; CPU {service['cpu_seconds']:.1f} s",
        )
    ]


def export_rows(payload: dict[str, Any]) -> list[Row]:
    """The weekly export's service workloads, as bench.exports judged them (seconds, ratio to the bare writer)."""
    rows = []
    for name, r in payload["results"].items():
        if not name.startswith("service"):
            continue
        seconds = r["all_seconds"]
        rows.append(
            Row(
                f"weekly export: {name}, {payload['board_deals']:,} deals on the board",
                r["seconds"],
                max(seconds),
                "s",
                r["baseline_seconds"],
                r["ratio"],
                r["target"],
                r["verdict"],
                f"peak RSS {r['peak_rss_mb']:.0f} MB; CPU {r['cpu_seconds']:.1f} s; max of {len(seconds)} runs as p95",
            )
        )
    return rows


IMPORT_S, IMPORT_RATIO, IMPORT_RSS_MB = 5.0, 2.0, 150.0


def import_rows(payload: dict[str, Any]) -> list[Row]:
    """The contact import against a bare executemany of the same rows, each round in fresh processes."""
    import statistics

    rounds = payload["results"]
    seconds = [r["import"]["seconds"] for r in rounds]
    bare = statistics.median(r["bare"]["seconds"] for r in rounds)
    median = statistics.median(seconds)
    rss = max(r["import"]["peak_rss_mb"] for r in rounds)
    misses = []
    if median > IMPORT_S:
        misses.append(f"{median / IMPORT_S:.2f}× the time")
    if median / bare > IMPORT_RATIO:
        misses.append(f"{median / bare / IMPORT_RATIO:.2f}× the ratio")
    if rss > IMPORT_RSS_MB:
        misses.append(f"RSS {rss:.0f} MB")
    cpu = statistics.median(r["import"]["cpu_seconds"] for r in rounds)
    bare_cpu = statistics.median(r["bare"]["cpu_seconds"] for r in rounds)
    created = sum(rounds[0]["import"]["counts"].values())
    return [
        Row(
            f"contact import, {created:,} rows GB18030 CSV, {rounds[0]['db']}",
            median,
            max(seconds),
            "s",
            bare,
            median / bare,
            f"≤ {IMPORT_S:.0f} s, ≤ {IMPORT_RATIO:.0f}× bare executemany, RSS ≤ {IMPORT_RSS_MB:.0f} MB",
            _verdict(not misses, misses),
            f"peak RSS {rss:.0f} MB; CPU {cpu:.2f} s vs bare {bare_cpu:.2f} s ({cpu / bare_cpu:.2f}×)",
        )
    ]


def generic_rows(payload: dict[str, Any]) -> list[Row]:
    """A benchmark that already speaks the runner's language: a list of rows under "rows"."""
    return [Row(**row) for row in payload["rows"]]


# ---- Data and orchestration ------------------------------------------------------------------------------------


def _pg_exists(server: str, name: str) -> bool:
    import psycopg

    plain = server.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain, autocommit=True) as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is not None


def _pg_url(server: str, name: str) -> str:
    base, _, _ = server.rpartition("/")
    return f"{base}/{name}"


def data_url(kind: str, db: str | None, scale: str, data_dir: Path, log: Path) -> str:
    """A database bench.generate filled for `kind` ("reports" or "board"), made on first use and then reused."""
    extra = ["--checklists"] + (["--board-only", "--activities"] if kind == "board" else [])
    deals = str(SCALES[scale])
    if is_postgres(db):
        assert db is not None
        name = f"pipeline_bench_{scale}" if kind == "reports" else f"pipeline_bench_board_{scale}"
        if not _pg_exists(db, name):
            _run(["bench.generate", "--db", db, "--create", name, "--deals", deals, *extra], log, f"generate {name}")
        return _pg_url(db, name)
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / f"{kind}-{scale}.db"
    if not path.exists():
        partial = path.with_suffix(".partial")
        partial.unlink(missing_ok=True)
        _run(["bench.generate", "--db", f"sqlite:///{partial}", "--deals", deals, *extra], log, f"generate {path}")
        partial.rename(path)
    return f"sqlite:///{path}"


def _run(module_args: list[str], log: Path, what: str) -> None:
    """Run `python -m <module> …` with its output in the log; stop the whole run if it fails."""
    started = time.perf_counter()
    print(f"… {what}", flush=True)
    with log.open("a", encoding="utf-8") as out:
        out.write(f"\n$ python -m {' '.join(module_args)}\n")
        out.flush()
        done = subprocess.run([sys.executable, "-m", *module_args], stdout=out, stderr=subprocess.STDOUT, check=False)
    print(f"  {what}: {time.perf_counter() - started:.0f} s", flush=True)
    if done.returncode != 0:
        raise SystemExit(f"bench run: {what} failed (exit {done.returncode}); see {log}")


@dataclass
class Benchmark:
    """One benchmark module, the arguments it takes at a scale, and how its JSON becomes rows."""

    name: str
    arguments: Callable[[argparse.Namespace, Path], list[str]]
    rows: Callable[[dict[str, Any]], list[Row]]


def _board_args(args: argparse.Namespace, _log: Path) -> list[str]:
    """The board's own data (one rep with 200 open deals), seeded on first use and kept like the others."""
    if is_postgres(args.db):
        kept = _pg_url(args.db, f"pipeline_bench_rep_{args.scale}")
    else:
        args.data_dir.mkdir(parents=True, exist_ok=True)
        kept = f"sqlite:///{args.data_dir / f'board-rep-{args.scale}.db'}"
    return ["bench.board", "--keep", kept, "--deals", str(SCALES[args.scale]), "--repeat", str(args.repeat)]


def _report_args(args: argparse.Namespace, log: Path) -> list[str]:
    url = data_url("reports", args.db, args.scale, args.data_dir, log)
    return ["bench.reports", "--db", url, "--repeat", str(args.repeat), "--upgrade"]


def _transition_args(args: argparse.Namespace, _log: Path) -> list[str]:
    db = ["--db", args.db] if args.db else []
    return ["bench.transitions", *db, "--transitions", str(args.moves)]


def _export_args(args: argparse.Namespace, log: Path) -> list[str]:
    url = data_url("board", args.db, args.scale, args.data_dir, log)
    return [
        "bench.exports",
        "--db",
        url,
        "--repeat",
        str(args.rounds),
        "--only",
        "service-csv,bare-csv,service-sheet,bare-xlsx,service-xlsx",
    ]


def _import_args(args: argparse.Namespace, _log: Path) -> list[str]:
    db = ["--db", args.db] if args.db else []
    return ["bench.imports", *db, "--rows", "100000", "--rounds", str(args.rounds)]


def _http_args(args: argparse.Namespace, _log: Path) -> list[str]:
    """The HTTP load runs at 100,000 deals on PostgreSQL whatever the scale (the issue's workload)."""
    db = args.db if is_postgres(args.db) else "postgresql+psycopg://postgres@127.0.0.1/postgres"
    return ["bench.http_load", "--db", db, "--deals", "100000", "--duration", str(args.duration)]


BENCHMARKS: dict[str, Benchmark] = {
    "board": Benchmark("board", _board_args, board_rows),
    "reports": Benchmark("reports", _report_args, report_rows),
    "transitions": Benchmark("transitions", _transition_args, transition_rows),
    "exports": Benchmark("exports", _export_args, export_rows),
    "imports": Benchmark("imports", _import_args, import_rows),
    "http": Benchmark("http", _http_args, generic_rows),
}


def _cell(value: float | None) -> str:
    if value is None:
        return ""
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.2f}"


def table(rows: list[Row]) -> str:
    """The run as one Markdown table."""
    return print_table(
        ["workload", "median", "p95", "unit", "baseline", "ratio", "target", "pass/miss", "note"],
        [
            [
                r.workload,
                _cell(r.median),
                _cell(r.p95),
                r.unit,
                _cell(r.baseline),
                f"{r.ratio:.2f}×" if r.ratio is not None else "",
                r.target,
                r.verdict,
                r.note,
            ]
            for r in rows
        ],
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench run", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", help="a PostgreSQL server URL (default: SQLite files)")
    parser.add_argument("--scale", choices=tuple(SCALES), default="100k")
    parser.add_argument("--only", help=f"comma-separated of {', '.join(BENCHMARKS)} (default: all)")
    parser.add_argument("--repeat", type=int, default=50, help="timed runs of each page or report")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of each export workload")
    parser.add_argument("--moves", type=int, default=100_000, help="moves per transitions workload")
    parser.add_argument("--duration", type=int, default=30, help="seconds of measured HTTP load")
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR, help="where SQLite data files are kept")
    parser.add_argument("--json", type=Path, help="where the run is written (default: bench/results/…)")
    args = parser.parse_args(argv)
    wanted = args.only.split(",") if args.only else list(BENCHMARKS)
    unknown = set(wanted) - BENCHMARKS.keys()
    if unknown:
        parser.error(f"unknown benchmark(s) {', '.join(sorted(unknown))}; choose from {', '.join(BENCHMARKS)}")

    database = describe_db(args.db) if args.db else "SQLite"
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    RESULTS_DIR.mkdir(exist_ok=True)
    kind = "postgresql" if is_postgres(args.db) else "sqlite"
    target = args.json or RESULTS_DIR / f"{stamp}-{kind}-{args.scale}.json"
    log = target.with_suffix(".log")
    print(f"bench run: {', '.join(wanted)} at {args.scale} on {database}; output of each in {log}", flush=True)
    rows: list[Row] = []
    timings: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="pipeline-bench-run-") as folder:
        for name in wanted:
            bench = BENCHMARKS[name]
            started = time.perf_counter()
            module_args = bench.arguments(args, log)
            out = Path(folder) / f"{name}.json"
            _run([*module_args, "--json", str(out)], log, name)
            rows += bench.rows(json.loads(out.read_text(encoding="utf-8")))
            timings[name] = round(time.perf_counter() - started, 1)
    machine = machine_description()
    print(f"\n{database}, scale {args.scale}; {machine['nproc']} × {machine['cpu']}; load {os.getloadavg()[0]:.2f}\n")
    table(rows)
    payload = {
        "made_at": stamp,
        "machine": machine,
        "database": database,
        "scale": args.scale,
        "arguments": {k: str(v) for k, v in vars(args).items()},
        "seconds": timings,
        "rows": [asdict(r) for r in rows],
    }
    partial = target.with_suffix(".partial")
    partial.write_text(json.dumps(payload, indent=2, ensure_ascii=False), encoding="utf-8")
    partial.rename(target)
    print(f"\nwrote {target}")
    return 0 if all(r.verdict in ("pass", "") for r in rows) else 1
