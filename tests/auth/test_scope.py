"""Record-level access: a rep sees their own records, a lead their team's, an admin all, nobody else's."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from pipeline.accounts.models import Account
from pipeline.auth.models import User
from pipeline.auth.scope import (
    accounts_visible_to,
    check_may_own,
    deals_visible_to,
    may_own,
    visible_account,
    visible_deal,
)
from pipeline.auth.services import create_user
from pipeline.core.errors import Forbidden, NotFound
from pipeline.deals.models import Deal
from pipeline.extensions import db


@pytest.fixture
def world(people: Any, make_deal: Any) -> dict[str, Deal]:
    """One deal (on its own account) per person, named after its owner."""
    deals = {
        name: make_deal(getattr(people, name), title=f"{name} 的项目")
        for name in ("admin", "lead", "rep", "rep_b", "other_lead", "outsider")
    }
    db.session.commit()
    return deals


def seen_deals(user: User) -> set[str]:
    return set(db.session.scalars(select(Deal.title).where(deals_visible_to(user))))


def seen_account_owners(user: User) -> set[int]:
    return set(db.session.scalars(select(Account.owner_id).where(accounts_visible_to(user))))


def titles(*names: str) -> set[str]:
    return {f"{n} 的项目" for n in names}


def test_a_rep_sees_only_their_own_deals_and_accounts(people: Any, world: dict[str, Deal]) -> None:
    assert seen_deals(people.rep) == titles("rep")
    assert seen_account_owners(people.rep) == {people.rep.id}
    assert seen_deals(people.outsider) == titles("outsider")


def test_a_lead_sees_the_whole_team_and_nothing_else(people: Any, world: dict[str, Deal]) -> None:
    assert seen_deals(people.lead) == titles("lead", "rep", "rep_b")
    assert seen_account_owners(people.lead) == {people.lead.id, people.rep.id, people.rep_b.id}
    assert seen_deals(people.other_lead) == titles("other_lead", "outsider")


def test_an_admin_sees_everything(people: Any, world: dict[str, Deal]) -> None:
    assert seen_deals(people.admin) == titles("admin", "lead", "rep", "rep_b", "other_lead", "outsider")
    assert len(seen_account_owners(people.admin)) == 6


def test_a_lead_without_a_team_sees_only_their_own(people: Any, make_deal: Any, world: dict[str, Deal]) -> None:
    loner = create_user("loner@example.com", "孤独的经理", "lead", password="lonely-pass-1")
    db.session.commit()
    make_deal(loner, title="loner 的项目")
    assert seen_deals(loner) == titles("loner")
    assert seen_account_owners(loner) == {loner.id}


def test_moving_to_another_team_changes_what_a_lead_sees(people: Any, world: dict[str, Deal]) -> None:
    people.rep_b.team_id = people.other_lead.team_id
    db.session.commit()
    assert seen_deals(people.lead) == titles("lead", "rep")
    assert seen_deals(people.other_lead) == titles("other_lead", "outsider", "rep_b")


def test_someone_elses_deal_is_not_found_exactly_like_a_missing_one(people: Any, world: dict[str, Deal]) -> None:
    theirs = world["rep_b"]
    with pytest.raises(NotFound) as hidden:
        visible_deal(people.rep, theirs.id)
    with pytest.raises(NotFound) as missing:
        visible_deal(people.rep, 999_999)
    assert hidden.value.message == f"deal {theirs.id} not found"
    assert missing.value.message == "deal 999999 not found"
    assert hidden.value.status == missing.value.status == 404
    with pytest.raises(NotFound):
        visible_deal(people.other_lead, theirs.id)
    assert visible_deal(people.lead, theirs.id).id == theirs.id
    assert visible_deal(people.admin, theirs.id).id == theirs.id
    assert visible_deal(people.rep_b, theirs.id).id == theirs.id


def test_someone_elses_account_is_not_found(people: Any, world: dict[str, Deal]) -> None:
    account_id = world["outsider"].account_id
    with pytest.raises(NotFound):
        visible_account(people.rep, account_id)
    with pytest.raises(NotFound):
        visible_account(people.lead, account_id)
    assert visible_account(people.other_lead, account_id).id == account_id
    assert visible_account(people.admin, account_id).id == account_id


@pytest.mark.parametrize(
    ("actor", "allowed"),
    [
        ("rep", {"rep"}),
        ("outsider", {"outsider"}),
        ("lead", {"lead", "rep", "rep_b"}),
        ("other_lead", {"other_lead", "outsider"}),
        ("admin", {"admin", "lead", "rep", "rep_b", "other_lead", "outsider"}),
    ],
)
def test_who_may_give_records_to_whom(people: Any, actor: str, allowed: set[str]) -> None:
    names = ("admin", "lead", "rep", "rep_b", "other_lead", "outsider")
    assert {n for n in names if may_own(getattr(people, actor), getattr(people, n))} == allowed


def test_a_lead_without_a_team_may_only_give_records_to_themselves(people: Any) -> None:
    loner = create_user("loner@example.com", "孤独的经理", "lead", password="lonely-pass-1")
    assert may_own(loner, loner)
    assert not may_own(loner, people.rep)


def test_nobody_may_give_a_record_to_a_disabled_user(people: Any) -> None:
    people.rep_b.active = False
    with pytest.raises(Forbidden, match="owner_id"):
        check_may_own(people.admin, people.rep_b)
    with pytest.raises(Forbidden, match="owner_id"):
        check_may_own(people.rep, people.rep_b)
    check_may_own(people.lead, people.rep)
