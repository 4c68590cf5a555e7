"""The board for one rep with 200 open deals in a database of 100,000 deals, against one raw SQL query.

    .venv/bin/python -m bench.board [--db URL] [--deals 100000] [--mine 200] [--repeat 50] [--json FILE]

A fresh database is migrated with the real migrations; users come through the services, accounts, deals and
each deal's checklist items for its current stage in bulk with Core (the board reads rows, it does not care
how they were made). 60% of the deals are open, the rest won or lost; the measured rep owns --mine open
deals (and some closed ones), spread over the four open stages with stage-entry dates over the last 60 days.

Measured, each the median and 95th percentile of --repeat runs after two warm-ups:
1. **raw SQL**: one hand-written `text()` query fetching the rows the board shows for the rep (every open
   deal's id, title, account, owner, amount, stage, strategy, next step, stage entry and checklist done/total),
   read into tuples: the floor;
2. **board service**: `pipeline.deals.board.board(rep, BoardFilter(), today)` — the totals query and the
   ranked cards query, with Card objects built;
3. **board page**: `GET /board` through the app as the signed-in rep (session load, the two board queries,
   the owner-filter query, template rendering, the per-request commit): the server time of a real request;
4. **deal page**: `GET /deals/<id>` for one of the rep's deals in 成交 with its four moves of history, the
   checklists of every stage it passed, a dozen activities and field changes: the page a rep opens most.
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import statistics
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from bench import describe_db, kept_database, machine_description, migrated_app, print_table, rss_mb, scratch_database

OPEN = ("qualify", "evaluate", "propose", "close")
PASSWORD = "bench-pass-1"

RAW = """
SELECT d.id, d.version, d.stage, d.title, a.name, u.name, d.amount_cents, d.currency, d.strategy,
       d.next_step, d.next_step_due, d.stage_entered_at,
       (SELECT COUNT(*) FROM deal_checklist_items i WHERE i.deal_id = d.id AND i.stage = d.stage AND i.done),
       (SELECT COUNT(*) FROM deal_checklist_items i WHERE i.deal_id = d.id AND i.stage = d.stage)
