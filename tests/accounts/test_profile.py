"""What the account's record says about it: purchase frequency (seed 003) and the advised relationship level."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from flask.testing import FlaskClient

from pipeline.accounts.models import Account
from pipeline.accounts.profile import advise, frequency_of
from pipeline.auth.models import User
from pipeline.core.changelog import FieldChange
from pipeline.core.pages import today
from pipeline.deals import services as deal_services
from pipeline.deals.models import Deal
from pipeline.extensions import db
from tests.accounts.test_views import row_of, section
from tests.conftest import People, counting_statements

Browser = Callable[[User], FlaskClient]


@pytest.fixture
def won(make_deal: Any) -> Callable[..., Deal]:
    """A deal won on a given day (stage 跟进), with its amount and, when known, its gross profit."""

    def make(owner: User, account: Account, on: date, amount: str = "100000", profit: str | None = None) -> Deal:
        deal = make_deal(owner, f"成交{on}", account=account, amount=Decimal(amount))
        deal.stage, deal.won_on = "follow_up", on
        deal.gross_profit = Decimal(profit) if profit is not None else None
        db.session.commit()
        return deal

    return make


def listed(html: str) -> list[str]:
    return re.findall(r'<td><a href="/accounts/\d+">(.*?)</a>', html)


@pytest.mark.parametrize(
    ("days_ago", "expected"),
    [
        ([], "none"),
        ([10], "one_time"),
        ([10, 400], "one_time"),  # a purchase more than twelve months ago does not count
        ([10, 200], "occasional"),
        ([1, 100, 300], "occasional"),
        ([0, 90, 180, 364], "regular"),
        ([0, 90, 180, 365], "occasional"),  # exactly a year ago is outside the window
    ],
)
def test_purchase_frequency_counts_won_deals_in_the_last_twelve_months(
    people: People, make_account: Any, won: Any, days_ago: list[int], expected: str
) -> None:
    account = make_account(people.rep)
    on = today()
    for days in days_ago:
        won(people.rep, account, on - timedelta(days=days))
    assert frequency_of(people.rep, account, on) == (expected, sum(d < 365 for d in days_ago))


def test_the_list_shows_and_filters_the_frequency_and_the_kind_in_flat_queries(
    browser: Browser, people: People, make_account: Any, won: Any
) -> None:
    on = today()
    regular = make_account(people.rep, "常客", kind="b2b")
    occasional = make_account(people.rep, "偶尔", kind="b2c")
    once = make_account(people.rep, "一次", kind="b2b")
    make_account(people.rep, "从没买过", kind="b2c")
    for days in (5, 50, 100, 150):
        won(people.rep, regular, on - timedelta(days=days))
    for days in (5, 200):
        won(people.rep, occasional, on - timedelta(days=days))
    won(people.rep, once, on - timedelta(days=30))
    client = browser(people.rep)
    page = client.get("/accounts").text
    assert [row_of(page, n)[2] for n in ("常客", "偶尔", "一次", "从没买过")] == ["经常性", "间或", "一次性", "—"]
    assert row_of(page, "偶尔")[1] == "个人与家庭客户（B2C）"
    assert listed(client.get("/accounts?frequency=regular").text) == ["常客"]
    assert listed(client.get("/accounts?frequency=occasional").text) == ["偶尔"]
    assert listed(client.get("/accounts?frequency=one_time").text) == ["一次"]
    assert listed(client.get("/accounts?frequency=none").text) == ["从没买过"]
    assert listed(client.get("/accounts?kind=b2c").text) == ["从没买过", "偶尔"]
    assert client.get("/accounts?frequency=sometimes").status_code == 422

    with counting_statements() as few:
        client.get("/accounts")
    for i in range(12):
        account = make_account(people.rep, f"客户{i}")
        for days in range(i % 5):
            won(people.rep, account, on - timedelta(days=days * 20))
    with counting_statements() as many:
        assert len(listed(client.get("/accounts").text)) == 16
    assert len(many) == len(few), many


def test_frequency_counts_only_the_deals_the_reader_may_see(
    browser: Browser, people: People, make_account: Any, won: Any
) -> None:
    account = make_account(people.rep, "共同客户")
    won(people.rep, account, today() - timedelta(days=3))
    theirs = deal_services.create_deal(people.lead, account, "张伟的", owner_id=people.rep_b.id)
    theirs.stage, theirs.won_on = "follow_up", today() - timedelta(days=4)
    db.session.commit()
    assert frequency_of(people.rep, account, today()) == ("one_time", 1)
    assert frequency_of(people.lead, account, today()) == ("occasional", 2)


@pytest.mark.parametrize(
    ("accounts", "margin", "expected", "band"),
    [
        (1, ("100000", "50000"), "partnership", "high"),  # few customers, 50% margin
        (1, ("100000", "20000"), "proactive", "medium"),
        (1, ("100000", "5000"), "accountable", "low"),
        (40, ("100000", "50000"), "proactive", "high"),  # some customers
        (40, ("100000", "5000"), "reactive", "low"),
        (80, ("100000", "50000"), "accountable", "high"),  # many customers
        (80, ("100000", "14999"), "basic", "low"),
        (80, ("100000", "15000"), "reactive", "medium"),
    ],
)
def test_the_advised_level_rises_with_fewer_customers_and_higher_margins(
    people: People, make_account: Any, won: Any, accounts: int, margin: tuple[str, str], expected: str, band: str
) -> None:
    account = make_account(people.rep, "主客户")
    for i in range(accounts - 1):
        make_account(people.rep, f"其他{i}")
    won(people.rep, account, today() - timedelta(days=10), amount=margin[0], profit=margin[1])
    advice = advise(people.rep, account)
    assert (advice.level, advice.customers, advice.margin_band) == (expected, accounts, band)


def test_without_a_margin_the_advice_reads_the_number_of_customers_only(
    people: People, make_account: Any, won: Any
) -> None:
    account = make_account(people.rep, "主客户")
    won(people.rep, account, today() - timedelta(days=10))  # no gross profit entered
    assert (advise(people.rep, account).level, advise(people.rep, account).margin) == ("proactive", None)
    for i in range(80):
        make_account(people.rep, f"其他{i}")
    assert advise(people.rep, account).level == "reactive"
    churned = make_account(people.rep, "流失的", churned_on=today(), churn_reason_key="price")
    assert advise(people.rep, account).customers == 81 and churned.id  # lost customers are not looked after


def test_the_margin_is_profit_over_amount_across_won_deals_with_a_profit(
    people: People, make_account: Any, won: Any
) -> None:
    account = make_account(people.rep)
    won(people.rep, account, today() - timedelta(days=1), amount="300000", profit="30000")
    won(people.rep, account, today() - timedelta(days=2), amount="100000", profit="70000")
    won(people.rep, account, today() - timedelta(days=3), amount="500000")  # no profit: left out
    assert advise(people.rep, account).margin == Decimal("0.25")  # 100,000 / 400,000


def test_the_account_page_shows_the_level_set_the_level_advised_and_the_rules(
    browser: Browser, people: People, make_account: Any, won: Any
) -> None:
    account = make_account(people.rep, "华信科技", relationship_level="reactive")
    won(people.rep, account, today() - timedelta(days=10), amount="100000", profit="40000")
    won(people.rep, account, today() - timedelta(days=100))
    client = browser(people.rep)
    card = section(client.get(f"/accounts/{account.id}").text, "profile")
    assert "反应关系" in card  # set by the rep
    assert re.search(r'class="advised">\s*伙伴关系', card)  # one customer, 40% margin
    assert re.search(r'class="frequency">\s*间或', card)
    assert "40%" in card and "25" in card and "80" in card and "15%" in card and "35%" in card


def test_the_rep_sets_the_level_on_the_form_and_the_change_is_logged(
    browser: Browser, people: People, make_account: Any
) -> None:
    account = make_account(people.rep, "华信科技")
    db.session.commit()
    client = browser(people.rep)
    form = client.get(f"/accounts/{account.id}/edit").text
    assert re.findall(
        r'<option[^>]*value="(\w+)"', re.search(r'<select id="relationship_level".*?</select>', form, re.S)[0]
    ) == [
        "basic",
        "reactive",
        "accountable",
        "proactive",
        "partnership",
    ]
    data = {"name": "华信科技", "kind": "b2b", "owner_id": people.rep.id, "relationship_level": "proactive"}
    assert client.post(f"/accounts/{account.id}/edit", data=data).status_code == 302
    change = db.session.query(FieldChange).filter_by(entity="account", field="relationship_level").one()
    assert (change.old_value, change.new_value, change.user_id) == ("basic", "proactive", people.rep.id)
    history = section(client.get(f"/accounts/{account.id}").text, "history")
    assert "基本关系 → 主动关系" in history and "王芳" in history
    wrong = client.post(f"/accounts/{account.id}/edit", data=data | {"relationship_level": "friends"})
    assert wrong.status_code == 422


def test_the_api_sets_the_level_and_shows_the_advice_and_the_frequency(
    client: FlaskClient, people: People, make_account: Any, won: Any, token_for: Any
) -> None:
    account = make_account(people.rep, "华信科技")
    won(people.rep, account, today() - timedelta(days=10), amount="100000", profit="10000")
    headers = token_for(people.rep)
    url = f"/api/v1/accounts/{account.id}"
    body = client.patch(url, json={"relationship_level": "partnership"}, headers=headers).json
    assert body["relationship_level"] == "partnership"
    assert body["purchase_frequency"] == "one_time" and body["won_last_12_months"] == 1
    assert body["advised_relationship"] == {
        "level": "accountable",
        "customers": 1,
        "customer_load": "few",
        "margin": "0.1000",
        "margin_band": "low",
    }
    refused = client.patch(url, json={"relationship_level": "friends"}, headers=headers)
    assert refused.status_code == 422 and "relationship_level" in refused.json["fields"]
    assert db.session.query(FieldChange).filter_by(field="relationship_level").count() == 1
