"""Handling a complaint (客户抱怨, seed 003), defined once: the steps in order and what each one asks for.

受理 received → 核心事项 understood (listen calmly, find the core issue) → 方案 proposed (a sound solution) →
认可 accepted (the customer agrees) → 致歉关闭 closed (a sincere apology, and the relationship confirmed).
A customer who rejects the solution sends the complaint back to 核心事项 with their reason, for a better one.
One `transitions` machine is built at import with no models; a step is fired on one complaint with
`fire(complaint, step)` and the machine forgets it afterwards. Nothing here touches the database.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from transitions import EventData, Machine, MachineError

from pipeline.accounts.scales import COMPLAINT_STATES
from pipeline.core.errors import Conflict, GateRefused, InvalidInput, Missing

RECEIVED, UNDERSTOOD, PROPOSED, ACCEPTED, CLOSED = (c.key for c in COMPLAINT_STATES)
OPEN_STATES: tuple[str, ...] = (RECEIVED, UNDERSTOOD, PROPOSED, ACCEPTED)

UNDERSTAND, PROPOSE, ACCEPT, REJECT, CLOSE = "understand", "propose", "accept", "reject", "close"
STEPS: tuple[str, ...] = (UNDERSTAND, PROPOSE, ACCEPT, REJECT, CLOSE)
TEXTS: tuple[str, ...] = ("core_issue", "solution", "closing_note")  # what a step may write on the complaint

# The words the method asks for, before the complaint may enter each state.
TEXT_LABELS: dict[str, tuple[str, str]] = {
    "core_issue": ("核心事项", "Core issue"),
    "solution": ("解决方案", "Solution"),
    "closing_note": ("致歉与约定", "Apology and what was agreed"),
    "reason": ("客户不认可的理由", "Why the customer rejected the solution"),
}
REQUIRES: dict[str, tuple[str, ...]] = {
    UNDERSTOOD: ("core_issue",),  # listened calmly and found what the customer really objects to
    PROPOSED: ("core_issue", "solution"),  # a solution to that issue
    ACCEPTED: ("solution",),  # the customer agreed to the solution on record
    CLOSED: ("closing_note",),  # apologised and said what was agreed
}
WRITES: dict[str, tuple[str, ...]] = {  # the texts each step may write: its own words, and the issue refined
    UNDERSTAND: ("core_issue",),
    PROPOSE: ("core_issue", "solution"),
    CLOSE: ("closing_note",),
}
STAMPS: dict[str, str] = {  # the moment each state was reached
    UNDERSTOOD: "understood_at",
    PROPOSED: "proposed_at",
    ACCEPTED: "accepted_at",
    CLOSED: "closed_at",
}


class Handled(Protocol):
    """What the workflow reads and writes on a complaint (a Complaint row, or any plain object in tests)."""

    state: str
    core_issue: str
    solution: str
    closing_note: str
    received_at: datetime
    understood_at: datetime | None
    proposed_at: datetime | None
    accepted_at: datetime | None
    closed_at: datetime | None


@dataclass
class Step:
    """One request to move one complaint on: which step, when, the texts it brings, and what was missing."""

    name: str
    at: datetime
    texts: dict[str, str] = field(default_factory=dict)  # core_issue / solution / closing_note, as typed
    reason: str = ""  # why the customer rejected the solution (reject only)
    locale: str = "zh"
    missing: list[Missing] = field(default_factory=list)


def text_label(key: str, locale: str = "zh") -> str:
    """The name of a text the method asks for (核心事项, 解决方案 …) in the reader's language."""
    zh, en = TEXT_LABELS.get(key, (key, key))
    return en if locale.startswith("en") else zh


def _missing(key: str, locale: str) -> Missing:
    return Missing("field", key, text_label(key, locale), TEXT_LABELS[key][1])


def text_after(complaint: Handled, step: Step, key: str) -> str:
    """The text the complaint will hold once the step's own texts are written on it."""
    given = step.texts.get(key)
    return (given if given is not None else getattr(complaint, key) or "").strip()


def missing_for(complaint: Handled, destination: str, step: Step) -> list[Missing]:
    """Everything the destination asks for that is still blank, in the method's order."""
    return [_missing(key, step.locale) for key in REQUIRES.get(destination, ()) if not text_after(complaint, step, key)]


# ---- Conditions and callbacks the machine calls ------------------------------------------------------------


def texts_given(event: EventData) -> bool:
    """Let the step through only when every text its destination asks for is there."""
    step: Step = event.kwargs["step"]
    step.missing = missing_for(event.model, event.transition.dest, step)
    return not step.missing


