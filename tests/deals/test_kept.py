"""The figures a deal keeps for the export (deals/kept.py) always equal a recount from the checklist and activities."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from flask.testing import FlaskCliRunner
from sqlalchemy import func, select, text

from pipeline.activities.models import Activity
from pipeline.activities.services import log_activity, log_for_deal
from pipeline.deals import kept, services
from pipeline.deals.models import ChecklistTemplate, Deal, DealChecklistItem
from pipeline.extensions import db


def recount(deal: Deal) -> tuple[int, int, datetime | None]:
    """Counted from the tables with plain queries: required items of the current stage done and in all, last touch."""
    items = db.session.execute(
        select(DealChecklistItem.done)
        .join(ChecklistTemplate, ChecklistTemplate.key == DealChecklistItem.item_key)
        .where(
            DealChecklistItem.deal_id == deal.id,
            DealChecklistItem.stage == deal.stage,
            ChecklistTemplate.required.is_(True),
        )
    ).all()
    last = db.session.scalar(select(func.max(Activity.occurred_at)).where(Activity.deal_id == deal.id))
    return sum(1 for (done,) in items if done), len(items), last


def kept_figures(deal: Deal) -> tuple[int, int, datetime | None]:
    """What the deal's row holds now, read fresh from the database."""
    db.session.expire(deal)
    return deal.checklist_done, deal.checklist_required, deal.last_activity_at


def test_ticks_and_moves_keep_the_current_stages_counts(people: Any, make_deal: Any, tick_stage: Any) -> None:
    deal = make_deal(people.rep)
    done, required, _ = kept_figures(deal)
    assert (done, required) == recount(deal)[:2] and required > 0 and done == 0
    version = deal.version
    required_keys = [t.key for t in services.checklist_for(deal.stage) if t.required]
    services.set_checklist_item(people.rep, deal, required_keys[0], True)
    db.session.commit()
    assert kept_figures(deal)[:2] == recount(deal)[:2] == (1, required)
    assert deal.version == version + 1  # the tick's own version move, nothing more
    services.set_checklist_item(people.rep, deal, required_keys[0], False)
    db.session.commit()
    assert kept_figures(deal)[:2] == recount(deal)[:2] == (0, required)

    tick_stage(people.rep, deal)
    assert kept_figures(deal)[:2] == recount(deal)[:2] == (required, required)
    services.move(people.rep, deal, "advance")  # into 考察: its own items, none done yet
    db.session.commit()
    moved = kept_figures(deal)[:2]
    assert moved == recount(deal)[:2] and moved[0] == 0 and moved[1] > 0
    services.move(people.lead, deal, "revert", reason="客户预算未定")  # back: the 确认 items, still ticked
    db.session.commit()
    assert kept_figures(deal)[:2] == recount(deal)[:2] == (required, required)
    services.move(people.rep, deal, "lose", lost_reason="price")  # off the board: no stage checklist
    db.session.commit()
    assert kept_figures(deal)[:2] == recount(deal)[:2] == (0, 0)
    services.move(people.lead, deal, "reopen", reason="客户回来了")
    db.session.commit()
    assert kept_figures(deal)[:2] == recount(deal)[:2]


def test_the_newest_activity_is_kept_whatever_order_they_are_logged_in(people: Any, make_deal: Any) -> None:
    deal = make_deal(people.rep)
    other = make_deal(people.rep, "另一个项目")
    assert kept_figures(deal)[2] is None
    now = datetime.now(UTC).replace(microsecond=0)
    log_for_deal(people.rep, deal, "call", "第一次电话", occurred_at=now - timedelta(days=3))
    db.session.commit()
    assert kept_figures(deal)[2] == recount(deal)[2] == now - timedelta(days=3)
    log_for_deal(people.rep, deal, "visit", "上门拜访", occurred_at=now - timedelta(hours=2))
    log_for_deal(people.rep, deal, "note", "补记上周的会", occurred_at=now - timedelta(days=7))  # older: no change
    log_activity(people.rep, "call", "只记在客户上", account_id=deal.account_id, occurred_at=now)  # not the deal's
    db.session.commit()
    assert kept_figures(deal)[2] == recount(deal)[2] == now - timedelta(hours=2)
    assert kept_figures(other)[2] is None


def test_recount_all_repairs_every_deal(people: Any, make_deal: Any, tick_stage: Any) -> None:
    """The statements the migration and bench.generate run set each deal from the tables (wrong figures too)."""
    deals = [make_deal(people.rep, f"项目 {i}") for i in range(3)]
    tick_stage(people.rep, deals[0])
    log_for_deal(people.rep, deals[1], "call", "电话", occurred_at=datetime.now(UTC) - timedelta(days=1))
    db.session.commit()
    expected = [recount(d) for d in deals]
    db.session.execute(text("UPDATE deals SET checklist_done = 7, checklist_required = 9, last_activity_at = NULL"))
    kept.recount_all()
    db.session.commit()
    assert [kept_figures(d) for d in deals] == expected


def test_making_an_item_optional_recounts_the_deals(people: Any, make_deal: Any, runner: FlaskCliRunner) -> None:
    deal = make_deal(people.rep)
    required = kept_figures(deal)[1]
    key = next(t.key for t in services.checklist_for(deal.stage) if t.required)
    result = runner.invoke(args=["checklist", "optional", key])
    assert result.exit_code == 0, result.output
    assert kept_figures(deal)[:2] == recount(deal)[:2] == (0, required - 1)


def test_the_migration_fills_the_kept_figures_of_existing_deals(
    people: Any, make_deal: Any, tick_stage: Any, app: Any
) -> None:
    """Migration 0014 on a database with deals: each deal's figures are counted from its items and activities."""
    from flask_migrate import downgrade, upgrade

    ticked, touched, plain = (make_deal(people.rep, f"项目 {i}") for i in range(3))
    tick_stage(people.rep, ticked)
    services.move(people.rep, ticked, "advance")
    first_required = next(t.key for t in services.checklist_for(ticked.stage) if t.required)
    services.set_checklist_item(people.rep, ticked, first_required, True)
    log_for_deal(people.rep, touched, "call", "电话", occurred_at=datetime.now(UTC) - timedelta(days=2))
    db.session.commit()
    expected = [recount(d) for d in (ticked, touched, plain)]
    ids = [d.id for d in (ticked, touched, plain)]
    db.session.remove()
    downgrade(revision="0013")
    upgrade()
    deals = [db.session.get(Deal, i) for i in ids]
    assert [kept_figures(d) for d in deals] == expected == [recount(d) for d in deals]
    assert expected[0][0] >= 1 and expected[1][2] is not None
