"""The 80/20 and the big-customer self-check against a hand-computed quarter (2026-01-01 … 2026-03-31)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from pipeline.accounts.models import Contact
from pipeline.extensions import db
from pipeline.reports.concentration import COST_RULES, SELF_CHECK_RULES, concentration, self_check
from pipeline.reports.periods import Period
from pipeline.reports.scope import ReportScope
from tests.reports.customers import complain, touch, won

Q1 = Period(date(2026, 1, 1), date(2026, 3, 31))
JAN, FEB, MAR = date(2026, 1, 10), date(2026, 2, 10), date(2026, 3, 10)


@pytest.fixture
def quarter(people, make_account):
    """By the default model (¥300 a touch, ¥2,000 a complaint, 30% margin where no gross profit is entered):

    K1 ¥500,000 (¥120,000 entered on 300,000; 200,000 without) · 2 touches → net 180,000 − 600
    K2 ¥200,000 (gross profit 50,000) · 10 touches (one on a deal, one on a contact) → net 47,000
    K3 ¥50,000 (none entered: 15,000) · 20 touches, 5 complaints → cost 16,000, net −1,000: costly
    K4 bought last June, nothing this quarter · 3 touches → net −900: costly
    K10 a prospect (never bought) · 9 touches: not a customer, left out of both analyses
    K5 ¥100,000 (10,000) · 1 touch (and one in April, outside) → net 9,700: break even
    K6 (rep_b) ¥100,000 (30,000 assumed) · 1 complaint → net 28,000: break even
    K7 ¥30,000 (3,000) · 2 complaints → net −1,000: costly
    K8 (华南, another team) ¥1,000,000 · K9 marked lost in October, nothing this quarter
    """
    a = {n: make_account(people.rep, name=n) for n in ("K1", "K2", "K3", "K4", "K5", "K7", "K9", "K10")}
    a["K6"] = make_account(people.rep_b, name="K6")
    a["K8"] = make_account(people.outsider, name="K8")
    won(a["K1"], "300000", JAN, gross_profit=Decimal("120000"))
    won(a["K1"], "200000", MAR)
    won(a["K1"], "150000", date(2025, 12, 31))  # the day before the quarter
    k2 = won(a["K2"], "200000", FEB, gross_profit=Decimal("50000"))
    won(a["K3"], "50000", FEB)
    won(a["K4"], "20000", date(2025, 6, 1))
    won(a["K5"], "100000", MAR, gross_profit=Decimal("10000"))
    won(a["K6"], "100000", MAR)
    won(a["K7"], "30000", JAN, gross_profit=Decimal("3000"))
    won(a["K8"], "1000000", FEB)
    contact = Contact(account_id=a["K2"].id, name="周建国")
    db.session.add(contact)
    db.session.flush()
    touch(a["K1"], JAN, 2)
    touch(a["K2"], FEB, 8)
    touch(a["K2"], FEB, deal=k2)
    touch(a["K2"], MAR, contact=contact)
    touch(a["K3"], MAR, 20)
    complain(a["K3"], MAR, 5)
    touch(a["K4"], JAN, 3)
    touch(a["K10"], FEB, 9)
    touch(a["K5"], FEB)
    touch(a["K5"], date(2026, 4, 1))
    complain(a["K6"], FEB)
    complain(a["K7"], JAN, 2)
    a["K9"].churned_on, a["K9"].churn_reason_key = date(2025, 10, 1), "price"
    db.session.commit()
    return a


def groups_of(found):
    return {g.key: (g.accounts, g.revenue, g.net) for g in found.groups}


def test_the_team_quarter_by_hand(people, quarter):
    found = concentration(ReportScope(team_id=people.lead.team_id), Q1)
    assert found.accounts == 7 and found.revenue == Decimal("980000.00")
    # top 20% of 7 active accounts = ⌈1.4⌉ = 2: K1 and K2
    assert groups_of(found) == {
        "top": (2, Decimal("700000.00"), Decimal("179400.00") + Decimal("47000.00")),
        "costly": (3, Decimal("80000.00"), Decimal("-2900.00")),
        "break_even": (2, Decimal("200000.00"), Decimal("9700.00") + Decimal("28000.00")),
    }
    assert round(found.top_revenue_share, 4) == Decimal("0.7143")  # 700,000 / 980,000
    assert round(found.top_profit_share, 4) == Decimal("0.9290")  # 170,000 / 183,000 entered
    assert [(c.name, c.figures.net) for c in found.costly] == [
        ("K3", Decimal("-1000.00")),
        ("K7", Decimal("-1000.00")),
        ("K4", Decimal("-900.00")),
    ]
    k3 = found.costly[0].figures
    assert (k3.activities, k3.complaints, k3.cost, k3.contribution) == (20, 5, Decimal("16000"), Decimal("15000.00"))


def test_a_rep_counts_only_their_own_accounts_and_an_admin_every_team(people, quarter):
    mine = concentration(ReportScope(owner_id=people.rep.id), Q1)
    assert mine.accounts == 6 and mine.revenue == Decimal("880000.00")
    assert round(mine.top_revenue_share, 4) == Decimal("0.7955")  # 700,000 / 880,000
    everyone = concentration(ReportScope(), Q1)
    assert everyone.accounts == 8 and groups_of(everyone)["top"][1] == Decimal("1500000.00")  # K8 and K1


def test_cheaper_touches_change_who_costs_more_than_they_bring(people, quarter):
    COST_RULES.save({"cost_per_activity": 0}, people.admin.id)
    db.session.commit()
    found = concentration(ReportScope(team_id=people.lead.team_id), Q1)
    assert [c.name for c in found.costly] == ["K7"]  # K3 now nets +5,000, K4 zero


def test_the_big_customer_self_check_per_rep(people, quarter):
    checks, rules = self_check(ReportScope(team_id=people.lead.team_id), Q1)
    assert rules == {"min_activities": 4, "days": 90}
    assert len(checks) == 2  # the two reps of the team who own accounts
    by_id = {c.rep_id: c for c in checks}
    wang = by_id[people.rep.id]
    # customers: K1–K5, K7 (K9 was marked lost before the quarter); often (≥ 4 touches since 1 Jan): K2, K3
    assert (wang.customers, wang.contacted_often) == (6, 2)
    assert round(wang.share_of_customers, 4) == Decimal("0.3333")
    assert (wang.revenue, wang.revenue_from_often) == (Decimal("880000.00"), Decimal("250000.00"))
    assert round(wang.share_of_sales, 4) == Decimal("0.2841")
    zhang = by_id[people.rep_b.id]
    assert (zhang.customers, zhang.contacted_often, zhang.share_of_sales) == (1, 0, Decimal(0))
    SELF_CHECK_RULES.save({"min_activities": 2}, people.admin.id)
    again = {c.rep_id: c for c in self_check(ReportScope(team_id=people.lead.team_id), Q1)[0]}
    assert again[people.rep.id].contacted_often == 4  # K1 (2 touches) and K4 (3) join
