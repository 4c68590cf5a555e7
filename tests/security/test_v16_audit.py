"""ASVS 5.0 V16 security logging: who did what, when, from where (V16.2.1); sign-ins and refusals logged (V16.3.1,
V16.3.2); and a log the app cannot change (V16.4.2).

Two logs: stage_events holds every move of a deal (who, when, override, what it waived), audit_events every
other audited act. Already proven elsewhere, not repeated here:
- both refuse UPDATE, DELETE, TRUNCATE and INSERT OR REPLACE through the ORM, SQL and a raw driver connection:
  tests/exports/test_audit.py (audit_events) and tests/deals/test_history.py (stage_events);
- each weekly export is logged with who, how and what: tests/exports/test_views.py::
  test_each_download_is_logged_with_who_how_and_what, tests/exports/test_api.py::test_the_api_download_is_logged_as_api,
  tests/exports/test_cli.py (the command), and imports, complaints, surveys and greetings in their own tests.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from flask_login import current_user
from sqlalchemy import select

from pipeline.auth.api import TOKEN_REFUSED
from pipeline.auth.scope import OUT_OF_REACH, visible_deal
from pipeline.auth.services import issue_token
from pipeline.auth.views import SIGN_IN_REFUSED, SIGNED_IN, SIGNED_OUT
from pipeline.core.audit import ANONYMOUS, MAX_TEXT, AuditEvent
from pipeline.deals import services as deal_services
from pipeline.deals.models import Deal, StageEvent
from pipeline.extensions import db
from tests.conftest import People
from tests.security.conftest import Records, routes, url_for_rule


@pytest.fixture
def app_config() -> dict[str, Any]:
    """Three failed sign-ins per account before the throttle steps in (the default is five)."""
    return {"PIPELINE_LOGIN_LIMIT_PER_ACCOUNT": "3 per 15 minutes"}


def events(action: str | None = None) -> list[AuditEvent]:
    db.session.expire_all()
    query = select(AuditEvent).order_by(AuditEvent.id)
    return list(db.session.scalars(query.where(AuditEvent.action == action) if action else query))


# ---- Stage moves and overrides: stage_events ---------------------------------------------------------------------


def test_every_move_and_override_is_kept_with_who_when_and_what_was_waived(
    app: Flask, client: FlaskClient, people: People, make_deal: Callable[..., Any], token_for: Callable[..., Any]
) -> None:
    """V16.2.1: a lead's override through the page and a rep's move through the API each append one stage_events
    row naming the user, the moment, the stages, the reason, and (for the override) every checklist item waived."""
    deal = make_deal(people.rep)
    refused = client.post(
        f"/api/v1/deals/{deal.id}/transitions", json={"trigger": "advance"}, headers=token_for(people.lead)
    )
    assert refused.status_code == 409
    waived = sorted(m["key"] for m in refused.get_json()["missing"])
    client.post("/login", data={"email": people.lead.email, "password": "lead-pass-1"})
    response = client.post(
        f"/deals/{deal.id}/move/advance",
        data={"advance-override": "y", "advance-reason": "客户高层已拍板", "advance-version": deal.version},
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    moved = client.post(
        f"/api/v1/deals/{deal.id}/transitions",
        json={"trigger": "revert", "reason": "需求有变"},
        headers=token_for(people.rep),
    )
    assert moved.status_code == 200, moved.get_json()
    db.session.expire_all()
    rows = db.session.scalars(select(StageEvent).where(StageEvent.deal_id == deal.id).order_by(StageEvent.id)).all()
    override, revert = rows[-2:]
    assert (override.user_id, override.from_stage, override.to_stage, override.trigger) == (
        people.lead.id,
        "qualify",
        "evaluate",
        "advance",
    )
    assert override.override is True and sorted(override.overridden) == waived and override.reason == "客户高层已拍板"
    assert (revert.user_id, revert.trigger, revert.override, revert.reason) == (
        people.rep.id,
        "revert",
        False,
        "需求有变",
    )
    assert override.at is not None and override.at.tzinfo is not None and revert.at >= override.at  # UTC (V16.2.2)


# ---- Sign-in, sign-out, and refused requests ----------------------------------------------------------------------


def test_sign_ins_and_sign_outs_are_logged_with_the_address(client: FlaskClient, people: People) -> None:
    """V16.3.1: a successful sign-in and a sign-out, with who and from which address."""
    address = {"REMOTE_ADDR": "198.51.100.23"}
    client.post("/login", data={"email": "rep@example.com", "password": "rep-pass-1"}, environ_base=address)
    client.post("/logout", environ_base=address)
    (signed_in,) = events(SIGNED_IN)
    (signed_out,) = events(SIGNED_OUT)
    for event in (signed_in, signed_out):
        assert (event.user_id, event.actor, event.via) == (people.rep.id, "rep@example.com", "web")
        assert event.details["address"] == "198.51.100.23"
    assert signed_in.at <= signed_out.at


def test_a_failed_or_throttled_sign_in_is_logged_although_its_request_is_rolled_back(
    app: Flask, client: FlaskClient, people: People
) -> None:
    """V16.3.1, V16.3.2: wrong passwords and unknown e-mails (422) and throttled attempts (429) each leave an entry
    naming the e-mail tried and the address, never the password."""
    address = {"REMOTE_ADDR": "203.0.113.99"}
    for email in ("rep@example.com", "nobody@example.com"):
        assert (
            client.post("/login", data={"email": email, "password": "wrong-pass"}, environ_base=address).status_code
            == 422
        )
    for _ in range(2):
        client.post("/login", data={"email": "rep@example.com", "password": "wrong-pass"}, environ_base=address)
    throttled = client.post("/login", data={"email": "rep@example.com", "password": "rep-pass-1"}, environ_base=address)
    assert throttled.status_code == 429
    logged = events(SIGN_IN_REFUSED)
    assert [(e.details["email"], e.details["throttled"]) for e in logged] == [
        ("rep@example.com", False),
        ("nobody@example.com", False),
        ("rep@example.com", False),
        ("rep@example.com", False),
        ("rep@example.com", True),
    ]
    for event in logged:
        assert (event.user_id, event.actor, event.via) == (None, ANONYMOUS, "web")
        assert event.details["address"] == "203.0.113.99" and event.details["path"] == "/login"
        assert "wrong-pass" not in str(event.details) and "rep-pass-1" not in str(event.details)


def test_asking_for_a_record_out_of_reach_is_logged_with_who_and_what(
    client: FlaskClient, people: People, world: dict[str, Records], token_for: Callable[..., Any]
) -> None:
    """V16.3.2: a page and an API call for someone else's deal, account or complaint answer 404 and log who asked,
    for which record, through which path; a record the user may see logs nothing."""
    outsider = world["outsider"]
    client.post("/login", data={"email": "rep@example.com", "password": "rep-pass-1"})
    assert client.get(f"/deals/{outsider.deal.id}").status_code == 404
    assert client.post(f"/accounts/{outsider.account.id}/notes", data={"note": "x"}).status_code == 404
    assert client.get(f"/api/v1/complaints/{outsider.complaint.id}", headers=token_for(people.rep)).status_code == 404
    assert client.get(f"/reports/funnel?team={people.outsider.team_id}").status_code == 404
    assert client.get(f"/deals/{world['rep'].deal.id}").status_code == 200
    logged = events(OUT_OF_REACH)
    assert [(e.via, e.details["record"], e.details["id"], e.details["method"]) for e in logged] == [
        ("web", "deal", str(outsider.deal.id), "GET"),
        ("web", "account", str(outsider.account.id), "POST"),
        ("api", "complaint", str(outsider.complaint.id), "GET"),
        ("web", "team", str(people.outsider.team_id), "GET"),
    ]
    assert all((e.user_id, e.actor) == (people.rep.id, "rep@example.com") for e in logged)
    assert logged[0].details["path"] == f"/deals/{outsider.deal.id}"


def test_a_refusal_is_committed_on_its_own_while_the_refused_request_is_rolled_back(
    app: Flask, people: People, world: dict[str, Records]
) -> None:
    """V16.3.2 with nothing half-written: a request that changed a record, then asked for one out of reach, answers
    404; its change is rolled back and the refusal alone is committed, in a transaction of its own."""
    own, outsider = world["rep"].deal, world["outsider"].deal
    title = own.title

    def half_done() -> str:  # a route that writes before it reaches for a record it may not see
        db.session.get(Deal, own.id).title = "半途的修改"
        db.session.flush()
        visible_deal(current_user, outsider.id)
        return "unreachable"

    app.add_url_rule("/tests/half-done", "tests_half_done", half_done, methods=["POST"])
    client = app.test_client()
    client.post("/login", data={"email": "rep@example.com", "password": "rep-pass-1"})
    assert client.post("/tests/half-done").status_code == 404
    db.session.expire_all()
    assert db.session.get(Deal, own.id).title == title
    [logged] = events(OUT_OF_REACH)
    assert (logged.user_id, logged.details["record"], logged.details["path"]) == (
        people.rep.id,
        "deal",
        "/tests/half-done",
    )


def test_an_edit_naming_an_account_out_of_reach_changes_nothing_and_is_logged(
    client: FlaskClient, people: People, world: dict[str, Records], token_for: Callable[..., Any]
) -> None:
    """V16.3.2 through a real route: an API edit of the rep's own deal that moves it to another team's account is
    refused (422 naming account_id), none of its fields change, and the reach for that account is logged."""
    own, foreign = world["rep"].deal, world["outsider"].account
    title, version = own.title, own.version
    response = client.patch(
        f"/api/v1/deals/{own.id}",
        json={"version": version, "title": "改了标题", "account_id": foreign.id},
        headers=token_for(people.rep),
    )
    assert response.status_code == 422 and "account_id" in response.get_data(as_text=True)
    db.session.expire_all()
    deal = db.session.get(Deal, own.id)
    assert (deal.title, deal.version, deal.account_id) == (title, version, world["rep"].account.id)
    [logged] = events(OUT_OF_REACH)
    assert (logged.via, logged.user_id, logged.details["record"], logged.details["id"]) == (
        "api",
        people.rep.id,
        "account",
        str(foreign.id),
    )


def test_a_404_that_names_no_record_is_not_logged_and_paths_are_cut(client: FlaskClient, people: People) -> None:
    """V16.3.2 without noise: a URL that names no record is a plain 404; what a request puts in the log is bounded."""
    client.post("/login", data={"email": "rep@example.com", "password": "rep-pass-1"})
    before = len(events())
    assert client.get("/no-such-page").status_code == 404
    assert client.get("/deals/12345678/" + "x" * 5000).status_code == 404
    assert len(events()) == before
    assert client.get("/deals/99999" + "9" * 3000).status_code == 404  # an id no record has: still a probe
    (probe,) = events(OUT_OF_REACH)
    assert all(len(str(value)) <= MAX_TEXT for value in probe.details.values())


def test_a_refused_api_token_is_logged_and_the_token_is_not(
    client: FlaskClient, people: People, runner: FlaskCliRunner
) -> None:
    """V16.3.2: an unknown, a revoked, and a disabled user's token each answer 401 and leave an entry; no token text
    is logged; a call with no token at all is not a failed authorisation, just unauthenticated."""
    revoked = issue_token(people.rep, "laptop")
    disabled = issue_token(people.rep_b, "phone")
    db.session.commit()
    assert runner.invoke(args=["users", "revoke", people.rep.email]).exit_code == 0
    assert runner.invoke(args=["users", "disable", people.rep_b.email]).exit_code == 0
    for token in ("pl_made-up-token", revoked, disabled):
        assert client.get("/api/v1/deals", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    assert client.get("/api/v1/deals").status_code == 401
    logged = events(TOKEN_REFUSED)
    assert len(logged) == 3
    assert all((e.via, e.actor, e.details["path"]) == ("api", ANONYMOUS, "/api/v1/deals") for e in logged)
    text = " ".join(str(e.details) for e in events())
    assert revoked not in text and disabled not in text and "made-up" not in text


# ---- Permission changes ---------------------------------------------------------------------------------------


def test_every_change_to_who_may_do_what_is_logged_with_the_account_that_ran_it(
    runner: FlaskCliRunner, people: People
) -> None:
    """V16.2.1: creating a user (role, team, whether they have a password), issuing and revoking API tokens,
    setting a password and disabling a user are each one entry naming the operating-system account and the user."""
    steps = [
        [
            "users",
            "create",
            "new@example.com",
            "--name",
            "新人",
            "--role",
            "lead",
            "--team",
            "华北",
            "--password",
            "new-pass-1",
        ],
        ["users", "token", "new@example.com", "--name", "script"],
        ["users", "revoke", "new@example.com", "--name", "script"],
        ["users", "password", "new@example.com", "--password", "newer-pass-2"],
        ["users", "disable", "new@example.com"],
    ]
    for args in steps:
        result = runner.invoke(args=args)
        assert result.exit_code == 0, result.output
    logged = events()
    assert [e.action for e in logged] == ["user.create", "token.issue", "token.revoke", "user.password", "user.disable"]
    assert all(
        e.via == "cli" and e.actor.startswith("cli:") and e.details["subject"] == "new@example.com" for e in logged
    )
    assert logged[0].details | {"subject_id": None} == {
        "subject": "new@example.com",
        "subject_id": None,
        "role": "lead",
        "team": "华北",
        "password": True,
    }
    assert logged[1].details["name"] == logged[2].details["name"] == "script" and len(logged[2].details["tokens"]) == 1
    assert "new-pass-1" not in str([e.details for e in logged]) and "newer-pass-2" not in str(
        [e.details for e in logged]
    )


def test_revoking_a_token_stops_it_at_once_and_says_when_there_is_none(
    client: FlaskClient, runner: FlaskCliRunner, people: People
) -> None:
    """The revocation those entries log is real: the token answers 401 from the next call on."""
    token = issue_token(people.rep, "cli")
    db.session.commit()
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/deals", headers=headers).status_code == 200
    assert runner.invoke(args=["users", "revoke", people.rep.email]).exit_code == 0
    assert client.get("/api/v1/deals", headers=headers).status_code == 401
    again = runner.invoke(args=["users", "revoke", people.rep.email])
    assert again.exit_code != 0 and "has no API token in force" in again.stderr


def test_the_calendar_feed_address_is_logged_when_made_and_ended(client: FlaskClient, people: People) -> None:
    """V16.2.1: the feed's secret address is a credential; making and ending it are logged."""
    client.post("/login", data={"email": "rep@example.com", "password": "rep-pass-1"})
    assert client.post("/care/calendar/token").status_code == 200
    assert client.post("/care/calendar/revoke").status_code == 302
    actions = [(e.action, e.user_id) for e in events() if e.action.startswith("calendar_feed.")]
    assert actions == [("calendar_feed.issue", people.rep.id), ("calendar_feed.revoke", people.rep.id)]


