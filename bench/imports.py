"""The contact import of 100,000 rows (a GB18030 CSV, as WPS writes it) against a bare executemany of the same rows.

    .venv/bin/python -m bench.imports [--db postgresql+psycopg://postgres@127.0.0.1/postgres] [--rows 100000]
                                      [--seed 1] [--rounds 1] [--json FILE]

The file is generated with Faker (zh_CN) and a fixed seed: names, mobiles written every way people write them
(13800138000, +86 138 0013 8000, 138-0013-8000, full-width digits), companies from 5,000 draws of Faker's
(324 distinct names; 10% of people have none: they become B2C accounts), e-mail for 70%, a title, an address,
groups for 30%, and 2% of rows repeating an earlier person's mobile with something new (merges). Each round,
on a fresh scratch database migrated by this process:

- import: a child process runs the real import, `plan_file` then `write_contacts` then the commit, and times
  it from opening the file to the commit's return (wall and CPU seconds); its peak RSS (VmHWM, the child's
  own: `ru_maxrss` would carry the parent's peak across the fork) and its RSS before the import (the app
  loaded) are reported;
- bare: the rows the import wrote (tags, accounts, contacts, contact_tags: read back from the database, not
  timed) are inserted by a second child into another fresh database, with Core executemany in chunks of
  1,000 in one transaction, timed from the first insert to the commit.

Targets (issue 6): ≤ 5 s, ≤ 2× the bare executemany, peak RSS ≤ 150 MB.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import describe_db, machine_description, migrated_app, print_table, rss_mb, scratch_database

TARGET_S, TARGET_RATIO, TARGET_RSS_MB = 5.0, 2.0, 150.0
TAGS = ("重要客户", "集团客户", "老客户", "潜在客户", "合作伙伴", "供应商", "朋友", "同事", "展会", "转介绍")
TITLES = ("总经理", "采购经理", "技术总监", "财务总监", "IT经理", "副总裁", "项目经理", "工程师", "销售总监", "董事长")
FULL_WIDTH = str.maketrans("0123456789+- ", "０１２３４５６７８９＋－　")
OWNER = "bench-importer@example.com"


def _mobile(rng: random.Random) -> str:
    prefix = rng.choice(("138", "139", "137", "135", "150", "151", "158", "186", "187", "188", "177", "199"))
    return prefix + f"{rng.randrange(10**8):08d}"


def _written(rng: random.Random, mobile: str) -> str:
    """A mobile as people write it."""
    style = rng.random()
    if style < 0.5:
        return mobile
    if style < 0.7:
        return f"+86 {mobile[:3]} {mobile[3:7]} {mobile[7:]}"
    if style < 0.9:
        return f"{mobile[:3]}-{mobile[3:7]}-{mobile[7:]}"
    return mobile.translate(FULL_WIDTH)


def generate(path: Path, rows: int, seed: int) -> None:
    """Write the CSV: GB18030 without BOM, CRLF, Excel-style quoting."""
    import csv

    from faker import Faker

    fake = Faker("zh_CN")
    fake.seed_instance(seed)
    rng = random.Random(seed)
    companies = [fake.company() for _ in range(5_000)]
    names = [fake.name() for _ in range(2_000)]
    addresses = [fake.address().replace("\n", " ") for _ in range(2_000)]
    people: list[tuple[str, str]] = []
    with open(path, "w", encoding="gb18030", newline="") as out:
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(["姓名", "手机", "公司", "邮箱", "职位", "地址", "分组", "备注"])
        for i in range(rows):
            if people and rng.random() < 0.02:  # someone again, now with a title and a group
                name, mobile = rng.choice(people)
                writer.writerow([name, _written(rng, mobile), "", "", rng.choice(TITLES), "", rng.choice(TAGS), ""])
                continue
            name, mobile = rng.choice(names), _mobile(rng)
            while any(mobile == m for _, m in people[-3:]):
                mobile = _mobile(rng)
            people.append((name, mobile))
            company = rng.choice(companies) if rng.random() < 0.9 else ""
            email = (
                f"user{i}@{rng.choice(('163.com', 'qq.com', 'example.cn', 'sina.com'))}" if rng.random() < 0.7 else ""
            )
            tags = ",".join(rng.sample(TAGS, rng.randint(1, 2))) if rng.random() < 0.3 else ""
            note = "展会认识，对ERP感兴趣" if rng.random() < 0.1 else ""
            writer.writerow(
                [name, _written(rng, mobile), company, email, rng.choice(TITLES), rng.choice(addresses), tags, note]
            )


def _peak_mb() -> float:
    """This process's peak RSS since it started: VmHWM (ru_maxrss would carry the parent's peak over the fork)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child_import(url: str, path: Path) -> dict[str, Any]:
    """Run the real import once; the figures as JSON."""
    from sqlalchemy import func, select

    from pipeline import create_app
    from pipeline.auth.models import User
    from pipeline.extensions import db
    from pipeline.imports.contacts import plan_file
    from pipeline.imports.contacts_write import write_contacts

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench"})
    with app.app_context():
        owner = db.session.scalar(select(User).where(User.email == OWNER))
        db.session.execute(select(func.count()).select_from(User))  # connect before the clock starts
        before = rss_mb()
        start = time.perf_counter()
        cpu = time.process_time()
        with plan_file(path, owner) as plan:
            planned = time.perf_counter() - start
            done = write_contacts(plan, via="cli", actor=None, filename=path.name)
            counts = dict(plan.counts)
            bad = len(plan.bad_rows)
        db.session.commit()
        seconds = time.perf_counter() - start
        return {
            "seconds": seconds,
            "plan_seconds": planned,
            "cpu_seconds": time.process_time() - cpu,
            "rss_before_mb": before,
            "peak_rss_mb": _peak_mb(),
            "counts": counts,
            "bad": bad,
            "accounts": done.accounts,
            "tags": done.tags,
        }


