"""The calendar feed: opened by its secret token alone, only its owner's records, stable UIDs, 404 once revoked."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, timedelta

from flask import Flask
from flask.testing import FlaskClient
from icalendar import Calendar
from sqlalchemy import select

from pipeline.accounts.models import Account
from pipeline.auth.models import User
from pipeline.care.feed import token_hash
from pipeline.deals.models import Deal
from pipeline.extensions import db
from tests.care.conftest import at, touch
from tests.conftest import People
from tests.pages import text


def feed_path(page: str) -> str:
    """The feed's address as the page shows it, without scheme and host."""
    match = re.search(r'value="http://localhost(/care/calendar/[^"]+\.ics)"', page)
    assert match, "the page shows no feed address"
    return match.group(1)


def events(response: object) -> dict[str, tuple[date, str]]:
    assert response.status_code == 200, response.get_data(as_text=True)[:300]  # type: ignore[attr-defined]
    assert response.mimetype == "text/calendar"  # type: ignore[attr-defined]
    calendar = Calendar.from_ical(response.data)  # type: ignore[attr-defined]
    return {str(e["UID"]): (e.decoded("DTSTART"), str(e["SUMMARY"])) for e in calendar.walk("VEVENT")}


def test_the_feed_shows_the_owners_next_steps_and_due_revisits_as_all_day_events(
    app: Flask,
    people: People,
    make_account: Callable[..., Account],
    make_deal: Callable[..., Deal],
    browser: Callable[[User], FlaskClient],
    today: date,
) -> None:
    due_day = today + timedelta(days=3)
    mine = make_deal(people.lead, title="李经理的项目", next_step="发送报价单", next_step_due=due_day)
    team = make_deal(people.rep, title="王芳的项目", next_step="拜访", next_step_due=due_day)  # the lead sees it, but
    # a feed holds its owner's own records only
    touch(people.lead, at(today - timedelta(days=10)), account_id=mine.account_id)
    never = make_account(people.lead, "从未联系的客户")
    db.session.commit()
    client = browser(people.lead)
    path = feed_path(text(client.post("/care/calendar/token")))
    client.post("/logout")
    anonymous = app.test_client()
    found = events(anonymous.get(path))
    assert found[f"deal-{mine.id}-next-step@pipeline.calendar"] == (due_day, "下一步：发送报价单（李经理的项目）")
    # basic level, never touched: due today; the deal's account, touched 10 days ago, is due in 170 days (past the
    # feed's 90-day horizon)
    assert found[f"account-{never.id}-revisit@pipeline.calendar"][0] == today
    assert f"account-{mine.account_id}-revisit@pipeline.calendar" not in found
    assert not any(str(team.id) in uid or str(team.account_id) in uid for uid in found if "deal" in uid)
    assert all(isinstance(start, date) for start, _summary in found.values())
    assert sorted(events(anonymous.get(path))) == sorted(found)  # the same UIDs every time: phones update in place


def test_a_wrong_rotated_or_revoked_token_answers_404(
    app: Flask, people: People, browser: Callable[[User], FlaskClient]
) -> None:
    client = browser(people.rep)
    first = feed_path(text(client.post("/care/calendar/token")))
    second = feed_path(text(client.post("/care/calendar/token")))
    anonymous = app.test_client()
    assert anonymous.get(first).status_code == 404  # replaced
    assert anonymous.get(second).status_code == 200
    assert anonymous.get("/care/calendar/not-a-token.ics").status_code == 404
    client.post("/care/calendar/revoke")
    assert anonymous.get(second).status_code == 404
    db.session.expire_all()
    assert db.session.scalar(select(User.calendar_token_hash).where(User.id == people.rep.id)) is None


def test_only_the_tokens_hash_is_kept_and_the_address_is_shown_once(
    people: People, browser: Callable[[User], FlaskClient]
) -> None:
    client = browser(people.rep)
    path = feed_path(text(client.post("/care/calendar/token")))
    token = path.removeprefix("/care/calendar/").removesuffix(".ics")
    db.session.expire_all()
    assert db.session.get(User, people.rep.id).calendar_token_hash == token_hash(token)  # type: ignore[union-attr]
    assert token not in text(client.get("/care/calendar"))


def test_a_disabled_users_feed_answers_404(app: Flask, people: People, browser: Callable[[User], FlaskClient]) -> None:
    path = feed_path(text(browser(people.rep).post("/care/calendar/token")))
    db.session.get(User, people.rep.id).active = False  # type: ignore[union-attr]
    db.session.commit()
    assert app.test_client().get(path).status_code == 404
