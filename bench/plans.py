"""The query plans of every page and API read, at scale: which statements would scan a big table.

Signs a rep, their lead and an admin in (the generated users' password), asks every GET route of the app for
records the rep owns, records each SELECT the request runs, and asks PostgreSQL for its plan with the same
parameters (EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON): the statement really runs, so the times are real).
A sequential scan of a big table (10,000 rows or more of deals, stage history, field changes, activities,
checklist items, accounts, contacts, audit ...) is what turns a page slow at a million deals; the run lists
each with the route that caused it and exits non-zero if a rep's or a lead's request has one. Meant for a
database bench.generate filled; it writes only what signing in writes (the audit row, a token), so run it
on a copy if that matters:

    createdb -h 127.0.0.1 -U postgres -T pipeline_bench_1m pipeline_plans_1m
    python -m bench.plans --db postgresql+psycopg://postgres@127.0.0.1/pipeline_plans_1m [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event, text

BIG_TABLES = {
    "deals",
    "stage_events",
    "field_changes",
    "activities",
    "deal_checklist_items",
    "accounts",
    "contacts",
    "audit_events",
    "buying_influences",
    "complaints",
    "satisfaction_surveys",
}
SKIPPED = {"static", "api-docs.openapi_json", "auth.login", "care.calendar_feed"}
# Answered as a file; the weekly export streams every visible deal by design (bench.exports measures it).
FILE_ROUTES = {"exports.download", "exports_api.weekly"}


@dataclass
class Statement:
    """One SELECT a request ran, with what its plan says."""

    sql: str
    params: Any
    ms: float = 0.0
    scans: list[str] = field(default_factory=list)
    plan: str = ""


@dataclass
class Visit:
    """One GET of one route by one viewer."""

    viewer: str
    url: str
    status: int
    statements: list[Statement]


@contextmanager
def recording(engine: Any) -> Iterator[list[Statement]]:
    """Every SELECT the engine runs inside the block, with its parameters."""
    seen: list[Statement] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_args: Any) -> None:
        if re.match(r"\s*(SELECT|WITH)\b", statement, re.IGNORECASE):
            seen.append(Statement(statement, parameters))

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def _walk(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield node
    for child in node.get("Plans", []):
        yield from _walk(child)


def big_tables(connection: Any, least: int = 10_000) -> set[str]:
    """The tables among BIG_TABLES that hold at least `least` rows here (a scan of a small one is right)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT relname, reltuples FROM pg_class WHERE relname = ANY(%s)", (sorted(BIG_TABLES),))
        return {name for name, rows in cursor.fetchall() if rows >= least}


def explain(connection: Any, statement: Statement, big: set[str]) -> None:
    """Fill in the statement's plan, its run time and the big tables it scans whole."""
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + statement.sql, statement.params or None)
        plan = cursor.fetchone()[0][0]
        cursor.execute("EXPLAIN " + statement.sql, statement.params or None)
        statement.plan = "\n".join(row[0] for row in cursor.fetchall())
    connection.rollback()
    statement.ms = plan.get("Execution Time", 0.0)
    statement.scans = sorted(
        {
            node["Relation Name"]
            for node in _walk(plan["Plan"])
            if node["Node Type"] == "Seq Scan" and node.get("Relation Name") in big
        }
    )


def pick_viewers(connection: Any) -> dict[str, tuple[str, int]]:
    """The rep with the most open deals, a lead of their team and an admin: (email, id) each."""
    row = connection.execute(
        text(
            "SELECT u.email, u.id, u.team_id FROM users u JOIN deals d ON d.owner_id = u.id "
            "WHERE u.role = 'rep' AND d.stage NOT IN ('done', 'lost') "
            "GROUP BY u.id ORDER BY count(*) DESC LIMIT 1"
        )
    ).one()
    lead = connection.execute(
        text("SELECT email, id FROM users WHERE role = 'lead' AND team_id = :t ORDER BY id LIMIT 1"), {"t": row[2]}
    ).one()
    admin = connection.execute(text("SELECT email, id FROM users WHERE role = 'admin' ORDER BY id LIMIT 1")).one()
    return {"rep": (row[0], row[1]), "lead": (lead[0], lead[1]), "admin": (admin[0], admin[1])}