# ---- The log cannot be changed through the app -------------------------------------------------------------------


def log_rows() -> dict[str, dict[int, tuple[Any, ...]]]:
    """Every row of both logs, by table and id."""
    db.session.expire_all()
    out: dict[str, dict[int, tuple[Any, ...]]] = {}
    for model in (AuditEvent, StageEvent):
        table = model.__table__
        out[table.name] = {row[0]: tuple(row) for row in db.session.execute(select(table).order_by(table.c.id))}
    db.session.rollback()
    return out


def test_no_route_changes_or_removes_a_log_entry(
    app: Flask, people: People, world: dict[str, Records], signed_in: Callable[..., FlaskClient], token_for: Any
) -> None:
    """V16.4.2: every route and method, called as an admin on a database with history and audit entries, leaves
    each existing entry exactly as it was (the logs only grow); the triggers would refuse anything else anyway."""
    admin = signed_in(people.admin)
    headers = token_for(people.admin)
    deal_services.move(people.admin, world["rep"].deal, "lose", lost_reason="price", reason="预算取消")
    db.session.commit()
    before = log_rows()
    assert len(before["audit_events"]) >= 3 and len(before["stage_events"]) >= 4  # complaints logged, deals moved
    failed: list[str] = []
    for rule, method in routes(app):
        url = url_for_rule(app, rule, world["rep_b"])
        response = admin.open(url, method=method, headers=headers if url.startswith("/api/") else None, data={})
        if response.status_code >= 500:
            failed.append(f"{method} {url} → {response.status_code}")
    assert not failed, "\n".join(failed)
    after = log_rows()
    for table, rows in before.items():
        assert {key: after[table].get(key) for key in rows} == rows, table