TABLES = ("tags", "accounts", "contacts", "contact_tags", "field_changes")


def dump_rows(url: str, target: Path) -> dict[str, int]:
    """The rows the import wrote, table by table, to insert again bare (ids kept, so the links hold)."""
    from sqlalchemy import create_engine, select

    from pipeline import models  # noqa: F401  (every table registered)
    from pipeline.extensions import db

    engine = create_engine(url)
    counts = {}
    with engine.connect() as conn, open(target, "wb") as out:
        for name in TABLES:
            table = db.metadata.tables[name]
            rows = [dict(r._mapping) for r in conn.execute(select(table))]
            counts[name] = len(rows)
            pickle.dump((name, rows), out, pickle.HIGHEST_PROTOCOL)
    engine.dispose()
    return counts


def child_bare(url: str, rows_file: Path) -> dict[str, Any]:
    """Insert the same rows with Core executemany, 1,000 a statement, one transaction; the figures as JSON."""
    from sqlalchemy import create_engine, func, insert, select

    from pipeline import models  # noqa: F401
    from pipeline.extensions import db

    data = []
    with open(rows_file, "rb") as source:
        for _ in TABLES:
            data.append(pickle.load(source))
    from pipeline.core.database import engine_options

    engine = create_engine(url, **engine_options(url))  # the app's own settings (SQLite: WAL, foreign keys)
    with engine.connect() as conn:
        conn.exec_driver_sql("SELECT 1")
        conn.commit()
        start = time.perf_counter()
        cpu = time.process_time()
        with conn.begin():
            for name, rows in data:
                table = db.metadata.tables[name]
                for i in range(0, len(rows), 1_000):
                    if rows[i : i + 1_000]:
                        conn.execute(insert(table), rows[i : i + 1_000])
        seconds = time.perf_counter() - start
        cpu_seconds = time.process_time() - cpu
        for name, rows in data:  # the same rows are there: the bare run did the same work
            table = db.metadata.tables[name]
            found = conn.execute(select(func.count()).select_from(table)).scalar_one()
            if found != len(rows) + (1 if name == "audit_events" else 0):
                raise SystemExit(f"bare: {name} has {found} rows, expected {len(rows)}")
    engine.dispose()
    return {"seconds": seconds, "cpu_seconds": cpu_seconds, "peak_rss_mb": _peak_mb()}


