"""The complaints and satisfaction API: receive, step with versions, refusals in JSON, scope as 404."""

from __future__ import annotations

from collections.abc import Callable

from flask.testing import FlaskClient

from pipeline.accounts.models import Account
from pipeline.auth.models import User
from pipeline.care.models import Complaint
from pipeline.core.pages import today
from tests.conftest import People

Headers = Callable[[User], dict[str, str]]


def test_receive_step_and_read_a_complaint(
    people: People, make_account: Callable[..., Account], client: FlaskClient, token_for: Headers
) -> None:
    account = make_account(people.rep)
    headers = token_for(people.rep)
    created = client.post(
        "/api/v1/complaints",
        headers=headers,
        json={"account_id": account.id, "title": "发货少了两箱", "received_at": "2026-03-02T09:00:00+08:00"},
    )
    assert created.status_code == 201, created.json
    body = created.json
    assert (body["state"], body["owner_id"], body["available_steps"]) == ("received", people.rep.id, ["understand"])
    cid = body["id"]
    refused = client.post(f"/api/v1/complaints/{cid}/steps", headers=headers, json={"step": "understand"})
    assert refused.status_code == 409
    assert [m["key"] for m in refused.json["missing"]] == ["core_issue"]
    moved = client.post(
        f"/api/v1/complaints/{cid}/steps",
        headers=headers,
        json={"step": "understand", "core_issue": "仓库漏发", "version": body["version"]},
    )
    assert moved.status_code == 200 and moved.json["state"] == "understood"
    assert moved.json["response_seconds"] > 0 and moved.json["resolution_seconds"] is None
    stale = client.post(
        f"/api/v1/complaints/{cid}/steps",
        headers=headers,
        json={"step": "propose", "solution": "补发", "version": body["version"]},
    )
    assert stale.status_code == 409
    listed = client.get("/api/v1/complaints?state=understood", headers=headers).json
    assert [c["id"] for c in listed["items"]] == [cid]


def test_wrong_fields_are_named(
    people: People, make_account: Callable[..., Account], client: FlaskClient, token_for: Headers
) -> None:
    answer = client.post(
        "/api/v1/complaints",
        headers=token_for(people.rep),
        json={"account_id": make_account(people.rep).id, "title": "", "severity": "urgent"},
    )
    assert answer.status_code == 422 and sorted(answer.json["fields"]) == ["severity", "title"]


def test_another_teams_complaint_is_404(
    people: People, make_complaint: Callable[..., Complaint], client: FlaskClient, token_for: Headers
) -> None:
    theirs = make_complaint(people.outsider)
    headers = token_for(people.lead)
    assert client.get(f"/api/v1/complaints/{theirs.id}", headers=headers).status_code == 404
    step = client.post(f"/api/v1/complaints/{theirs.id}/steps", headers=headers, json={"step": "bogus"})
    assert step.status_code == 404  # out of reach is told before the body is read
    assert client.get("/api/v1/complaints", headers=headers).json["items"] == []
    account = client.post("/api/v1/complaints", headers=headers, json={"account_id": theirs.account_id, "title": "x"})
    assert account.status_code == 422 and list(account.json["fields"]) == ["account_id"]


def test_surveys_record_list_and_scope(
    people: People, make_account: Callable[..., Account], client: FlaskClient, token_for: Headers
) -> None:
    account = make_account(people.rep)
    headers = token_for(people.rep)
    bad = client.post(
        "/api/v1/satisfaction-surveys",
        headers=headers,
        json={"account_id": account.id, "answered_on": today().isoformat(), "satisfaction": 0, "empathy": 7},
    )
    assert bad.status_code == 422 and sorted(bad.json["fields"]) == ["empathy", "satisfaction"]
    made = client.post(
        "/api/v1/satisfaction-surveys",
        headers=headers,
        json={"account_id": account.id, "answered_on": today().isoformat(), "satisfaction": 4, "assurance": 5},
    )
    assert made.status_code == 201 and (made.json["assurance"], made.json["reliability"]) == (5, None)
    sid = made.json["id"]
    assert [s["id"] for s in client.get("/api/v1/satisfaction-surveys", headers=headers).json["items"]] == [sid]
    outsider = token_for(people.outsider)
    assert client.get(f"/api/v1/satisfaction-surveys/{sid}", headers=outsider).status_code == 404
    assert client.get("/api/v1/satisfaction-surveys", headers=outsider).json["items"] == []
