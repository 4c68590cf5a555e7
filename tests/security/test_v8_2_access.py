"""ASVS 5.0 V8.2 authorization: what each role may do (V8.2.1), which records (V8.2.2), which fields (V8.2.3).

V8.2.2 (IDOR/BOLA) is proven by tests/test_access_matrix.py, which walks the URL map for six users in two teams
(not repeated here):
- test_every_route_answers_404_for_records_out_of_reach_and_never_for_records_in_reach: every page route and API
  endpoint, every method, with another owner's and another team's records → 404 whose body names none of them,
  and records in reach never 404;
- test_no_list_or_page_shows_names_out_of_reach: every list, page, report, export download (as CSV, so the names can
  be searched) and API list shows no name out of reach, and does show the viewer's own;
- test_reports_answer_404_for_a_team_or_rep_out_of_reach_and_figures_for_one_in_reach: every report and export, page
  and API, asked for another team or rep → 404 with no names;
plus tests/exports/test_views.py and test_api.py (the workbooks' rows), tests/care/test_greetings.py::
test_a_lead_greets_the_team_never_the_other_team (the greetings CSV and mail), tests/care/test_feed.py (the calendar
feed holds only its owner's records), tests/auth/test_scope.py (the rule itself).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from pipeline.deals.models import Deal
from pipeline.extensions import db
from tests.conftest import People
from tests.security.conftest import Records, changed, fingerprint


def privileged(people: People, world: dict[str, Records]) -> dict[str, tuple[str, str, dict[str, Any]]]:
    """Acts only some roles may do, each on a record the caller can see: (method, url, form or JSON body)."""
    deal = world["rep"].deal
    complaint = world["rep"].complaint
    return {
        "change revisit intervals": ("POST", "/care/cadence", {"days_basic": "7"}),
        "change analysis rules": ("POST", "/analysis-rules", {"new_days": "30"}),
        "override a gate": (
            "POST",
            f"/deals/{deal.id}/move/advance",
            {"advance-override": "y", "advance-reason": "自己批准", "advance-version": str(deal.version)},
        ),
        "override a gate (API)": (
            "POST",
            f"/api/v1/deals/{deal.id}/transitions",
            {"trigger": "advance", "override": True, "reason": "自己批准"},
        ),
        "give a complaint away": (
            "POST",
            f"/complaints/{complaint.id}/owner",
            {"owner_id": str(people.rep_b.id), "version": str(complaint.version)},
        ),
        "give a complaint away (API)": (
            "PUT",
            f"/api/v1/complaints/{complaint.id}/owner",
            {"owner_id": people.rep_b.id},
        ),
    }


# Who may do each act (by People attribute); everyone else is refused.
MAY = {
    "change revisit intervals": {"admin"},
    "change analysis rules": {"admin"},
    "override a gate": {"lead", "admin"},
    "override a gate (API)": {"lead", "admin"},
    "give a complaint away": {"lead", "admin"},
    "give a complaint away (API)": {"lead", "admin"},
}


@pytest.mark.parametrize("who", ["rep", "lead"])
def test_acts_reserved_to_a_role_are_refused_to_the_others_and_change_nothing(
    app: Flask,
    people: People,
    world: dict[str, Records],
    signed_in: Callable[..., FlaskClient],
    token_for: Callable[..., dict[str, str]],
    who: str,
) -> None:
    """V8.2.1: a rep may not override a gate or give a complaint away, a lead may not change the company's
    settings; through the pages and the API alike they get 403 (the record is theirs to see) and nothing changes."""
    user = getattr(people, who)
    browser = signed_in(user)
    headers = token_for(user)
    before = fingerprint(skip_tables=frozenset({"audit_events"}))
    wrong: list[str] = []
    for act, (method, url, body) in privileged(people, world).items():
        if who in MAY[act]:
            continue
        if url.startswith("/api/"):
            response = browser.open(url, method=method, json=body, headers=headers)
        else:
            response = browser.open(url, method=method, data=body)
        # 403; or 422 where the page's form offers no one else to choose (a rep's owner list is the owner alone)
        if response.status_code not in ((403, 422) if act == "give a complaint away" else (403,)):
            wrong.append(f"{act}: {method} {url} → {response.status_code}")
    assert not wrong, "\n".join(wrong)
    assert changed(before, fingerprint(skip_tables=frozenset({"audit_events"}))) == []


def test_the_same_acts_work_for_the_role_they_are_for(
    app: Flask, people: People, world: dict[str, Records], token_for: Callable[..., dict[str, str]]
) -> None:
    """V8.2.1, the other side: the lead's override through the API does go through (the 403s above are the rule)."""
    deal = world["rep"].deal
    moved = app.test_client().post(
        f"/api/v1/deals/{deal.id}/transitions",
        json={"trigger": "advance", "override": True, "reason": "经理批准"},
        headers=token_for(people.lead),
    )
    assert moved.status_code == 200, moved.get_json()
    db.session.expire_all()
    assert db.session.get(Deal, deal.id).stage == "evaluate"