def write_texts(event: EventData) -> None:
    """Keep what the step brought (the core issue, the solution, the apology) on the complaint."""
    complaint: Any = event.model
    step: Step = event.kwargs["step"]
    for key in WRITES.get(step.name, ()):
        if step.texts.get(key) is not None:
            setattr(complaint, key, step.texts[key].strip())


def stamp(event: EventData) -> None:
    """Time the step: the moment each state is reached; a rejected proposal's moment is cleared with it."""
    complaint: Any = event.model
    step: Step = event.kwargs["step"]
    dest = event.transition.dest
    if event.event.name == REJECT:
        complaint.proposed_at = None
    elif dest == UNDERSTOOD and complaint.understood_at is not None:
        return  # the first response stays the first
    else:
        setattr(complaint, STAMPS[dest], step.at)


# ---- The machine ---------------------------------------------------------------------------------------------

MACHINE = Machine(
    model=None,
    states=[c.key for c in COMPLAINT_STATES],
    initial=RECEIVED,
    auto_transitions=False,
    model_attribute="state",
    send_event=True,
)
MACHINE.add_transition(UNDERSTAND, RECEIVED, UNDERSTOOD, conditions=[texts_given], before=[write_texts], after=[stamp])
MACHINE.add_transition(PROPOSE, UNDERSTOOD, PROPOSED, conditions=[texts_given], before=[write_texts], after=[stamp])
MACHINE.add_transition(ACCEPT, PROPOSED, ACCEPTED, conditions=[texts_given], after=[stamp])
MACHINE.add_transition(REJECT, PROPOSED, UNDERSTOOD, after=[stamp])  # with the customer's reason, kept in history
MACHINE.add_transition(CLOSE, ACCEPTED, CLOSED, conditions=[texts_given], before=[write_texts], after=[stamp])

NEEDS_REASON = frozenset({REJECT})


def state_label(key: str, locale: str = "zh") -> str:
    """A state's name in the reader's language."""
    return next((c.label(locale) for c in COMPLAINT_STATES if c.key == key), key)


def available_steps(state: str) -> list[str]:
    """The steps the method allows from a state, in the method's order."""
    allowed = set(MACHINE.get_triggers(state))
    return [s for s in STEPS if s in allowed]


def destination(state: str, step: str) -> str:
    """Where `step` takes a complaint from `state` (the state itself when it does not apply)."""
    transitions = MACHINE.events[step].transitions.get(state, []) if step in MACHINE.events else []
    return transitions[0].dest if transitions else state


def fire(complaint: Handled, step: Step) -> str:
    """Take the step on this complaint or raise why not; return the state it left."""
    if step.name not in STEPS:
        raise InvalidInput({"step": f"unknown step {step.name!r}; one of {', '.join(STEPS)}"})
    if step.name in NEEDS_REASON and not step.reason.strip():
        raise InvalidInput({"reason": "say why the customer rejected the solution"})
    stray = sorted(k for k, v in step.texts.items() if v is not None and k not in WRITES.get(step.name, ()))
    if stray:
        raise InvalidInput({k: f"the {step.name} step does not write {k}" for k in stray})
    source = complaint.state
    if step.name not in available_steps(source):
        raise Conflict(f"cannot {step.name} a complaint in {state_label(source, step.locale)} ({source})")
    if step.at < complaint.received_at:
        raise InvalidInput({"at": "a step cannot come before the complaint was received"})
    try:
        moved = MACHINE.events[step.name].trigger(complaint, step=step)
    except MachineError as exc:  # vetted above; keep the refusal clear anyway
        raise Conflict(str(exc)) from exc
    if not moved:
        dest = state_label(destination(source, step.name), step.locale)
        names = ("、" if step.locale.startswith("zh") else ", ").join(m.label for m in step.missing)
        raise GateRefused(f"cannot {step.name} to {dest}: missing {names}", step.missing)
    return source


# ---- Times -------------------------------------------------------------------------------------------------


def response_seconds(complaint: Handled) -> float | None:
    """How long the customer waited for a first response (the core issue understood)."""
    if complaint.understood_at is None:
        return None
    return (complaint.understood_at - complaint.received_at).total_seconds()


def resolution_seconds(complaint: Handled) -> float | None:
    """How long from receiving the complaint to closing it with an apology."""
    if complaint.closed_at is None:
        return None
    return (complaint.closed_at - complaint.received_at).total_seconds()


def to_mermaid() -> str:
    """The steps as a Mermaid state diagram, drawn from the machine itself."""
    lines = ["stateDiagram-v2", f"    [*] --> {RECEIVED}"]
    for name, ev in MACHINE.events.items():
        for source, transitions in ev.transitions.items():
            lines.extend(f"    {source} --> {t.dest}: {name}" for t in transitions)
    lines.append(f"    {CLOSED} --> [*]")
    return "\n".join(lines)
