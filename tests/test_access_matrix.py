"""Every route and API endpoint, for every role, against records of another owner and of another team.

The walk reads the app's URL map, so a route added later is covered without touching this file, and a route
whose arguments this file cannot fill fails loudly instead of being skipped. A record the viewer may not see
answers 404 (never 403, never data); a record they may see never answers 404; no list leaks a name.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask, url_for
from flask.testing import FlaskClient
from werkzeug.routing import Rule

from pipeline.accounts.models import Account, Contact
from pipeline.activities.models import Activity
from pipeline.auth.models import User
from pipeline.care.complaints import services as complaint_services
from pipeline.care.models import Complaint, SatisfactionSurvey
from pipeline.deals import services as deal_services
from pipeline.deals.models import BuyingInfluence, Deal
from pipeline.extensions import db
from tests.conftest import PASSWORDS, People

SKIPPED_ENDPOINTS = {"static", "api-docs.openapi_json", "auth.login", "auth.logout", "auth.set_language"}
# Opened by its secret token, not by a session or a record: tests/care/test_feed.py checks wrong, revoked and
# other people's tokens answer 404 and that a feed holds only its owner's records.
SKIPPED_ENDPOINTS |= {"care.calendar_feed"}
WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")


@pytest.fixture
def app_config() -> dict[str, Any]:
    """CSRF is checked by its own tests; here a POST must reach the view so that the view's access check runs."""
    return {"WTF_CSRF_ENABLED": False}


@dataclass
class Records:
    """One owner's account, contact, deal, buying influence and activity, all named so a leak is visible."""

    owner: User
    account: Account
    contact: Contact
    deal: Deal
    influence: BuyingInfluence
    activity: Activity
    complaint: Complaint
    survey: SatisfactionSurvey
    secrets: tuple[str, ...]


def _records(owner: User, tag: str) -> Records:
    account = Account(name=f"{tag}客户", owner_id=owner.id)
    db.session.add(account)
    db.session.flush()
    contact = Contact(account_id=account.id, name=f"{tag}联系人", email=f"{owner.id}@{tag}.example.com")
    db.session.add(contact)
    db.session.flush()
    deal = deal_services.create_deal(owner, account, f"{tag}商机")
    influence = BuyingInfluence(deal_id=deal.id, contact_id=contact.id, role="coach")
    activity = Activity(
        kind="call", deal_id=deal.id, user_id=owner.id, occurred_at=datetime.now(UTC), summary=f"{tag}通话"
    )
    db.session.add_all([influence, activity])
    complaint = complaint_services.receive(owner, account, f"{tag}投诉", deal_id=deal.id, contact_id=contact.id)
    survey = SatisfactionSurvey(
        account_id=account.id, deal_id=deal.id, user_id=owner.id, answered_on=datetime.now(UTC).date(), satisfaction=4
    )
    db.session.add(survey)
    db.session.commit()
    secrets = (account.name, contact.name, deal.title, complaint.title)
    return Records(owner, account, contact, deal, influence, activity, complaint, survey, secrets)


# URL arguments, filled from the record under test. A new argument name must be added here (the walk says so).
ARGUMENTS: dict[str, Callable[[Records], Any]] = {
    "deal_id": lambda r: r.deal.id,
    "account_id": lambda r: r.account.id,
    "contact_id": lambda r: r.contact.id,
    "influence_id": lambda r: r.influence.id,
    "activity_id": lambda r: r.activity.id,
    "key": lambda r: deal_services.checklist_for(r.deal.stage)[0].key,
    "item_key": lambda r: deal_services.checklist_for(r.deal.stage)[0].key,
    "trigger": lambda r: "advance",
    "complaint_id": lambda r: r.complaint.id,
    "survey_id": lambda r: r.survey.id,
    "step": lambda r: "understand",
}


