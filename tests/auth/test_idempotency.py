"""Idempotency-Key on the API's POSTs: a retry answers the first success again and acts once."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import psycopg
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, update

from pipeline.accounts.models import Account, Contact
from pipeline.activities.models import Activity
from pipeline.auth.idempotency import HEADER, REPLAYED, IdempotencyKey, advisory_lock_id
from pipeline.care.models import Complaint, SatisfactionSurvey
from pipeline.core.models import utcnow
from pipeline.deals.models import BuyingInfluence, Deal, StageEvent
from pipeline.extensions import db
from tests.conftest import People

KEY = '"8e03978e-40d5-43e8-bc93-6894a57f9324"'


def _count(model: Any) -> int:
    db.session.rollback()  # a fresh look, past what the requests committed
    return int(db.session.scalar(select(func.count()).select_from(model)) or 0)


def _moves(deal_id: int) -> list[str]:
    db.session.rollback()
    return list(db.session.scalars(select(StageEvent.trigger).where(StageEvent.deal_id == deal_id)))


@pytest.fixture
def ready_deal(people: People, make_deal: Callable[..., Deal], tick_stage: Callable[..., None]) -> Deal:
    """A rep's deal in 确认 with its work done: it may advance."""
    deal = make_deal(people.rep)
    tick_stage(people.rep, deal)
    return deal


def test_a_retried_move_moves_once_and_answers_the_same(
    client: FlaskClient, people: People, ready_deal: Deal, token_for: Any
) -> None:
    headers = {**token_for(people.rep), HEADER: KEY}
    path, body = f"/api/v1/deals/{ready_deal.id}/transitions", {"trigger": "advance", "version": ready_deal.version}
    first = client.post(path, headers=headers, json=body)
    assert first.status_code == 200, first.json
    assert REPLAYED not in first.headers
    again = client.post(path, headers=headers, json=body)
    assert again.status_code == 200 and again.headers[REPLAYED] == "true"
    assert again.get_data() == first.get_data()
    assert _moves(ready_deal.id) == ["create", "advance"]
    assert db.session.get(Deal, ready_deal.id).stage == "evaluate"  # type: ignore[union-attr]
    # Without the key the same body is a new request: its version is stale now.
    assert client.post(path, headers=token_for(people.rep), json=body).status_code == 409


def test_the_same_key_with_another_request_is_refused(
    client: FlaskClient, people: People, ready_deal: Deal, make_deal: Callable[..., Deal], token_for: Any
) -> None:
    headers = {**token_for(people.rep), HEADER: KEY}
    path = f"/api/v1/deals/{ready_deal.id}/transitions"
    assert client.post(path, headers=headers, json={"trigger": "advance"}).status_code == 200
    other_body = client.post(path, headers=headers, json={"trigger": "lose", "lost_reason": "price"})
    assert other_body.status_code == 422
    assert HEADER in other_body.json["fields"] and "another request" in other_body.json["fields"][HEADER]
    other = make_deal(people.rep, title="另一个项目")
    other_path = client.post(f"/api/v1/deals/{other.id}/transitions", headers=headers, json={"trigger": "advance"})
    assert other_path.status_code == 422
    assert _moves(ready_deal.id) == ["create", "advance"] and _moves(other.id) == ["create"]


def test_keys_are_each_users_own(
    client: FlaskClient, people: People, make_account: Callable[..., Account], token_for: Any
) -> None:
    account = make_account(people.rep)
    db.session.commit()
    body = {"account_id": account.id, "title": "同一个键"}
    rep = client.post("/api/v1/deals", headers={**token_for(people.rep), HEADER: KEY}, json=body)
    lead = client.post("/api/v1/deals", headers={**token_for(people.lead), HEADER: KEY}, json=body)
    assert (rep.status_code, lead.status_code) == (201, 201)
    assert REPLAYED not in lead.headers and rep.json["id"] != lead.json["id"]


