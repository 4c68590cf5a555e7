"""The deal workflow, defined once: the stages in order, the moves between them, and the gates they pass.

确认 qualify → 考察 evaluate → 报价 propose → 成交 close → 跟进 follow_up → 完结 done, or 输单 lost with a
reason from any stage before 跟进. One `transitions` machine is built at import with no models; a move is
fired on one deal with `fire(deal, move)` and the machine forgets the deal afterwards. Nothing here touches
the database: the service loads the facts a gate needs into the `Move` and persists what changed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from itertools import pairwise
from typing import Any, Protocol

from transitions import EventData, Machine, MachineError

from pipeline.core.errors import Conflict, Forbidden, GateRefused, InvalidInput, Missing
from pipeline.deals.method import (
    CLOSE,
    DONE,
    EVALUATE,
    FIELD_LABELS,
    FOLLOW_UP,
    INFLUENCE_ROLES,
    LOST,
    OPEN_STAGES,
    PROPOSE,
    QUALIFY,
    STAGE_KEYS,
    stage,
)

ADVANCE, REVERT, LOSE, REOPEN, COMPLETE = "advance", "revert", "lose", "reopen", "complete"
TRIGGERS: tuple[str, ...] = (ADVANCE, REVERT, LOSE, REOPEN, COMPLETE)
CONTRACT_SIGNED = "sign_contract"


class Movable(Protocol):
    """What the workflow reads and writes on a deal (a Deal row, or any plain object in tests)."""

    stage: str
    amount: Decimal
    expected_close_date: date | None
    strategy: str | None
    stage_entered_at: datetime
    won_on: date | None
    lost_on: date | None
    lost_reason_key: str | None
    lost_from_stage: str | None


@dataclass(frozen=True)
class ItemInfo:
    """A checklist item as the gates see it."""

    key: str
    label_zh: str
    label_en: str
    required: bool


@dataclass(frozen=True)
class ChecklistFacts:
    """Each stage's checklist items and which of them this deal has done."""

    items: Mapping[str, Sequence[ItemInfo]]  # stage -> items in order
    done: frozenset[str]

    def item(self, key: str) -> ItemInfo | None:
        return next((i for items in self.items.values() for i in items if i.key == key), None)


@dataclass
class Move:
    """One request to move one deal: who asks, why, and (after the gates ran) what was missing."""

    trigger: str
    actor_role: str
    at: datetime
    today: date  # `at` as a date in the team's time zone: the won/lost date
    checklist: ChecklistFacts
    reason: str = ""
    lost_reason: str | None = None
    override: bool = False
    locale: str = "zh"
    influence_roles: frozenset[str] = frozenset()  # the roles the deal's buying influences hold
    required_influences: frozenset[str] = frozenset()  # the roles 报价 asks for (configuration)
    missing: list[Missing] = field(default_factory=list)
    overridden: bool = False


def _label(zh: str, en: str, locale: str) -> str:
    return en if locale.startswith("en") else zh


# ---- Gates: what each stage asks for before a deal may enter it --------------------------------------------

Gate = Callable[[Movable, Move], list[Missing]]


def required_work_done(deal: Movable, move: Move) -> list[Missing]:
    """Every required checklist item of the stage being left is done."""
    return [
        Missing("checklist", i.key, _label(i.label_zh, i.label_en, move.locale), i.label_en)
        for i in move.checklist.items.get(deal.stage, ())
        if i.required and i.key not in move.checklist.done
    ]


def _field(key: str, move: Move) -> Missing:
    zh, en = FIELD_LABELS[key]
    return Missing("field", key, _label(zh, en, move.locale), en)


def amount_set(deal: Movable, move: Move) -> list[Missing]:
    """A proposal needs an amount above zero."""
    return [] if deal.amount is not None and deal.amount > 0 else [_field("amount", move)]


