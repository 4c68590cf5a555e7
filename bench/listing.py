"""What listing deals costs with the `transitions` workflow loaded, against a process that never imports it.

    .venv/bin/python -m bench.listing [--db URL] [--deals 10000] [--repeat 7] [--json FILE]

A fresh database is migrated with the real migrations and filled with --deals deals (users through the
services; accounts and deals in bulk with Core, spread over the four open stages). Then every deal is
loaded with its account and owner, `select(Deal).options(joinedload(account), joinedload(owner))`, the way
the deal list does, and each row's stage, account name and owner name is read:

- in this process, where the app (and so pipeline.deals.workflow and its machine) is loaded, through the
  app's db.session and through a plain Session;
- in a child process that imports only the models and never imports pipeline.deals.workflow or
  `transitions` (it checks), through the same plain-Session code: the baseline;
- as a Core select of the same columns (no ORM objects), the floor;
- and, for contrast only, with one `add_model` per listed deal on a throw-away machine: what binding a
  machine to every loaded deal would cost, which the app never does.

While the app's listings run, transitions' Machine construction and add_model are counted (both must stay
0), and `workflow.MACHINE.models` is shown to be empty after listing and after moves through the services.
Times are the median of --repeat runs after one warm-up run.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from bench import describe_db, machine_description, migrated_app, print_table, rss_mb, scratch_database

OPEN_STAGES = ("qualify", "evaluate", "propose", "close")


# ---- What is measured (the child runs exactly this code) ------------------------------------------------------


def list_deals(session: Any) -> int:
    """Load every deal with its account and owner as the deal list does, and read what a row shows."""
    from sqlalchemy import select
    from sqlalchemy.orm import joinedload

    from pipeline.deals.models import Deal

    deals = session.scalars(
        select(Deal).options(joinedload(Deal.account), joinedload(Deal.owner)).order_by(Deal.id.desc())
    ).all()
    shown = sum(len(d.stage) + len(d.account.name) + len(d.owner.name) for d in deals)
    assert shown > 0
    return len(deals)


def list_plain(url: str) -> Callable[[], int]:
    """`list_deals` through a plain SQLAlchemy Session on its own engine, closed after each run."""
    from sqlalchemy import create_engine
    from sqlalchemy.orm import Session

    from pipeline.core import database

    engine = create_engine(url, **database.engine_options(url))

    def run() -> int:
        with Session(engine) as session:
            return list_deals(session)

    return run


def timed(run: Callable[[], int], repeat: int) -> dict[str, Any]:
    """Median, best and every time of `repeat` runs after one warm-up; gc between runs, not during."""
    rows = run()
    times = []
    for _ in range(repeat):
        gc.collect()
        started = time.perf_counter()
        assert run() == rows
        times.append(time.perf_counter() - started)
    return {"rows": rows, "median": statistics.median(times), "best": min(times), "times": times}


def child(url: str, repeat: int, with_workflow: bool) -> int:
    """Measure `list_deals` in a fresh process with only the models, and the workflow's machine if asked."""
    import pipeline.models  # noqa: F401  (the mapped classes, nothing else)

    if with_workflow:
        from pipeline.deals import workflow  # builds the one machine, as the app does at import

        assert not workflow.MACHINE.models

    result = timed(list_plain(url), repeat)
    loaded = sorted(
        m for m in ("transitions", "pipeline.deals.workflow", "pipeline.deals.services") if m in sys.modules
    )
    print(json.dumps({**result, "loaded": loaded, "rss_mb": rss_mb()}))
    return 0


# ---- Setup ----------------------------------------------------------------------------------------------------


def seed(deals: int) -> None:
    """Reps through the services; accounts and deals in bulk (the listing does not care how rows were made)."""
    from datetime import date
    from decimal import Decimal

    from sqlalchemy import insert, select

    from pipeline.accounts.models import Account
    from pipeline.auth.models import User
    from pipeline.auth.services import create_user
    from pipeline.core.models import utcnow
    from pipeline.deals.models import Deal
    from pipeline.extensions import db

    reps = [create_user(f"list-rep{i}@example.com", f"销售{i}", "rep", team="基准组") for i in range(20)]
    db.session.commit()
    rep_ids = [r.id for r in reps]
    db.session.execute(
        insert(Account),
        [
            {"name": f"基准客户{i}有限公司", "owner_id": rep_ids[i % len(rep_ids)], "industry": "制造业"}
            for i in range(deals)
        ],
    )
    accounts = db.session.execute(select(Account.id, Account.owner_id).order_by(Account.id)).all()
    now = utcnow()
    db.session.execute(
        insert(Deal),
        [
            {
                "account_id": a.id,
                "owner_id": a.owner_id,
                "title": f"ERP 升级项目 {i}",
                "amount": Decimal("120000.00"),
                "expected_close_date": date(2027, 3, 31),
                "strategy": "frontal",
                "stage": OPEN_STAGES[i % len(OPEN_STAGES)],
                "stage_entered_at": now,
                "version": 1,
                "created_at": now,
                "updated_at": now,
            }
            for i, a in enumerate(accounts)
        ],
    )
    db.session.commit()
    assert db.session.scalar(select(db.func.count()).select_from(Deal)) == deals
    assert db.session.scalar(select(db.func.count()).select_from(User)) == len(rep_ids)
    db.session.remove()


