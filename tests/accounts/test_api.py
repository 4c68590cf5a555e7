"""The account API: create, list with search, read with contacts, scoped like deals."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient


def test_create_account_and_contact_then_read(client: FlaskClient, people: Any, token_for: Any) -> None:
    headers = token_for(people.rep)
    response = client.post(
        "/api/v1/accounts", headers=headers, json={"name": "深圳前海物流有限公司", "industry": "物流", "region": "华南"}
    )
    assert response.status_code == 201, response.json
    account = response.json
    assert account["owner_id"] == people.rep.id and account["kind"] == "b2b" and account["contacts"] == []
    response = client.post(
        f"/api/v1/accounts/{account['id']}/contacts",
        headers=headers,
        json={"name": "刘洋", "title": "采购经理", "mobile": "13800138000", "email": "liu@example.cn"},
    )
    assert response.status_code == 201, response.json
    detail = client.get(f"/api/v1/accounts/{account['id']}", headers=headers).json
    assert [(c["name"], c["title"]) for c in detail["contacts"]] == [("刘洋", "采购经理")]


def test_account_input_errors_name_the_field(client: FlaskClient, people: Any, token_for: Any) -> None:
    headers = token_for(people.rep)
    response = client.post("/api/v1/accounts", headers=headers, json={"name": "", "kind": "b2x"})
    assert response.status_code == 422 and set(response.json["fields"]) == {"name", "kind"}
    response = client.post("/api/v1/accounts", headers=headers, json={"name": "某公司", "owner_id": people.outsider.id})
    assert response.status_code == 403


def test_search_and_scope(client: FlaskClient, people: Any, token_for: Any, make_account: Any) -> None:
    make_account(people.rep, name="杭州云栖科技")
    make_account(people.rep, name="杭州西湖食品")
    make_account(people.rep, name="100%_纯净水厂")
    make_account(people.outsider, name="杭州别队客户")
    from pipeline.extensions import db

    db.session.commit()
    headers = token_for(people.rep)
    names = [a["name"] for a in client.get("/api/v1/accounts?q=杭州", headers=headers).json["items"]]
    assert names == ["杭州西湖食品", "杭州云栖科技"]
    # LIKE wildcards in the search are taken literally.
    names = [a["name"] for a in client.get("/api/v1/accounts?q=%_", headers=headers).json["items"]]
    assert names == ["100%_纯净水厂"]