def arguments(connection: Any, rep_id: int) -> dict[str, Any]:
    """URL arguments filled from the rep's own records (their newest deal with history, its account ...)."""

    def one(sql: str, **params: Any) -> Any:
        value = connection.execute(text(sql), params).scalar()
        return value if value is not None else 1

    deal = one("SELECT max(id) FROM deals WHERE owner_id = :r AND stage NOT IN ('done', 'lost')", r=rep_id)
    account = one("SELECT account_id FROM deals WHERE id = :d", d=deal)
    return {
        "deal_id": deal,
        "account_id": account,
        "contact_id": one("SELECT min(id) FROM contacts WHERE account_id = :a", a=account),
        "complaint_id": one("SELECT max(c.id) FROM complaints c JOIN accounts a ON a.id = c.account_id"),
        "survey_id": one("SELECT max(id) FROM satisfaction_surveys"),
    }


def visits(app: Any, password: str) -> Iterator[Visit]:
    """Every GET route, as each viewer."""
    from flask import url_for

    from pipeline.extensions import db

    with app.app_context():
        engine = db.engine
        connection = db.session.connection()
        viewers = pick_viewers(connection)
        args = arguments(connection, viewers["rep"][1])
        db.session.rollback()
    with app.test_request_context():
        urls = []
        for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
            if "GET" not in (rule.methods or ()) or rule.endpoint in SKIPPED | FILE_ROUTES:
                continue
            if rule.arguments - args.keys():
                continue  # a form page for one record of a kind the data has none of
            urls.append(url_for(rule.endpoint, **{name: args[name] for name in rule.arguments}))
    urls += ["/board?q=科技", "/deals?stage=propose", "/api/v1/deals?limit=100"]
    for viewer, (email, _id) in viewers.items():
        client = app.test_client()
        page = client.get("/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
        form = {"email": email, "password": password, "csrf_token": token.group(1) if token else ""}
        assert client.post("/login", data=form).status_code == 302, f"{viewer} {email} could not sign in"
        with app.app_context():
            from pipeline.auth.models import User
            from pipeline.auth.services import issue_token

            user = db.session.get(User, _id)
            bearer = issue_token(user, "bench.plans")
            db.session.commit()
        for url in urls:
            headers = {"Authorization": f"Bearer {bearer}"} if url.startswith("/api/") else {}
            with recording(engine) as statements:
                response = client.get(url, headers=headers)
            yield Visit(viewer, url, response.status_code, statements)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", required=True, help="a PostgreSQL URL of a database bench.generate filled")
    parser.add_argument("--out", help="write every distinct statement's plan here (text)")
    parser.add_argument("--json", help="also write the findings here")
    args = parser.parse_args(argv)

    from bench.generate import PASSWORD, app_for
    from pipeline.extensions import db

    app = app_for(args.db, migrate=False)
    app.config.update(PIPELINE_API_RATE_LIMIT="100000 per minute", RATELIMIT_ENABLED=False)
    started = time.perf_counter()
    results: list[dict[str, Any]] = []
    plans: dict[str, Statement] = {}
    bad = 0
    with app.app_context():
        engine = db.engine
    raw = engine.raw_connection()
    big = big_tables(raw.driver_connection)
    raw.driver_connection.rollback()
    print(f"tables of 10,000 rows or more: {', '.join(sorted(big))}")
    for visit in visits(app, PASSWORD):
        scans: set[str] = set()
        slowest = 0.0
        for statement in visit.statements:
            key = statement.sql
            if key not in plans:
                explain(raw.driver_connection, statement, big)
                plans[key] = statement
            known = plans[key]
            scans.update(known.scans)
            slowest = max(slowest, known.ms)
        hot = visit.viewer in ("rep", "lead") and bool(scans)
        bad += hot
        results.append(
            {
                "viewer": visit.viewer,
                "url": visit.url,
                "status": visit.status,
                "statements": len(visit.statements),
                "slowest_ms": round(slowest, 2),
                "seq_scans": sorted(scans),
            }
        )
        flag = "  SEQ SCAN " + ",".join(sorted(scans)) if scans else ""
        print(f"{visit.viewer:5} {visit.status} {len(visit.statements):3} q  {slowest:8.2f} ms  {visit.url}{flag}")
    raw.close()
    print(
        f"{len(results)} requests, {len(plans)} distinct statements explained in {time.perf_counter() - started:.0f} s"
    )
    print(f"{bad} rep/lead requests with a sequential scan of a big table")
    if args.out:
        with open(args.out, "w", encoding="utf-8") as out:
            for statement in sorted(plans.values(), key=lambda s: -s.ms):
                out.write(f"-- {statement.ms:.2f} ms; seq scans: {', '.join(statement.scans) or 'none'}\n")
                out.write(statement.sql.strip() + "\n" + statement.plan + "\n\n")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as out:
            json.dump({"requests": results}, out, ensure_ascii=False, indent=1)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
