"""The workflow's one machine touches a deal only while it moves: loading, listing and moving deals build no
machine, bind no model and keep no deal alive. (How fast that is lives in bench/, not here.)"""

from __future__ import annotations

import gc
import weakref
from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import joinedload
from transitions.core import Event, Machine

from pipeline.auth.models import User
from pipeline.auth.scope import deals_visible_to, visible_deal
from pipeline.core.errors import GateRefused
from pipeline.deals import services, workflow
from pipeline.deals.models import Deal
from pipeline.extensions import db

# What transitions binds onto a model it is given (add_model): triggers, checks and state tests.
BOUND_NAMES = ("trigger", "advance", "may_advance", "is_qualify", "to_qualify")


@pytest.fixture
def no_new_machines(monkeypatch: pytest.MonkeyPatch) -> None:
    """From here on, building any transitions machine or giving one a model fails the test."""

    def refuse(*_args: Any, **_kwargs: Any) -> None:
        raise AssertionError("a transitions Machine was built or bound to a model")

    monkeypatch.setattr(Machine, "__init__", refuse)
    monkeypatch.setattr(Machine, "add_model", refuse)


@pytest.fixture
def fired_on(monkeypatch: pytest.MonkeyPatch) -> list[Machine]:
    """The machine each fired event belongs to, in firing order."""
    machines: list[Machine] = []
    original = Event.trigger

    def spy(self: Event, model: Any, *args: Any, **kwargs: Any) -> bool:
        machines.append(self.machine)
        return original(self, model, *args, **kwargs)

    monkeypatch.setattr(Event, "trigger", spy)
    return machines


def _unbound(deal: Deal) -> bool:
    return not any(hasattr(deal, name) for name in BOUND_NAMES)


def test_loading_and_listing_deals_builds_no_machine(
    people: Any,
    make_deal: Callable[..., Deal],
    ready_fields: dict[str, Any],
    client: FlaskClient,
    token_for: Callable[[User], dict[str, str]],
    no_new_machines: None,
) -> None:
    ids = [make_deal(people.rep, f"项目 {i}", **ready_fields).id for i in range(3)]
    headers = token_for(people.rep)
    rep_id, lead_id = people.rep.id, people.lead.id
    db.session.expunge_all()  # nothing cached: every deal below is loaded from the database
    rep, lead = db.session.get(User, rep_id), db.session.get(User, lead_id)
    assert rep is not None and lead is not None

    listed = db.session.scalars(
        select(Deal)
        .options(joinedload(Deal.account), joinedload(Deal.owner))
        .where(deals_visible_to(lead))
        .order_by(Deal.id)
    ).all()
    assert [d.id for d in listed] == ids
    assert all(d.stage == "qualify" and d.account.name and d.owner.name for d in listed)
    one = visible_deal(rep, ids[0])
    missing = services.what_is_missing(rep, one)  # the detail page's "what is left", read off the machine
    assert missing and {m.kind for m in missing} == {"checklist"}
    assert [e.to_stage for e in services.history(one)] == ["qualify"]
    assert all(_unbound(d) for d in listed)

    db.session.expunge_all()
    assert client.get("/api/v1/deals", headers=headers).status_code == 200
    assert client.get(f"/api/v1/deals/{ids[0]}", headers=headers).status_code == 200
    assert client.get(f"/api/v1/deals/{ids[0]}/history", headers=headers).status_code == 200
    assert workflow.MACHINE.models == []


def test_moves_fire_the_one_module_machine_and_leave_it_without_models(
    people: Any,
    make_deal: Callable[..., Deal],
    ready_fields: dict[str, Any],
    tick_stage: Callable[[User, Deal], None],
    client: FlaskClient,
    token_for: Callable[[User], dict[str, str]],
    fired_on: list[Machine],
    no_new_machines: None,
) -> None:
    deal = make_deal(people.rep, **ready_fields)
    lost_reason = services.lost_reasons()[0].key
    moves: list[tuple[User, str, dict[str, Any]]] = [
        (people.rep, "advance", {}),
        (people.rep, "revert", {"reason": "客户预算推迟"}),
        (people.rep, "lose", {"lost_reason": lost_reason}),
        (people.lead, "reopen", {"reason": "客户重新启动项目"}),
        (people.rep, "advance", {}),
    ]
    tick_stage(people.rep, deal)
    for actor, trigger, options in moves:
        services.move(actor, deal, trigger, **options)
        db.session.commit()
        assert workflow.MACHINE.models == []
    assert deal.stage == "evaluate"

    with pytest.raises(GateRefused):
        services.move(people.rep, deal, "advance")  # 考察's work is not done: refused
    db.session.rollback()

    headers = token_for(people.lead)
    answer = client.post(
        f"/api/v1/deals/{deal.id}/transitions", json={"trigger": "revert", "reason": "回到确认阶段"}, headers=headers
    )
    assert answer.status_code == 200, answer.get_json()

    assert len(fired_on) == len(moves) + 2
    assert all(machine is workflow.MACHINE for machine in fired_on)
    assert workflow.MACHINE.models == []
    db.session.expire_all()
    assert deal.stage == "qualify" and _unbound(deal)


@pytest.mark.parametrize("let_go", ["expunge_all", "remove"])
def test_a_moved_deal_is_freed_once_the_session_lets_it_go(
    people: Any,
    make_deal: Callable[..., Deal],
    ready_fields: dict[str, Any],
    tick_stage: Callable[[User, Deal], None],
    let_go: str,
) -> None:
    deal = make_deal(people.rep, **ready_fields)
    tick_stage(people.rep, deal)
    services.move(people.rep, deal, "advance")
    db.session.commit()
    services.move(people.rep, deal, "revert", reason="客户要求重新评估")
    db.session.commit()
    assert deal.stage == "qualify"
    moved = weakref.ref(deal)
    del deal

    getattr(db.session, let_go)()
    gc.collect()
    assert moved() is None, gc.get_referrers(moved())


def test_the_freed_check_notices_a_machine_that_keeps_its_deals(
    people: Any, make_deal: Callable[..., Deal], ready_fields: dict[str, Any]
) -> None:
    """Control: binding a deal to a long-lived machine, the pattern the workflow avoids, keeps it alive."""
    keeper = Machine(
        model=None,
        states=list(workflow.MACHINE.states),
        initial="qualify",
        auto_transitions=False,
        model_attribute="stage",
    )
    deal = make_deal(people.rep, **ready_fields)
    keeper.add_model(deal, initial=deal.stage)
    kept = weakref.ref(deal)
    del deal

    db.session.remove()
    gc.collect()
    assert kept() is not None and kept() in keeper.models