def test_a_refused_request_stores_nothing_so_its_retry_runs_again(
    client: FlaskClient, people: People, make_deal: Callable[..., Deal], tick_stage: Any, token_for: Any
) -> None:
    deal = make_deal(people.rep)
    headers = {**token_for(people.rep), HEADER: KEY}
    path, body = f"/api/v1/deals/{deal.id}/transitions", {"trigger": "advance"}
    refused = client.post(path, headers=headers, json=body)
    assert refused.status_code == 409 and refused.json["missing"]  # the stage's work is not done
    assert _count(IdempotencyKey) == 0
    tick_stage(people.rep, deal)
    moved = client.post(path, headers=headers, json=body)
    assert moved.status_code == 200 and REPLAYED not in moved.headers
    assert _moves(deal.id) == ["create", "advance"]


def test_a_key_is_kept_24_hours(
    client: FlaskClient, people: People, make_account: Callable[..., Account], token_for: Any
) -> None:
    account = make_account(people.rep)
    db.session.commit()
    headers = {**token_for(people.rep), HEADER: KEY}
    body = {"account_id": account.id, "title": "续约项目"}
    first = client.post("/api/v1/deals", headers=headers, json=body)
    assert first.status_code == 201
    db.session.execute(update(IdempotencyKey).values(created_at=utcnow() - timedelta(hours=23, minutes=59)))
    db.session.commit()
    assert client.post("/api/v1/deals", headers=headers, json=body).headers[REPLAYED] == "true"
    db.session.execute(update(IdempotencyKey).values(created_at=utcnow() - timedelta(hours=24, minutes=1)))
    db.session.commit()
    expired = client.post("/api/v1/deals", headers=headers, json=body)  # a new request now: a second deal
    assert expired.status_code == 201 and REPLAYED not in expired.headers
    assert expired.json["id"] != first.json["id"] and _count(Deal) == 2
    assert _count(IdempotencyKey) == 1  # the expired one was purged, the new answer stored


@pytest.mark.parametrize(
    "value",
    ['""', '"' + "x" * 256 + '"', '"未完"', "two words", '"unterminated'],
    ids=["empty", "too long", "not ascii", "a space", "unterminated"],
)
def test_an_unreadable_key_is_refused_naming_the_header(
    client: FlaskClient, people: People, ready_deal: Deal, token_for: Any, value: str
) -> None:
    headers = {**token_for(people.rep), HEADER: value.encode("utf-8").decode("latin-1")}
    response = client.post(f"/api/v1/deals/{ready_deal.id}/transitions", headers=headers, json={"trigger": "advance"})
    assert response.status_code == 400 and HEADER in response.json["error"]
    assert _moves(ready_deal.id) == ["create"]


def test_a_bare_key_is_taken_as_the_same_key_quoted(
    client: FlaskClient, people: People, ready_deal: Deal, token_for: Any
) -> None:
    path, body = f"/api/v1/deals/{ready_deal.id}/transitions", {"trigger": "advance"}
    assert client.post(path, headers={**token_for(people.rep), HEADER: KEY}, json=body).status_code == 200
    bare = client.post(path, headers={**token_for(people.rep), HEADER: KEY.strip('"')}, json=body)
    assert bare.headers[REPLAYED] == "true"


