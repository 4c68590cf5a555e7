"""Moves per second through the service layer and memory over many moves, against a bare UPDATE+INSERT.

    .venv/bin/python -m bench.transitions [--db URL] [--transitions 100000] [--deals 1000]
                                          [--commit-every 1 [100 ...]] [--tracemalloc] [--json FILE]

A fresh database is migrated with the real migrations; users, accounts and deals are created through the
services and every 确认 checklist item is ticked. Then the same number of moves is made three ways, on the
same database, in this order: bare (Core UPDATE of the deal row + INSERT of a stage_events row), service
(pipeline.deals.services.move, the ORM and the `transitions` machine), and bare again, so drift from the
growing history table shows. Each move alternates advance (确认 → 考察, through the checklist gate) and
revert with a reason (考察 → 确认) over a pool of deals, and commits as often as --commit-every says
(1 = one commit per move, as one request per move would). Memory is sampled every 10% after a gc.collect().
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import json
import os
import pstats
import sys
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from bench import describe_db, machine_description, migrated_app, print_table, rss_mb, scratch_database

REVERT_REASON = "客户要求重新评估需求"
SAMPLES = 10


@dataclass
class Result:
    """One workload's figures."""

    workload: str
    commit_every: int
    moves: int
    seconds: float
    rss_start_mb: float
    rss_end_mb: float
    cpu_seconds: float = 0.0  # this process's CPU time: less disturbed by other load than wall time
    samples: list[dict[str, float]] = field(default_factory=list)  # moves done, seconds, rss, traced
    ratio: float | None = None  # seconds / the mean bare seconds of the same commit pattern

    @property
    def per_second(self) -> float:
        return self.moves / self.seconds if self.seconds else 0.0

    @property
    def growth_mb(self) -> float:
        return self.rss_end_mb - self.rss_start_mb

    @property
    def growth_after_first_tenth_mb(self) -> float:
        """RSS growth after the first 10%, once caches (compiled SQL, SQLite pages) are warm."""
        return self.rss_end_mb - self.samples[0]["rss_mb"] if self.samples else self.growth_mb


# ---- Setup through the services ------------------------------------------------------------------------------


def seed(deals: int) -> list[tuple[int, int]]:
    """Create reps, accounts and deals through the services, tick 确认's checklist; return (deal id, owner id)."""
    from pipeline.accounts.services import create_account
    from pipeline.auth.services import create_user
    from pipeline.deals import services
    from pipeline.deals.method import QUALIFY
    from pipeline.extensions import db

    create_user("bench-lead@example.com", "基准经理", "lead", team="基准组")
    reps = [create_user(f"bench-rep{i}@example.com", f"销售{i}", "rep", team="基准组") for i in range(10)]
    qualify_items = [t.key for t in services.checklist_for(QUALIFY)]
    pairs: list[tuple[int, int]] = []
    for i in range(deals):
        rep = reps[i % len(reps)]
        account = create_account(rep, f"基准客户{i}有限公司", industry="制造业", region="华东")
        deal = services.create_deal(
            rep,
            account,
            f"ERP 升级项目 {i}",
            amount=Decimal("120000.00"),
            expected_close_date=date(2027, 3, 31),
            strategy="frontal",
        )
        for key in qualify_items:
            services.set_checklist_item(rep, deal, key, True)
        pairs.append((deal.id, rep.id))
        if i % 100 == 99:
            db.session.commit()
    db.session.commit()
    db.session.remove()
    return pairs


# ---- The workloads --------------------------------------------------------------------------------------------


