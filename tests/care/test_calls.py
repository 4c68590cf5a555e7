"""The call log: a call's result, the best time to reach a contact from past calls, touches per deal (seed 001)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

from flask.testing import FlaskClient
from sqlalchemy import select

from pipeline.accounts.models import Account
from pipeline.activities.models import Activity
from pipeline.auth.models import User
from pipeline.care.calls import CallTimes, HourRange, contact_call_times
from pipeline.deals.models import Deal
from pipeline.extensions import db
from tests.care.conftest import at, contact, touch
from tests.conftest import People
from tests.pages import plain, section, text

DAY = date(2026, 11, 16)


def test_the_best_range_has_the_most_answered_calls(people: People, make_account: Callable[..., Account]) -> None:
    person = contact(make_account(people.rep, "华信科技"), "刘洋")
    log = [  # local time in Shanghai, result
        ((9, 10), "answered"),
        ((9, 40), "no_answer"),
        ((14, 5), "answered"),
        ((14, 30), "answered"),
        ((15, 50), "busy"),
        ((20, 0), "declined"),
    ]
    for n, ((hour, minute), result) in enumerate(log):
        touch(people.rep, at(DAY + timedelta(days=n), hour, minute), call_result=result, contact_id=person.id)
    touch(people.rep, at(DAY, 11), "visit", contact_id=person.id)  # not a call
    db.session.commit()
    times = contact_call_times([person.id])[person.id]
    assert [(r.label, r.calls, r.answered, r.answer_rate) for r in times.ranges] == [
        ("08:00–10:00", 2, 1, 50),
        ("14:00–16:00", 3, 2, 67),
        ("20:00–22:00", 1, 0, 0),
    ]
    assert times.best is not None and times.best.label == "14:00–16:00"


def test_a_tie_goes_to_the_better_answer_rate_then_the_earlier_range() -> None:
    assert CallTimes([HourRange(8, 4, 2), HourRange(16, 2, 2)]).best == HourRange(16, 2, 2)
    assert CallTimes([HourRange(16, 2, 2), HourRange(10, 2, 2)]).best == HourRange(10, 2, 2)
    assert CallTimes([HourRange(10, 3, 0)]).best is None


def test_the_account_page_shows_each_contacts_best_time_only_in_reach(
    people: People, make_account: Callable[..., Account], browser: Callable[[User], FlaskClient]
) -> None:
    account = make_account(people.rep, "华信科技")
    person = contact(account, "刘洋")
    for hour, result in ((14, "answered"), (15, "answered"), (9, "no_answer")):
        touch(people.rep, at(DAY, hour), call_result=result, contact_id=person.id)
    db.session.commit()
    shown = plain(section(text(browser(people.rep).get(f"/accounts/{account.id}")), f"call-times-{person.id}"))
    assert "14:00–16:00" in shown and "100%" in shown and "08:00–10:00" in shown and "0%" in shown
    browser(people.rep).post("/logout")
    assert browser(people.outsider).get(f"/accounts/{account.id}").status_code == 404


def log(client: FlaskClient, deal: Deal, **fields: str) -> object:
    data = {"kind": "call", "occurred_at": "2026-11-20T10:30", "contact_id": "", "summary": "电话", "outcome": ""}
    data.update(fields)
    return client.post(f"/deals/{deal.id}/activities", data={f"activity-{k}": v for k, v in data.items()})


def test_the_deal_form_records_a_calls_result_and_refuses_one_on_a_visit(
    people: People, make_deal: Callable[..., Deal], browser: Callable[[User], FlaskClient]
) -> None:
    deal = make_deal(people.rep)
    client = browser(people.rep)
    assert log(client, deal, call_result="no_answer").status_code == 302  # type: ignore[attr-defined]
    refused = log(client, deal, kind="visit", call_result="answered")
    assert refused.status_code == 422  # type: ignore[attr-defined]
    assert 'href="#activity-call_result"' in text(refused)
    assert db.session.scalars(select(Activity.call_result)).all() == ["no_answer"]


def test_the_api_takes_a_call_result(
    people: People, make_deal: Callable[..., Deal], token_for: Callable[[User], dict[str, str]], client: FlaskClient
) -> None:
    deal = make_deal(people.rep)
    headers = token_for(people.rep)
    made = client.post(
        f"/api/v1/deals/{deal.id}/activities",
        headers=headers,
        json={"kind": "call", "summary": "电话", "call_result": "busy"},
    )
    assert made.status_code == 201 and made.json["call_result"] == "busy"
    refused = client.post(
        f"/api/v1/deals/{deal.id}/activities",
        headers=headers,
        json={"kind": "email", "summary": "邮件", "call_result": "busy"},
    )
    assert refused.status_code == 422 and "call_result" in refused.json["fields"]


def test_the_deal_page_and_board_count_calls_and_touches_with_the_fifth_call_rule(
    people: People, make_deal: Callable[..., Deal], browser: Callable[[User], FlaskClient]
) -> None:
    deal = make_deal(people.rep, title="五次电话项目")
    for n in range(3):
        touch(people.rep, at(DAY + timedelta(days=n)), deal_id=deal.id, call_result="answered")
    touch(people.rep, at(DAY, 15), "visit", deal_id=deal.id)
    touch(people.rep, at(DAY, 16), "note", deal_id=deal.id)  # a note is not a touch
    db.session.commit()
    client = browser(people.rep)
    calls = plain(section(text(client.get(f"/deals/{deal.id}")), "calls"))
    assert "4" in calls and "3" in calls and "2" in calls  # 4 touches, 3 calls, 2 to go to the fifth
    card = plain(section(text(client.get("/board")), f"deal-{deal.id}"))
    assert "☎ 3" in card and "4" in card
    for n in range(2):
        touch(people.rep, at(DAY + timedelta(days=5 + n)), deal_id=deal.id)
    db.session.commit()
    assert 'class="touches fifth-call"' in section(text(client.get("/board")), f"deal-{deal.id}")