def close_date_set(deal: Movable, move: Move) -> list[Missing]:
    """A proposal needs an expected close date."""
    return [] if deal.expected_close_date else [_field("expected_close_date", move)]


def strategy_chosen(deal: Movable, move: Move) -> list[Missing]:
    """A proposal needs one of the five competitive strategies."""
    return [] if deal.strategy else [_field("strategy", move)]


def contract_signed(deal: Movable, move: Move) -> list[Missing]:
    """跟进 begins when the contract is signed, whatever the checklist configuration says."""
    if CONTRACT_SIGNED in move.checklist.done:
        return []
    info = move.checklist.item(CONTRACT_SIGNED)
    zh, en = (info.label_zh, info.label_en) if info else ("签署合同", "Sign the contract")
    return [Missing("checklist", CONTRACT_SIGNED, _label(zh, en, move.locale), en)]


def buying_influences_identified(deal: Movable, move: Move) -> list[Missing]:
    """A proposal goes to known people: each required role (by default economic buyer and coach) is named."""
    return [
        Missing("influence", c.key, _label(c.label_zh, c.label_en, move.locale), c.label_en)
        for c in INFLUENCE_ROLES
        if c.key in move.required_influences and c.key not in move.influence_roles
    ]


GATES: dict[str, list[Gate]] = {
    EVALUATE: [required_work_done],
    PROPOSE: [required_work_done, amount_set, close_date_set, strategy_chosen, buying_influences_identified],
    CLOSE: [required_work_done],
    FOLLOW_UP: [required_work_done, contract_signed],
    DONE: [required_work_done],
}


def missing_for(deal: Movable, destination: str, move: Move) -> list[Missing]:
    """Everything the destination's gates still want, each item once, in the order the gates list them."""
    found: dict[tuple[str, str], Missing] = {}
    for gate in GATES.get(destination, ()):
        for m in gate(deal, move):
            found.setdefault((m.kind, m.key), m)
    return list(found.values())


# ---- Conditions and callbacks the machine calls ------------------------------------------------------------


def gate_open(event: EventData) -> bool:
    """Let the move through when nothing is missing, or when a lead overrides with a reason."""
    move: Move = event.kwargs["move"]
    move.missing = missing_for(event.model, event.transition.dest, move)
    move.overridden = bool(move.missing) and move.override
    return not move.missing or move.override


def _lost_from(origin: str) -> Callable[[EventData], bool]:
    def was_lost_from(event: EventData) -> bool:
        return event.model.lost_from_stage == origin

    was_lost_from.__name__ = f"was_lost_from_{origin}"
    return was_lost_from


def entered(event: EventData) -> None:
    """Stamp the deal as the method says: when it entered the stage, when it was won or lost and why."""
    deal: Any = event.model
    move: Move = event.kwargs["move"]
    source, dest = event.transition.source, event.transition.dest
    deal.stage_entered_at = move.at
    if dest == FOLLOW_UP and source == CLOSE:
        deal.won_on = move.today
    elif source == FOLLOW_UP and dest == CLOSE:
        deal.won_on = None
    if dest == LOST:
        deal.lost_on, deal.lost_reason_key, deal.lost_from_stage = move.today, move.lost_reason, source
    elif source == LOST:
        deal.lost_on = deal.lost_reason_key = deal.lost_from_stage = None


# ---- The machine ---------------------------------------------------------------------------------------------

MACHINE = Machine(
    model=None,
    states=[*STAGE_KEYS, DONE, LOST],
    initial=QUALIFY,
    auto_transitions=False,
    model_attribute="stage",
    send_event=True,
    after_state_change=[entered],
)
for here, there in pairwise(STAGE_KEYS):
    MACHINE.add_transition(ADVANCE, here, there, conditions=[gate_open])  # to the next stage only
    MACHINE.add_transition(REVERT, there, here)  # one stage back, with a reason
