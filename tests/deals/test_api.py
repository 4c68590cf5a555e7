"""The deal API as a client sees it: status codes, scoping, gates, versions, history."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from flask.testing import FlaskClient

from pipeline.deals.models import Deal
from pipeline.extensions import db


@pytest.fixture
def rep_api(client: FlaskClient, people: Any, token_for: Any) -> Any:
    """Call the API as the rep."""
    headers = token_for(people.rep)

    def call(method: str, path: str, **kwargs: Any) -> Any:
        return client.open(path, method=method, headers=headers, **kwargs)

    return call


def _new_deal(rep_api: Any, account_id: int, **fields: Any) -> dict[str, Any]:
    response = rep_api("POST", "/api/v1/deals", json={"account_id": account_id, "title": "智能仓储方案", **fields})
    assert response.status_code == 201, response.json
    return response.json


def test_requests_without_a_valid_token_answer_401(client: FlaskClient, people: Any) -> None:
    assert client.get("/api/v1/deals").status_code == 401
    response = client.get("/api/v1/deals", headers={"Authorization": "Bearer pl_not-a-token"})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert "error" in response.json


def test_a_disabled_users_token_stops_working_at_once(client: FlaskClient, people: Any, token_for: Any) -> None:
    headers = token_for(people.rep)
    assert client.get("/api/v1/deals", headers=headers).status_code == 200
    people.rep.active = False
    db.session.commit()
    assert client.get("/api/v1/deals", headers=headers).status_code == 401


def test_create_then_read_a_deal(rep_api: Any, make_account: Any, people: Any) -> None:
    account = make_account(people.rep)
    db.session.commit()
    created = _new_deal(rep_api, account.id, amount="250000.50", expected_close_date="2027-01-15")
    assert created["stage"] == "qualify" and created["stage_label"] == "确认"
    assert created["amount"] == "250000.50" and created["currency"] == "CNY"
    assert created["owner_id"] == people.rep.id and created["version"] == 1
    assert created["available_triggers"] == ["advance", "lose"]
    assert [i["key"] for i in created["checklist"]] == [
        "research_customer",
        "build_relationship",
        "key_business_plan",
        "account_plan",
        "assess_opportunity",
    ]
    assert {m["key"] for m in created["missing"]} == {"research_customer", "key_business_plan", "assess_opportunity"}
    fetched = rep_api("GET", f"/api/v1/deals/{created['id']}").json
    assert fetched["title"] == "智能仓储方案" and fetched["account_name"] == account.name


def test_invalid_input_answers_422_naming_every_field(rep_api: Any, make_account: Any, people: Any) -> None:
    account = make_account(people.rep)
    db.session.commit()
    response = rep_api(
        "POST",
        "/api/v1/deals",
        json={"account_id": account.id, "title": "", "amount": "lots", "strategy": "bribery", "colour": "red"},
    )
    assert response.status_code == 422
    assert set(response.json["fields"]) == {"title", "amount", "strategy", "colour"}
    response = rep_api("POST", "/api/v1/deals", json={"account_id": account.id, "title": "x", "amount": "1.234"})
    assert response.status_code == 422 and set(response.json["fields"]) == {"amount"}
    response = rep_api("POST", "/api/v1/deals", data="{not json", content_type="application/json")
    assert response.status_code in (400, 422) and "error" in response.json
    assert db.session.query(Deal).count() == 0


def test_someone_elses_records_answer_404(
    client: FlaskClient, people: Any, make_deal: Any, make_account: Any, token_for: Any
) -> None:
    theirs = make_deal(people.outsider)
    their_account = make_account(people.outsider, name="广州某公司")
    db.session.commit()
    headers = token_for(people.rep)
    for method, path, body in [
        ("GET", f"/api/v1/deals/{theirs.id}", None),
        ("PATCH", f"/api/v1/deals/{theirs.id}", {"version": 1, "title": "mine now"}),
        ("POST", f"/api/v1/deals/{theirs.id}/transitions", {"trigger": "lose", "lost_reason": "price"}),
        ("PUT", f"/api/v1/deals/{theirs.id}/checklist/research_customer", {"done": True}),
        ("GET", f"/api/v1/deals/{theirs.id}/history", None),
        ("GET", f"/api/v1/accounts/{their_account.id}", None),
        ("GET", "/api/v1/deals/999999", None),
    ]:
        response = client.open(path, method=method, headers=headers, json=body)
        assert response.status_code == 404, (method, path, response.json)
        assert "error" in response.json
    # Nor can a deal be opened on their account.
    response = client.post("/api/v1/deals", headers=headers, json={"account_id": their_account.id, "title": "poach"})
    assert response.status_code == 422 and "account_id" in response.json["fields"]
    db.session.refresh(theirs)
    assert theirs.stage == "qualify" and theirs.title == "ERP 系统升级项目"


def test_lists_are_scoped_and_paginated(client: FlaskClient, people: Any, make_deal: Any, token_for: Any) -> None:
    mine = [make_deal(people.rep, title=f"项目 {i}") for i in range(5)]
    make_deal(people.rep_b, title="同事的项目")
    make_deal(people.outsider, title="别队的项目")
    seen: list[int] = []
    cursor = None
    while True:
        query = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        body = client.get("/api/v1/deals", query_string=query, headers=token_for(people.rep)).json
        seen += [d["id"] for d in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted((d.id for d in mine), reverse=True)
    lead_titles = {d["title"] for d in client.get("/api/v1/deals", headers=token_for(people.lead)).json["items"]}
    assert "同事的项目" in lead_titles and "别队的项目" not in lead_titles
    admin_items = client.get("/api/v1/deals", headers=token_for(people.admin)).json["items"]
    assert len(admin_items) == 7
    assert client.get("/api/v1/deals?stage=nowhere", headers=token_for(people.rep)).status_code == 422
    assert client.get("/api/v1/deals?limit=0", headers=token_for(people.rep)).status_code == 422


def test_a_refused_move_answers_409_listing_everything_missing(rep_api: Any, make_deal: Any, people: Any) -> None:
    deal = make_deal(people.rep)
    response = rep_api("POST", f"/api/v1/deals/{deal.id}/transitions", json={"trigger": "advance"})
    assert response.status_code == 409
    assert response.json["missing"] == [
        {"kind": "checklist", "key": "research_customer", "label": "研究客户", "label_en": "Research the customer"},
        {
            "kind": "checklist",
            "key": "key_business_plan",
            "label": "确定关键的商业行动计划",
            "label_en": "Identify the customer's key business action plan",
        },
        {
            "kind": "checklist",
            "key": "assess_opportunity",
            "label": "评估机会的性质(会面/不会面)",
            "label_en": "Decide whether the opportunity is worth meeting on (go / no-go)",
        },
    ]
    assert "研究客户" in response.json["error"]
    db.session.refresh(deal)
    assert deal.stage == "qualify" and deal.version == 1


def test_work_through_the_checklist_and_advance(rep_api: Any, make_deal: Any, people: Any) -> None:
    deal = make_deal(people.rep)
    for key in ("research_customer", "key_business_plan", "assess_opportunity"):
        response = rep_api("PUT", f"/api/v1/deals/{deal.id}/checklist/{key}", json={"done": True, "note": "已完成"})
        assert response.status_code == 200 and response.json["item"]["done"] is True
    version = response.json["version"]
    response = rep_api("POST", f"/api/v1/deals/{deal.id}/transitions", json={"trigger": "advance", "version": version})
    assert response.status_code == 200, response.json
    assert response.json["deal"]["stage"] == "evaluate"
    assert response.json["event"]["from_stage"] == "qualify" and response.json["event"]["to_stage"] == "evaluate"
    # Entering 报价 needs amount, close date and strategy, and the customer's people, named alongside the checklist.
    for key in ("map_capabilities", "assess_competition", "know_participants"):
        rep_api("PUT", f"/api/v1/deals/{deal.id}/checklist/{key}", json={"done": True})
    response = rep_api("POST", f"/api/v1/deals/{deal.id}/transitions", json={"trigger": "advance"})
    assert response.status_code == 409
    assert [(m["kind"], m["key"]) for m in response.json["missing"]] == [
        ("field", "amount"),
        ("field", "expected_close_date"),
        ("field", "strategy"),
        ("influence", "economic_buyer"),
        ("influence", "coach"),
    ]


def test_unknown_checklist_item_and_bad_trigger_answer_422(rep_api: Any, make_deal: Any, people: Any) -> None:
    deal = make_deal(people.rep)
    response = rep_api("PUT", f"/api/v1/deals/{deal.id}/checklist/sign_contract", json={"done": True})
    assert response.status_code == 422 and "item_key" in response.json["fields"]
    response = rep_api("PUT", f"/api/v1/deals/{deal.id}/checklist/research_customer", json={})
    assert response.status_code == 422 and "done" in response.json["fields"]
    response = rep_api("POST", f"/api/v1/deals/{deal.id}/transitions", json={"trigger": "teleport"})
    assert response.status_code == 422 and "trigger" in response.json["fields"]
    response = rep_api("POST", f"/api/v1/deals/{deal.id}/transitions", json={"trigger": "lose"})
    assert response.status_code == 422 and "lost_reason" in response.json["fields"]
    response = rep_api("POST", f"/api/v1/deals/{deal.id}/transitions", json={"trigger": "lose", "lost_reason": "x"})
    assert response.status_code == 422 and "lost_reason" in response.json["fields"]
    response = rep_api("POST", f"/api/v1/deals/{deal.id}/transitions", json={"trigger": "complete"})
    assert response.status_code == 409 and "qualify" in response.json["error"]


def test_override_is_for_leads_with_a_reason(client: FlaskClient, people: Any, make_deal: Any, token_for: Any) -> None:
    deal = make_deal(people.rep)
    path = f"/api/v1/deals/{deal.id}/transitions"
    rep = client.post(path, headers=token_for(people.rep), json={"trigger": "advance", "override": True, "reason": "x"})
    assert rep.status_code == 403
    lead = token_for(people.lead)
    no_reason = client.post(path, headers=lead, json={"trigger": "advance", "override": True})
    assert no_reason.status_code == 422 and "reason" in no_reason.json["fields"]
    ok = client.post(path, headers=lead, json={"trigger": "advance", "override": True, "reason": "客户高层已口头确认"})
    assert ok.status_code == 200, ok.json
    assert ok.json["event"]["override"] is True
    assert ok.json["event"]["overridden"] == ["research_customer", "key_business_plan", "assess_opportunity"]
    other_team = client.post(
        path, headers=token_for(people.other_lead), json={"trigger": "revert", "reason": "not mine"}
    )
    assert other_team.status_code == 404


def test_patch_needs_the_current_version_and_never_changes_the_stage(rep_api: Any, make_deal: Any, people: Any) -> None:
    deal = make_deal(people.rep)
    path = f"/api/v1/deals/{deal.id}"
    assert rep_api("PATCH", path, json={"title": "x"}).json["fields"] == {"version": "Missing data for required field."}
    ok = rep_api("PATCH", path, json={"version": 1, "amount": 88000, "strategy": "flanking", "next_step": "约技术交流"})
    assert ok.status_code == 200 and ok.json["version"] == 2 and ok.json["amount"] == "88000.00"
    stale = rep_api("PATCH", path, json={"version": 1, "title": "lost update"})
    assert stale.status_code == 409
    sneaky = rep_api("PATCH", path, json={"version": 2, "stage": "follow_up"})
    assert sneaky.status_code == 422 and "stage" in sneaky.json["fields"]
    db.session.refresh(deal)
    assert deal.stage == "qualify" and deal.title == "ERP 系统升级项目" and deal.amount == Decimal("88000.00")


def test_history_lists_moves_and_field_changes(rep_api: Any, make_deal: Any, people: Any) -> None:
    deal = make_deal(people.rep)
    rep_api("PATCH", f"/api/v1/deals/{deal.id}", json={"version": 1, "amount": "5000"})
    rep_api("POST", f"/api/v1/deals/{deal.id}/transitions", json={"trigger": "lose", "lost_reason": "no_budget"})
    body = rep_api("GET", f"/api/v1/deals/{deal.id}/history").json
    assert [(e["from_stage"], e["to_stage"], e["trigger"]) for e in body["events"]] == [
        (None, "qualify", "create"),
        ("qualify", "lost", "lose"),
    ]
    assert body["events"][1]["lost_reason"] == "no_budget" and body["events"][1]["amount"] == "5000.00"
    assert [(c["field"], c["old_value"], c["new_value"]) for c in body["changes"]] == [("amount", "0.00", "5000.00")]


def test_lost_reasons_are_listed_in_the_callers_language(client: FlaskClient, people: Any, token_for: Any) -> None:
    people.rep.locale = "en"
    db.session.commit()
    reasons = client.get("/api/v1/lost-reasons", headers=token_for(people.rep)).json
    assert {
        "key": "price",
        "label": "Price not competitive",
        "label_zh": "价格没有竞争力",
        "label_en": "Price not competitive",
    } in reasons


def test_openapi_describes_every_route_and_is_valid(client: FlaskClient, app: Any) -> None:
    from openapi_spec_validator import validate

    spec = client.get("/api/openapi.json").json
    validate(spec)
    paths = spec["paths"]
    for path, method in [
        ("/api/v1/accounts", "get"),
        ("/api/v1/accounts", "post"),
        ("/api/v1/deals", "get"),
        ("/api/v1/deals", "post"),
        ("/api/v1/deals/{deal_id}", "get"),
        ("/api/v1/deals/{deal_id}", "patch"),
        ("/api/v1/deals/{deal_id}/transitions", "post"),
        ("/api/v1/deals/{deal_id}/checklist/{item_key}", "put"),
        ("/api/v1/deals/{deal_id}/history", "get"),
    ]:
        assert method in paths[path], (path, method)
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    api_rules = {r.rule for r in app.url_map.iter_rules() if r.rule.startswith("/api/v1")}
    documented = {p.replace("{", "<").replace("}", ">") for p in paths}
    assert {r.replace("<int:", "<") for r in api_rules} <= documented
