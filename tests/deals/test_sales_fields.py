"""A deal's product line, channel and gross profit (毛利): edited on the page and through the API, logged, shown."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from flask.testing import FlaskClient

from pipeline.auth.models import User
from pipeline.deals.models import Deal
from pipeline.extensions import db
from tests.conftest import People
from tests.pages import plain, section, text


def test_the_deal_form_saves_them_the_page_shows_them_and_history_logs_them(
    browser: Callable[[User], FlaskClient], people: People, make_deal: Callable[..., Deal]
) -> None:
    deal = make_deal(people.rep, amount=Decimal("100000"))
    client = browser(people.rep)
    client.post("/lang", data={"lang": "en", "next": "/"})  # the labels are new msgids: English is their own text
    fields = {"title": deal.title, "amount": "100000", "currency": "CNY", "version": deal.version}
    sent = {**fields, "product_line": "ERP", "channel": "代理商", "gross_profit": "-1500.50"}
    assert client.post(f"/deals/{deal.id}/edit", data=sent).status_code == 302
    db.session.refresh(deal)
    assert (deal.product_line, deal.channel, deal.gross_profit) == ("ERP", "代理商", Decimal("-1500.50"))
    page = text(client.get(f"/deals/{deal.id}"))
    facts = plain(page)
    assert "Product line ERP" in facts and "Sales channel 代理商" in facts and "Gross profit -¥1,500.50" in facts
    history = plain(section(page, "history"))
    assert "Product line: — → ERP" in history and "Gross profit: — → -¥1,500.50" in history
    cleared = {**fields, "version": deal.version, "product_line": "ERP", "channel": "代理商", "gross_profit": ""}
    assert client.post(f"/deals/{deal.id}/edit", data=cleared).status_code == 302
    db.session.refresh(deal)
    assert deal.gross_profit is None  # emptied: the margin is not known any more


def test_a_bad_gross_profit_is_refused_naming_the_field(
    browser: Callable[[User], FlaskClient], people: People, make_deal: Callable[..., Deal]
) -> None:
    deal = make_deal(people.rep)
    client = browser(people.rep)
    client.post("/lang", data={"lang": "en", "next": "/"})
    sent = {"title": deal.title, "currency": "CNY", "version": deal.version, "gross_profit": "12.345"}
    response = client.post(f"/deals/{deal.id}/edit", data=sent)
    assert response.status_code == 422
    assert "Gross profit" in text(response) and "At most two decimal places." in text(response)
    db.session.refresh(deal)
    assert deal.gross_profit is None


def test_the_api_reads_and_writes_them(
    client: FlaskClient, people: People, make_deal: Callable[..., Deal], token_for: Callable[[User], Any]
) -> None:
    deal = make_deal(people.rep)
    headers = token_for(people.rep)
    path = f"/api/v1/deals/{deal.id}"
    body = {"version": deal.version, "product_line": "云服务", "channel": "线上", "gross_profit": "32000.00"}
    answer = client.patch(path, json=body, headers=headers)
    assert answer.status_code == 200, answer.json
    assert (answer.json["product_line"], answer.json["channel"], answer.json["gross_profit"]) == (
        "云服务",
        "线上",
        "32000.00",
    )
    history = client.get(f"{path}/history", headers=headers).json["changes"]
    assert ("gross_profit", None, "32000.00") in [(c["field"], c["old_value"], c["new_value"]) for c in history]
    bad = client.patch(path, json={"version": answer.json["version"], "gross_profit": "1.005"}, headers=headers)
    assert bad.status_code in (400, 422) and "gross_profit" in bad.json["fields"]
    long = client.patch(path, json={"version": answer.json["version"], "channel": "渠" * 101}, headers=headers)
    assert long.status_code == 422 and "channel" in long.json["fields"]
    created = client.post(
        "/api/v1/deals",
        json={"account_id": deal.account_id, "title": "硬件采购", "product_line": "硬件", "gross_profit": None},
        headers=headers,
    )
    assert created.status_code == 201
    assert created.json["product_line"] == "硬件" and created.json["gross_profit"] is None