MACHINE.add_transition(LOSE, list(OPEN_STAGES), LOST)  # from any stage before 跟进, with a lost reason
for origin in OPEN_STAGES:
    MACHINE.add_transition(REOPEN, LOST, origin, conditions=[_lost_from(origin)])  # back where it was lost
MACHINE.add_transition(COMPLETE, FOLLOW_UP, DONE, conditions=[gate_open])


# ---- Who may ask for which move, and what they must say ------------------------------------------------------

LEADS_ONLY = frozenset({REOPEN})
NEEDS_REASON = frozenset({REVERT, REOPEN})


def available_triggers(stage_key: str) -> list[str]:
    """The moves the method allows from a stage, in the method's order."""
    allowed = set(MACHINE.get_triggers(stage_key))
    return [t for t in TRIGGERS if t in allowed]


def check_request(deal: Movable, move: Move) -> None:
    """Refuse, before anything changes, a move this person may not ask for or that lacks its reason."""
    lead = move.actor_role in ("lead", "admin")
    errors: dict[str, str] = {}
    if move.trigger not in TRIGGERS:
        raise InvalidInput({"trigger": f"unknown trigger {move.trigger!r}; one of {', '.join(TRIGGERS)}"})
    if move.trigger in LEADS_ONLY and not lead:
        raise Forbidden(f"only a team lead or an admin may {move.trigger} a deal")
    if move.override and not lead:
        raise Forbidden("only a team lead or an admin may override a gate")
    if (move.trigger in NEEDS_REASON or move.override) and not move.reason.strip():
        errors["reason"] = f"a reason is required to {'override' if move.override else move.trigger}"
    if move.trigger == LOSE and not move.lost_reason:
        errors["lost_reason"] = "choose a reason from the lost-reason list"
    if errors:
        raise InvalidInput(errors)
    if move.trigger not in available_triggers(deal.stage):
        here = stage(deal.stage).label(move.locale)
        raise Conflict(f"cannot {move.trigger} a deal in {here} ({deal.stage})")


def fire(deal: Movable, move: Move) -> str:
    """Make the move on this deal or raise why not; return the stage it left."""
    check_request(deal, move)
    source = deal.stage
    try:
        moved = MACHINE.events[move.trigger].trigger(deal, move=move)
    except MachineError as exc:  # check_request already vetted the trigger; keep the refusal clear anyway
        raise Conflict(str(exc)) from exc
    if not moved:
        if move.missing:
            dest = stage(destination(source, move.trigger)).label(move.locale)
            names = ("、" if move.locale.startswith("zh") else ", ").join(m.label for m in move.missing)
            raise GateRefused(f"cannot {move.trigger} to {dest}: missing {names}", move.missing)
        raise Conflict(f"cannot {move.trigger} this deal from {source}")
    return source


def destination(source: str, trigger: str) -> str:
    """Where `trigger` takes a deal from `source` (for reopen: the first candidate; the deal decides)."""
    transitions = MACHINE.events[trigger].transitions.get(source, [])
    return transitions[0].dest if transitions else source


def reads_influences(source: str, trigger: str) -> bool:
    """Whether this move's gates look at the deal's buying influences, so the service loads them only then."""
    if trigger not in (ADVANCE, COMPLETE):  # the only gated moves
        return False
    return buying_influences_identified in GATES.get(destination(source, trigger), ())


def forward_trigger(stage_key: str) -> str | None:
    """The move that takes a deal onward from this stage (advance, or complete from 跟进), if any."""
    return next((t for t in available_triggers(stage_key) if t in (ADVANCE, COMPLETE)), None)


def to_mermaid() -> str:
    """The workflow as a Mermaid state diagram, drawn from the machine itself."""
    lines = ["stateDiagram-v2", f"    [*] --> {QUALIFY}"]
    for name, ev in MACHINE.events.items():
        for source, transitions in ev.transitions.items():
            lines.extend(f"    {source} --> {t.dest}: {name}" for t in transitions)
    lines.append(f"    {DONE} --> [*]")
    return "\n".join(lines)