def _restore(records: Records) -> None:
    """Put back a buying influence an earlier DELETE or remove in the walk took away (routes may delete)."""
    db.session.expire_all()
    if db.session.get(BuyingInfluence, records.influence.id) is None:
        records.influence = BuyingInfluence(deal_id=records.deal.id, contact_id=records.contact.id, role="coach")
        db.session.add(records.influence)
        db.session.commit()


def _routes(app: Flask) -> Iterator[tuple[Rule, str]]:
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if rule.endpoint in SKIPPED_ENDPOINTS:
            continue
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            yield rule, method


def _url(app: Flask, rule: Rule, records: Records) -> str:
    unknown = rule.arguments - ARGUMENTS.keys()
    assert not unknown, f"{rule.rule}: add {sorted(unknown)} to ARGUMENTS in {__name__}"
    with app.test_request_context():
        return url_for(rule.endpoint, **{name: ARGUMENTS[name](records) for name in rule.arguments})


# Extra query arguments for routes that answer a file: CSV, whose text the walk can search for names out of reach
# (a workbook is a zip, where a leaked name would not show). A route that answers a file must be listed here.
FILE_ROUTES: dict[str, str] = {
    "/exports/weekly/download": "format=csv",
    "/api/v1/exports/weekly": "format=csv",
}


def _with_file_args(path: str, query: str = "") -> str:
    """The URL with the file routes' arguments added, so their answers can be read as text."""
    extra = FILE_ROUTES.get(path.partition("?")[0], "")
    args = "&".join(a for a in (query, extra) if a)
    return f"{path}?{args}" if args else path


def _call(client: FlaskClient, headers: dict[str, str], method: str, url: str) -> Any:
    if url.startswith("/api/"):
        return client.open(url, method=method, headers=headers, json={})
    return client.open(url, method=method, data={})


# viewer -> which owners' records they may see (by People attribute)
CAN_SEE = {
    "rep": {"rep"},
    "rep_b": {"rep_b"},
    "lead": {"rep", "rep_b", "lead"},
    "other_lead": {"outsider", "other_lead"},
    "outsider": {"outsider"},
    "admin": {"rep", "rep_b", "lead", "other_lead", "outsider", "admin"},
}


@pytest.fixture
def world(app: Flask, people: People) -> dict[str, Records]:
    """Records of a rep in 华东 (same team as the lead) and of a rep in 华南 (the other team)."""
    return {"rep_b": _records(people.rep_b, "同队"), "outsider": _records(people.outsider, "外队")}


