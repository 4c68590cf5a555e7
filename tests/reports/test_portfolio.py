"""Deciles, tiers and the portfolio view against a hand-computed half year (2026-01-01 … 2026-06-30)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from pipeline.extensions import db
from pipeline.reports.periods import Period
from pipeline.reports.portfolio import PORTFOLIO_RULES, portfolio
from pipeline.reports.scope import ReportScope
from tests.reports.customers import won

H1 = Period(date(2026, 1, 1), date(2026, 6, 30))  # the period before: 2025-07-04 … 2025-12-31 (181 days)
NOW, BEFORE = date(2026, 3, 1), date(2025, 9, 1)

# name: (revenue this half, the half before) in 万元. Four buyers: the average share is 25%.
BOOK = {
    "P1": (60, 40),  # share 60%, +50%: star
    "P2": (20, 40),  # share 20%, −50%: dog
    "P3": (15, 0),  # share 15%, new: question mark
    "P4": (5, 5),  # 5%, flat: dog
    "P5": (0, 30),  # bought only before: dog
}


@pytest.fixture
def book(people, make_account):
    accounts = {name: make_account(people.rep, name=name) for name in BOOK}
    for name, (now, before) in BOOK.items():
        if now:
            won(accounts[name], f"{now * 10000}", NOW)
        if before:
            won(accounts[name], f"{before * 10000}", BEFORE)
    won(accounts["P4"], "10000", date(2025, 7, 3))  # one day before the period before: not counted
    other = make_account(people.outsider, name="华南")
    won(other, "9000000", NOW)
    db.session.commit()
    return accounts


def test_deciles_of_four_buyers(people, book):
    found = portfolio(ReportScope(owner_id=people.rep.id), H1)
    assert found.buyers == 4 and found.revenue == Decimal("1000000.00")
    # ranks 0–3 of 4 fall in deciles 1, 3, 6, 8
    rows = [(r.decile, r.accounts, r.revenue) for r in found.deciles if r.accounts]
    assert rows == [
        (1, 1, Decimal("600000.00")),
        (3, 1, Decimal("200000.00")),
        (6, 1, Decimal("150000.00")),
        (8, 1, Decimal("50000.00")),
    ]
    assert [r.cumulative_share for r in found.deciles][-1] == 1
    assert found.deciles[2].cumulative_share == Decimal("0.8")  # the top two: 80%
    assert len(found.deciles) == 10


def test_quadrants_by_the_default_thresholds(people, book):
    found = portfolio(ReportScope(owner_id=people.rep.id), H1)
    assert found.previous == Period(date(2025, 7, 4), date(2025, 12, 31))
    assert found.share_threshold == Decimal("0.25") and found.growth_threshold == Decimal("0.1")
    placed = {a.name: a.quadrant for a in found.accounts}
    assert placed == {"P1": "star", "P2": "dog", "P3": "question_mark", "P4": "dog", "P5": "dog"}
    assert {q.key: (q.accounts, q.revenue) for q in found.quadrants} == {
        "star": (1, Decimal("600000.00")),
        "cash_cow": (0, Decimal("0.00")),
        "question_mark": (1, Decimal("150000.00")),
        "dog": (3, Decimal("250000.00")),
    }
    p1 = next(a for a in found.accounts if a.name == "P1")
    assert (p1.growth, p1.share, p1.previous) == (Decimal("0.5"), Decimal("0.6"), Decimal("400000.00"))


def test_lower_thresholds_move_accounts(people, book):
    PORTFOLIO_RULES.save({"share_of_average_pct": 50, "growth_pct": -60}, people.admin.id)
    db.session.commit()
    found = portfolio(ReportScope(owner_id=people.rep.id), H1)
    # high share now ≥ 12.5%: P2 (20%, −50% ≥ −60%) is a star, P3 a star, P4 still low
    assert {a.name: a.quadrant for a in found.accounts} == {
        "P1": "star", "P2": "star", "P3": "star", "P4": "question_mark", "P5": "dog",
    }  # fmt: skip


def test_an_admin_sees_the_other_team_and_a_lead_does_not(people, book):
    assert portfolio(ReportScope(), H1).buyers == 5
    assert "华南" not in {a.name for a in portfolio(ReportScope(team_id=people.lead.team_id), H1).accounts}