FROM deals d
JOIN accounts a ON a.id = d.account_id
JOIN users u ON u.id = d.owner_id
WHERE d.owner_id = :owner AND d.stage IN ('qualify', 'evaluate', 'propose', 'close', 'follow_up')
ORDER BY d.stage_entered_at, d.id
"""


def seed(deals: int, mine: int, seed_value: int = 1) -> int:
    """Fill the database; return the measured rep's id."""
    from sqlalchemy import insert, select

    from pipeline.accounts.models import Account
    from pipeline.auth.services import create_user
    from pipeline.deals.models import ChecklistTemplate, Deal, DealChecklistItem
    from pipeline.extensions import db

    rng = random.Random(seed_value)
    rep = create_user("board-rep@example.com", "看板销售", "rep", team="基准一组", password=PASSWORD)
    others = [create_user(f"rep{i}@example.com", f"销售{i}", "rep", team=f"基准{i % 20}组") for i in range(199)]
    db.session.commit()
    owners = [o.id for o in others]
    items_by_stage: dict[str, list[str]] = {}
    for stage, key in db.session.execute(select(ChecklistTemplate.stage, ChecklistTemplate.key)):
        items_by_stage.setdefault(stage, []).append(key)

    now = datetime.now(UTC)
    # The rep's deals first: `mine` open ones and a quarter as many closed ones; the rest belong to others.
    plan: list[tuple[int, str]] = [(rep.id, OPEN[i % len(OPEN)]) for i in range(mine)]
    plan += [(rep.id, rng.choice(("follow_up", "done", "lost"))) for _ in range(mine // 4)]
    while len(plan) < deals:
        stage = rng.choice(OPEN) if rng.random() < 0.6 else rng.choice(("follow_up", "done", "lost"))
        plan.append((rng.choice(owners), stage))

    batch = 5000
    for start in range(0, len(plan), batch):
        chunk = plan[start : start + batch]
        db.session.execute(
            insert(Account),
            [{"name": f"基准客户{start + i}有限公司", "owner_id": owner} for i, (owner, _) in enumerate(chunk)],
        )
    account_ids = db.session.scalars(select(Account.id).order_by(Account.id)).all()
    for start in range(0, len(plan), batch):
        rows = []
        for i, (owner, stage) in enumerate(plan[start : start + batch]):
            entered = now - timedelta(days=rng.randint(0, 60), minutes=rng.randint(0, 1440))
            won = stage in ("follow_up", "done")
            rows.append(
                {
                    "account_id": account_ids[start + i],
                    "owner_id": owner,
                    "title": f"ERP 升级项目 {start + i}",
                    "amount": Decimal(rng.randrange(10_000, 5_000_000)),
                    "expected_close_date": date(2027, rng.randint(1, 12), 15),
                    "strategy": rng.choice(("frontal", "flanking", "divide_and_conquer", None)),
                    "next_step": "电话回访技术负责人",
                    "next_step_due": (now + timedelta(days=rng.randint(-10, 20))).date(),
                    "stage": stage,
                    "stage_entered_at": entered,
                    "won_on": entered.date() if won else None,
                    "lost_on": entered.date() if stage == "lost" else None,
                    "lost_reason_key": "price" if stage == "lost" else None,
                    "lost_from_stage": "propose" if stage == "lost" else None,
                    "version": 1,
                    "created_at": entered,
                    "updated_at": entered,
                }
            )
        db.session.execute(insert(Deal), rows)
    db.session.commit()
    last = 0
    while True:  # keyset, not OFFSET: an offset reads every row before it, quadratic over a million deals
        ids_stages = db.session.execute(
            select(Deal.id, Deal.stage).where(Deal.id > last).order_by(Deal.id).limit(batch)
        ).all()
        if not ids_stages:
            break
        last = ids_stages[-1][0]
        rows = [
            {"deal_id": deal_id, "item_key": key, "stage": stage, "done": rng.random() < 0.5, "note": ""}
            for deal_id, stage in ids_stages
            for key in items_by_stage.get(stage, ())
        ]
        if rows:
            db.session.execute(insert(DealChecklistItem), rows)
    db.session.commit()
    rep_id = rep.id
    db.session.remove()
    return rep_id


def seeded_before(deals: int) -> tuple[int, int] | None:
    """The rep and the deal with history of a kept database an earlier run seeded with `deals` deals, if it is one."""
    from sqlalchemy import func, select

    from pipeline.auth.models import User
    from pipeline.deals.models import Deal, StageEvent
    from pipeline.extensions import db

    rep_id = db.session.scalar(select(User.id).where(User.email == "board-rep@example.com"))
    if rep_id is None:
        return None
    if db.session.scalar(select(func.count()).select_from(Deal)) != deals:
        raise SystemExit(f"--keep: the database holds another number of deals than --deals {deals:,}")
    deal_id = db.session.scalar(
        select(StageEvent.deal_id)
        .join(Deal, Deal.id == StageEvent.deal_id)
        .where(Deal.owner_id == rep_id, Deal.stage == "close")
        .group_by(StageEvent.deal_id)
        .order_by(func.count().desc())
        .limit(1)
    )
    assert deal_id is not None, "--keep: the kept database has no deal with history"
    return rep_id, deal_id


def give_history(rep_id: int) -> int:
    """One of the rep's deals in 成交 gets the history a real one has; return its id (for the deal page)."""
    from sqlalchemy import insert, select

    from pipeline.activities.models import Activity
    from pipeline.core.changelog import FieldChange
    from pipeline.deals.models import ChecklistTemplate, Deal, DealChecklistItem, StageEvent
    from pipeline.extensions import db

    deal = db.session.scalars(select(Deal).where(Deal.owner_id == rep_id, Deal.stage == "close").limit(1)).one()
    start = deal.stage_entered_at - timedelta(days=40)
    path = ((None, "qualify"), ("qualify", "evaluate"), ("evaluate", "propose"), ("propose", "close"))
    db.session.execute(
        insert(StageEvent),
        [
            {
                "deal_id": deal.id,
                "from_stage": before,
                "to_stage": after,
                "trigger": "create" if before is None else "advance",
                "user_id": rep_id,
                "at": deal.stage_entered_at if after == "close" else start + timedelta(days=10 * i),
                "amount": deal.amount,
                "overridden": [],
            }
            for i, (before, after) in enumerate(path)
        ],
    )
    passed = db.session.execute(
        select(ChecklistTemplate.stage, ChecklistTemplate.key).where(ChecklistTemplate.stage.in_(OPEN[:3]))
    ).all()
    db.session.execute(
        insert(DealChecklistItem),
        [{"deal_id": deal.id, "item_key": key, "stage": stage, "done": True, "note": ""} for stage, key in passed],
    )
    db.session.execute(
        insert(Activity),
        [
            {
                "kind": ("call", "visit", "email", "meeting")[i % 4],
                "deal_id": deal.id,
                "user_id": rep_id,
                "occurred_at": start + timedelta(days=3 * i),
                "summary": f"第{i + 1}次沟通：确认需求与预算",
                "outcome": "客户同意下周演示",
            }
            for i in range(12)
        ],
    )
    db.session.execute(
        insert(FieldChange),
        [
            {
                "entity": "deal",
                "entity_id": deal.id,
                "field": "amount",
                "old_value": f"{100_000 * (i + 1)}.00",
                "new_value": f"{100_000 * (i + 2)}.00",
                "user_id": rep_id,
                "at": start + timedelta(days=5 * i),
                "stage": "propose",
            }
            for i in range(4)
        ],
    )
    db.session.commit()
    deal_id = deal.id
    db.session.remove()
    return deal_id


def timed(run: Callable[[], int], repeat: int) -> dict[str, Any]:
    """Median and p95 in milliseconds over `repeat` runs after two warm-ups; the row count each run saw."""
    rows = run()
    run()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        seen = run()
        times.append((time.perf_counter() - start) * 1000)
        assert seen == rows, f"run saw {seen} rows, first run {rows}"
    times.sort()
    p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
    return {"median_ms": statistics.median(times), "p95_ms": p95, "rows": rows}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", help="sqlite (default), sqlite:///FILE or a PostgreSQL URL")
    parser.add_argument("--deals", type=int, default=100_000)
    parser.add_argument("--mine", type=int, default=200, help="open deals of the measured rep")
    parser.add_argument("--repeat", type=int, default=50)
    parser.add_argument("--json", help="also write the results here")
    parser.add_argument(
        "--keep",
        help="a database to seed once and keep (sqlite:///FILE or a PostgreSQL URL naming it; made if missing); "
        "a later run that finds it seeded with --deals deals measures it again without seeding",
    )
    args = parser.parse_args(argv)

    from sqlalchemy import text

    from pipeline.auth.models import User
    from pipeline.core.pages import today
    from pipeline.deals.board import BoardFilter, board
    from pipeline.extensions import db

    with kept_database(args.keep) if args.keep else scratch_database(args.db) as url:
        app = migrated_app(url)
        app.config["WTF_CSRF_ENABLED"] = False
        started = time.perf_counter()
        with app.app_context():
            found = seeded_before(args.deals)
            if found:
                rep_id, deal_id = found
            else:
                rep_id = seed(args.deals, args.mine)
                deal_id = give_history(rep_id)
                if db.engine.dialect.name == "postgresql":
                    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                        conn.execute(text("ANALYZE"))
        seeded = time.perf_counter() - started
        # The seeding left this process a heap no server worker has (100,000 rows' worth of objects passed
        # through it): without this, a full garbage collection now and then walks it all and is the p95.
        gc.collect()
        gc.freeze()
        how = "kept from an earlier run" if found else f"seeded in {seeded:.1f} s"
        print(f"{describe_db(url)}: {args.deals:,} deals {how}; RSS {rss_mb():.0f} MB", flush=True)

        client = app.test_client()
        signed_in = client.post("/login", data={"email": "board-rep@example.com", "password": PASSWORD})
        assert signed_in.status_code == 302, "the bench rep could not sign in"

        with app.app_context():
            engine = db.engine

        def raw() -> int:
            with engine.connect() as conn:
                return len(conn.execute(text(RAW), {"owner": rep_id}).all())

        def service() -> int:
            with app.test_request_context():
                user = db.session.get(User, rep_id)
                assert user is not None
                columns = board(user, BoardFilter(), today())
                db.session.remove()
                return sum(len(c.cards) for c in columns[:4]) + columns[4].count

        def page() -> int:
            response = client.get("/board")
            assert response.status_code == 200, response.status_code
            return response.get_data(as_text=True).count('<article class="card')

        results = {"raw SQL (one query, same rows)": timed(raw, args.repeat)}
        results["board service"] = timed(service, args.repeat)
        results["board page GET /board"] = timed(page, args.repeat)

        def deal_page() -> int:
            response = client.get(f"/deals/{deal_id}")
            assert response.status_code == 200, response.status_code
            return response.get_data(as_text=True).count("<li")

        results["deal page GET /deals/<id>"] = timed(deal_page, args.repeat)

    floor = results["raw SQL (one query, same rows)"]["median_ms"]
    rows = [
        [name, r["rows"], f"{r['median_ms']:.2f}", f"{r['p95_ms']:.2f}", f"{r['median_ms'] / floor:.2f}×"]
        for name, r in results.items()
    ]
    print(f"\nBoard for one rep with {args.mine} open deals among {args.deals:,} deals; {args.repeat} runs each\n")
    print_table(["workload", "rows/cards", "median ms", "p95 ms", "ratio to raw"], rows)
    if args.json:
        payload = {"machine": machine_description(), "args": vars(args), "results": results}
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(payload, fh, indent=2, ensure_ascii=False)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