@pytest.mark.parametrize("viewer", sorted(CAN_SEE))
def test_every_route_answers_404_for_records_out_of_reach_and_never_for_records_in_reach(
    app: Flask, people: People, world: dict[str, Records], viewer: str, token_for: Callable[[User], dict[str, str]]
) -> None:
    user: User = getattr(people, viewer)
    client = app.test_client()
    signed_in = client.post("/login", data={"email": user.email, "password": PASSWORDS[user.email]})
    assert signed_in.status_code == 302
    headers = token_for(user)
    wrong: list[str] = []
    walked = 0
    for owner, records in world.items():
        visible = owner in CAN_SEE[viewer]
        for rule, method in _routes(app):
            if not rule.arguments:
                continue
            _restore(records)
            url = _url(app, rule, records)
            response = _call(client, headers, method, url)
            walked += 1
            body = response.get_data(as_text=True)
            if response.status_code >= 500:
                wrong.append(f"{method} {url} → {response.status_code}")
            elif not visible and response.status_code != 404:
                wrong.append(f"{method} {url} ({owner}'s) → {response.status_code}, expected 404")
            elif not visible and any(secret in body for secret in records.secrets):
                wrong.append(f"{method} {url} ({owner}'s) leaks a name in its 404")
            elif visible and response.status_code in (401, 403, 404):
                wrong.append(f"{method} {url} ({owner}'s, visible) → {response.status_code}")
            elif visible and method == "GET" and response.status_code != 200:
                wrong.append(f"{method} {url} ({owner}'s, visible) → {response.status_code}, expected 200")
    assert walked >= 2 * 10, "the walk found fewer routes than the app has"
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("viewer", sorted(CAN_SEE))
def test_no_list_or_page_shows_names_out_of_reach(
    app: Flask, people: People, world: dict[str, Records], viewer: str, token_for: Callable[[User], dict[str, str]]
) -> None:
    user: User = getattr(people, viewer)
    client = app.test_client()
    assert client.post("/login", data={"email": user.email, "password": PASSWORDS[user.email]}).status_code == 302
    headers = token_for(user)
    hidden = [s for owner, r in world.items() if owner not in CAN_SEE[viewer] for s in r.secrets]
    shown = [s for owner, r in world.items() if owner in CAN_SEE[viewer] for s in r.secrets[:1]]
    pages = [rule for rule, method in _routes(app) if method == "GET" and not rule.arguments]
    assert pages, "no list pages found"
    leaks: list[str] = []
    seen_anywhere: set[str] = set()
    for rule in pages:
        response = client.get(_with_file_args(rule.rule), headers=headers, follow_redirects=True)
        assert response.status_code == 200, f"GET {rule.rule} → {response.status_code}"
        assert response.mimetype.startswith(("text/", "application/json")), f"{rule.rule}: add it to FILE_ROUTES"
        body = response.get_data(as_text=True)
        leaks += [f"{rule.rule} shows {s}" for s in hidden if s in body]
        seen_anywhere |= {s for s in shown if s in body}
    assert not leaks, "\n".join(leaks)
    assert seen_anywhere == set(shown), "the lists do not show the accounts this user may see"


# Query arguments that name whose records a page shows (the reports, the export), filled from the record's owner.
QUERY_ARGUMENTS: dict[str, Callable[[Records], Any]] = {
    "rep": lambda r: r.owner.id,
    "team": lambda r: r.owner.team_id,
}
QUERY_ARGUMENT_ROUTES = ("/reports/", "/api/v1/reports/", "/exports/", "/api/v1/exports/")  # routes taking them
MAY_ASK_FOR_A_TEAM = {"lead", "other_lead", "admin"}  # a rep's reports are their own: any team is out of reach


@pytest.mark.parametrize("viewer", sorted(CAN_SEE))
def test_reports_answer_404_for_a_team_or_rep_out_of_reach_and_figures_for_one_in_reach(
    app: Flask, people: People, world: dict[str, Records], viewer: str, token_for: Callable[[User], dict[str, str]]
) -> None:
    user: User = getattr(people, viewer)
    client = app.test_client()
    assert client.post("/login", data={"email": user.email, "password": PASSWORDS[user.email]}).status_code == 302
    headers = token_for(user)
    routes = [rule for rule, method in _routes(app) if method == "GET" and rule.rule.startswith(QUERY_ARGUMENT_ROUTES)]
    assert len(routes) >= 2 * 6 + 3, "the walk found fewer report and export routes than there are"
    wrong: list[str] = []
    for owner, records in world.items():
        for name, value in QUERY_ARGUMENTS.items():
            visible = owner in CAN_SEE[viewer] and (name == "rep" or viewer in MAY_ASK_FOR_A_TEAM)
            for rule in routes:
                url = _with_file_args(_url(app, rule, records), f"{name}={value(records)}")
                response = client.get(url, headers=headers)
                body = response.get_data(as_text=True)
                if visible and response.status_code != 200:
                    wrong.append(f"GET {url} ({owner}'s, visible) → {response.status_code}, expected 200")
                elif not visible and response.status_code != 404:
                    wrong.append(f"GET {url} ({owner}'s) → {response.status_code}, expected 404")
                elif not visible and any(secret in body for secret in records.secrets):
                    wrong.append(f"GET {url} ({owner}'s) leaks a name in its 404")
    assert not wrong, "\n".join(wrong)