# ---- Reading the log ---------------------------------------------------------------------------------------------


def test_an_operator_reads_the_log_with_a_command_and_nothing_in_it_can_rewrite_the_terminal(
    client: FlaskClient, runner: FlaskCliRunner, people: People
) -> None:
    """V16.2.1, V16.4.1: `pipeline audit` lists entries newest first with when (UTC), who, how and what, filtered by
    action or actor; text a request wrote (an e-mail with terminal escapes) is printed escaped."""
    client.post("/login", data={"email": "rep@example.com", "password": "rep-pass-1"})
    client.post("/logout")
    client.post("/login", data={"email": "x\x1b[2J\x9b31m@example.com", "password": "wrong-pass"})
    result = runner.invoke(args=["audit", "--action", "auth."])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["at", "(UTC)", "actor", "via", "action", "details"]
    assert [line.split()[4] for line in lines[1:]] == [SIGN_IN_REFUSED, SIGNED_OUT, SIGNED_IN]
    assert "\x1b" not in result.stdout and "\x9b" not in result.stdout
    assert "\\u001b[2J\\u009b31m@example.com" in lines[1]
    mine = runner.invoke(args=["audit", "--actor", "REP@example.com", "--limit", "1"])
    assert [line.split()[4] for line in mine.stdout.splitlines()[1:]] == [SIGNED_OUT]
