"""A deal's activities through the API: log a touch, list them with the touch count, and the refusals."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient

from pipeline.accounts.models import Account, Contact
from pipeline.auth.models import User
from pipeline.core.timeutil import team_zone
from pipeline.deals.models import Deal
from pipeline.extensions import db
from tests.conftest import People


@pytest.fixture
def api_as(client: FlaskClient, token_for: Callable[[User], dict[str, str]]) -> Callable[..., Any]:
    def as_user(user: User) -> Callable[..., Any]:
        headers = token_for(user)

        def call(method: str, path: str, **kwargs: Any) -> Any:
            return client.open(path, method=method, headers=headers, **kwargs)

        return call

    return as_user


def test_log_then_list_with_the_touch_count(
    api_as: Callable[..., Any], people: People, make_account: Callable[..., Account], make_deal: Callable[..., Deal]
) -> None:
    account = make_account(people.rep)
    contact = Contact(account_id=account.id, name="张总")
    db.session.add(contact)
    db.session.commit()
    deal = make_deal(people.rep, account=account)
    api = api_as(people.rep)
    url = f"/api/v1/deals/{deal.id}/activities"
    empty = api("GET", url)
    assert empty.status_code == 200
    assert (empty.json["items"], empty.json["touches"], empty.json["latest_at"]) == ([], 0, None)
    first = api(
        "POST",
        url,
        json={"kind": "visit", "summary": "拜访", "contact_id": contact.id, "occurred_at": "2026-11-20T09:00:00+08:00"},
    )
    assert first.status_code == 201, first.json
    assert first.json["kind_label"] == "拜访" and first.json["contact_name"] == "张总"
    assert datetime.fromisoformat(first.json["occurred_at"]) == datetime(2026, 11, 20, 1, 0, tzinfo=UTC)
    assert (first.json["deal_id"], first.json["account_id"], first.json["user_name"]) == (deal.id, account.id, "王芳")
    second = api("POST", url, json={"kind": "note", "summary": "预算已批"})  # now, by default
    assert second.status_code == 201 and second.json["contact_id"] is None and second.json["outcome"] == ""
    listed = api("GET", url + "?limit=1")
    assert [a["id"] for a in listed.json["items"]] == [second.json["id"]]
    assert listed.json["touches"] == 2 and listed.json["latest_at"] is not None
    older = api("GET", f"{url}?limit=1&cursor={listed.json['next_cursor']}")
    assert [a["id"] for a in older.json["items"]] == [first.json["id"]] and older.json["next_cursor"] is None


def test_refusals_name_the_field(
    api_as: Callable[..., Any], people: People, make_account: Callable[..., Account], make_deal: Callable[..., Deal]
) -> None:
    other = make_account(people.rep, "别家公司")
    elsewhere = Contact(account_id=other.id, name="别家的李工")
    db.session.add(elsewhere)
    db.session.commit()
    deal = make_deal(people.rep)
    api = api_as(people.rep)
    url = f"/api/v1/deals/{deal.id}/activities"
    tomorrow = (datetime.now(team_zone()) + timedelta(days=1)).replace(hour=0, minute=5).isoformat()
    cases = {
        "kind": {"kind": "lunch", "summary": "x"},
        "summary": {"kind": "call", "summary": ""},
        "occurred_at": {"kind": "call", "summary": "x", "occurred_at": tomorrow},
        "contact_id": {"kind": "call", "summary": "x", "contact_id": elsewhere.id},
    }
    for field, body in cases.items():
        response = api("POST", url, json=body)
        assert response.status_code == 422, (field, response.json)
        assert field in response.json["fields"], (field, response.json)
    for edge in ("0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-12:00"):  # no time-zone arithmetic overflows
        response = api("POST", url, json={"kind": "call", "summary": "x", "occurred_at": edge})
        assert response.status_code == 422 and "occurred_at" in response.json["fields"], edge
    naive = api("POST", url, json={"kind": "call", "summary": "x", "occurred_at": "2026-11-20T09:00:00"})
    assert naive.status_code == 422 and "occurred_at" in naive.json["fields"]
    assert api("GET", url).json["touches"] == 0


def test_someone_elses_deal_answers_404(
    api_as: Callable[..., Any], people: People, make_deal: Callable[..., Deal]
) -> None:
    theirs = make_deal(people.rep_b)
    api = api_as(people.rep)
    assert api("GET", f"/api/v1/deals/{theirs.id}/activities").status_code == 404
    posted = api("POST", f"/api/v1/deals/{theirs.id}/activities", json={"kind": "call", "summary": "x"})
    assert posted.status_code == 404
    assert api_as(people.lead)("GET", f"/api/v1/deals/{theirs.id}/activities").json["touches"] == 0
