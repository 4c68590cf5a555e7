"""`pipeline workflow`, `pipeline checklist …` and `pipeline lost-reasons …`."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask.testing import FlaskCliRunner
from sqlalchemy import select

from pipeline.core.errors import GateRefused
from pipeline.deals import services
from pipeline.deals.method import ALL_STATES
from pipeline.deals.models import ChecklistTemplate, Deal, LostReason
from pipeline.deals.workflow import TRIGGERS
from pipeline.extensions import db
from tests.conftest import People, refused


def test_workflow_prints_a_mermaid_diagram_of_every_state_and_move(runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["workflow"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("stateDiagram-v2")
    assert all(state in result.stdout for state in ALL_STATES)
    assert all(f": {trigger}" in result.stdout for trigger in TRIGGERS)


def test_checklist_list_shows_every_item_with_labels_and_whether_it_is_required(runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["checklist", "list"])
    assert result.exit_code == 0, result.output
    templates = db.session.scalars(select(ChecklistTemplate)).all()
    lines = result.stdout.splitlines()
    assert len(lines) == 1 + len(templates)
    for t in templates:
        line = next(line for line in lines if f" {t.key} " in line)
        assert t.stage in line and t.label_zh in line and t.label_en in line
        assert ("required" if t.required else "optional") in line


def test_checklist_list_by_stage_and_a_wrong_stage(runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["checklist", "list", "--stage", "propose"])
    assert result.exit_code == 0, result.output
    rows = result.stdout.splitlines()[1:]
    assert rows and all(row.startswith("propose") for row in rows)
    assert any("submit_proposal" in row for row in rows)
    wrong = runner.invoke(args=["checklist", "list", "--stage", "negotiate"])
    assert wrong.exit_code == 2 and "--stage" in wrong.stderr and "Traceback" not in wrong.output


def test_making_an_item_optional_lets_deals_leave_the_stage_without_it(
    runner: FlaskCliRunner, people: People, make_deal: Callable[..., Deal]
) -> None:
    deal = make_deal(people.rep)
    for key in ("research_customer", "key_business_plan"):
        services.set_checklist_item(people.rep, deal, key, True)
    db.session.commit()
    result = runner.invoke(args=["checklist", "optional", "assess_opportunity"])
    assert result.exit_code == 0, result.output
    assert db.session.get(ChecklistTemplate, "assess_opportunity").required is False
    services.move(people.rep, deal, "advance")
    db.session.commit()
    assert deal.stage == "evaluate"


def test_making_an_item_required_holds_deals_back_until_it_is_done(
    runner: FlaskCliRunner, people: People, make_deal: Callable[..., Deal]
) -> None:
    result = runner.invoke(args=["checklist", "require", "build_relationship"])
    assert result.exit_code == 0, result.output
    assert "now required" in result.stdout
    deal = make_deal(people.rep)
    for key in ("research_customer", "key_business_plan", "assess_opportunity"):
        services.set_checklist_item(people.rep, deal, key, True)
    db.session.commit()
    with pytest.raises(GateRefused) as refusal:
        services.move(people.rep, deal, "advance")
    assert [m.key for m in refusal.value.missing] == ["build_relationship"]
    db.session.rollback()
    again = runner.invoke(args=["checklist", "require", "build_relationship"])
    assert again.exit_code == 0 and "already required" in again.stdout


def test_checklist_refuses_an_unknown_key(runner: FlaskCliRunner) -> None:
    refused(runner.invoke(args=["checklist", "require", "bribe_buyer"]), "bribe_buyer")
    refused(runner.invoke(args=["checklist", "optional", "bribe_buyer"]), "bribe_buyer")
    missing = runner.invoke(args=["checklist", "require"])
    assert missing.exit_code == 2 and "KEY" in missing.stderr


def test_lost_reasons_list_shows_the_configured_reasons(runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["lost-reasons", "list"])
    assert result.exit_code == 0, result.output
    reasons = db.session.scalars(select(LostReason)).all()
    assert reasons
    for r in reasons:
        assert any(line.startswith(r.key + " ") and r.label_zh in line for line in result.stdout.splitlines())


def test_lost_reasons_add_makes_a_reason_deals_can_be_lost_for(
    runner: FlaskCliRunner, people: People, make_deal: Callable[..., Deal]
) -> None:
    result = runner.invoke(args=["lost-reasons", "add", "merger", "--zh", "客户被收购", "--en", "Customer acquired"])
    assert result.exit_code == 0, result.output
    listed = runner.invoke(args=["lost-reasons", "list"]).stdout.splitlines()
    assert listed[-1].startswith("merger") and "客户被收购" in listed[-1]
    deal = make_deal(people.rep)
    services.move(people.rep, deal, "lose", lost_reason="merger")
    db.session.commit()
    assert deal.stage == "lost" and deal.lost_reason_key == "merger"


def test_lost_reasons_add_refuses_duplicates_bad_keys_and_blank_labels(runner: FlaskCliRunner) -> None:
    before = db.session.scalars(select(LostReason.key)).all()
    refused(runner.invoke(args=["lost-reasons", "add", "price", "--zh", "价格", "--en", "Price"]), "key:", "exists")
    refused(runner.invoke(args=["lost-reasons", "add", "Bad Key", "--zh", " ", "--en", "x"]), "key:", "zh:")
    usage = runner.invoke(args=["lost-reasons", "add", "merger", "--en", "Customer acquired"])
    assert usage.exit_code == 2 and "--zh" in usage.stderr
    db.session.expire_all()
    assert db.session.scalars(select(LostReason.key)).all() == before
