"""Whatever a client sends, the API answers with a clear JSON error and never a 500."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.accounts.models import Account
from pipeline.deals import services
from pipeline.extensions import db

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**80), max_value=2**80)
    | st.floats(allow_nan=False)
    | st.text(max_size=30),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=8,
)
field_names = st.sampled_from(
    [
        "account_id",
        "title",
        "amount",
        "currency",
        "expected_close_date",
        "strategy",
        "strategy_rationale",
        "competitors",
        "next_step",
        "next_step_due",
        "owner_id",
        "version",
        "stage",
        "trigger",
        "reason",
        "lost_reason",
        "override",
        "done",
        "note",
        "name",
        "kind",
        "industry",
        "region",
        "mobile",
        "email",
        "birthday",
        "summary",
        "outcome",
        "occurred_at",
        "contact_id",
        "role",
        "attitude",
        "influence",
        "depth",
    ]
)
bodies = st.dictionaries(field_names, json_values, max_size=6) | json_values
ids = st.one_of(st.integers(min_value=0, max_value=2**70), st.just(1))
routes = st.sampled_from(
    [
        ("POST", "/api/v1/deals"),
        ("PATCH", "/api/v1/deals/{id}"),
        ("POST", "/api/v1/deals/{id}/transitions"),
        ("PUT", "/api/v1/deals/{id}/checklist/{key}"),
        ("POST", "/api/v1/accounts"),
        ("POST", "/api/v1/accounts/{id}/contacts"),
        ("GET", "/api/v1/deals/{id}"),
        ("GET", "/api/v1/deals"),
        ("GET", "/api/v1/accounts"),
        ("POST", "/api/v1/deals/{id}/activities"),
        ("GET", "/api/v1/deals/{id}/activities"),
        ("GET", "/api/v1/deals/{id}/influences"),
        ("POST", "/api/v1/deals/{id}/influences"),
        ("PATCH", "/api/v1/deals/{id}/influences/{key}"),
        ("DELETE", "/api/v1/deals/{id}/influences/{key}"),
        ("GET", "/api/v1/exports/weekly"),  # a file when it succeeds
    ]
)
queries = st.dictionaries(
    st.sampled_from(["limit", "cursor", "stage", "owner_id", "q", "kind", "week", "format", "lang"]),
    st.text(max_size=25),
)


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(route=routes, body=bodies, deal_or_account=ids, key=st.text(max_size=20), query=queries)
def test_no_client_input_causes_a_server_error(
    app: Flask,
    people: Any,
    token_for: Any,
    route: tuple[str, str],
    body: Any,
    deal_or_account: int,
    key: str,
    query: dict[str, str],
) -> None:
    headers = app.extensions.setdefault("fuzz_headers", token_for(people.rep))
    if "fuzz_deal" not in app.extensions:
        account = Account(name="模糊测试客户", owner_id=people.rep.id)
        db.session.add(account)
        db.session.flush()
        app.extensions["fuzz_deal"] = services.create_deal(people.rep, account, "模糊测试").id
        db.session.commit()
    method, template = route
    target = app.extensions["fuzz_deal"] if deal_or_account == 1 else deal_or_account
    path = template.format(id=target, key=quote(key, safe="") or "x")
    response = app.test_client().open(path, method=method, headers=headers, json=body, query_string=query)
    assert response.status_code < 500, (method, path, body, query, response.get_data(as_text=True)[:300])
    assert (response.is_json and "error" in response.json) or response.status_code < 300
