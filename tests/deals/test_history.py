"""The stage history is complete and permanent: one row per move, a connected chain, never rewritten."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from itertools import pairwise
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from pipeline.core.errors import DomainError
from pipeline.deals import services
from pipeline.deals.models import Deal, StageEvent
from pipeline.extensions import db

START = datetime(2026, 1, 5, 1, 0, tzinfo=UTC)
# Where each allowed move lands, written out by hand; `reopen` goes back to where the deal was lost.
NEXT = {"qualify": "evaluate", "evaluate": "propose", "propose": "close", "close": "follow_up"}
BACK = {"evaluate": "qualify", "propose": "evaluate", "close": "propose", "follow_up": "close"}


def reload(deal_id: int) -> Deal:
    db.session.expire_all()
    found = db.session.get(Deal, deal_id)
    assert found is not None
    return found


def assert_history_consistent(deal: Deal) -> list[StageEvent]:
    """The invariants that must hold after any sequence of moves, successful or refused."""
    rows = services.history(deal)
    assert rows[0].from_stage is None and rows[0].to_stage == "qualify" and rows[0].trigger == "create"
    assert rows[0].from_entered_at is None
    for before, after in pairwise(rows):
        assert after.from_stage == before.to_stage
        assert after.from_entered_at == before.at  # the stay each move ends began at the move before it
    assert deal.stage == rows[-1].to_stage
    assert (deal.won_on is not None) == (deal.stage in ("follow_up", "done"))
    if deal.stage == "lost":
        assert deal.lost_on is not None
        assert (deal.lost_reason_key, deal.lost_from_stage) == (rows[-1].lost_reason_key, rows[-1].from_stage)
    else:
        assert (deal.lost_on, deal.lost_reason_key, deal.lost_from_stage) == (None, None, None)
    return rows


# ---- Every move leaves exactly one row --------------------------------------------------------------------------


def test_creating_a_deal_writes_the_first_row(people: Any, make_account: Any) -> None:
    at = datetime(2026, 2, 3, 4, 5, 6, tzinfo=UTC)
    deal = services.create_deal(people.rep, make_account(people.rep), "MES 项目", amount="8800.00", at=at)
    db.session.commit()
    rows = services.history(reload(deal.id))
    assert [(r.from_stage, r.to_stage, r.trigger, r.user_id, r.at, r.amount, r.override) for r in rows] == [
        (None, "qualify", "create", people.rep.id, at, Decimal("8800.00"), False)
    ]


def test_each_move_appends_one_row_with_the_amount_of_that_moment(people: Any, make_deal: Any, tick_stage: Any) -> None:
    deal = make_deal(people.rep, amount=Decimal("1000.00"))
    t1, t2, t3, t4 = (START + timedelta(days=d) for d in (1, 2, 3, 4))
    tick_stage(people.rep, deal)
    services.move(people.rep, deal, "advance", at=t1)
    db.session.commit()
    services.update_deal(people.rep, deal, {"amount": "2500.00"}, expected_version=None)
    services.move(people.rep, deal, "revert", reason="需求有变", at=t2)
    db.session.commit()
    services.move(people.lead, deal, "advance", override=True, reason="经理确认", at=t3)  # work still done: no waiver
    services.move(people.rep, deal, "lose", lost_reason="competitor", reason="对手降价", at=t4)
    db.session.commit()

    rows = services.history(reload(deal.id))
    assert [
        (r.from_stage, r.to_stage, r.trigger, r.user_id, r.at, r.reason, r.lost_reason_key, r.amount, r.override)
        for r in rows[1:]
    ] == [
        ("qualify", "evaluate", "advance", people.rep.id, t1, "", None, Decimal("1000.00"), False),
        ("evaluate", "qualify", "revert", people.rep.id, t2, "需求有变", None, Decimal("2500.00"), False),
        ("qualify", "evaluate", "advance", people.lead.id, t3, "经理确认", None, Decimal("2500.00"), False),
        ("evaluate", "lost", "lose", people.rep.id, t4, "对手降价", "competitor", Decimal("2500.00"), False),
    ]
    assert_history_consistent(reload(deal.id))


def test_a_refused_move_leaves_no_row(people: Any, make_deal: Any) -> None:
    deal = make_deal(people.rep)
    for attempt in (
        lambda: services.move(people.rep, deal, "advance"),
        lambda: services.move(people.rep, deal, "revert", reason="x"),
        lambda: services.move(people.rep, deal, "lose"),
        lambda: services.move(people.rep, deal, "advance", override=True, reason="x"),
    ):
        with pytest.raises(DomainError):
            attempt()
        db.session.rollback()
    assert len(assert_history_consistent(reload(deal.id))) == 1


# ---- Random sequences of moves -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    """Some checklist work and perhaps a new amount, then one move request."""

    ticks: str  # "all" | "one" | "untick" | "none": what happens to the current stage's items first
    amount: Decimal | None
    trigger: str
    actor: str
    reason: str
    lost_reason: str | None
    override: bool


# Weighted towards valid requests so sequences get deep into the workflow; the bad ones still come up.
steps_strategy = st.builds(
    Step,
    ticks=st.sampled_from(["all", "all", "all", "one", "untick", "none"]),
    amount=st.one_of(st.none(), st.none(), st.decimals(min_value=0, max_value=10**7, places=2)),
    trigger=st.sampled_from(["advance", "advance", "advance", "revert", "lose", "reopen", "complete"]),
    actor=st.sampled_from(["rep", "lead", "admin"]),
    reason=st.sampled_from(["客户预算调整", "Director approved", "周会决定：先暂停", "", "  "]),
    lost_reason=st.sampled_from(["price", "timing", "competitor", None, "bogus"]),
    override=st.sampled_from([False, False, False, True]),
)


def do_work(actor: Any, deal: Deal, step: Step, n: int, at: datetime) -> None:
    """Tick, tick one or untick one of the current stage's items, and maybe change the amount."""
    keys = [t.key for t in services.checklist_for(deal.stage)]
    if step.ticks in ("one", "untick") and keys:
        keys = [keys[n % len(keys)]]
    for key in keys if step.ticks != "none" else []:
        services.set_checklist_item(actor, deal, key, step.ticks != "untick", at=at)
    if step.amount is not None:
        services.update_deal(actor, deal, {"amount": step.amount}, expected_version=deal.version)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ready=st.sampled_from([True, True, False]), steps=st.lists(steps_strategy, min_size=3, max_size=20))
