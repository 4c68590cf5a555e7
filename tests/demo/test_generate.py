"""The demo generator builds real history: every deal lived through the services and the gates."""

from __future__ import annotations

import itertools
import re
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import select

from pipeline.accounts.models import Account, Contact, Qualification, Tag
from pipeline.activities.models import Activity
from pipeline.auth.models import Role, Team, User
from pipeline.auth.services import check_password, user_for_token
from pipeline.core.changelog import FieldChange
from pipeline.core.markdown import render_markdown
from pipeline.deals.method import ALL_STATES, OPEN_STAGES, PROPOSE, STAGE_KEYS
from pipeline.deals.models import (
    BuyingInfluence,
    ChecklistTemplate,
    Deal,
    DealChecklistItem,
    LostReason,
    StageEvent,
)
from pipeline.demo.generate import DEMO_PASSWORD, DemoResult, DemoScale, generate
from pipeline.extensions import db

SMALL = DemoScale(teams=2, reps=4, accounts=20, deals=60)
ANCHOR = datetime(2026, 6, 1, 16, 0, tzinfo=UTC)


@pytest.fixture
def demo(app: Flask) -> DemoResult:
    result = generate(SMALL, seed=3, anchor=ANCHOR)
    db.session.commit()
    return result


def _events_by_deal() -> dict[int, list[StageEvent]]:
    out: dict[int, list[StageEvent]] = {}
    for e in db.session.scalars(select(StageEvent).order_by(StageEvent.id)):
        out.setdefault(e.deal_id, []).append(e)
    return out


def test_builds_the_requested_people_accounts_and_deals(demo: DemoResult) -> None:
    roles = Counter(db.session.scalars(select(User.role)))
    assert roles == {Role.ADMIN: 1, Role.LEAD: 2, Role.REP: 4}
    teams = db.session.scalars(select(Team)).all()
    assert len(teams) == 2 and all(t.lead is not None and t.lead.role == Role.LEAD for t in teams)
    assert db.session.scalar(select(db.func.count()).select_from(Deal)) == 60
    assert demo.counts["accounts"] == 20 and demo.counts["deals"] == 60
    assert demo.counts["contacts"] >= 20


def test_deals_sit_in_every_stage_and_end_state(demo: DemoResult) -> None:
    stages = set(db.session.scalars(select(Deal.stage)))
    assert stages == set(ALL_STATES)


def test_every_deals_stage_is_its_last_history_rows_destination(demo: DemoResult) -> None:
    events = _events_by_deal()
    for deal in db.session.scalars(select(Deal)):
        history = events[deal.id]
        assert history[0].trigger == "create" and history[0].to_stage == "qualify"
        assert history[-1].to_stage == deal.stage, deal.id
        assert all(a.at < b.at for a, b in itertools.pairwise(history)), deal.id
        assert all(a.to_stage == b.from_stage for a, b in itertools.pairwise(history)), deal.id


def test_lost_deals_have_a_reason_from_the_list_and_were_lost_from_various_stages(demo: DemoResult) -> None:
    reasons = set(db.session.scalars(select(LostReason.key)))
    lost = db.session.scalars(select(Deal).where(Deal.stage == "lost")).all()
    assert lost
    assert all(d.lost_reason_key in reasons and d.lost_on is not None for d in lost)
    assert len({d.lost_from_stage for d in lost}) >= 2
    assert {d.lost_from_stage for d in lost} <= set(OPEN_STAGES)
    lose_events = db.session.scalars(select(StageEvent).where(StageEvent.trigger == "lose")).all()
    assert all(e.lost_reason_key in reasons for e in lose_events)


def test_history_spans_months_and_ends_in_the_past(demo: DemoResult) -> None:
    moments = list(db.session.scalars(select(StageEvent.at)))
    assert max(moments) - min(moments) > timedelta(days=90)
    assert max(moments) < ANCHOR
    created = list(db.session.scalars(select(Deal.created_at)))
    assert max(created) - min(created) > timedelta(days=60)


def test_detours_are_real_reverts_overrides_and_reopenings_with_reasons(demo: DemoResult) -> None:
    events = db.session.scalars(select(StageEvent)).all()
    reverts = [e for e in events if e.trigger == "revert"]
    overrides = [e for e in events if e.override]
    reopens = [e for e in events if e.trigger == "reopen"]
    assert reverts and overrides and reopens
    assert all(e.reason.strip() for e in reverts + overrides + reopens)
    assert all(e.overridden for e in overrides)
    leads = {u.id for u in db.session.scalars(select(User).where(User.role == Role.LEAD))}
    assert all(e.user_id in leads for e in overrides + reopens)


