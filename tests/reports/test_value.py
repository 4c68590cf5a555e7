"""Value tiers against a hand-computed dataset: deciles of won revenue, growth and decline, the rules as settings."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from pipeline.deals.models import Deal
from pipeline.extensions import db
from pipeline.reports.periods import Period
from pipeline.reports.value import TIER_RULES, decile, months_before, tiers_for, windows
from tests.conftest import counting_statements
from tests.reports.customers import won

ON = date(2026, 6, 30)  # windows: 2025-07-01 … 2026-06-30 and 2024-07-01 … 2025-06-30
NOW, BEFORE = date(2026, 1, 15), date(2025, 1, 15)

# name: (owner, revenue in the window, revenue in the window before), in 万元; the expected tier by the defaults:
# 天王巨星 = top decile (1 of 10 buyers); 后起之秀 = top five deciles and grew ≥ 50% (or new);
# 明日黄花 = fell ≥ 50%.
ACCOUNTS = {
    "A1": ("rep", 100, 80, "superstar"),  # rank 1
    "A2": ("rep", 90, 10, "rising"),  # rank 2, +800%
    "A3": ("rep", 80, 0, "rising"),  # rank 3, new
    "A4": ("rep", 70, 70, "ordinary"),  # rank 4, flat
    "A5": ("rep", 60, 100, "ordinary"),  # rank 5, −40%: not enough to fade
    "A6": ("rep", 50, 20, "ordinary"),  # rank 6, +150% but decile 6
    "A7": ("rep_b", 40, 100, "fading"),  # rank 7, −60%
    "A8": ("rep_b", 30, 30, "ordinary"),  # rank 8 (both on the windows' edges, see below)
    "A9": ("rep_b", 20, 0, "ordinary"),  # rank 9, new but decile 9
    "A10": ("rep_b", 10, 0, "ordinary"),  # rank 10
    "A11": ("rep_b", 0, 50, "fading"),  # bought nothing this window: −100%
    "A12": ("rep_b", 0, 0, "ordinary"),  # only a deal won before both windows, and an open one
}


@pytest.fixture
def book(people, make_account):
    accounts = {}
    for name, (owner, now, before, _tier) in ACCOUNTS.items():
        account = make_account(getattr(people, owner), name=name)
        accounts[name] = account
        if name == "A8":  # on the edges: the window's first day and the previous window's last
            won(account, "300000", date(2025, 7, 1))
            won(account, "300000", date(2025, 6, 30))
            continue
        if now:
            won(account, f"{now * 10000}", NOW)
        if before:
            won(account, f"{before * 10000}", BEFORE)
    won(accounts["A12"], "5000000", date(2024, 6, 30))
    still_open = Deal(account_id=accounts["A12"].id, owner_id=people.rep_b.id, title="未成交", amount=Decimal(9000000))
    db.session.add(still_open)
    db.session.commit()
    return accounts


def test_windows_and_deciles():
    assert windows(ON, 12) == (Period(date(2025, 7, 1), date(2026, 6, 30)), Period(date(2024, 7, 1), date(2025, 6, 30)))
    assert months_before(date(2024, 2, 29), 12) == date(2023, 2, 28)
    assert months_before(date(2026, 3, 31), 1) == date(2026, 2, 28)
    # the top decile holds ⌈n/10⌉ accounts
    assert [decile(r, 5) for r in range(5)] == [1, 3, 5, 7, 9]
    assert [decile(r, 15) for r in range(3)] == [1, 1, 2]


def test_tiers_by_the_default_rules(people, book):
    with counting_statements() as statements:
        tiers = tiers_for(None, people.admin, ON)
    assert len([s for s in statements if "deals" in s]) == 1  # one query, whatever the number of accounts
    assert tiers == {book[name].id: expected for name, (*_rest, expected) in ACCOUNTS.items()}


def test_a_rep_learns_only_the_tiers_of_their_own_accounts(people, book, make_account):
    big = make_account(people.outsider, name="华南大客户")
    won(big, "10000000", NOW)
    db.session.commit()
    names = {account_id: name for name, account in book.items() for account_id in [account.id]}
    mine = tiers_for(None, people.rep, ON)
    assert {names[i] for i in mine} == {"A1", "A2", "A3", "A4", "A5", "A6"}
    # ranked company-wide: 11 buyers, the top decile now holds two (华南大客户 and A1)
    assert mine[book["A1"].id] == "superstar"
    assert tiers_for([big.id, book["A7"].id], people.rep, ON) == {}
    assert tiers_for([big.id], people.outsider, ON) == {big.id: "superstar"}
    team = tiers_for(None, people.lead, ON)
    assert len(team) == 12 and big.id not in team


def test_changed_rules_change_the_tiers(people, book):
    TIER_RULES.save({"superstar_deciles": 2, "rising_growth_pct": 1000, "fading_drop_pct": 40}, people.admin.id)
    db.session.commit()
    tiers = tiers_for([book[n].id for n in ("A1", "A2", "A3", "A5", "A7")], people.admin, ON)
    assert tiers == {
        book["A1"].id: "superstar",
        book["A2"].id: "superstar",  # decile 2 is now a superstar decile
        book["A3"].id: "rising",  # new: growth has no bound
        book["A5"].id: "fading",  # −40% now fades
        book["A7"].id: "fading",
    }


def test_a_rule_out_of_bounds_is_refused_by_name(people, app):
    with pytest.raises(ValueError, match="fading_drop_pct"):
        TIER_RULES.save({"fading_drop_pct": 0}, people.admin.id)
    with pytest.raises(ValueError, match="window_months"):
        TIER_RULES.save({"window_months": "1.5"}, people.admin.id)