def test_every_create_answers_its_retry_without_a_second_record(
    client: FlaskClient, people: People, make_account: Callable[..., Account], make_deal: Any, token_for: Any
) -> None:
    account = make_account(people.rep)
    deal = make_deal(people.rep, account=account)
    headers = token_for(people.rep)
    creates: list[tuple[str, dict[str, Any], Any]] = [
        ("/api/v1/accounts", {"name": "杭州云帆科技有限公司"}, Account),
        (f"/api/v1/accounts/{account.id}/contacts", {"name": "李明"}, Contact),
        ("/api/v1/deals", {"account_id": account.id, "title": "仓储系统"}, Deal),
        (f"/api/v1/deals/{deal.id}/activities", {"kind": "call", "summary": "电话沟通预算"}, Activity),
        (f"/api/v1/deals/{deal.id}/influences", {"role": "coach", "name": "王强"}, BuyingInfluence),
        ("/api/v1/complaints", {"account_id": account.id, "title": "发货少了两箱"}, Complaint),
        ("/api/v1/satisfaction-surveys", {"account_id": account.id, "answered_on": "2026-11-20", "satisfaction": 4},
         SatisfactionSurvey),
    ]  # fmt: skip
    for n, (path, body, model) in enumerate(creates):
        keyed = {**headers, HEADER: f'"create-{n}"'}
        before = _count(model)
        first = client.post(path, headers=keyed, json=body)
        assert first.status_code == 201, (path, first.json)
        again = client.post(path, headers=keyed, json=body)
        assert (again.status_code, again.headers.get(REPLAYED), again.json) == (201, "true", first.json), path
        assert _count(model) == before + 1, path


def test_concurrent_retries_with_one_key_move_once(
    app: Flask, people: People, ready_deal: Deal, token_for: Any
) -> None:
    """Two threads send the same keyed move at once: one move; each answer is that move's, or 409 while in flight."""
    headers = {**token_for(people.rep), HEADER: KEY}
    path, body = f"/api/v1/deals/{ready_deal.id}/transitions", {"trigger": "advance", "version": ready_deal.version}
    db.session.remove()
    barrier = threading.Barrier(2)
    answers: list[Any] = []

    def send() -> None:
        with app.app_context():
            client = app.test_client()
            barrier.wait(timeout=10)
            try:
                answers.append(client.post(path, headers=headers, json=body))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=send) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(a.status_code for a in answers) in ([200, 200], [200, 409]), [a.json for a in answers]
    bodies = {a.get_data() for a in answers if a.status_code == 200}
    assert len(bodies) == 1, bodies  # the replay is the first answer, byte for byte
    assert _moves(ready_deal.id) == ["create", "advance"]


def test_a_retry_while_the_first_is_in_flight_answers_409(
    client: FlaskClient, people: People, ready_deal: Deal, token_for: Any, database_url: str, is_postgres: bool
) -> None:
    """PostgreSQL: the first request holds the key's lock until it commits. SQLite serialises writers instead."""
    if not is_postgres:
        pytest.skip("on SQLite a second writer starts only after the first committed, and finds its answer")
    headers = {**token_for(people.rep), HEADER: KEY}
    lock = advisory_lock_id(people.rep.id, KEY.strip('"'))
    url = database_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(url) as first:  # stands in for the first request, still running
        first.execute("SELECT pg_advisory_xact_lock(%s)", (lock,))
        response = client.post(
            f"/api/v1/deals/{ready_deal.id}/transitions", headers=headers, json={"trigger": "advance"}
        )
        assert response.status_code == 409 and "still being processed" in response.json["error"]
        first.rollback()
    assert _moves(ready_deal.id) == ["create"]
    again = client.post(f"/api/v1/deals/{ready_deal.id}/transitions", headers=headers, json={"trigger": "advance"})
    assert again.status_code == 200


def test_the_openapi_description_names_the_header_on_every_post(client: FlaskClient) -> None:
    spec = client.get("/api/openapi.json").json
    posts = {path: ops["post"] for path, ops in spec["paths"].items() if "post" in ops}
    assert len(posts) >= 9
    for path, operation in posts.items():
        names = [p["name"] for p in operation.get("parameters", []) if p["in"] == "header"]
        assert names == [HEADER], path
        assert "requestBody" in operation, path  # the body is still described beside it
    gets = [ops["get"] for ops in spec["paths"].values() if "get" in ops]
    assert not any(p.get("name") == HEADER for op in gets for p in op.get("parameters", []))