def test_gates_were_honoured_without_an_override(demo: DemoResult) -> None:
    """Every plain advance left a stage whose required work was ticked before the move."""
    required = {t.key: t.stage for t in db.session.scalars(select(ChecklistTemplate)) if t.required}
    done_at = {
        (i.deal_id, i.item_key): i.done_at
        for i in db.session.scalars(select(DealChecklistItem).where(DealChecklistItem.done.is_(True)))
    }
    moves = db.session.scalars(
        select(StageEvent).where(StageEvent.trigger.in_(("advance", "complete")), StageEvent.override.is_(False))
    ).all()
    assert moves
    for e in moves:
        for key, stage in required.items():
            if stage == e.from_stage:
                ticked = done_at.get((e.deal_id, key))
                assert ticked is not None and ticked <= e.at, (e.deal_id, key)
    past_propose = db.session.scalars(select(Deal).where(Deal.stage.in_((*STAGE_KEYS[2:], "done")))).all()
    assert past_propose
    assert all(d.amount > 0 and d.expected_close_date and d.strategy for d in past_propose)
    entered_propose = db.session.scalars(select(StageEvent).where(StageEvent.to_stage == PROPOSE)).all()
    assert all(e.amount >= 50_000 for e in entered_propose)


def test_open_deals_wait_on_next_steps_some_overdue(demo: DemoResult) -> None:
    open_deals = db.session.scalars(select(Deal).where(Deal.stage.in_(OPEN_STAGES))).all()
    assert all(d.next_step and d.next_step_due for d in open_deals)
    today = ANCHOR.date()
    assert any(d.next_step_due < today for d in open_deals)
    assert any(d.next_step_due >= today for d in open_deals)


def test_activities_are_logged_on_deals_and_accounts(demo: DemoResult) -> None:
    activities = db.session.scalars(select(Activity)).all()
    assert {a.kind for a in activities} == {"call", "visit", "email", "meeting", "note"}
    assert any(a.deal_id is None and a.account_id for a in activities)
    assert any(a.deal_id for a in activities)
    assert all(a.occurred_at < ANCHOR and a.created_at == a.occurred_at for a in activities)


def test_the_printed_sign_ins_and_token_work(demo: DemoResult) -> None:
    for user, role in ((demo.rep, Role.REP), (demo.lead, Role.LEAD), (demo.admin, Role.ADMIN)):
        assert user.role == role
        assert check_password(user, DEMO_PASSWORD)
    assert demo.lead.team_id == demo.rep.team_id
    assert user_for_token(demo.rep_token) == demo.rep
    assert len(DEMO_PASSWORD) >= 8


def test_deals_name_their_people_before_propose(demo: DemoResult) -> None:
    """Every plain advance into 报价 found an economic buyer and a coach already named, at the deal's account."""
    named: dict[int, dict[str, datetime]] = {}
    for row in db.session.scalars(select(BuyingInfluence)):
        roles = named.setdefault(row.deal_id, {})
        roles[row.role] = min(roles.get(row.role, row.created_at), row.created_at)
        assert row.contact.account_id == db.session.get(Deal, row.deal_id).account_id
    into_propose = db.session.scalars(
        select(StageEvent).where(StageEvent.to_stage == PROPOSE, StageEvent.trigger == "advance")
    ).all()
    assert into_propose
    for e in into_propose:
        if not e.override:
            roles = named.get(e.deal_id, {})
            assert {"economic_buyer", "coach"} <= set(roles), e.deal_id
            assert roles["economic_buyer"] <= e.at and roles["coach"] <= e.at, e.deal_id
    assert {r for roles in named.values() for r in roles} == {"economic_buyer", "user", "technical", "coach"}
    rows = db.session.scalar(select(db.func.count()).select_from(BuyingInfluence))
    added = select(db.func.count()).select_from(FieldChange).where(FieldChange.field == "influence")
    assert db.session.scalar(added.where(FieldChange.old_value.is_(None))) == rows == demo.counts["buying_influences"]


def test_the_customer_database_is_filled_in(demo: DemoResult) -> None:
    accounts = db.session.scalars(select(Account)).all()
    assert db.session.scalar(select(db.func.count()).select_from(Tag)) >= 5
    assert any(a.tags for a in accounts) and any(c.tags for c in db.session.scalars(select(Contact)))
    assert len({a.relationship_level for a in accounts}) >= 3
    lost = [a for a in accounts if a.churned_on is not None]
    assert lost and all(a.churn_reason_key and a.churn_note for a in lost)
    open_lost = select(Deal).where(Deal.account_id.in_([a.id for a in lost]), Deal.stage.in_(OPEN_STAGES))
    assert db.session.scalars(open_lost).first() is None  # a lost customer has no deal in progress
    assert db.session.scalar(select(db.func.count()).select_from(Qualification)) >= 1
    noted = [a.notes for a in accounts if a.notes]
    assert noted and all(re.search(r"<(strong|em|li|del)>", render_markdown(n)) for n in noted)
    won = db.session.scalars(select(Deal).where(Deal.won_on.is_not(None))).all()
    assert any(d.gross_profit is not None and 0 < d.gross_profit < d.amount for d in won)
    changes = select(FieldChange).where(FieldChange.field == "contact_added")
    assert all(c.at <= ANCHOR for c in db.session.scalars(changes))  # back-dated with the contacts
