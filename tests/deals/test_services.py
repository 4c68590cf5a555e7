"""Deal services on a real database: moves, gates from configuration, checklists, edits, versions, scope."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select, text

from pipeline.auth.models import User
from pipeline.auth.scope import visible_deal
from pipeline.core.errors import Conflict, Forbidden, GateRefused, InvalidInput, Missing, NotFound
from pipeline.deals import services
from pipeline.deals.models import ChecklistTemplate, Deal, DealChecklistItem, LostReason, StageEvent
from pipeline.extensions import db

# The checklist the first migration ships, by stage, with which items are required (from ../shared/domain.md).
REQUIRED = {
    "qualify": ["research_customer", "key_business_plan", "assess_opportunity"],
    "evaluate": ["map_capabilities", "assess_competition", "know_participants"],
    "propose": ["tailor_solution", "submit_proposal", "stakeholder_concerns"],
    "close": ["implementation_plan", "negotiate_terms", "sign_contract"],
    "follow_up": ["solution_fits", "measure_satisfaction"],
}
ITEM_COUNT = {"qualify": 5, "evaluate": 6, "propose": 5, "close": 4, "follow_up": 7}
ORDER = ("qualify", "evaluate", "propose", "close", "follow_up")
ALLOWED: dict[tuple[str, str], str] = {
    ("qualify", "advance"): "evaluate",
    ("qualify", "lose"): "lost",
    ("evaluate", "advance"): "propose",
    ("evaluate", "revert"): "qualify",
    ("evaluate", "lose"): "lost",
    ("propose", "advance"): "close",
    ("propose", "revert"): "evaluate",
    ("propose", "lose"): "lost",
    ("close", "advance"): "follow_up",
    ("close", "revert"): "propose",
    ("close", "lose"): "lost",
    ("follow_up", "revert"): "close",
    ("follow_up", "complete"): "done",
    ("lost", "reopen"): "propose",  # deals are lost from 报价 by `drive_to` below
}
STATES = ("qualify", "evaluate", "propose", "close", "follow_up", "lost", "done")
TRIGGERS = ("advance", "revert", "lose", "reopen", "complete")

Tick = Callable[[User, Deal], None]


@pytest.fixture
def drive_to(people: Any, tick_stage: Tick) -> Callable[[Deal, str], Deal]:
    """Move a deal forward the honest way (all work ticked) until it sits in `target`."""

    def drive(deal: Deal, target: str) -> Deal:
        goal = "propose" if target == "lost" else ("follow_up" if target == "done" else target)
        while deal.stage != goal:
            tick_stage(people.rep, deal)
            services.move(people.rep, deal, "advance")
            db.session.commit()
        if target == "lost":
            services.move(people.rep, deal, "lose", lost_reason="price")
        elif target == "done":
            tick_stage(people.rep, deal)
            services.move(people.rep, deal, "complete")
        db.session.commit()
        return deal

    return drive


def item_keys(deal: Deal, *, done: bool | None = None) -> list[str]:
    query = select(DealChecklistItem.item_key).where(DealChecklistItem.deal_id == deal.id)
    if done is not None:
        query = query.where(DealChecklistItem.done.is_(done))
    return list(db.session.scalars(query.order_by(DealChecklistItem.id)))


def reload(deal_id: int) -> Deal:
    db.session.expire_all()
    found = db.session.get(Deal, deal_id)
    assert found is not None
    return found


# ---- Every trigger from every stage ---------------------------------------------------------------------------


@pytest.mark.parametrize("trigger", TRIGGERS)
@pytest.mark.parametrize("state", STATES)
def test_every_trigger_from_every_stage(
    people: Any, make_deal: Any, ready_fields: dict[str, Any], tick_stage: Tick, drive_to: Any, state: str, trigger: str
) -> None:
    deal = drive_to(make_deal(people.rep, **ready_fields), state)
    if state not in ("lost", "done"):
        tick_stage(people.rep, deal)
    version, rows = deal.version, len(services.history(deal))
    if (state, trigger) in ALLOWED:
        event = services.move(people.lead, deal, trigger, reason="周会决定", lost_reason="competitor")
        db.session.commit()
        deal = reload(deal.id)
        assert deal.stage == ALLOWED[state, trigger]
        assert deal.version == version + 1
        assert (event.from_stage, event.to_stage, event.trigger) == (state, deal.stage, trigger)
        assert len(services.history(deal)) == rows + 1
    else:
        with pytest.raises(Conflict) as exc:
            services.move(people.lead, deal, trigger, reason="周会决定", lost_reason="competitor")
        assert not isinstance(exc.value, GateRefused)
        db.session.rollback()
        deal = reload(deal.id)
        assert (deal.stage, deal.version) == (state, version)
        assert len(services.history(deal)) == rows


# ---- Gates as configured ------------------------------------------------------------------------------------------


def test_advance_from_qualify_lists_exactly_the_required_items(people: Any, make_deal: Any) -> None:
    deal = make_deal(people.rep)
    with pytest.raises(GateRefused) as exc:
        services.move(people.rep, deal, "advance")
    assert exc.value.missing == [
        Missing("checklist", "research_customer", "研究客户", "Research the customer"),
        Missing(
            "checklist",
            "key_business_plan",
            "确定关键的商业行动计划",
            "Identify the customer's key business action plan",
        ),
        Missing(
            "checklist",
            "assess_opportunity",
            "评估机会的性质(会面/不会面)",
            "Decide whether the opportunity is worth meeting on (go / no-go)",
        ),
    ]
    assert exc.value.status == 409


def test_entering_propose_lists_open_work_and_every_missing_field_in_english(
    people: Any, make_deal: Any, tick_stage: Tick
) -> None:
    deal = make_deal(people.rep)
    tick_stage(people.rep, deal)
    services.move(people.rep, deal, "advance")
    services.set_checklist_item(people.rep, deal, "assess_competition", True)
    db.session.commit()
    people.rep.locale = "en"
    with pytest.raises(GateRefused) as exc:
        services.move(people.rep, deal, "advance")
    assert [(m.kind, m.key, m.label) for m in exc.value.missing] == [
        ("checklist", "map_capabilities", "Map the customer's plan to our capabilities"),
        ("checklist", "know_participants", "Know the customer's people in the decision"),
        ("field", "amount", "Amount"),
        ("field", "expected_close_date", "Expected close date"),
        ("field", "strategy", "Strategy"),
        ("influence", "economic_buyer", "Economic buyer"),
        ("influence", "coach", "Coach"),
    ]
    assert exc.value.to_dict()["missing"][2] == {
        "kind": "field",
        "key": "amount",
        "label": "Amount",
        "label_en": "Amount",
    }


def test_entering_follow_up_needs_the_signed_contract(
    people: Any, make_deal: Any, ready_fields: dict[str, Any], drive_to: Any
) -> None:
    deal = drive_to(make_deal(people.rep, **ready_fields), "close")
    for key in ("implementation_plan", "negotiate_terms"):
        services.set_checklist_item(people.rep, deal, key, True)
    db.session.commit()
    with pytest.raises(GateRefused) as exc:
        services.move(people.rep, deal, "advance")
    assert exc.value.missing == [Missing("checklist", "sign_contract", "签署合同", "Sign the contract")]


def test_making_an_optional_item_required_adds_it_to_the_gate(people: Any, make_deal: Any, tick_stage: Tick) -> None:
    deal = make_deal(people.rep)
    for key in REQUIRED["qualify"]:
        services.set_checklist_item(people.rep, deal, key, True)
    db.session.get(ChecklistTemplate, "build_relationship").required = True  # type: ignore[union-attr]
    db.session.commit()
    with pytest.raises(GateRefused) as exc:
        services.move(people.rep, deal, "advance")
    assert [m.key for m in exc.value.missing] == ["build_relationship"]
    db.session.rollback()

    services.set_checklist_item(people.rep, deal, "build_relationship", True)
    services.move(people.rep, deal, "advance")
    db.session.commit()
    assert reload(deal.id).stage == "evaluate"


def test_making_a_required_item_optional_removes_it_from_the_gate(people: Any, make_deal: Any) -> None:
    db.session.get(ChecklistTemplate, "key_business_plan").required = False  # type: ignore[union-attr]
    db.session.commit()
    deal = make_deal(people.rep)
    with pytest.raises(GateRefused) as exc:
        services.move(people.rep, deal, "advance")
    assert [m.key for m in exc.value.missing] == ["research_customer", "assess_opportunity"]


def test_a_lead_overrides_with_a_reason_and_history_records_what_was_waived(people: Any, make_deal: Any) -> None:
    deal = make_deal(people.rep)
    services.set_checklist_item(people.rep, deal, "research_customer", True)
    db.session.commit()
    with pytest.raises(InvalidInput) as exc:
        services.move(people.lead, deal, "advance", override=True)
    assert list(exc.value.fields) == ["reason"]
    with pytest.raises(Forbidden):
        services.move(people.rep, deal, "advance", override=True, reason="我觉得可以")
    db.session.rollback()

    event = services.move(people.lead, deal, "advance", override=True, reason="战略客户，总监批准")
    db.session.commit()
    row = services.history(reload(deal.id))[-1]
    assert row.id == event.id
    assert (row.trigger, row.override, row.reason) == ("advance", True, "战略客户，总监批准")
    assert row.overridden == ["key_business_plan", "assess_opportunity"]
    assert row.user_id == people.lead.id


# ---- Checklists ---------------------------------------------------------------------------------------------------


def test_checklist_items_appear_on_entering_a_stage_and_survive_a_revert(
    people: Any, make_deal: Any, tick_stage: Tick
) -> None:
    deal = make_deal(people.rep)
    assert len(item_keys(deal)) == ITEM_COUNT["qualify"]
    assert "map_capabilities" not in item_keys(deal)

    tick_stage(people.rep, deal)
    services.move(people.rep, deal, "advance")
    services.set_checklist_item(people.rep, deal, "map_capabilities", True, note="已对照")
    db.session.commit()
    assert len(item_keys(deal)) == ITEM_COUNT["qualify"] + ITEM_COUNT["evaluate"]

    services.move(people.rep, deal, "revert", reason="需求变了")
    services.move(people.rep, deal, "advance")
    db.session.commit()
    assert len(item_keys(deal)) == ITEM_COUNT["qualify"] + ITEM_COUNT["evaluate"]  # no second copy
    assert set(item_keys(deal, done=True)) == {*(t.key for t in services.checklist_for("qualify")), "map_capabilities"}
    item = db.session.scalar(
        select(DealChecklistItem).where(
            DealChecklistItem.deal_id == deal.id, DealChecklistItem.item_key == "map_capabilities"
        )
    )
    assert item is not None and (item.stage, item.note, item.done_by_id) == ("evaluate", "已对照", people.rep.id)


@pytest.mark.parametrize("key", ["no_such_item", "sign_contract"])
def test_ticking_an_item_not_on_the_deal_names_item_key(people: Any, make_deal: Any, key: str) -> None:
    deal = make_deal(people.rep)
    with pytest.raises(InvalidInput) as exc:
        services.set_checklist_item(people.rep, deal, key, True)
    assert list(exc.value.fields) == ["item_key"]


def test_ticking_on_a_lost_deal_is_refused(
    people: Any, make_deal: Any, ready_fields: dict[str, Any], drive_to: Any
) -> None:
    deal = drive_to(make_deal(people.rep, **ready_fields), "lost")
    version = deal.version
    with pytest.raises(Conflict):
        services.set_checklist_item(people.rep, deal, "research_customer", False)
    db.session.rollback()
    assert reload(deal.id).version == version


def test_ticking_bumps_the_version_and_logs_who_did_it(people: Any, make_deal: Any) -> None:
    deal = make_deal(people.rep)
    assert deal.version == 1
    at = datetime(2026, 5, 6, 1, 2, 3, tzinfo=UTC)
    item = services.set_checklist_item(people.rep, deal, "research_customer", True, at=at)
    db.session.commit()
    assert reload(deal.id).version == 2
    assert (item.done, item.done_by_id, item.done_at) == (True, people.rep.id, at)
    assert [(c.field, c.old_value, c.new_value) for c in services.field_changes(deal)] == [
        ("checklist.research_customer", "false", "true")
    ]
    services.set_checklist_item(people.rep, deal, "research_customer", False)
    db.session.commit()
    assert reload(deal.id).version == 3
    assert (item.done, item.done_by_id, item.done_at) == (False, None, None)


# ---- Editing ------------------------------------------------------------------------------------------------------


def test_update_logs_only_real_changes(people: Any, make_deal: Any) -> None:
    deal = make_deal(people.rep, title="ERP 项目", amount=Decimal("100.00"))
    changed = services.update_deal(
        people.rep,
        deal,
        {"title": "ERP 项目", "amount": "2500.50", "strategy": "flanking", "expected_close_date": date(2026, 9, 1)},
        expected_version=1,
    )
    db.session.commit()
    assert changed == {
        "amount": ("100.00", "2500.50"),
        "strategy": (None, "flanking"),
        "expected_close_date": (None, "2026-09-01"),
    }
    rows = services.field_changes(deal)
    assert sorted((r.field, r.old_value, r.new_value, r.user_id) for r in rows) == [
        ("amount", "100.00", "2500.50", people.rep.id),
        ("expected_close_date", None, "2026-09-01", people.rep.id),
        ("strategy", None, "flanking", people.rep.id),
    ]
    deal = reload(deal.id)
    assert (deal.amount, deal.version) == (Decimal("2500.50"), 2)

    assert services.update_deal(people.rep, deal, {"amount": Decimal("2500.5"), "title": "ERP 项目"}, 2) == {}
    db.session.commit()
    assert len(services.field_changes(deal)) == 3
    assert reload(deal.id).version == 2


@pytest.mark.parametrize(
    ("changes", "fields"),
    [
        ({"stage": "close"}, {"stage"}),
        ({"colour": "red"}, {"colour"}),
        ({"amount": "-1"}, {"amount"}),
        ({"amount": "10.001"}, {"amount"}),
        ({"amount": "一百"}, {"amount"}),
        ({"amount": "NaN"}, {"amount"}),
        ({"strategy": "aggressive"}, {"strategy"}),
        ({"currency": "RMBY"}, {"currency"}),
        ({"currency": "12"}, {"currency"}),
        ({"title": "  "}, {"title"}),
        ({"expected_close_date": "2026-13-01"}, {"expected_close_date"}),
        ({"stage": "done", "amount": "-5", "currency": "", "won_on": date(2026, 1, 1)},
         {"stage", "amount", "currency", "won_on"}),
    ],
)  # fmt: skip
def test_bad_edits_name_each_field_and_write_nothing(
    people: Any, make_deal: Any, changes: dict[str, Any], fields: set[str]
) -> None:
    deal = make_deal(people.rep, title="原标题", amount=Decimal("100.00"))
    with pytest.raises(InvalidInput) as exc:
        services.update_deal(people.rep, deal, {"title": "新标题", **changes}, expected_version=1)
    assert set(exc.value.fields) == fields
    db.session.rollback()
    deal = reload(deal.id)
    unchanged = ("原标题", Decimal("100.00"), "qualify", "CNY", 1)
    assert (deal.title, deal.amount, deal.stage, deal.currency, deal.version) == unchanged
    assert services.field_changes(deal) == []


def test_currency_is_normalised_to_upper_case(people: Any, make_deal: Any) -> None:
    deal = make_deal(people.rep)
    services.update_deal(people.rep, deal, {"currency": "usd"}, expected_version=None)
    db.session.commit()
    assert reload(deal.id).currency == "USD"


def test_a_stale_version_is_refused(people: Any, make_deal: Any, tick_stage: Tick) -> None:
    deal = make_deal(people.rep)
    tick_stage(people.rep, deal)  # five ticks: version 6
    with pytest.raises(Conflict):
        services.update_deal(people.rep, deal, {"title": "新"}, expected_version=1)
    with pytest.raises(Conflict):
        services.move(people.rep, deal, "advance", expected_version=5)
    db.session.rollback()
    assert reload(deal.id).stage == "qualify"
    services.move(people.rep, deal, "advance", expected_version=6)
    db.session.commit()
    assert reload(deal.id).stage == "evaluate"


def test_a_row_changed_behind_the_session_is_a_conflict(people: Any, make_deal: Any, tick_stage: Tick) -> None:
    deal = make_deal(people.rep)
    tick_stage(people.rep, deal)
    assert deal.version == 6  # loaded, as a page would have it
    with db.engine.begin() as other:
        other.execute(text("UPDATE deals SET version = version + 1, title = 'x' WHERE id = :id"), {"id": deal.id})
    with pytest.raises(Conflict):
        services.move(people.rep, deal, "advance")
    db.session.rollback()
    deal = reload(deal.id)
    assert (deal.stage, deal.version, deal.title) == ("qualify", 7, "x")
    assert len(services.history(deal)) == 1


# ---- Lost reasons, dates, roles, scope -------------------------------------------------------------------------------


@pytest.mark.parametrize("lost_reason", ["bogus", "other"])
def test_a_lost_reason_outside_the_active_list_names_lost_reason(people: Any, make_deal: Any, lost_reason: str) -> None:
    db.session.get(LostReason, "other").active = False  # type: ignore[union-attr]
    db.session.commit()
    deal = make_deal(people.rep)
    with pytest.raises(InvalidInput) as exc:
        services.move(people.rep, deal, "lose", lost_reason=lost_reason)
    assert list(exc.value.fields) == ["lost_reason"]
    db.session.rollback()
    assert reload(deal.id).stage == "qualify"
    assert [r.key for r in services.lost_reasons()][:2] == ["price", "competitor"]
    assert "other" not in [r.key for r in services.lost_reasons()]


def test_lose_records_reason_and_shanghai_date(people: Any, make_deal: Any) -> None:
    deal = make_deal(people.rep)
    services.move(people.rep, deal, "lose", lost_reason="no_budget", at=datetime(2026, 6, 30, 16, 30, tzinfo=UTC))
    db.session.commit()
    deal = reload(deal.id)
    assert (deal.stage, deal.lost_on, deal.lost_reason_key, deal.lost_from_stage) == (
        "lost",
        date(2026, 7, 1),
        "no_budget",
        "qualify",
    )
    assert services.history(deal)[-1].lost_reason_key == "no_budget"


def test_won_on_is_the_date_in_shanghai(
    people: Any, make_deal: Any, ready_fields: dict[str, Any], drive_to: Any, tick_stage: Tick
) -> None:
    deal = drive_to(make_deal(people.rep, **ready_fields), "close")
    tick_stage(people.rep, deal)
    at = datetime(2026, 3, 31, 17, 0, tzinfo=UTC)
    services.move(people.rep, deal, "advance", at=at)
    db.session.commit()
    deal = reload(deal.id)
    assert (deal.stage, deal.won_on, deal.stage_entered_at) == ("follow_up", date(2026, 4, 1), at)


@pytest.mark.parametrize("app_config", [{"PIPELINE_TIMEZONE": "UTC"}])
def test_the_business_time_zone_is_configurable(people: Any, make_deal: Any, app_config: dict[str, Any]) -> None:
    deal = make_deal(people.rep)
    services.move(people.rep, deal, "lose", lost_reason="price", at=datetime(2026, 3, 31, 17, 0, tzinfo=UTC))
    db.session.commit()
    assert reload(deal.id).lost_on == date(2026, 3, 31)


def test_reps_cannot_reopen_leads_can(people: Any, make_deal: Any) -> None:
    deal = make_deal(people.rep)
    services.move(people.rep, deal, "lose", lost_reason="timing")
    db.session.commit()
    with pytest.raises(Forbidden):
        services.move(people.rep, deal, "reopen", reason="客户回来了")
    db.session.rollback()
    assert reload(deal.id).stage == "lost"

    lead_view = visible_deal(people.lead, deal.id)
    services.move(people.lead, lead_view, "reopen", reason="客户回来了")
    db.session.commit()
    deal = reload(deal.id)
    assert (deal.stage, deal.lost_on, deal.lost_reason_key) == ("qualify", None, None)


def test_a_lead_acts_only_on_the_own_teams_deals(people: Any, make_deal: Any) -> None:
    ours = make_deal(people.rep_b)
    theirs = make_deal(people.outsider)
    services.move(people.lead, visible_deal(people.lead, ours.id), "lose", lost_reason="price")
    db.session.commit()
    assert reload(ours.id).stage == "lost"
    with pytest.raises(NotFound):
        visible_deal(people.lead, theirs.id)
    with pytest.raises(NotFound):
        visible_deal(people.other_lead, ours.id)
    assert visible_deal(people.other_lead, theirs.id).id == theirs.id


def test_a_deal_is_created_with_its_first_checklist_and_cannot_be_created_with_a_stage(
    people: Any, make_account: Any
) -> None:
    account = make_account(people.rep)
    with pytest.raises(InvalidInput) as exc:
        services.create_deal(people.rep, account, "", stage="close", amount="1.234")
    assert set(exc.value.fields) == {"title", "stage", "amount"}
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Deal)) == 0
    assert db.session.scalar(select(func.count()).select_from(StageEvent)) == 0


def test_a_rep_cannot_give_a_deal_to_someone_else(people: Any, make_deal: Any) -> None:
    deal = make_deal(people.rep)
    with pytest.raises(Forbidden):
        services.update_deal(people.rep, deal, {"owner_id": people.rep_b.id}, expected_version=1)
    db.session.rollback()
    services.update_deal(people.lead, deal, {"owner_id": people.rep_b.id}, expected_version=1)
    db.session.commit()
    assert reload(deal.id).owner_id == people.rep_b.id
    with pytest.raises(Forbidden):
        services.update_deal(people.lead, deal, {"owner_id": people.outsider.id}, expected_version=2)


def test_a_deal_can_be_opened_only_on_an_account_the_actor_sees(people: Any, make_account: Any) -> None:
    colleagues = make_account(people.rep_b, name="同事的客户")
    other_team = make_account(people.outsider, name="别队的客户")
    db.session.commit()
    with pytest.raises(NotFound):
        services.create_deal(people.rep, colleagues, "越权项目")
    with pytest.raises(NotFound):
        services.create_deal(people.lead, other_team, "越权项目")
    db.session.rollback()
    assert services.create_deal(people.lead, colleagues, "团队项目").account_id == colleagues.id
    assert services.create_deal(people.admin, other_team, "总部项目").account_id == other_team.id
