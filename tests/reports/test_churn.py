"""The churn report against a hand-computed half year (2026-01-01 … 2026-06-30): why, which kind, when, flagged."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from pipeline.extensions import db
from pipeline.reports.churn import CHURN_RULES, churn
from pipeline.reports.periods import Period
from pipeline.reports.scope import ReportScope
from tests.reports.customers import won

H1 = Period(date(2026, 1, 1), date(2026, 6, 30))


@pytest.fixture
def base(people, make_account):
    def account(
        name, kind="b2b", region="华东", industry="制造业", level="basic", churned=None, reason=None, owner=None
    ):
        return make_account(
            owner or people.rep,
            name=name,
            kind=kind,
            region=region,
            industry=industry,
            relationship_level=level,
            churned_on=churned,
            churn_reason_key=reason,
        )

    a = {
        "H1": account("H1", churned=date(2026, 2, 15), reason="price"),
        "H2": account(
            "H2", "b2c", industry="个人与家庭", level="reactive", churned=date(2026, 2, 20), reason="service"
        ),
        "H3": account("H3", region="华南", churned=date(2026, 4, 2), reason="competitor"),
        "H4": account("H4", industry="零售", level="partnership", churned=date(2025, 12, 1), reason="price"),
        "H5": account("H5"),
        "H6": account("H6", industry="零售"),
        "H7": account("H7", industry="零售"),
        "X": account("X", churned=date(2026, 3, 1), reason="price", owner=people.outsider),
    }
    won(a["H1"], "80000", date(2023, 3, 1))  # 1,082 days before it left
    won(a["H2"], "100000", date(2025, 10, 1))  # 142 days
    won(a["H5"], "70000", date(2025, 6, 29))  # 366 days silent on 30 June: flagged
    won(a["H5"], "30000", date(2024, 1, 2))
    won(a["H6"], "50000", date(2025, 7, 1))  # 364 days: not yet
    db.session.commit()
    return a


def test_why_which_kind_and_when(people, base):
    found = churn(ReportScope(owner_id=people.rep.id), H1)
    assert found.churned == 3  # H1, H2, H3; H4 left before the period, X belongs to another team
    assert dict(found.reasons) == {
        "price": 1, "service": 1, "quality": 0, "competitor": 1, "no_need": 0, "closed": 0, "other": 0,
    }  # fmt: skip
    # the base: accounts still there when the period began (H1–H3, H5–H7)
    assert [(r.key, r.accounts, r.churned) for r in found.by["kind"]] == [("b2b", 5, 2), ("b2c", 1, 1)]
    assert [(r.key, r.accounts, r.churned) for r in found.by["region"]] == [("华东", 5, 2), ("华南", 1, 1)]
    assert [(r.key, r.accounts, r.churned) for r in found.by["industry"]] == [
        ("制造业", 3, 2),
        ("个人与家庭", 1, 1),
        ("零售", 2, 0),
    ]
    assert found.by["kind"][0].rate == Decimal("0.4")
    levels = {r.key: (r.accounts, r.churned) for r in found.by["relationship_level"]}
    assert levels["basic"] == (5, 2) and levels["reactive"] == (1, 1) and levels["partnership"] == (0, 0)
    # tiers on 30 June: H2 the top buyer of the last 12 months, H5 bought only in the 12 before (fading)
    tiers = {r.key: (r.accounts, r.churned) for r in found.by["tier"]}
    assert tiers == {"superstar": (1, 1), "rising": (0, 0), "fading": (1, 0), "ordinary": (4, 2)}
    assert found.months == [
        ("2026-01", 0), ("2026-02", 2), ("2026-03", 0), ("2026-04", 1), ("2026-05", 0), ("2026-06", 0),
    ]  # fmt: skip
    assert dict(found.tenure) == {"under_1y": 1, "1_2y": 0, "2_3y": 1, "over_3y": 0, "no_purchase": 1}
    assert found.average_tenure_days == (1082 + 142) / 2


def test_flagged_accounts_are_listed_apart(people, base):
    found = churn(ReportScope(owner_id=people.rep.id), H1)
    assert found.flagged_count == 1
    (h5,) = found.flagged
    assert (h5.name, h5.last_won_on, h5.days_silent, h5.lifetime_revenue) == (
        "H5",
        date(2025, 6, 29),
        366,
        Decimal("100000.00"),
    )
    CHURN_RULES.save({"flag_after_days": 300}, people.admin.id)
    db.session.commit()
    again = churn(ReportScope(owner_id=people.rep.id), H1)
    assert [f.name for f in again.flagged] == ["H5", "H6"]


def test_scope(people, base):
    assert churn(ReportScope(team_id=people.lead.team_id), H1).churned == 3
    assert churn(ReportScope(), H1).churned == 4
    assert churn(ReportScope(owner_id=people.outsider.id), H1).churned == 1
