"""The 潜力客户工作表: seven yes/no criteria per account, and up to five candidates compared side by side."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient

from pipeline.accounts.models import Account, Qualification
from pipeline.accounts.qualification import MEANINGS, set_qualification
from pipeline.accounts.scales import QUALIFICATION_CRITERIA, QUALIFICATION_KEYS
from pipeline.auth.models import User
from pipeline.core.changelog import FieldChange
from pipeline.extensions import db
from tests.accounts.test_views import section
from tests.conftest import People

Browser = Callable[[User], FlaskClient]


def assess(user: User, account: Account, *met: str) -> None:
    set_qualification(user, account, {k: k in met for k in QUALIFICATION_KEYS})
    db.session.commit()


def columns(html: str) -> list[str]:
    """The compared accounts' names, in column order."""
    head = re.search(r"<thead>(.*?)</thead>", html, re.S)[1]
    return re.findall(r'<a href="/accounts/\d+#qualification">(.*?)</a>', head)


def cells(html: str, criterion_label: str) -> list[str]:
    for row in re.findall(r"<tr>(.*?)</tr>", html, re.S):
        if f'<th scope="row">{criterion_label}' in row:
            return [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
    raise AssertionError(f"no row {criterion_label}")


def test_the_meanings_follow_the_deck() -> None:
    assert [(MEANINGS[c.key][0].label_zh, MEANINGS[c.key][1].label_zh) for c in QUALIFICATION_CRITERIA] == [
        ("好", "差"),
        ("高", "低"),
        ("高", "低"),
        ("多", "少"),
        ("好", "差"),
        ("强", "弱"),
        ("强", "弱"),
    ]


def test_a_rep_fills_in_the_worksheet_on_the_account_page(browser: Browser, people: People, make_account: Any) -> None:
    account = make_account(people.rep, "华信科技")
    db.session.commit()
    client = browser(people.rep)
    card = section(client.get(f"/accounts/{account.id}").text, "qualification")
    for criterion in QUALIFICATION_CRITERIA:  # every criterion labelled, with what yes and no mean
        assert re.search(rf'<label for="worksheet-{criterion.key}">{criterion.label_zh}', card)
    assert "好" in card and "差" in card and "0" in card
    data = {
        "worksheet-growth": "y",
        "worksheet-funding": "y",
        "worksheet-relationship": "y",
        "worksheet-note": "预算充足",
    }
    assert client.post(f"/accounts/{account.id}/qualification", data=data).status_code == 302
    sheet = db.session.get(Qualification, account.id)
    assert (sheet.score, sheet.growth, sheet.business_plan, sheet.note) == (3, True, False, "预算充足")
    page = client.get(f"/accounts/{account.id}").text
    card = section(page, "qualification")
    assert re.search(r'id="worksheet-growth"[^>]*checked|checked[^>]*id="worksheet-growth"', card)
    assert re.search(r"<strong>[^<]*3[^<]*7[^<]*</strong>", card)
    logged = sorted(c.field for c in db.session.query(FieldChange).filter_by(entity="account"))
    assert logged == [
        "qualification.funding",
        "qualification.growth",
        "qualification.note",
        "qualification.relationship",
    ]
    assert "客户的自身成长性" in section(page, "history")


def test_unticking_a_criterion_takes_its_point_away(browser: Browser, people: People, make_account: Any) -> None:
    account = make_account(people.rep, "华信科技")
    assess(people.rep, account, "growth", "funding")
    client = browser(people.rep)
    assert client.post(f"/accounts/{account.id}/qualification", data={"worksheet-growth": "y"}).status_code == 302
    db.session.expire_all()
    assert db.session.get(Qualification, account.id).score == 1


def test_up_to_five_candidates_are_compared_side_by_side(browser: Browser, people: People, make_account: Any) -> None:
    names = ["甲公司", "乙公司", "丙公司", "丁公司", "戊公司"]
    accounts = [make_account(people.rep, n) for n in names]
    assess(people.rep, accounts[0], *QUALIFICATION_KEYS)
    assess(people.rep, accounts[1], "growth", "solution_fit")
    assess(people.rep, accounts[2])
    assess(people.rep, accounts[3], "relationship")
    # accounts[4] never assessed
    client = browser(people.rep)
    query = "&".join(f"account={a.id}" for a in reversed(accounts))
    page = client.get(f"/accounts/compare?{query}")
    assert page.status_code == 200
    assert columns(page.text) == list(reversed(names))  # in the order chosen, #1 … #5
    assert cells(page.text, "客户的自身成长性") == ["差 (0)", "差 (0)", "差 (0)", "好 (1)", "好 (1)"]
    assert cells(page.text, "客户关系") == ["弱 (0)", "强 (1)", "弱 (0)", "弱 (0)", "强 (1)"]
    totals = re.findall(r'class="num total"><strong>(\d)</strong>', page.text)
    assert totals == ["0", "1", "0", "2", "7"]
    assert "#5" in page.text and "#6" not in page.text


def test_more_than_five_are_refused_with_a_clear_error(browser: Browser, people: People, make_account: Any) -> None:
    accounts = [make_account(people.rep, f"候选{i}") for i in range(6)]
    db.session.commit()
    client = browser(people.rep)
    assert client.post("/lang", data={"lang": "en", "next": "/accounts"}).status_code == 302
    page = client.get("/accounts/compare?" + "&".join(f"account={a.id}" for a in accounts))
    assert page.status_code == 422
    assert '<html lang="en"' in page.text and "Choose at most 5 accounts to compare." in page.text
    assert "<tbody>" not in page.text


def test_the_chooser_offers_only_the_accounts_the_reader_may_see(
    browser: Browser, people: People, make_account: Any
) -> None:
    mine = make_account(people.rep, "我的候选")
    assess(people.rep, mine, "growth")
    make_account(people.outsider, "别队候选")
    db.session.commit()
    page = browser(people.rep).get("/accounts/compare").text
    assert "我的候选 (1/7)" in page and "别队候选" not in page


def test_an_account_out_of_reach_in_the_comparison_answers_404(
    browser: Browser, people: People, make_account: Any
) -> None:
    mine, theirs = make_account(people.rep, "我的候选"), make_account(people.outsider, "别队候选")
    db.session.commit()
    response = browser(people.rep).get(f"/accounts/compare?account={mine.id}&account={theirs.id}")
    assert response.status_code == 404 and "我的候选" not in response.text and "别队候选" not in response.text
    assert browser(people.rep).get("/accounts/compare?account=999999").status_code == 404


@pytest.mark.parametrize("method", ["page", "api"])
def test_a_rep_cannot_qualify_another_teams_account(
    client: FlaskClient, browser: Browser, people: People, make_account: Any, token_for: Any, method: str
) -> None:
    theirs = make_account(people.outsider, "别队候选")
    db.session.commit()
    if method == "page":
        response = browser(people.rep).post(f"/accounts/{theirs.id}/qualification", data={"worksheet-growth": "y"})
    else:
        url = f"/api/v1/accounts/{theirs.id}/qualification"
        response = client.put(url, json={"growth": True}, headers=token_for(people.rep))
    assert response.status_code == 404
    assert db.session.get(Qualification, theirs.id) is None


def test_the_api_reads_and_sets_the_worksheet(
    client: FlaskClient, people: People, make_account: Any, token_for: Any
) -> None:
    account = make_account(people.rep, "华信科技")
    db.session.commit()
    headers = token_for(people.rep)
    url = f"/api/v1/accounts/{account.id}/qualification"
    fresh = client.get(url, headers=headers).json
    assert fresh["score"] == 0 and fresh["assessed"] is False and fresh["growth"] is False
    saved = client.put(url, json={"growth": True, "opportunities": True, "note": "两个新项目"}, headers=headers)
    assert saved.status_code == 200
    assert (saved.json["score"], saved.json["opportunities"], saved.json["note"]) == (2, True, "两个新项目")
    again = client.put(url, json={"growth": False}, headers=headers).json
    assert again["score"] == 1 and again["opportunities"] is True  # the ones left out keep their answer
    wrong = client.put(url, json={"growth": "maybe"}, headers=headers)
    assert wrong.status_code == 422 and "growth" in wrong.json["fields"]