def test_random_moves_keep_the_history_a_connected_chain(
    people: Any, make_account: Any, ready_fields: dict[str, Any], ready: bool, steps: list[Step]
) -> None:
    actors = {"rep": people.rep, "lead": people.lead, "admin": people.admin}
    deal = services.create_deal(
        people.rep, make_account(people.rep), "随机项目", at=START, **(ready_fields if ready else {})
    )
    db.session.commit()
    deal_id, recorded = deal.id, 1
    for n, step in enumerate(steps, start=1):
        at = START + timedelta(hours=n)
        deal = reload(deal_id)
        try:
            do_work(people.rep, deal, step, n, at)  # refused on a lost or finished deal
        except DomainError:
            db.session.rollback()
        else:
            db.session.commit()
        deal = reload(deal_id)
        assert len(assert_history_consistent(deal)) == recorded  # checklist work and edits are not moves

        before, version, lost_from = deal.stage, deal.version, deal.lost_from_stage
        try:
            services.move(
                actors[step.actor],
                deal,
                step.trigger,
                reason=step.reason,
                lost_reason=step.lost_reason,
                override=step.override,
                expected_version=version,
                at=at,
            )
        except DomainError:
            db.session.rollback()
            deal = reload(deal_id)
            assert (deal.stage, deal.version) == (before, version)
        else:
            db.session.commit()
            deal = reload(deal_id)
            recorded += 1
            expected = {
                "advance": NEXT.get(before),
                "revert": BACK.get(before),
                "lose": "lost",
                "complete": "done",
                "reopen": lost_from,
            }[step.trigger]
            row = services.history(deal)[-1]
            assert expected is not None and deal.stage == expected
            assert (row.from_stage, row.trigger, row.user_id, row.at) == (
                before,
                step.trigger,
                actors[step.actor].id,
                at,
            )
            assert (row.amount, row.reason) == (deal.amount, step.reason)
            assert row.override == bool(row.overridden)
            assert not row.override or (step.override and step.actor != "rep" and step.reason.strip())
            assert deal.version == version + 1
        assert len(assert_history_consistent(deal)) == recorded


