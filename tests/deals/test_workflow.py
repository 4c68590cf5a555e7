"""The stage machine on plain objects, without a database: every trigger from every state, every gate, overrides."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from pipeline.core.errors import Conflict, Forbidden, GateRefused, InvalidInput, Missing
from pipeline.deals import workflow
from pipeline.deals.workflow import ChecklistFacts, ItemInfo, Move

AT = datetime(2026, 3, 31, 17, 0, tzinfo=UTC)
TODAY = date(2026, 4, 1)  # deliberately not AT's UTC date: the won/lost date is the move's `today`
EARLIER = datetime(2026, 1, 5, 2, 0, tzinfo=UTC)

# A hand-made configuration: some items required, some optional, labels in both languages.
ITEMS: dict[str, list[ItemInfo]] = {
    "qualify": [
        ItemInfo("research_customer", "研究客户", "Research the customer", True),
        ItemInfo("build_relationship", "建立关系", "Build the relationship", False),
        ItemInfo("assess_opportunity", "评估机会的性质", "Decide go / no-go", True),
    ],
    "evaluate": [
        ItemInfo("map_capabilities", "将客户行动计划与你的能力联系起来", "Map the plan to our capabilities", True),
        ItemInfo("examine_obstacles", "确定和考察难点", "Examine the hard points", False),
        ItemInfo("know_participants", "深入了解客户参与者", "Know the customer's people", True),
    ],
    "propose": [
        ItemInfo("tailor_solution", "针对客户的需要和期望制定你的解决方案", "Build the solution", True),
        ItemInfo("value_advantage", "建立价值优势", "Establish the value advantage", False),
    ],
    "close": [
        ItemInfo("negotiate_terms", "洽谈最终条款", "Negotiate the final terms", True),
        ItemInfo("sign_contract", "签署合同", "Sign the contract", True),
    ],
    "follow_up": [
        ItemInfo("thank_you_letter", "感谢信", "Send a thank-you letter", False),
        ItemInfo("solution_fits", "确保被执行的解决方案符合客户需要", "Make sure the solution meets the need", True),
        ItemInfo("measure_satisfaction", "测试客户满意度", "Measure customer satisfaction", True),
    ],
}
ALL_KEYS = frozenset(i.key for items in ITEMS.values() for i in items)

# What the method allows, written out by hand (not read from the machine): (state, trigger) -> destination.
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
    ("lost", "reopen"): "evaluate",  # the stage the deal below was lost from
}
STATES = ("qualify", "evaluate", "propose", "close", "follow_up", "lost", "done")
TRIGGERS = ("advance", "revert", "lose", "reopen", "complete")


@dataclass
class PlainDeal:
    """Just the fields the workflow reads and writes."""

    stage: str = "qualify"
    amount: Decimal = Decimal("0.00")
    expected_close_date: date | None = None
    strategy: str | None = None
    stage_entered_at: datetime = EARLIER
    won_on: date | None = None
    lost_on: date | None = None
    lost_reason_key: str | None = None
    lost_from_stage: str | None = None


def deal_in(stage: str, *, ready: bool = True, lost_from: str = "evaluate") -> PlainDeal:
    """A consistent deal sitting in `stage`; `ready` fills the fields 报价 asks for."""
    deal = PlainDeal(stage=stage)
    if ready:
        deal.amount, deal.expected_close_date, deal.strategy = Decimal("80000.00"), date(2026, 6, 30), "frontal"
    if stage in ("follow_up", "done"):
        deal.won_on = date(2026, 2, 1)
    if stage == "lost":
        deal.lost_on, deal.lost_reason_key, deal.lost_from_stage = date(2026, 2, 1), "price", lost_from
    return deal


def make_move(trigger: str, *, done: frozenset[str] = ALL_KEYS, role: str = "lead", **kwargs: object) -> Move:
    facts = ChecklistFacts(items=kwargs.pop("items", ITEMS), done=done)  # type: ignore[arg-type]
    return Move(trigger=trigger, actor_role=role, at=AT, today=TODAY, checklist=facts, **kwargs)  # type: ignore[arg-type]


def complete_move(trigger: str, **kwargs: object) -> Move:
    """A move with everything a request could need: lead, reason, lost reason, all work done."""
    kwargs.setdefault("reason", "客户要求重新评估")
    kwargs.setdefault("lost_reason", "price")
    return make_move(trigger, **kwargs)


def assert_won_lost_consistent(deal: PlainDeal) -> None:
    assert (deal.won_on is not None) == (deal.stage in ("follow_up", "done"))
    lost_fields = (deal.lost_on, deal.lost_reason_key, deal.lost_from_stage)
    assert all(f is not None for f in lost_fields) if deal.stage == "lost" else all(f is None for f in lost_fields)


def missing_keys(exc: pytest.ExceptionInfo[GateRefused]) -> list[tuple[str, str]]:
    return [(m.kind, m.key) for m in exc.value.missing]


# ---- Every trigger from every state ---------------------------------------------------------------------------


@pytest.mark.parametrize("trigger", TRIGGERS)
@pytest.mark.parametrize("state", STATES)
def test_every_trigger_from_every_state(state: str, trigger: str) -> None:
    deal = deal_in(state)
    before = dataclasses.asdict(deal)
    move = complete_move(trigger)
    if (state, trigger) in ALLOWED:
        assert workflow.fire(deal, move) == state
        assert deal.stage == ALLOWED[state, trigger]
        assert deal.stage_entered_at == AT
        assert not move.overridden and move.missing == []
        assert_won_lost_consistent(deal)
    else:
        with pytest.raises(Conflict) as exc:
            workflow.fire(deal, move)
        assert type(exc.value) is Conflict  # refused because of the state, not because of a gate
        assert trigger in exc.value.message
        assert dataclasses.asdict(deal) == before


@pytest.mark.parametrize("state", STATES)
def test_available_triggers_match_the_method(state: str) -> None:
    expected = [t for t in TRIGGERS if (state, t) in ALLOWED]
    assert workflow.available_triggers(state) == expected


@pytest.mark.parametrize("origin", ["qualify", "evaluate", "propose", "close"])
def test_reopen_returns_to_the_stage_the_deal_was_lost_from(origin: str) -> None:
    deal = deal_in("lost", lost_from=origin)
    assert workflow.fire(deal, complete_move("reopen")) == "lost"
    assert deal.stage == origin
    assert (deal.lost_on, deal.lost_reason_key, deal.lost_from_stage) == (None, None, None)
    assert deal.won_on is None


@pytest.mark.parametrize("origin", ["qualify", "evaluate", "propose", "close"])
def test_lose_records_date_reason_and_origin(origin: str) -> None:
    deal = deal_in(origin)
    workflow.fire(deal, complete_move("lose", lost_reason="competitor", role="rep", reason=""))
    assert deal.stage == "lost"
    assert (deal.lost_on, deal.lost_reason_key, deal.lost_from_stage) == (TODAY, "competitor", origin)
    assert deal.won_on is None


def test_the_machine_keeps_no_deal_after_a_move() -> None:
    deal = deal_in("qualify")
    workflow.fire(deal, complete_move("advance"))
    assert workflow.MACHINE.models == []


# ---- Gates ----------------------------------------------------------------------------------------------------


def test_advance_from_qualify_names_every_required_item_in_chinese() -> None:
    deal = deal_in("qualify")
    with pytest.raises(GateRefused) as exc:
        workflow.fire(deal, make_move("advance", done=frozenset({"build_relationship"}), role="rep"))
    assert exc.value.missing == [
        Missing("checklist", "research_customer", "研究客户", "Research the customer"),
        Missing("checklist", "assess_opportunity", "评估机会的性质", "Decide go / no-go"),
    ]
    assert "研究客户" in exc.value.message and "评估机会的性质" in exc.value.message
    assert deal.stage == "qualify"


def test_gate_labels_follow_the_locale() -> None:
    deal = deal_in("qualify")
    with pytest.raises(GateRefused) as exc:
        workflow.fire(deal, make_move("advance", done=frozenset(), locale="en"))
    assert [(m.key, m.label, m.label_en) for m in exc.value.missing] == [
        ("research_customer", "Research the customer", "Research the customer"),
        ("assess_opportunity", "Decide go / no-go", "Decide go / no-go"),
    ]
    assert "Research the customer, Decide go / no-go" in exc.value.message
    assert exc.value.to_dict()["missing"] == [
        {"kind": "checklist", "key": "research_customer", "label": "Research the customer",
         "label_en": "Research the customer"},
        {"kind": "checklist", "key": "assess_opportunity", "label": "Decide go / no-go",
         "label_en": "Decide go / no-go"},
    ]  # fmt: skip


def test_gate_passes_when_only_optional_items_are_left() -> None:
    deal = deal_in("qualify")
    workflow.fire(deal, make_move("advance", done=frozenset({"research_customer", "assess_opportunity"})))
    assert deal.stage == "evaluate"


@pytest.mark.parametrize(
    ("locale", "labels"),
    [
        ("zh", ["将客户行动计划与你的能力联系起来", "深入了解客户参与者", "金额", "预计成交日期", "竞争策略"]),
        (
            "en",
            [
                "Map the plan to our capabilities",
                "Know the customer's people",
                "Amount",
                "Expected close date",
                "Strategy",
            ],
        ),
    ],
)
def test_entering_propose_names_open_work_and_every_missing_field(locale: str, labels: list[str]) -> None:
    deal = deal_in("evaluate", ready=False)
    before = dataclasses.asdict(deal)
    with pytest.raises(GateRefused) as exc:
        workflow.fire(deal, make_move("advance", done=frozenset(), locale=locale))
    assert missing_keys(exc) == [
        ("checklist", "map_capabilities"),
        ("checklist", "know_participants"),
        ("field", "amount"),
        ("field", "expected_close_date"),
        ("field", "strategy"),
    ]
    assert [m.label for m in exc.value.missing] == labels
    assert [m.label_en for m in exc.value.missing][2:] == ["Amount", "Expected close date", "Strategy"]
    assert dataclasses.asdict(deal) == before


@pytest.mark.parametrize(
    ("changes", "missing"),
    [
        ({"amount": Decimal("0.00")}, ["amount"]),
        ({"expected_close_date": None}, ["expected_close_date"]),
        ({"strategy": None}, ["strategy"]),
        ({"amount": Decimal("0.00"), "strategy": None}, ["amount", "strategy"]),
    ],
)
def test_each_propose_field_is_checked_on_its_own(changes: dict[str, object], missing: list[str]) -> None:
    deal = dataclasses.replace(deal_in("evaluate"), **changes)  # type: ignore[arg-type]
    with pytest.raises(GateRefused) as exc:
        workflow.fire(deal, make_move("advance"))
    assert missing_keys(exc) == [("field", k) for k in missing]
    assert deal.stage == "evaluate"


def test_an_amount_of_one_cent_is_enough_for_propose() -> None:
    deal = dataclasses.replace(deal_in("evaluate"), amount=Decimal("0.01"))
    workflow.fire(deal, make_move("advance"))
    assert deal.stage == "propose"


def test_entering_close_asks_for_propose_work() -> None:
    deal = deal_in("propose")
    with pytest.raises(GateRefused) as exc:
        workflow.fire(deal, make_move("advance", done=ALL_KEYS - {"tailor_solution", "value_advantage"}))
    assert missing_keys(exc) == [("checklist", "tailor_solution")]


def test_entering_follow_up_asks_for_the_signed_contract_once() -> None:
    deal = deal_in("close")
    with pytest.raises(GateRefused) as exc:
        workflow.fire(deal, make_move("advance", done=frozenset()))
    assert exc.value.missing == [
        Missing("checklist", "negotiate_terms", "洽谈最终条款", "Negotiate the final terms"),
        Missing("checklist", "sign_contract", "签署合同", "Sign the contract"),
    ]
    assert deal.won_on is None and deal.stage == "close"


def test_the_signed_contract_is_needed_even_when_configured_optional() -> None:
    items = {**ITEMS, "close": [ItemInfo("negotiate_terms", "洽谈最终条款", "Negotiate the final terms", True),
                                ItemInfo("sign_contract", "签署合同", "Sign the contract", False)]}  # fmt: skip
    deal = deal_in("close")
    with pytest.raises(GateRefused) as exc:
        workflow.fire(deal, make_move("advance", done=frozenset({"negotiate_terms"}), items=items, locale="en"))
    assert exc.value.missing == [Missing("checklist", "sign_contract", "Sign the contract", "Sign the contract")]


def test_complete_asks_for_follow_up_work() -> None:
    deal = deal_in("follow_up")
    with pytest.raises(GateRefused) as exc:
        workflow.fire(deal, make_move("complete", done=frozenset({"solution_fits", "thank_you_letter"})))
    assert missing_keys(exc) == [("checklist", "measure_satisfaction")]
    assert deal.stage == "follow_up" and deal.won_on == date(2026, 2, 1)


@pytest.mark.parametrize(("state", "trigger"), [("evaluate", "revert"), ("propose", "lose"), ("follow_up", "revert")])
def test_moves_without_gates_ignore_open_work(state: str, trigger: str) -> None:
    deal = deal_in(state, ready=False)
    workflow.fire(deal, make_move(trigger, done=frozenset(), reason="重新确认需求", lost_reason="no_budget"))
    assert deal.stage == ALLOWED[state, trigger]


# ---- Overrides --------------------------------------------------------------------------------------------------


def test_a_rep_may_not_override_a_gate() -> None:
    deal = deal_in("evaluate", ready=False)
    before = dataclasses.asdict(deal)
    with pytest.raises(Forbidden):
        workflow.fire(deal, make_move("advance", done=frozenset(), role="rep", override=True, reason="老客户"))
    assert dataclasses.asdict(deal) == before


@pytest.mark.parametrize("reason", ["", "   "])
def test_a_lead_must_give_a_reason_to_override(reason: str) -> None:
    deal = deal_in("qualify")
    with pytest.raises(InvalidInput) as exc:
        workflow.fire(deal, make_move("advance", done=frozenset(), override=True, reason=reason))
    assert list(exc.value.fields) == ["reason"]
    assert deal.stage == "qualify"


@pytest.mark.parametrize("role", ["lead", "admin"])
def test_a_lead_or_admin_overrides_with_a_reason_and_the_waived_work_is_kept(role: str) -> None:
    deal = deal_in("evaluate", ready=False)
    move = make_move("advance", done=frozenset({"map_capabilities"}), role=role, override=True, reason="总部特批")
    assert workflow.fire(deal, move) == "evaluate"
    assert deal.stage == "propose"
    assert move.overridden is True
    assert [m.key for m in move.missing] == ["know_participants", "amount", "expected_close_date", "strategy"]


def test_an_override_that_waives_nothing_is_not_recorded_as_one() -> None:
    deal = deal_in("qualify")
    move = make_move("advance", override=True, reason="以防万一")
    workflow.fire(deal, move)
    assert deal.stage == "evaluate"
    assert move.overridden is False and move.missing == []


def test_an_override_into_follow_up_still_marks_the_deal_won() -> None:
    deal = deal_in("close")
    move = make_move("advance", done=frozenset(), override=True, reason="合同已口头确认")
    workflow.fire(deal, move)
    assert deal.stage == "follow_up" and deal.won_on == TODAY
    assert [m.key for m in move.missing] == ["negotiate_terms", "sign_contract"]


# ---- What each request must carry --------------------------------------------------------------------------------


@pytest.mark.parametrize(("state", "trigger"), [("evaluate", "revert"), ("follow_up", "revert"), ("lost", "reopen")])
@pytest.mark.parametrize("reason", ["", "  \n"])
def test_revert_and_reopen_need_a_reason(state: str, trigger: str, reason: str) -> None:
    deal = deal_in(state)
    before = dataclasses.asdict(deal)
    with pytest.raises(InvalidInput) as exc:
        workflow.fire(deal, make_move(trigger, reason=reason))
    assert list(exc.value.fields) == ["reason"]
    assert dataclasses.asdict(deal) == before


@pytest.mark.parametrize("lost_reason", [None, ""])
def test_lose_needs_a_lost_reason(lost_reason: str | None) -> None:
    deal = deal_in("propose")
    with pytest.raises(InvalidInput) as exc:
        workflow.fire(deal, make_move("lose", role="rep", lost_reason=lost_reason))
    assert list(exc.value.fields) == ["lost_reason"]
    assert deal.stage == "propose" and deal.lost_on is None


def test_a_rep_may_not_reopen() -> None:
    deal = deal_in("lost")
    with pytest.raises(Forbidden):
        workflow.fire(deal, make_move("reopen", role="rep", reason="客户回来了"))
    assert deal.stage == "lost" and deal.lost_reason_key == "price"


def test_an_unknown_trigger_is_named() -> None:
    deal = deal_in("qualify")
    with pytest.raises(InvalidInput) as exc:
        workflow.fire(deal, make_move("skip_to_close"))
    assert list(exc.value.fields) == ["trigger"]
    assert deal.stage == "qualify"


# ---- Won and lost dates ---------------------------------------------------------------------------------------------


def test_won_on_is_set_on_entering_follow_up_kept_on_complete_and_cleared_on_revert() -> None:
    deal = deal_in("close")
    workflow.fire(deal, make_move("advance"))
    assert (deal.stage, deal.won_on, deal.stage_entered_at) == ("follow_up", TODAY, AT)

    workflow.fire(deal, make_move("revert", reason="合同被撤回"))
    assert (deal.stage, deal.won_on) == ("close", None)

    workflow.fire(deal, make_move("advance"))
    workflow.fire(deal, make_move("complete"))
    assert (deal.stage, deal.won_on) == ("done", TODAY)
    assert_won_lost_consistent(deal)


def test_lose_then_reopen_clears_the_lost_fields() -> None:
    deal = deal_in("close")
    workflow.fire(deal, make_move("lose", lost_reason="timing"))
    assert (deal.lost_on, deal.lost_reason_key, deal.lost_from_stage) == (TODAY, "timing", "close")
    workflow.fire(deal, make_move("reopen", reason="预算恢复"))
    assert deal.stage == "close"
    assert (deal.lost_on, deal.lost_reason_key, deal.lost_from_stage) == (None, None, None)
    assert_won_lost_consistent(deal)


def test_the_lost_reason_is_ignored_by_moves_other_than_lose() -> None:
    deal = deal_in("qualify")
    workflow.fire(deal, make_move("advance", lost_reason="price"))
    assert deal.stage == "evaluate" and deal.lost_reason_key is None


# ---- The diagram ------------------------------------------------------------------------------------------------


def test_mermaid_diagram_draws_every_transition() -> None:
    diagram = workflow.to_mermaid()
    assert diagram.startswith("stateDiagram-v2")
    edges = {line.strip() for line in diagram.splitlines() if ": " in line}
    expected = {f"{src} --> {dst}: {trigger}" for (src, trigger), dst in ALLOWED.items() if src != "lost"}
    expected |= {f"lost --> {origin}: reopen" for origin in ("qualify", "evaluate", "propose", "close")}
    assert edges == expected
    assert "[*] --> qualify" in diagram and "done --> [*]" in diagram
