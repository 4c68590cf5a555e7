"""The whole app under a mixed HTTP load: gunicorn with two workers on PostgreSQL, driven by wrk on loopback.

    .venv/bin/python -m bench.http_load [--db URL] [--deals 100000] [--duration 30] [--connections 16] [--json FILE]

A scratch database (PostgreSQL by default, as the issue asks; `--db sqlite` for a SQLite file) is migrated and
filled as bench.board fills it: 100,000 deals, the measured rep owning 200 open ones. Half of those in 确认 get
their checklist done so they may move. gunicorn serves the real app (`pipeline:create_app()`, two sync workers)
from a second process; wrk, a third, signs nothing in itself: the bench signs the rep in through the login form
and hands wrk the session cookie and an API token. The load, for --duration seconds after a 5 s warm-up:

- 50% GET /board, 30% GET /deals/<id> (one of the rep's deals at random), 10% moves through the API
  (POST /api/v1/deals/<id>/transitions, advance from 确认 then revert, each deal moved by one connection at a
  time), 10% reports (funnel, week over week, stalled, forecast in turn);
- the baseline, measured in the same run against the same server: GET /static/style.css, the framework's floor.

Targets (issue 7): ≥ 400 requests/s, p95 ≤ 50 ms, no error (any answer but 200, any socket error or timeout).
wrk stops by itself after --duration; gunicorn is stopped at the end whatever happens.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

from bench import describe_db, machine_description, migrated_app, print_table, scratch_database
from bench.board import PASSWORD, seed

LUA = Path(__file__).with_name("http_load.lua")
TARGET_RPS, TARGET_P95_MS = 400.0, 50.0
PG_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1/postgres"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prepare(url: str, deals: int) -> dict[str, Any]:
    """Fill the database; return the rep's deal ids, the movable ones and an API token."""
    from sqlalchemy import select, text, update

    from pipeline.auth.models import User
    from pipeline.auth.services import issue_token
    from pipeline.deals.models import Deal, DealChecklistItem
    from pipeline.extensions import db

    app = migrated_app(url)
    with app.app_context():
        rep_id = seed(deals, 200)
        mine = db.session.scalars(select(Deal.id).where(Deal.owner_id == rep_id).order_by(Deal.id)).all()
        qualify = db.session.scalars(
            select(Deal.id).where(Deal.owner_id == rep_id, Deal.stage == "qualify").order_by(Deal.id)
        ).all()
        movable = list(qualify[: len(qualify) // 2])
        db.session.execute(
            update(DealChecklistItem)
            .where(DealChecklistItem.deal_id.in_(movable), DealChecklistItem.stage == "qualify")
            .values(done=True)
        )
        rep = db.session.get(User, rep_id)
        assert rep is not None
        token = issue_token(rep, "bench")
        db.session.commit()
        if db.engine.dialect.name == "postgresql":
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("ANALYZE"))
        email = rep.email
        db.session.remove()
        db.engine.dispose()
    return {"deals": mine, "movable": movable, "token": token, "email": email}


def start_server(url: str, port: int, workers: int, log: Path) -> subprocess.Popen[bytes]:
    """gunicorn on loopback with the real app; returns once it answers."""
    gunicorn = shutil.which("gunicorn", path=str(Path(sys.executable).parent)) or "gunicorn"
    env = {
        **os.environ,
        "PIPELINE_DATABASE_URL": url,
        "PIPELINE_SECRET_KEY": "bench-http-secret",
        "PIPELINE_LOGIN_LIMIT_PER_ACCOUNT": "1000 per minute",
        "PIPELINE_LOGIN_LIMIT_PER_ADDRESS": "1000 per minute",
        "PIPELINE_API_RATE_LIMIT": "1000000 per minute",  # the load's moves go through one token
    }
    command = [gunicorn, "--workers", str(workers), "--bind", f"127.0.0.1:{port}", "pipeline:create_app()"]
    server = subprocess.Popen(command, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"gunicorn stopped (exit {server.returncode}); see {log}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=2) as answer:
                if answer.status == 200:
                    return server
        except OSError:
            time.sleep(0.3)
    server.terminate()
    raise SystemExit(f"gunicorn did not answer within 60 s; see {log}")


def sign_in(port: int, email: str) -> str:
    """Sign the rep in through the login form (CSRF token and all); return the session cookie header."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    base = f"http://127.0.0.1:{port}"
    page = opener.open(f"{base}/login").read().decode()
    found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    assert found, "no CSRF token on the login page"
    form = urllib.parse.urlencode({"csrf_token": found.group(1), "email": email, "password": PASSWORD}).encode()
    opener.open(f"{base}/login", data=form)
    board = opener.open(f"{base}/board")
    assert board.status == 200 and "/login" not in board.url, "the bench rep could not sign in"
    return "; ".join(f"{c.name}={c.value}" for c in jar)


def wrk(port: int, seconds: int, connections: int, threads: int, args: list[str]) -> dict[str, Any]:
    """One wrk run with the mix script; the summary the script wrote."""
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as out:
        target = Path(out.name)
    try:
        command = [
            "wrk", "--threads", str(threads), "--connections", str(connections), "--duration", f"{seconds}s",
            "--timeout", "5s", "--script", str(LUA), f"http://127.0.0.1:{port}", "--", *args,
        ]  # fmt: skip
        subprocess.run(command, env={**os.environ, "BENCH_OUT": str(target)}, check=True, capture_output=True)
        summary = json.loads(target.read_text(encoding="utf-8"))
    finally:
        target.unlink(missing_ok=True)
    summary["rps"] = summary["requests"] / (summary["duration_us"] / 1e6)
    summary["errors"] = summary["http_errors"] + summary["socket_errors"] + summary["timeouts"]
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", default=PG_DEFAULT, help="a PostgreSQL server URL (default) or sqlite")
    parser.add_argument("--deals", type=int, default=100_000)
    parser.add_argument("--duration", type=int, default=30, help="seconds of measured load")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args(argv)
    if shutil.which("wrk") is None:
        raise SystemExit("bench.http_load needs wrk (Debian: apt-get install -y wrk)")

    with scratch_database(args.db) as url, tempfile.TemporaryDirectory(prefix="pipeline-bench-http-") as folder:
        started = time.perf_counter()
        data = prepare(url, args.deals)
        database = describe_db(url)
        print(f"{database}: seeded {args.deals:,} deals in {time.perf_counter() - started:.0f} s", flush=True)
        port = free_port()
        server = start_server(url, port, args.workers, Path(folder) / "gunicorn.log")
        try:
            cookie = sign_in(port, data["email"])
            deals, movable = ",".join(map(str, data["deals"])), ",".join(map(str, data["movable"]))
            mix = [cookie, data["token"], deals, movable, str(args.threads)]
            warm = [cookie, data["token"], deals, ",", str(args.threads)]  # no moves: every deal stays in 确认
            wrk(port, 5, args.connections, args.threads, warm)  # warm-up: imports, caches, pooled connections
            base = wrk(port, args.duration, args.connections, args.threads, ["baseline"])
            load = wrk(port, args.duration, args.connections, args.threads, mix)
        finally:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()

    p95 = load["latency_us"]["p95"] / 1000
    misses = []
    if load["rps"] < TARGET_RPS:
        misses.append(f"{load['rps'] / TARGET_RPS:.2f}× the rate")
    if p95 > TARGET_P95_MS:
        misses.append(f"p95 {p95 / TARGET_P95_MS:.2f}× the target")
    if load["errors"]:
        misses.append(f"{load['errors']} errors {load['statuses']}")
    verdict = "pass" if not misses else "miss (" + "; ".join(misses) + ")"
    rows = [
        {
            "workload": f"HTTP mixed load, gunicorn {args.workers} workers, {args.deals:,} deals, {database}",
            "median": load["rps"],
            "p95": p95,
            "unit": "req/s; p95 ms",
            "baseline": base["rps"],
            "ratio": base["rps"] / load["rps"],
            "target": f"≥ {TARGET_RPS:.0f} req/s, p95 ≤ {TARGET_P95_MS:.0f} ms, 0 errors",
            "verdict": verdict,
            "note": (
                f"{load['requests']:,} requests in {args.duration} s ({load['moves']:,} moves), "
                f"{load['errors']} errors; p50 {load['latency_us']['p50'] / 1000:.1f} ms, "
                f"p99 {load['latency_us']['p99'] / 1000:.1f} ms; baseline p95 {base['latency_us']['p95'] / 1000:.1f} ms"
            ),
        }
    ]
    load_now = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"\n{args.connections} connections, {args.threads} wrk threads, {args.duration} s each; load {load_now}")
    print_table(
        ["workload", "requests", "req/s", "p50 ms", "p95 ms", "p99 ms", "errors"],
        [
            [name, r["requests"], r["rps"], r["latency_us"]["p50"] / 1000, r["latency_us"]["p95"] / 1000,
             r["latency_us"]["p99"] / 1000, f"{r['errors']} {r['statuses'] or ''}".strip()]
            for name, r in (("baseline GET /static/style.css", base), ("mixed load", load))
        ],
    )  # fmt: skip
    print(f"\n{verdict}")
    if args.json:
        payload = {"machine": machine_description(), "args": vars(args), "baseline": base, "load": load, "rows": rows}
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(payload, fh, indent=2, ensure_ascii=False)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
