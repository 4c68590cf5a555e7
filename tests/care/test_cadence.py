"""The revisit intervals: defaults shown to everyone, changed by an admin only, and the due list follows them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

from flask.testing import FlaskClient

from pipeline.accounts.models import Account
from pipeline.auth.models import User
from pipeline.care.cadence import current_intervals
from pipeline.care.due import due_accounts
from pipeline.extensions import db
from tests.care.conftest import at, touch
from tests.conftest import People
from tests.pages import plain, section, text

FORM = {
    "days_partnership": "14",
    "days_proactive": "30",
    "days_accountable": "60",
    "days_reactive": "90",
    "days_basic": "180",
    "percent_superstar": "50",
    "percent_rising": "75",
    "percent_fading": "100",
    "percent_ordinary": "100",
}


def test_the_defaults_are_shown_to_a_rep_who_cannot_change_them(
    people: People, browser: Callable[[User], FlaskClient]
) -> None:
    client = browser(people.rep)
    page = text(client.get("/care/cadence"))
    # 伙伴关系: 14 days, half of it for a superstar, three quarters for a rising star.
    assert plain(section(page, "level-partnership")).split()[-4:] == ["7", "10", "14", "14"]
    assert plain(section(page, "level-basic")).split()[-4:] == ["90", "135", "180", "180"]
    assert 'id="edit-intervals"' not in page
    assert client.post("/care/cadence", data={**FORM, "days_basic": "5"}).status_code == 403
    assert current_intervals().level_days["basic"] == 180


def test_an_admin_changes_them_and_the_due_list_follows(
    people: People, make_account: Callable[..., Account], browser: Callable[[User], FlaskClient], today: date
) -> None:
    account = make_account(people.rep, "华信科技", relationship_level="basic")
    touch(people.rep, at(today - timedelta(days=40)), account_id=account.id)
    db.session.commit()
    assert due_accounts(people.rep, today) == []  # 40 days < 180
    response = browser(people.admin).post("/care/cadence", data={**FORM, "days_basic": "30"})
    assert response.status_code == 302
    db.session.expire_all()
    assert [d.name for d in due_accounts(people.rep, today)] == ["华信科技"]
    assert [(d.interval_days, d.overdue_days) for d in due_accounts(people.rep, today)] == [(30, 10)]


def test_a_value_out_of_range_is_refused_naming_the_field(
    people: People, browser: Callable[[User], FlaskClient]
) -> None:
    response = browser(people.admin).post("/care/cadence", data={**FORM, "days_proactive": "0", "percent_rising": "x"})
    assert response.status_code == 422
    page = text(response)
    assert 'href="#days_proactive"' in page and 'href="#percent_rising"' in page
    assert current_intervals().level_days["proactive"] == 30