# ---- Watching the machine -------------------------------------------------------------------------------------


@contextmanager
def machine_calls() -> Iterator[dict[str, int]]:
    """Count transitions' Machine constructions and add_model calls while the block runs."""
    from transitions.core import Machine

    counts = {"Machine()": 0, "add_model": 0}
    init, add_model = Machine.__init__, Machine.add_model

    def counting_init(self: Any, *args: Any, **kwargs: Any) -> None:
        counts["Machine()"] += 1
        init(self, *args, **kwargs)

    def counting_add_model(self: Any, *args: Any, **kwargs: Any) -> None:
        counts["add_model"] += 1
        add_model(self, *args, **kwargs)

    Machine.__init__, Machine.add_model = counting_init, counting_add_model  # type: ignore[method-assign]
    try:
        yield counts
    finally:
        Machine.__init__, Machine.add_model = init, add_model  # type: ignore[method-assign]


def shadow_machine() -> Any:
    """A copy of the workflow's machine for the contrast row: the pattern the app avoids."""
    from transitions import Machine

    from pipeline.deals import workflow

    shadow = Machine(
        model=None,
        states=list(workflow.MACHINE.states),
        initial=workflow.QUALIFY,
        auto_transitions=False,
        model_attribute="stage",
    )
    for name, event in workflow.MACHINE.events.items():
        for source, transitions in event.transitions.items():
            for t in transitions:
                shadow.add_transition(name, source, t.dest)
    return shadow


def move_some(count: int) -> int:
    """Revert `count` deals that are past 确认, through the services, committing each like a request."""
    from sqlalchemy import select

    from pipeline.auth.models import User
    from pipeline.deals import services
    from pipeline.deals.models import Deal
    from pipeline.extensions import db

    ids = db.session.scalars(select(Deal.id).where(Deal.stage != "qualify").order_by(Deal.id).limit(count)).all()
    for deal_id in ids:
        deal = db.session.get(Deal, deal_id)
        actor = db.session.get(User, deal.owner_id) if deal else None
        assert deal is not None and actor is not None
        services.move(actor, deal, "revert", reason="客户要求重新评估需求")
        db.session.commit()
    db.session.remove()
    return len(ids)


