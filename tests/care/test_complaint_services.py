"""Receiving complaints and taking their steps through the service: links, times, history, versions, owners."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import select

from pipeline.accounts.models import Account, Contact
from pipeline.auth.scope import visible_complaint
from pipeline.care.complaints import services as services
from pipeline.care.complaints import workflow as wf
from pipeline.care.models import Complaint
from pipeline.core.audit import AuditEvent
from pipeline.core.errors import Conflict, Forbidden, GateRefused, InvalidInput, NotFound
from pipeline.core.models import utcnow
from pipeline.deals.models import Deal
from pipeline.extensions import db
from tests.care.conftest import T0
from tests.conftest import People


def test_a_complaint_belongs_to_the_accounts_owner_unless_someone_else_is_chosen(
    people: People, make_account: Callable[..., Account], make_complaint: Callable[..., Complaint]
) -> None:
    account = make_account(people.rep)
    by_lead = make_complaint(people.lead, account=account)
    assert (by_lead.owner_id, by_lead.state, by_lead.received_at) == (people.rep.id, wf.RECEIVED, T0)
    given = make_complaint(people.lead, account=account, owner_id=people.rep_b.id)
    assert given.owner_id == people.rep_b.id
    with pytest.raises(Forbidden):
        make_complaint(people.lead, account=account, owner_id=people.outsider.id)


def test_the_deal_and_contact_must_be_the_accounts_and_every_wrong_field_is_named(
    people: People,
    make_account: Callable[..., Account],
    make_deal: Callable[..., Deal],
) -> None:
    mine, other = make_account(people.rep), make_account(people.rep, "北京远航物流有限公司")
    elsewhere = make_deal(people.rep, account=other)
    stranger = Contact(account_id=other.id, name="刘洋")
    db.session.add(stranger)
    db.session.flush()
    with pytest.raises(InvalidInput) as refused:
        services.receive(
            people.rep,
            mine,
            " ",
            severity="urgent",
            deal_id=elsewhere.id,
            contact_id=stranger.id,
            received_at=utcnow() + timedelta(days=1),
        )
    assert sorted(refused.value.fields) == ["contact_id", "deal_id", "received_at", "severity", "title"]


def test_each_step_is_timed_and_logged_and_the_times_follow(
    people: People, make_complaint: Callable[..., Complaint]
) -> None:
    complaint = make_complaint(people.rep, steps={"understand": 1.5, "propose": 4, "accept": 6, "close": 50})
    assert complaint.understood_at == T0 + timedelta(hours=1.5)
    assert complaint.closed_at == T0 + timedelta(hours=50)
    assert wf.response_seconds(complaint) == 1.5 * 3600
    assert wf.resolution_seconds(complaint) == 50 * 3600
    states = [(c.old_value, c.new_value) for c in services.history(complaint) if c.field == "state"]
    assert states == [
        (None, "received"),
        ("received", "understood"),
        ("understood", "proposed"),
        ("proposed", "accepted"),
        ("accepted", "closed"),
    ]
    texts = {c.field: c.new_value for c in services.history(complaint) if c.field != "state"}
    assert texts["core_issue"] == "发票抬头开错，财务无法报销"
    assert texts["closing_note"].startswith("电话致歉")
    actions = db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions == ["complaint.receive"] + ["complaint.step"] * 4


def test_a_rejection_keeps_the_rejected_solution_and_the_reason(
    people: People, make_complaint: Callable[..., Complaint]
) -> None:
    complaint = make_complaint(people.rep, steps={"understand": 1, "propose": 2})
    services.take_step(people.rep, complaint, wf.REJECT, reason="客户要求退款而不是重开", at=T0 + timedelta(hours=3))
    assert complaint.state == wf.UNDERSTOOD and complaint.proposed_at is None
    rejection = [c for c in services.history(complaint) if c.field == services.REJECTION]
    assert [(c.old_value, c.new_value) for c in rejection] == [("当天重开发票并顺丰寄出", "客户要求退款而不是重开")]


def test_a_refused_step_names_every_missing_text_and_changes_nothing(
    people: People, make_complaint: Callable[..., Complaint]
) -> None:
    complaint = make_complaint(people.rep, steps={"understand": 1})
    complaint.core_issue = ""  # as if it had been lost: the refusal lists both texts
    with pytest.raises(GateRefused) as refused:
        services.take_step(people.rep, complaint, wf.PROPOSE, texts={"solution": " "})
    assert [m.key for m in refused.value.missing] == ["core_issue", "solution"]


def test_a_stale_version_is_refused(people: People, make_complaint: Callable[..., Complaint]) -> None:
    complaint = make_complaint(people.rep)
    seen = complaint.version
    services.take_step(people.rep, complaint, wf.UNDERSTAND, texts={"core_issue": "交货延迟"})
    db.session.commit()
    with pytest.raises(Conflict) as stale:
        services.take_step(people.rep, complaint, wf.PROPOSE, texts={"solution": "加急"}, expected_version=seen)
    assert stale.value.message.startswith(services.STALE)


def test_only_leads_and_admins_give_complaints_away_within_their_reach(
    people: People, make_complaint: Callable[..., Complaint]
) -> None:
    complaint = make_complaint(people.rep)
    with pytest.raises(Forbidden):
        services.reassign(people.rep, complaint, people.rep_b.id)
    assert services.reassign(people.lead, complaint, people.rep_b.id)
    assert complaint.owner_id == people.rep_b.id
    with pytest.raises(Forbidden):
        services.reassign(people.lead, complaint, people.outsider.id)
    assert [(c.field, c.old_value, c.new_value) for c in services.history(complaint)][-1] == (
        "owner_id",
        str(people.rep.id),
        str(people.rep_b.id),
    )


def test_a_rep_sees_their_own_and_their_accounts_complaints_a_lead_the_teams(
    people: People, make_account: Callable[..., Account], make_complaint: Callable[..., Complaint]
) -> None:
    own = make_complaint(people.rep)
    handed = make_complaint(people.lead, account=make_account(people.rep), owner_id=people.rep_b.id)
    far = make_complaint(people.outsider)
    visible = {c.id for c in db.session.scalars(services.complaints_query(people.rep)).unique()}
    assert visible == {own.id, handed.id}  # handed to a teammate, but on the rep's account
    assert visible_complaint(people.rep_b, handed.id) is handed
    with pytest.raises(NotFound):
        visible_complaint(people.rep_b, own.id)
    with pytest.raises(NotFound):
        visible_complaint(people.lead, far.id)
    assert {c.id for c in db.session.scalars(services.complaints_query(people.lead)).unique()} == {own.id, handed.id}


def test_open_complaints_come_first_then_the_longest_waiting(
    people: People, make_complaint: Callable[..., Complaint]
) -> None:
    closed = make_complaint(
        people.rep, received=T0 - timedelta(days=9), steps=dict.fromkeys(wf.STEPS[:3], 1) | {"close": 2}
    )
    old = make_complaint(people.rep, received=T0 - timedelta(days=5))
    new = make_complaint(people.rep, received=T0, steps={"understand": 1})
    assert [c.id for c in db.session.scalars(services.complaints_query(people.rep)).unique()] == [
        old.id,
        new.id,
        closed.id,
    ]
