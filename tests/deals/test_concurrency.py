"""Two people moving the same deal at once: exactly one wins, the other is told so; history stays whole."""

from __future__ import annotations

import random
import threading
from collections import Counter
from itertools import pairwise
from typing import Any

from flask import Flask
from sqlalchemy import select

from pipeline.auth.models import User
from pipeline.core.database import writing
from pipeline.core.errors import Conflict
from pipeline.deals import services
from pipeline.deals.models import Deal, StageEvent
from pipeline.extensions import db


def _in_thread(app: Flask, work: Any, results: list[Any], barrier: threading.Barrier) -> threading.Thread:
    def run() -> None:
        with app.app_context():
            try:
                results.append(work(barrier))
            except Exception as exc:  # collected and asserted on by the test
                db.session.rollback()
                results.append(exc)
            finally:
                db.session.remove()

    return threading.Thread(target=run)


def test_two_services_moving_the_same_version_one_wins(
    app: Flask, people: Any, make_deal: Any, tick_stage: Any
) -> None:
    """Both read version 1, then both move it in a write transaction, as two requests do: one wins, one is told."""
    deal = make_deal(people.rep)
    tick_stage(people.rep, deal)
    deal_id, rep_id, lead_id = deal.id, people.rep.id, people.lead.id

    def advance_as(user_id: int) -> Any:
        def work(barrier: threading.Barrier) -> str:
            seen = db.session.get(Deal, deal_id)
            assert seen is not None
            version = seen.version
            db.session.rollback()  # what the page showed; the move is the next request's transaction
            barrier.wait(timeout=10)  # both have read the same version before either writes
            with writing():  # as a POST: on SQLite the write lock is taken first, so the two queue
                actor = db.session.get(User, user_id)
                mine = db.session.get(Deal, deal_id)
                assert mine is not None and actor is not None
                services.move(actor, mine, "advance", expected_version=version)
                db.session.commit()
            return "moved"

        return work

    results: list[Any] = []
    barrier = threading.Barrier(2)
    threads = [_in_thread(app, advance_as(uid), results, barrier) for uid in (rep_id, lead_id)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(type(r).__name__ for r in results) == ["Conflict", "str"], results
    conflict = next(r for r in results if isinstance(r, Conflict))
    assert conflict.status == 409 and "someone else" in conflict.message
    db.session.rollback()  # a fresh snapshot, with the threads' commits
    deal = db.session.get(Deal, deal_id)
    assert deal is not None and deal.stage == "evaluate"
    moves = db.session.scalars(select(StageEvent.trigger).where(StageEvent.deal_id == deal_id)).all()
    assert moves == ["create", "advance"]


def test_many_clients_racing_over_http(app: Flask, people: Any, make_deal: Any, token_for: Any) -> None:
    """Eight API clients fire the same move at once: one 200, seven 409, one history row."""
    deal = make_deal(people.rep)
    headers = token_for(people.lead)
    path = f"/api/v1/deals/{deal.id}/transitions"
    body = {"trigger": "advance", "override": True, "reason": "总监已确认预算"}
    statuses: list[Any] = []
    barrier = threading.Barrier(8)

    def post(barrier: threading.Barrier) -> int:
        client = app.test_client()
        barrier.wait(timeout=10)
        return client.post(path, headers=headers, json={**body, "version": 1}).status_code

    threads = [_in_thread(app, post, statuses, barrier) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert Counter(statuses) == Counter({200: 1, 409: 7}), statuses
    db.session.rollback()  # a fresh snapshot, with the threads' commits
    events = db.session.scalars(select(StageEvent).where(StageEvent.deal_id == deal.id).order_by(StageEvent.id)).all()
    assert [(e.from_stage, e.to_stage) for e in events] == [(None, "qualify"), ("qualify", "evaluate")]


def test_random_concurrent_moves_keep_every_history_whole(app: Flask, people: Any, make_deal: Any) -> None:
    """Four threads make random moves on five shared deals; afterwards every history is a clean chain."""
    deals = [make_deal(people.rep, title=f"并发项目 {i}") for i in range(5)]
    deal_ids, lead_id = [d.id for d in deals], people.lead.id
    outcomes: list[Any] = []
    barrier = threading.Barrier(4)

    def worker(seed: int) -> Any:
        def work(barrier: threading.Barrier) -> Counter[str]:
            rng = random.Random(seed)
            tally: Counter[str] = Counter()
            barrier.wait(timeout=10)
            for _ in range(15):
                with writing():  # each move one write transaction, as a request makes it
                    actor = db.session.get(User, lead_id)
                    deal = db.session.get(Deal, rng.choice(deal_ids))
                    assert actor is not None and deal is not None
                    trigger = rng.choice(["advance", "advance", "revert", "lose", "reopen", "complete"])
                    try:
                        services.move(actor, deal, trigger, reason="并发测试", lost_reason="price", override=True)
                        db.session.commit()
                        tally["moved"] += 1
                    except Conflict:
                        db.session.rollback()
                        tally["refused"] += 1
            return tally

        return work

    threads = [_in_thread(app, worker(seed), outcomes, barrier) for seed in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert all(isinstance(o, Counter) for o in outcomes), outcomes
    assert sum(o["moved"] for o in outcomes) > 0
    db.session.rollback()  # a fresh snapshot, with the threads' commits
    moved_rows = 0
    for deal_id in deal_ids:
        deal = db.session.get(Deal, deal_id)
        events = db.session.scalars(
            select(StageEvent).where(StageEvent.deal_id == deal_id).order_by(StageEvent.id)
        ).all()
        assert events[0].from_stage is None
        for before, after in pairwise(events):
            assert after.from_stage == before.to_stage, (deal_id, [(e.from_stage, e.to_stage) for e in events])
        assert deal is not None and deal.stage == events[-1].to_stage
        assert deal.version >= len(events)
        moved_rows += len(events) - 1
    assert moved_rows == sum(o["moved"] for o in outcomes)