# ---- Main -----------------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.listing", description=__doc__.split("\n")[0])
    parser.add_argument("--db", help="sqlite (default: a temp file) or postgresql+psycopg://USER@HOST/DB (the server)")
    parser.add_argument("--deals", type=int, default=10_000, help="deals to list (default 10000)")
    parser.add_argument("--repeat", type=int, default=7, help="timed runs per workload (default 7)")
    parser.add_argument("--moves", type=int, default=500, help="moves through the services afterwards (default 500)")
    parser.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    parser.add_argument("--child", metavar="URL", help=argparse.SUPPRESS)
    parser.add_argument("--with-workflow", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return child(args.child, args.repeat, args.with_workflow)
    if args.deals < 1 or args.repeat < 1:
        parser.error("--deals and --repeat must be at least 1")

    report: dict[str, Any] = {"machine": machine_description(), "deals": args.deals, "repeat": args.repeat}
    with scratch_database(args.db) as url:
        app = migrated_app(url)
        from sqlalchemy import select

        from pipeline.accounts.models import Account
        from pipeline.auth.models import User
        from pipeline.deals import workflow
        from pipeline.deals.models import Deal
        from pipeline.extensions import db

        assert "transitions" in sys.modules and "pipeline.deals.workflow" in sys.modules
        with app.app_context():
            report["database"] = describe_db(url)
            print(f"# {report['database']}; {args.deals:,} deals; median of {args.repeat} runs", flush=True)
            seed(args.deals)

            def app_session() -> int:
                try:
                    return list_deals(db.session)
                finally:
                    db.session.remove()

            core_query = (
                select(Deal.id, Deal.stage, Deal.title, Deal.amount, Account.name, User.name)
                .join(Account, Deal.account_id == Account.id)
                .join(User, Deal.owner_id == User.id)
                .order_by(Deal.id.desc())
            )

            def core() -> int:
                with db.engine.connect() as conn:
                    rows = conn.execute(core_query).all()
                return len(rows)

            shadow = shadow_machine()

            def with_add_model() -> int:
                try:
                    deals = db.session.scalars(select(Deal).options(*list_options()).order_by(Deal.id.desc())).all()
                    for d in deals:
                        shadow.add_model(d, initial=d.stage)
                    return len(deals)
                finally:
                    for model in list(shadow.models):
                        shadow.remove_model(model)
                    db.session.remove()

            baseline = child_baseline(url, args.repeat, with_workflow=False)
            loaded = child_baseline(url, args.repeat, with_workflow=True)
            rows: list[tuple[str, dict[str, Any]]] = [
                ("child process, models only: no transitions (baseline)", baseline),
                ("child process, models + workflow machine imported", loaded),
            ]
            with machine_calls() as calls:
                rows.append(("ORM, app's db.session (workflow loaded)", timed(app_session, args.repeat)))
                rows.append(("ORM, plain Session (workflow loaded)", timed(list_plain(url), args.repeat)))
            report["machine_calls_while_listing"] = dict(calls)
            report["machine_models_after_listing"] = len(workflow.MACHINE.models)
            rows.append(("Core select of the same columns (no ORM objects)", timed(core, args.repeat)))
            rows.append(("contrast: ORM + add_model per deal (never done)", timed(with_add_model, args.repeat)))
            with machine_calls() as calls:
                moved = move_some(args.moves)
            report["moves"] = moved
            report["machine_calls_while_moving"] = dict(calls)
            report["machine_models_after_moves"] = len(workflow.MACHINE.models)
            db.session.remove()
            db.engine.dispose()

    headers = [
        "workload",
        "deals",
        "median ms",
        "best ms",
        "deals/s (median)",
        "× baseline (median)",
        "× baseline (best)",
    ]
    table = [
        [
            name,
            r["rows"],
            r["median"] * 1000,
            r["best"] * 1000,
            r["rows"] / r["median"],
            r["median"] / baseline["median"],
            r["best"] / baseline["best"],
        ]
        for name, r in rows
    ]
    print()
    report["table"] = print_table(headers, table)
    report["results"] = [
        {
            "workload": name,
            **r,
            "ratio_median": r["median"] / baseline["median"],
            "ratio_best": r["best"] / baseline["best"],
        }
        for name, r in rows
    ]
    print()
    print(
        f"baseline child loaded: {baseline['loaded'] or 'neither transitions nor pipeline.deals.workflow'}; "
        f"the other child: {loaded['loaded']}"
    )
    print(
        f"while the app listed deals: {report['machine_calls_while_listing']}; "
        f"workflow.MACHINE.models after listing: {report['machine_models_after_listing']}"
    )
    print(
        f"after {moved} moves through the services: {report['machine_calls_while_moving']}; "
        f"workflow.MACHINE.models: {report['machine_models_after_moves']}"
    )
    report["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    print(f"load average at start {report['machine']['load_average_1m']}, at end {report['load_average_at_end']}")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as out:
            json.dump(report, out, ensure_ascii=False, indent=2)
        print(f"wrote {args.json}")
    failed = (
        baseline["loaded"]
        or "transitions" not in loaded["loaded"]
        or any(report["machine_calls_while_listing"].values())
        or any(report["machine_calls_while_moving"].values())
        or report["machine_models_after_listing"]
        or report["machine_models_after_moves"]
    )
    return 1 if failed else 0


def list_options() -> list[Any]:
    from sqlalchemy.orm import joinedload

    from pipeline.deals.models import Deal

    return [joinedload(Deal.account), joinedload(Deal.owner)]


def child_baseline(url: str, repeat: int, with_workflow: bool) -> dict[str, Any]:
    """Run `list_deals` in a fresh interpreter, with or without the workflow imported; return its figures."""
    out = subprocess.run(
        [sys.executable, "-m", "bench.listing", "--child", url, "--repeat", str(repeat)]
        + (["--with-workflow"] if with_workflow else []),
        capture_output=True,
        text=True,
        check=True,
        cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


if __name__ == "__main__":
    sys.exit(main())