# ---- History cannot be rewritten ---------------------------------------------------------------------------------


def test_the_orm_refuses_to_update_a_history_row(people: Any, make_deal: Any) -> None:
    deal = make_deal(people.rep)
    row = services.history(deal)[0]
    row.reason = "改写历史"
    with pytest.raises(RuntimeError, match="append-only"):
        db.session.flush()
    db.session.rollback()
    assert services.history(reload(deal.id))[0].reason == ""


def test_the_orm_refuses_to_delete_a_history_row(people: Any, make_deal: Any) -> None:
    deal = make_deal(people.rep)
    db.session.delete(services.history(deal)[0])
    with pytest.raises(RuntimeError, match="append-only"):
        db.session.flush()
    db.session.rollback()
    assert len(services.history(reload(deal.id))) == 1


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE stage_events SET reason = 'rewritten' WHERE deal_id = :deal",
        "UPDATE stage_events SET to_stage = 'done' WHERE deal_id = :deal",
        "DELETE FROM stage_events WHERE deal_id = :deal",
    ],
)
def test_the_database_refuses_to_rewrite_history(people: Any, make_deal: Any, statement: str) -> None:
    deal = make_deal(people.rep)
    with pytest.raises(DBAPIError, match="append-only"), db.session.begin_nested():
        db.session.execute(text(statement), {"deal": deal.id})
    # The session survived the refusal: it can still read and write.
    deal.title = "改名后照常保存"
    db.session.commit()
    rows = db.session.execute(select(StageEvent.to_stage, StageEvent.reason).where(StageEvent.deal_id == deal.id)).all()
    assert [tuple(r) for r in rows] == [("qualify", "")]
    assert reload(deal.id).title == "改名后照常保存"


def test_another_connection_cannot_delete_history_either(people: Any, make_deal: Any) -> None:
    deal = make_deal(people.rep)
    with pytest.raises(DBAPIError, match="append-only"), db.engine.begin() as conn:
        conn.execute(text("DELETE FROM stage_events WHERE deal_id = :deal"), {"deal": deal.id})
    assert len(services.history(reload(deal.id))) == 1


def test_history_cannot_be_truncated_or_replaced_either(people: Any, make_deal: Any) -> None:
    deal = make_deal(people.rep)
    (first,) = db.session.scalars(select(StageEvent.id).where(StageEvent.deal_id == deal.id)).all()
    postgres = db.engine.dialect.name == "postgresql"
    statement = (
        "TRUNCATE stage_events CASCADE"
        if postgres
        else "INSERT OR REPLACE INTO stage_events (id, deal_id, to_stage, trigger, at, reason, amount_cents, override, "
        "overridden) VALUES (:id, :deal, 'done', 'create', '2026-01-01 00:00:00', 'rewritten', 0, 0, '[]')"
    )
    with pytest.raises(DBAPIError, match="append-only"), db.session.begin_nested():
        db.session.execute(text(statement), {} if postgres else {"id": first, "deal": deal.id})
    rows = db.session.execute(select(StageEvent.to_stage, StageEvent.reason).where(StageEvent.deal_id == deal.id)).all()
    assert [tuple(r) for r in rows] == [("qualify", "")]