def _run_child(*args: str) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    done = subprocess.run(
        [sys.executable, "-m", "bench.imports", *args], capture_output=True, text=True, env=env, check=False
    )
    if done.returncode:
        raise SystemExit(f"child {args[0]} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _fresh(url: str) -> None:
    """Migrate the scratch database and add the importing user (not timed, not in the child's memory)."""
    from pipeline.auth.services import create_user
    from pipeline.extensions import db

    app = migrated_app(url)
    with app.app_context():
        create_user(OWNER, "导入员", "admin")
        db.session.commit()
        db.engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", help="a PostgreSQL server URL (default: SQLite temp files)")
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--child", choices=("import", "bare"), help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--file", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child == "import":
        print(json.dumps(child_import(args.url, args.file)))
        return
    if args.child == "bare":
        print(json.dumps(child_bare(args.url, args.file)))
        return

    with tempfile.TemporaryDirectory(prefix="pipeline-bench-imports-") as folder:
        csv_path = Path(folder) / "contacts-gb18030.csv"
        started = time.perf_counter()
        generate(csv_path, args.rows, args.seed)
        size_mb = csv_path.stat().st_size / 2**20
        print(f"generated {args.rows:,} rows, {size_mb:.1f} MB GB18030 in {time.perf_counter() - started:.1f} s")
        results = []
        for round_ in range(1, args.rounds + 1):
            with scratch_database(args.db) as url:
                _fresh(url)
                db_name = describe_db(url)
                imported = _run_child("--child", "import", "--url", url, "--file", str(csv_path))
                rows_file = Path(folder) / "rows.pickle"
                written = dump_rows(url, rows_file)
            with scratch_database(args.db) as url:
                _fresh(url)
                bare = _run_child("--child", "bare", "--url", url, "--file", str(rows_file))
            results.append({"round": round_, "db": db_name, "import": imported, "bare": bare, "rows": written})
            print(f"round {round_}: import {imported['seconds']:.2f} s, bare {bare['seconds']:.2f} s", flush=True)
    table_rows = []
    for r in results:
        imp, bare = r["import"], r["bare"]
        ratio = imp["seconds"] / bare["seconds"]
        table_rows.append(
            [
                r["round"],
                r["db"],
                f"{imp['seconds']:.2f}",
                f"{imp['plan_seconds']:.2f}",
                f"{bare['seconds']:.2f}",
                f"{ratio:.2f}×",
                f"{imp['cpu_seconds']:.2f}",
                f"{bare['cpu_seconds']:.2f}",
                f"{imp['cpu_seconds'] / bare['cpu_seconds']:.2f}×",
                f"{imp['rss_before_mb']:.0f}",
                f"{imp['peak_rss_mb']:.0f}",
                ", ".join(f"{k} {v:,}" for k, v in imp["counts"].items()),
                ", ".join(f"{k} {v:,}" for k, v in r["rows"].items()),
            ]
        )
    print()
    print_table(
        (
            "round",
            "database",
            "import s",
            "of which plan s",
            "bare executemany s",
            "ratio",
            "import CPU s",
            "bare CPU s",
            "CPU ratio",
            "RSS before MB",
            "peak RSS MB",
            "rows",
            "rows written",
        ),
        table_rows,
    )
    best = min(results, key=lambda r: r["import"]["seconds"])
    imp = best["import"]
    verdicts = [
        f"time {imp['seconds']:.2f} s (target ≤ {TARGET_S:.0f} s): {'met' if imp['seconds'] <= TARGET_S else 'MISSED'}",
        f"ratio {imp['seconds'] / best['bare']['seconds']:.2f}× (target ≤ {TARGET_RATIO:.0f}×): "
        f"{'met' if imp['seconds'] / best['bare']['seconds'] <= TARGET_RATIO else 'MISSED'}",
        f"CPU {imp['cpu_seconds']:.2f} s against the bare {best['bare']['cpu_seconds']:.2f} s "
        f"({imp['cpu_seconds'] / best['bare']['cpu_seconds']:.2f}×; less disturbed by other load than wall time)",
        f"peak RSS {imp['peak_rss_mb']:.0f} MB (target ≤ {TARGET_RSS_MB:.0f} MB): "
        f"{'met' if imp['peak_rss_mb'] <= TARGET_RSS_MB else 'MISSED'}",
    ]
    print("\n" + "\n".join(verdicts))
    if args.json:
        args.json.write_text(json.dumps({"machine": machine_description(), "results": results}, indent=2, default=str))


if __name__ == "__main__":
    main()
