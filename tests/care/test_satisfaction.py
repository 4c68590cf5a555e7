"""Satisfaction surveys: validation naming each field, the prompt after a win, and trends against hand sums."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from pipeline.accounts.models import Account
from pipeline.auth.models import User
from pipeline.care.satisfaction import services as satisfaction
from pipeline.core.errors import InvalidInput, NotFound
from pipeline.deals.models import Deal
from pipeline.extensions import db
from pipeline.reports.periods import Period
from pipeline.reports.scope import ReportScope, scope_for
from tests.conftest import People

TODAY = date(2026, 6, 30)
H1 = Period(date(2026, 1, 1), date(2026, 6, 30))


def answer(actor: User, account: Account, day: date, score: int, **rater: Any) -> Any:
    return satisfaction.record_survey(actor, account, answered_on=day, today=TODAY, satisfaction=score, **rater)


def test_each_wrong_score_and_field_is_named(people: People, make_account: Callable[..., Account]) -> None:
    account = make_account(people.rep)
    with pytest.raises(InvalidInput) as refused:
        satisfaction.record_survey(
            people.rep,
            account,
            answered_on=date(2026, 7, 1),
            today=TODAY,
            satisfaction=6,
            reliability=0,
            assurance="4",
            empathy=True,
            occasion="party",
        )
    assert sorted(refused.value.fields) == [
        "answered_on",
        "assurance",
        "empathy",
        "occasion",
        "reliability",
        "satisfaction",
    ]
    with pytest.raises(InvalidInput) as blank:
        satisfaction.record_survey(people.rep, account, answered_on=TODAY, today=TODAY, satisfaction=None)
    assert list(blank.value.fields) == ["satisfaction"]


def test_a_deal_of_another_account_or_out_of_reach_is_refused(
    people: People, make_account: Callable[..., Account], make_deal: Callable[..., Deal]
) -> None:
    mine = make_account(people.rep)
    elsewhere = make_deal(people.rep, account=make_account(people.rep, "另一家公司"))
    with pytest.raises(InvalidInput) as refused:
        answer(people.rep, mine, TODAY, 4, deal_id=elsewhere.id)
    assert list(refused.value.fields) == ["deal_id"]
    with pytest.raises(NotFound):
        answer(people.rep, make_account(people.outsider, "外队客户"), TODAY, 4)


def test_a_won_deal_asks_for_satisfaction_until_it_is_recorded(people: People, make_deal: Callable[..., Deal]) -> None:
    deal = make_deal(people.rep)
    assert not satisfaction.needs_survey(deal)  # not won
    deal.stage, deal.won_on = "follow_up", date(2026, 6, 1)
    db.session.flush()
    assert satisfaction.needs_survey(deal)
    answer(people.rep, deal.account, TODAY, 5, deal_id=deal.id, occasion="follow_up")
    assert satisfaction.needs_survey(deal)  # a follow-up is not the after-purchase survey
    answer(people.rep, deal.account, TODAY, 5, deal_id=deal.id, occasion="won")
    assert not satisfaction.needs_survey(deal)


@pytest.fixture
def answers(people: People, make_account: Callable[..., Account]) -> dict[str, Account]:
    """王芳's account: Jan 4 (R5) and 2 (R3), Feb 5 (R blank), May 3 (R4). 张伟's: Feb 1 (R2). 陈静's: Jan 5."""
    a, b, c = make_account(people.rep), make_account(people.rep_b, "张伟的客户"), make_account(people.outsider, "外队")
    answer(people.rep, a, date(2026, 1, 5), 4, reliability=5, empathy=4)
    answer(people.rep, a, date(2026, 1, 20), 2, reliability=3)
    answer(people.rep, a, date(2026, 2, 10), 5)
    answer(people.rep, a, date(2026, 5, 3), 3, reliability=4, empathy=2)
    answer(people.rep_b, b, date(2026, 2, 14), 1, reliability=2)
    answer(people.outsider, c, date(2026, 1, 9), 5)
    answer(people.rep, a, date(2025, 12, 31), 1)  # before the period
    db.session.commit()
    return {"rep": a, "rep_b": b}


def test_monthly_averages_with_their_counts(people: People, answers: dict[str, Account]) -> None:
    rows = satisfaction.trend(scope_for(people.lead), H1)
    assert [r.label for r in rows] == ["2026-01", "2026-02", "2026-05"]
    jan, feb, may = rows
    assert (jan.surveys, jan.scores["satisfaction"].mean, jan.scores["reliability"].mean) == (
        2,
        Decimal("3.00"),
        Decimal("4.00"),
    )
    assert (jan.scores["empathy"].count, jan.scores["empathy"].mean) == (1, Decimal("4.00"))
    assert (feb.surveys, feb.scores["satisfaction"].mean) == (2, Decimal("3.00"))  # (5 + 1) / 2
    assert (feb.scores["reliability"].count, feb.scores["reliability"].mean) == (1, Decimal("2.00"))
    assert feb.scores["tangibles"].mean is None and may.scores["satisfaction"].mean == Decimal("3.00")


def test_quarters_are_exact_averages_of_their_answers_not_of_the_months(
    people: People, answers: dict[str, Account]
) -> None:
    q1, q2 = satisfaction.trend(scope_for(people.lead), H1, satisfaction.QUARTER)
    assert (q1.label, q1.surveys, q1.scores["satisfaction"].mean) == ("2026-Q1", 4, Decimal("3.00"))  # 12 / 4
    assert (q1.scores["reliability"].count, q1.scores["reliability"].mean) == (3, Decimal("3.33"))  # 10 / 3
    assert (q2.label, q2.surveys) == ("2026-Q2", 1)


def test_per_rep_and_per_account(people: People, answers: dict[str, Account]) -> None:
    reps = satisfaction.by_rep(scope_for(people.lead), H1)
    assert [(r.label, r.surveys, r.scores["satisfaction"].mean) for r in reps] == [
        ("张伟", 1, Decimal("1.00")),
        ("王芳", 4, Decimal("3.50")),
    ]
    mine = satisfaction.trend(ReportScope(owner_id=people.rep.id), H1, account_id=answers["rep"].id)
    assert sum(r.surveys for r in mine) == 4
    assert satisfaction.trend(ReportScope(owner_id=people.rep.id), H1, account_id=answers["rep_b"].id) == []
