"""The complaint steps on plain objects: every allowed and refused step, the texts each asks for, the times."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from pipeline.care.complaints import workflow as wf
from pipeline.core.errors import Conflict, GateRefused, InvalidInput

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@dataclass
class Plain:
    state: str = wf.RECEIVED
    core_issue: str = ""
    solution: str = ""
    closing_note: str = ""
    received_at: datetime = T0
    understood_at: datetime | None = None
    proposed_at: datetime | None = None
    accepted_at: datetime | None = None
    closed_at: datetime | None = None


def step(name: str, hours: float, locale: str = "en", reason: str = "", **texts: str) -> wf.Step:
    return wf.Step(name=name, at=T0 + timedelta(hours=hours), texts=texts, reason=reason, locale=locale)


def test_a_complaint_goes_through_every_step_in_the_methods_order_each_timed() -> None:
    c = Plain()
    assert wf.fire(c, step(wf.UNDERSTAND, 2, core_issue="发票抬头错误，财务无法报销")) == wf.RECEIVED
    wf.fire(c, step(wf.PROPOSE, 5, solution="今天重开发票并快递"))
    wf.fire(c, step(wf.ACCEPT, 6))
    wf.fire(c, step(wf.CLOSE, 30, closing_note="当面致歉，约定以后开票前先确认抬头"))
    assert c.state == wf.CLOSED
    assert (c.core_issue, c.solution) == ("发票抬头错误，财务无法报销", "今天重开发票并快递")
    assert c.closing_note == "当面致歉，约定以后开票前先确认抬头"
    assert c.understood_at == T0 + timedelta(hours=2)
    assert c.proposed_at == T0 + timedelta(hours=5)
    assert c.accepted_at == T0 + timedelta(hours=6)
    assert c.closed_at == T0 + timedelta(hours=30)
    assert wf.response_seconds(c) == 2 * 3600
    assert wf.resolution_seconds(c) == 30 * 3600


def test_times_are_unknown_until_the_step_that_ends_them() -> None:
    c = Plain()
    assert wf.response_seconds(c) is None and wf.resolution_seconds(c) is None
    wf.fire(c, step(wf.UNDERSTAND, 0.5, core_issue="x"))
    assert wf.response_seconds(c) == 1800 and wf.resolution_seconds(c) is None


@pytest.mark.parametrize(
    ("state", "allowed"),
    [
        (wf.RECEIVED, [wf.UNDERSTAND]),
        (wf.UNDERSTOOD, [wf.PROPOSE]),
        (wf.PROPOSED, [wf.ACCEPT, wf.REJECT]),
        (wf.ACCEPTED, [wf.CLOSE]),
        (wf.CLOSED, []),
    ],
)
def test_each_state_allows_only_the_methods_next_steps(state: str, allowed: list[str]) -> None:
    assert wf.available_steps(state) == allowed
    for name in set(wf.STEPS) - set(allowed):
        c = Plain(state=state, core_issue="a", solution="b", closing_note="c")
        with pytest.raises(Conflict):
            wf.fire(c, step(name, 1, reason="r"))
        assert c.state == state


@pytest.mark.parametrize(
    ("state", "name", "missing"),
    [
        (wf.RECEIVED, wf.UNDERSTAND, ["core_issue"]),
        (wf.UNDERSTOOD, wf.PROPOSE, ["solution"]),
        (wf.ACCEPTED, wf.CLOSE, ["closing_note"]),
    ],
)
def test_a_step_without_its_text_is_refused_naming_it(state: str, name: str, missing: list[str]) -> None:
    c = Plain(
        state=state, core_issue="" if state == wf.RECEIVED else "核心", solution="方案" if state == wf.ACCEPTED else ""
    )
    with pytest.raises(GateRefused) as refused:
        wf.fire(c, step(name, 1, **{missing[0]: "   "}))
    assert [m.key for m in refused.value.missing] == missing
    assert c.state == state


def test_a_refusal_lists_everything_missing_in_the_readers_language() -> None:
    c = Plain(state=wf.UNDERSTOOD)  # no core issue on record (made by hand), no solution given
    with pytest.raises(GateRefused) as refused:
        wf.fire(c, step(wf.PROPOSE, 1, locale="zh"))
    assert [m.label for m in refused.value.missing] == ["核心事项", "解决方案"]
    assert "核心事项、解决方案" in refused.value.message
    assert c.proposed_at is None


def test_a_rejected_solution_goes_back_to_the_core_issue_with_a_reason_and_keeps_the_first_response() -> None:
    c = Plain()
    wf.fire(c, step(wf.UNDERSTAND, 1, core_issue="延迟交货"))
    wf.fire(c, step(wf.PROPOSE, 3, solution="补偿 5% 货款"))
    with pytest.raises(InvalidInput) as no_reason:
        wf.fire(c, step(wf.REJECT, 4))
    assert list(no_reason.value.fields) == ["reason"]
    wf.fire(c, step(wf.REJECT, 4, reason="客户要的是按期交货，不是补偿"))
    assert (c.state, c.proposed_at, c.understood_at) == (wf.UNDERSTOOD, None, T0 + timedelta(hours=1))
    wf.fire(c, step(wf.PROPOSE, 8, solution="加急生产，三天内交付"))
    assert (c.state, c.proposed_at, c.solution) == (wf.PROPOSED, T0 + timedelta(hours=8), "加急生产，三天内交付")


def test_an_unknown_step_and_a_step_before_receipt_are_refused() -> None:
    with pytest.raises(InvalidInput) as unknown:
        wf.fire(Plain(), step("escalate", 1))
    assert "step" in unknown.value.fields
    with pytest.raises(InvalidInput) as early:
        wf.fire(Plain(), step(wf.UNDERSTAND, -1, core_issue="x"))
    assert "at" in early.value.fields


def test_one_machine_serves_every_complaint_and_keeps_none() -> None:
    many = [Plain() for _ in range(50)]
    for c in many:
        wf.fire(c, step(wf.UNDERSTAND, 1, core_issue="x"))
    assert all(c.state == wf.UNDERSTOOD for c in many)
    assert wf.MACHINE.models == []
    assert "received --> understood: understand" in wf.to_mermaid()


def test_a_step_writes_only_its_own_words() -> None:
    c = Plain()
    with pytest.raises(InvalidInput) as stray:
        wf.fire(c, step(wf.UNDERSTAND, 1, core_issue="延迟交货", closing_note="已致歉"))
    assert list(stray.value.fields) == ["closing_note"]
    assert (c.state, c.core_issue, c.closing_note) == (wf.RECEIVED, "", "")
