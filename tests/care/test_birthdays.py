"""Birthdays in the next 14 days: across the year's end, 29 February in other years, only contacts in reach."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

from flask.testing import FlaskClient

from pipeline.accounts.models import Account
from pipeline.auth.models import User
from pipeline.care.birthdays import upcoming_birthdays
from pipeline.extensions import db
from tests.care.conftest import contact
from tests.conftest import People
from tests.pages import plain, section, text


def test_the_window_runs_across_the_year_end(people: People, make_account: Callable[..., Account]) -> None:
    account = make_account(people.rep, "华信科技")
    contact(account, "元旦后", birthday=date(1980, 1, 3))  # 9 days after 25 December
    contact(account, "今天", birthday=date(1990, 12, 25))
    contact(account, "第十四天", birthday=date(1970, 1, 8))  # the window's last day
    contact(account, "第十五天", birthday=date(1985, 1, 9))
    contact(account, "昨天", birthday=date(1975, 12, 24))
    contact(account, "没有生日")
    db.session.commit()
    found = upcoming_birthdays(people.rep, date(2026, 12, 25))
    assert [(b.name, b.on, b.in_days, b.turns) for b in found] == [
        ("今天", date(2026, 12, 25), 0, 36),
        ("元旦后", date(2027, 1, 3), 9, 47),
        ("第十四天", date(2027, 1, 8), 14, 57),
    ]


def test_29_february_is_kept_on_28_february_in_other_years(
    people: People, make_account: Callable[..., Account]
) -> None:
    contact(make_account(people.rep, "华信科技"), "闰日", birthday=date(1988, 2, 29))
    db.session.commit()
    assert [(b.on, b.in_days) for b in upcoming_birthdays(people.rep, date(2027, 2, 20))] == [(date(2027, 2, 28), 8)]
    assert [(b.on, b.in_days) for b in upcoming_birthdays(people.rep, date(2028, 2, 20))] == [(date(2028, 2, 29), 9)]
    assert upcoming_birthdays(people.rep, date(2027, 3, 1)) == []  # 28 February 2027 has passed


def test_the_page_shows_only_contacts_in_reach(
    people: People, make_account: Callable[..., Account], browser: Callable[[User], FlaskClient], today: date
) -> None:
    soon = today + timedelta(days=3)
    born = date(1980, soon.month, soon.day)  # 1980 is a leap year: 29 February is a date there too
    contact(make_account(people.rep, "王芳的客户"), "王芳的联系人", birthday=born)
    contact(make_account(people.rep_b, "张伟的客户"), "张伟的联系人", birthday=born)
    contact(make_account(people.outsider, "外队客户"), "外队联系人", birthday=born)
    db.session.commit()
    rep_page = plain(section(text(browser(people.rep).get("/care")), "birthdays"))
    assert "王芳的联系人" in rep_page and "3" in rep_page
    assert "张伟的联系人" not in rep_page and "外队联系人" not in rep_page
    browser(people.rep).post("/logout")
    lead_page = plain(section(text(browser(people.lead).get("/care")), "birthdays"))
    assert "王芳的联系人" in lead_page and "张伟的联系人" in lead_page and "外队联系人" not in lead_page