def test_a_rep_cannot_give_records_to_someone_else(
    app: Flask,
    people: People,
    world: dict[str, Records],
    signed_in: Callable[..., FlaskClient],
    token_for: Callable[..., dict[str, str]],
) -> None:
    """V8.2.3: the owner field is only writable within the writer's reach (a rep: themselves; a lead: their team),
    through the page form and the API, on create and on change; nothing is written."""
    rep = world["rep"]
    headers = token_for(people.rep)
    lead_headers = token_for(people.lead)
    browser = signed_in(people.rep)
    before = fingerprint(skip_tables=frozenset({"audit_events"}))
    api = app.test_client()
    attempts = {
        "API new account for a colleague": api.post(
            "/api/v1/accounts", json={"name": "转给同事", "owner_id": people.rep_b.id}, headers=headers
        ),
        "API account to a colleague": api.patch(
            f"/api/v1/accounts/{rep.account.id}", json={"owner_id": people.rep_b.id}, headers=headers
        ),
        "API deal to a colleague": api.patch(
            f"/api/v1/deals/{rep.deal.id}",
            json={"owner_id": people.rep_b.id, "version": rep.deal.version},
            headers=headers,
        ),
        "API deal to the other team, by a lead": api.patch(
            f"/api/v1/deals/{rep.deal.id}",
            json={"owner_id": people.outsider.id, "version": rep.deal.version},
            headers=lead_headers,
        ),
        "page: account to a colleague": browser.post(
            f"/accounts/{rep.account.id}/edit", data={"name": rep.account.name, "owner": str(people.rep_b.id)}
        ),
    }
    wrong = [f"{what} → {r.status_code}" for what, r in attempts.items() if r.status_code not in (403, 422)]
    assert not wrong, "\n".join(wrong)
    assert changed(before, fingerprint(skip_tables=frozenset({"audit_events"}))) == []


def test_fields_the_workflow_owns_cannot_be_written_directly(
    app: Flask, people: People, world: dict[str, Records], token_for: Callable[..., dict[str, str]]
) -> None:
    """V8.2.3: a deal's stage changes only through a move (with its gates and history), and fields the server
    keeps (won date, version, id) are not accepted in a change: 422, naming the field, nothing written."""
    deal = world["rep"].deal
    headers = token_for(people.admin)  # even an admin, who may do anything to the deal through the method
    before = fingerprint(skip_tables=frozenset({"audit_events"}))
    for field, value in (("stage", "close"), ("won_on", "2026-01-01"), ("id", 999), ("owner", "admin")):
        response = app.test_client().patch(
            f"/api/v1/deals/{deal.id}", json={field: value, "version": deal.version}, headers=headers
        )
        assert response.status_code == 422, (field, response.get_json())
        assert field in str(response.get_json()), (field, response.get_json())
    assert changed(before, fingerprint(skip_tables=frozenset({"audit_events"}))) == []
