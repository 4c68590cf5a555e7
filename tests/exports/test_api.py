"""The weekly export under the API: the same file as the web download, for a token; errors as JSON."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from pipeline.auth.models import User
from pipeline.core.audit import AuditEvent
from pipeline.deals.models import Deal
from pipeline.exports.services import EXPORT_ACTION
from pipeline.extensions import db
from tests.conftest import People
from tests.exports.conftest import csv_rows, ids, sheet_ids, workbook

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
Get = Callable[..., Any]


@pytest.fixture
def get(client: FlaskClient, token_for: Callable[[User], dict[str, str]]) -> Get:
    """GET the export as `user`; returns the response."""

    def call(user: User, args: str = "") -> Any:
        return client.get(f"/api/v1/exports/weekly?{args}", headers=token_for(user))

    return call


def test_a_token_gets_the_workbook_of_the_deals_its_user_may_see(
    board: dict[str, Deal], get: Get, people: People
) -> None:
    response = get(people.lead, "week=2026-W10")
    assert response.mimetype == XLSX
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert unquote(disposition.split("filename*=UTF-8''")[1]) == "pipeline-2026-W10-华东.xlsx"
    book = workbook(response)
    assert book.sheetnames == ["汇总", "商机", "本周变化", "停滞"]  # the user's language: zh
    assert sheet_ids(book) == ids(board, "rep", "rep_plain", "rep_b", "lead")
    assert sheet_ids(workbook(get(people.admin))) == ids(board, *board)
    assert sheet_ids(workbook(get(people.rep))) == ids(board, "rep", "rep_plain")


def test_the_files_language_follows_the_user_or_lang(board: dict[str, Deal], get: Get, people: People) -> None:
    assert workbook(get(people.rep, "lang=en")).sheetnames == ["Summary", "Deals", "Changes this week", "Stalled"]
    people.rep.locale = "en"
    db.session.commit()
    assert workbook(get(people.rep)).sheetnames[1] == "Deals"
    assert workbook(get(people.rep, "lang=zh")).sheetnames[1] == "商机"


def test_csv_through_the_api(board: dict[str, Deal], get: Get, people: People) -> None:
    response = get(people.admin, f"format=csv&team={people.outsider.team_id}")
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.data.startswith(b"\xef\xbb\xbf") and b"\r\n" in response.data
    assert {int(row[0]) for row in csv_rows(response)[1:]} == ids(board, "outsider")


def test_the_api_download_is_logged_as_api(board: dict[str, Deal], get: Get, people: People) -> None:
    get(people.rep, "week=2026-W10&format=csv")
    db.session.expire_all()
    [event] = db.session.scalars(select(AuditEvent).where(AuditEvent.action == EXPORT_ACTION)).all()
    assert (event.user_id, event.via, event.details["week"], event.details["owner_id"]) == (
        people.rep.id,
        "api",
        "2026-W10",
        people.rep.id,
    )
    assert event.details["rows"] == {"商机": 2}


def test_without_a_token_it_is_401_and_nothing_is_made(client: FlaskClient, board: dict[str, Deal]) -> None:
    response = client.get("/api/v1/exports/weekly")
    assert response.status_code == 401 and "error" in response.json
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert client.get("/api/v1/exports/weekly", headers={"Authorization": "Bearer nope"}).status_code == 401
    assert db.session.scalars(select(AuditEvent).where(AuditEvent.action == EXPORT_ACTION)).all() == []


@pytest.mark.parametrize(
    ("viewer", "args"),
    [("rep", "rep={rep_b}"), ("rep", "team={team}"), ("lead", "team={other_team}"), ("lead", "rep={outsider}")],
)
def test_deals_out_of_reach_are_404(board: dict[str, Deal], get: Get, people: People, viewer: str, args: str) -> None:
    query = args.format(
        rep_b=people.rep_b.id, outsider=people.outsider.id, team=people.rep.team_id, other_team=people.outsider.team_id
    )
    response = get(getattr(people, viewer), query)
    assert response.status_code == 404 and "error" in response.json
    assert db.session.scalars(select(AuditEvent).where(AuditEvent.action == EXPORT_ACTION)).all() == []


@pytest.mark.parametrize(
    ("args", "field"),
    [
        ("week=2026-W60", "week"),
        ("week=last", "week"),
        ("format=pdf", "format"),
        ("format=XLSX", "format"),
        ("lang=fr", "lang"),
        ("team=one", "team"),
        ("rep=-3", "rep"),
        ("strategy=bribery", "strategy"),
    ],
)
def test_an_argument_that_cannot_be_read_is_a_400_naming_it(get: Get, people: People, args: str, field: str) -> None:
    response = get(people.admin, args)
    assert response.status_code == 400
    assert response.json["error"] == f"invalid input: {field}" and field in response.json["fields"]
    assert re.match(r"[A-Z][a-z ]+", response.json["fields"][field])  # a sentence in English, as all API errors


def test_the_export_is_documented_with_its_arguments_and_both_files(client: FlaskClient) -> None:
    from openapi_spec_validator import validate

    spec = client.get("/api/openapi.json").json
    validate(spec)
    get = spec["paths"]["/api/v1/exports/weekly"]["get"]
    assert {p["name"] for p in get["parameters"]} == {"week", "team", "rep", "strategy", "format", "lang"}
    assert set(get["responses"]["200"]["content"]) == {XLSX, "text/csv; charset=utf-8"}
    assert "Content-Disposition" in get["responses"]["200"]["headers"]
    assert {"200", "400", "404"} <= set(get["responses"])


export_args = st.dictionaries(
    st.sampled_from(["week", "compare", "team", "rep", "strategy", "format", "lang"]),
    st.one_of(
        st.text(max_size=20),
        st.sampled_from(["2026-W10", "0001-W01", "9999-W52", "xlsx", "csv", "en", "zh", "frontal", "1", "2"]),
        st.integers(min_value=-(2**70), max_value=2**70).map(str),
    ),
    max_size=5,
)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(args=export_args)
def test_no_query_causes_a_server_error(
    app: Flask, people: People, token_for: Callable[[User], dict[str, str]], args: dict[str, str]
) -> None:
    headers = app.extensions.setdefault("fuzz_headers", token_for(people.lead))
    response = app.test_client().get("/api/v1/exports/weekly", headers=headers, query_string=args)
    assert response.status_code in (200, 400, 404, 422), (args, response.status_code)
    if response.status_code == 200:
        assert response.headers["Content-Disposition"].startswith("attachment;")
    else:
        assert "error" in response.json