def _measure(
    name: str, moves: int, commit_every: int, step: Callable[[int], None], commit: Callable[[], None], traced: bool
) -> Result:
    """Run `step(i)` for every move, committing every `commit_every`, sampling memory every 10%."""
    gc.collect()
    if traced:
        tracemalloc.start()
    result = Result(name, commit_every, moves, 0.0, rss_mb(), 0.0)
    marks = {max(1, moves * k // SAMPLES) for k in range(1, SAMPLES + 1)}
    elapsed = cpu = 0.0
    started, cpu_started = time.perf_counter(), time.process_time()
    for i in range(moves):
        step(i)
        if (i + 1) % commit_every == 0 or i + 1 == moves:
            commit()
        if i + 1 in marks:
            elapsed += time.perf_counter() - started
            cpu += time.process_time() - cpu_started
            gc.collect()
            sample = {"moves": i + 1, "seconds": round(elapsed, 3), "rss_mb": round(rss_mb(), 2)}
            if traced:
                sample["traced_mb"] = round(tracemalloc.get_traced_memory()[0] / 2**20, 2)
            result.samples.append(sample)
            started, cpu_started = time.perf_counter(), time.process_time()
    result.seconds, result.cpu_seconds = elapsed, cpu
    result.rss_end_mb = result.samples[-1]["rss_mb"]
    if traced:
        tracemalloc.stop()
    return result


def bare(moves: int, commit_every: int, pairs: list[tuple[int, int]], traced: bool) -> Result:
    """The floor: per move a Core UPDATE of the deal (stage, version, timestamps) and an INSERT into stage_events."""
    from sqlalchemy import bindparam, select

    from pipeline.core.models import UTCDateTime, utcnow
    from pipeline.deals.method import EVALUATE, QUALIFY
    from pipeline.deals.models import Deal, StageEvent
    from pipeline.extensions import db

    deals, events = Deal.__table__, StageEvent.__table__
    update = (
        deals.update()
        .where(deals.c.id == bindparam("b_id"), deals.c.version == bindparam("b_old"))
        .values(
            stage=bindparam("b_stage"),
            version=bindparam("b_new"),
            stage_entered_at=bindparam("b_at", type_=UTCDateTime()),
            updated_at=bindparam("b_at", type_=UTCDateTime()),
        )
    )
    insert = events.insert()
    conn = db.engine.connect()
    ids = [deal_id for deal_id, _ in pairs]
    state = {
        r.id: [r.stage, r.version, r.amount]
        for r in conn.execute(
            select(deals.c.id, deals.c.stage, deals.c.version, deals.c.amount_cents.label("amount")).where(
                deals.c.id.in_(ids)
            )
        )
    }
    owners = dict(pairs)
    conn.rollback()

    def step(i: int) -> None:
        deal_id = ids[i % len(ids)]
        row = state[deal_id]
        source, version = row[0], row[1]
        advance = source == QUALIFY
        dest = EVALUATE if advance else QUALIFY
        at = utcnow()
        done = conn.execute(
            update, {"b_id": deal_id, "b_old": version, "b_stage": dest, "b_new": version + 1, "b_at": at}
        )
        if done.rowcount != 1:
            raise RuntimeError(f"deal {deal_id} changed underneath the benchmark")
        conn.execute(
            insert,
            {
                "deal_id": deal_id,
                "from_stage": source,
                "to_stage": dest,
                "trigger": "advance" if advance else "revert",
                "user_id": owners[deal_id],
                "at": at,
                "reason": "" if advance else REVERT_REASON,
                "lost_reason_key": None,
                "amount_cents": row[2],
                "override": False,
                "overridden": [],
            },
        )
        row[0], row[1] = dest, version + 1

    try:
        return _measure("bare UPDATE+INSERT (Core)", moves, commit_every, step, conn.commit, traced)
    finally:
        conn.close()


def service(moves: int, commit_every: int, pairs: list[tuple[int, int]], traced: bool) -> Result:
    """Through pipeline.deals.services.move, as a request does: load the actor and the deal, move, commit."""
    from pipeline.auth.models import User
    from pipeline.deals import services
    from pipeline.deals.method import QUALIFY
    from pipeline.deals.models import Deal
    from pipeline.extensions import db

    ids = [deal_id for deal_id, _ in pairs]
    owners = dict(pairs)
    session = db.session

    def step(i: int) -> None:
        deal_id = ids[i % len(ids)]
        deal = session.get(Deal, deal_id)  # expired by the last commit: a fresh SELECT, as a new request makes
        actor = session.get(User, owners[deal_id])
        assert deal is not None and actor is not None
        if deal.stage == QUALIFY:
            services.move(actor, deal, "advance")
        else:
            services.move(actor, deal, "revert", reason=REVERT_REASON)

    session.remove()
    try:
        return _measure("service move (ORM + transitions)", moves, commit_every, step, session.commit, traced)
    finally:
        session.remove()


def check_history(pairs: list[tuple[int, int]]) -> str:
    """Every deal's stage equals its last history row's destination, and the machine holds no model."""
    from sqlalchemy import func, select

    from pipeline.deals import workflow
    from pipeline.deals.models import Deal, StageEvent
    from pipeline.extensions import db

    last = select(StageEvent.deal_id, func.max(StageEvent.id).label("id")).group_by(StageEvent.deal_id).subquery()
    wrong = db.session.scalar(
        select(func.count())
        .select_from(Deal)
        .join(last, last.c.deal_id == Deal.id)
        .join(StageEvent, StageEvent.id == last.c.id)
        .where(StageEvent.to_stage != Deal.stage)
    )
    total = db.session.scalar(select(func.count()).select_from(StageEvent))
    live = sum(isinstance(o, Deal) for o in gc.get_objects())
    db.session.remove()
    if wrong:
        raise SystemExit(f"history check failed: {wrong} deals whose stage differs from their last history row")
    return (
        f"history rows: {total:,}; deals whose stage != last history row: {wrong}; "
        f"workflow.MACHINE.models: {len(workflow.MACHINE.models)}; Deal objects alive: {live}"
    )


def profile_service(moves: int, pairs: list[tuple[int, int]], top: int) -> None:
    """Where a service move spends its time (cProfile, cumulative), for --profile."""
    profiler = cProfile.Profile()
    profiler.enable()
    service(moves, 1, pairs, traced=False)
    profiler.disable()
    stats = pstats.Stats(profiler, stream=sys.stdout).sort_stats(os.environ.get("BENCH_SORT", "cumulative"))
    stats.print_stats(top)
    print("# the project's own functions and the transitions library:")
    stats.print_stats(r"pipeline/|transitions/(core|extensions)", top)


# ---- Main -----------------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.transitions", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--db",
        help="sqlite (default: a temp file) or postgresql+psycopg://USER@HOST/DB (the "
        "server; a scratch database is created there and dropped)",
    )
    parser.add_argument("--transitions", type=int, default=100_000, help="moves per workload (default 100000)")
    parser.add_argument("--deals", type=int, default=1000, help="deals in the pool the moves go round (default 1000)")
    parser.add_argument(
        "--commit-every",
        type=int,
        nargs="+",
        default=[1],
        help="commit after this many moves; several values run each pattern (default 1)",
    )
    parser.add_argument("--tracemalloc", action="store_true", help="also trace Python allocations (slower)")
    parser.add_argument("--profile", type=int, metavar="MOVES", help="only profile MOVES service moves, then exit")
    parser.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    args = parser.parse_args(argv)
    if args.transitions < 1 or args.deals < 1 or min(args.commit_every) < 1:
        parser.error("--transitions, --deals and --commit-every must be at least 1")

    from pipeline.deals import workflow

    report: dict[str, Any] = {
        "machine": machine_description(),
        "transitions": args.transitions,
        "deals": args.deals,
        "results": [],
    }
    with scratch_database(args.db) as url:
        app = migrated_app(url)
        with app.app_context():
            report["database"] = describe_db(url)
            print(
                f"# {report['database']}; {args.deals:,} deals; {args.transitions:,} moves per workload; "
                f"{report['machine']['nproc']} × {report['machine']['cpu']}; Python {report['machine']['python']}",
                flush=True,
            )
            started = time.perf_counter()
            pairs = seed(args.deals)
            print(
                f"# seeded {args.deals:,} deals through the services in {time.perf_counter() - started:.1f} s",
                flush=True,
            )
            if args.profile:
                profile_service(args.profile, pairs, 40)
                db_dispose(app)
                return 0
            results: list[Result] = []
            for every in args.commit_every:
                first = bare(args.transitions, every, pairs, args.tracemalloc)
                through = service(args.transitions, every, pairs, args.tracemalloc)
                again = bare(args.transitions, every, pairs, args.tracemalloc)
                again.workload += ", again"
                floor = (first.seconds + again.seconds) / 2
                for r in (first, through, again):
                    r.ratio = r.seconds / floor
                    results.append(r)
                    print(f"#   {r.workload}, commit every {every}: {r.per_second:,.0f} moves/s", flush=True)
            report["check"] = check_history(pairs)
            db_dispose(app)

    headers = [
        "workload",
        "commit every",
        "moves",
        "seconds",
        "moves/s",
        "× bare time",
        "CPU s",
        "RSS start MB",
        "RSS end MB",
        "growth MB",
        "growth after 10% MB",
    ]
    rows = [
        [
            r.workload,
            r.commit_every,
            r.moves,
            r.seconds,
            r.per_second,
            r.ratio,
            r.cpu_seconds,
            r.rss_start_mb,
            r.rss_end_mb,
            r.growth_mb,
            r.growth_after_first_tenth_mb,
        ]
        for r in results
    ]
    print()
    report["table"] = print_table(headers, rows)
    print()
    print(
        "RSS MB at each 10% (service move): "
        + " ".join(f"{s['rss_mb']:.1f}" for r in results if r.workload.startswith("service") for s in r.samples)
    )
    if args.tracemalloc:
        print(
            "traced MB at each 10% (service move): "
            + " ".join(f"{s['traced_mb']:.2f}" for r in results if r.workload.startswith("service") for s in r.samples)
        )
    print(report["check"])
    report["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    print(
        f"load average (1, 5, 15 min) at start {report['machine']['load_average_1m']}, at end "
        f"{report['load_average_at_end']}: the machine is shared, so read the CPU s column too"
    )
    assert not workflow.MACHINE.models
    report["results"] = [
        {
            **asdict(r),
            "moves_per_second": r.per_second,
            "growth_mb": r.growth_mb,
            "growth_after_first_tenth_mb": r.growth_after_first_tenth_mb,
        }
        for r in results
    ]
    if args.json:
        with open(args.json, "w", encoding="utf-8") as out:
            json.dump(report, out, ensure_ascii=False, indent=2)
        print(f"wrote {args.json}")
    return 0


def db_dispose(app: Any) -> None:
    """Close every pooled connection so the scratch database can be dropped."""
    from pipeline.extensions import db

    with app.app_context():
        db.session.remove()
        db.engine.dispose()


if __name__ == "__main__":
    sys.exit(main())
