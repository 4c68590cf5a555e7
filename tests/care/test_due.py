"""The due-for-contact list: who is due, in which order (important first, then the longest overdue), whose."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, timedelta

from flask.testing import FlaskClient
from sqlalchemy import select

from pipeline.accounts.models import Account
from pipeline.activities.models import Activity
from pipeline.auth.models import User
from pipeline.care.due import due_accounts
from pipeline.deals.models import Deal
from pipeline.extensions import db
from tests.care.conftest import at, contact, days_ago, touch
from tests.conftest import People, counting_statements
from tests.pages import plain, section, text


def due_names(html: str) -> list[str]:
    """The account names in the due table, top to bottom."""
    table = section(html, "due")
    return [plain(m) for m in re.findall(r'<tr id="due-\d+">\s*<td><a [^>]*>(.*?)</a>', table, re.S)]


def hand_made(
    people: People,
    make_account: Callable[..., Account],
    make_deal: Callable[..., Deal],
    won: Callable[..., Deal],
    today: date,
) -> dict[str, Account]:
    """王芳's customers, each due (or not) for a reason worked out by hand in the test below."""
    rep = people.rep
    a = make_account(rep, "甲 伙伴大客户", relationship_level="partnership")  # every 14 days
    b = make_account(rep, "乙 基本客户", relationship_level="basic")  # every 180 days
    c = make_account(rep, "丙 主动客户", relationship_level="proactive")  # every 30 days
    d = make_account(rep, "丁 可靠客户", relationship_level="accountable")  # every 60 days
    e = make_account(rep, "戊 反应客户", relationship_level="reactive")  # every 90 days
    f = make_account(
        rep, "己 流失客户", relationship_level="partnership", churned_on=days_ago(today, 5), churn_reason_key="price"
    )
    g = make_account(rep, "庚 只有备注", relationship_level="basic")
    other = make_account(people.outsider, "外队 客户", relationship_level="partnership")
    db.session.commit()
    # Value tiers (reports/value.py, default rules): two accounts won in the last twelve months, 甲 the most (top
    # decile: 天王巨星) and 乙 (sixth decile, nothing before to grow from: 普通); 丙 won only in the twelve months
    # before and nothing since (down 100%: 明日黄花); the rest won nothing (普通).
    won(a, "500000", days_ago(today, 40))
    won(b, "100000", days_ago(today, 100))
    won(c, "900000", days_ago(today, 400))
    touch(rep, at(days_ago(today, 20)), account_id=a.id)  # 天王巨星 halves 14 days to 7: 13 days overdue
    touch(rep, at(days_ago(today, 40)), contact_id=contact(c, "丙联系人").id)  # via its contact: 10 days overdue
    d_deal = make_deal(rep, "丁项目", account=d)
    touch(rep, at(days_ago(today, 100)), deal_id=d_deal.id)  # via its deal: 40 overdue
    touch(rep, at(days_ago(today, 300), 10, 30), call_result="answered", deal_id=d_deal.id)  # an older call
    touch(rep, at(days_ago(today, 10)), "visit", account_id=e.id)  # 10 days < 90: not due
    touch(rep, at(days_ago(today, 1)), "note", account_id=g.id)  # a note is not a touch: never touched
    db.session.commit()
    return {"a": a, "b": b, "c": c, "d": d, "e": e, "f": f, "g": g, "other": other}


def test_the_order_is_importance_first_then_the_longest_overdue(
    people: People,
    make_account: Callable[..., Account],
    make_deal: Callable[..., Deal],
    won: Callable[..., Deal],
    today: date,
) -> None:
    hand_made(people, make_account, make_deal, won, today)
    rows = due_accounts(people.rep, today)
    # 天王巨星 甲, 明日黄花 丙, then the 普通: never touched first (乙, 庚 by name), then 丁 40 days overdue.
    assert [r.name for r in rows] == ["甲 伙伴大客户", "丙 主动客户", "乙 基本客户", "庚 只有备注", "丁 可靠客户"]
    assert [r.tier for r in rows] == ["superstar", "fading", "ordinary", "ordinary", "ordinary"]
    assert [(r.interval_days, r.overdue_days) for r in rows] == [(7, 13), (30, 10), (180, None), (180, None), (60, 40)]
    assert rows[0].last_touch == days_ago(today, 20) and rows[0].due_on == days_ago(today, 13)


def test_the_page_lists_them_in_that_order_and_a_click_logs_the_touch(
    people: People,
    make_account: Callable[..., Account],
    make_deal: Callable[..., Deal],
    won: Callable[..., Deal],
    today: date,
    browser: Callable[[User], FlaskClient],
) -> None:
    accounts = hand_made(people, make_account, make_deal, won, today)
    client = browser(people.rep)
    page = text(client.get("/care"))
    assert due_names(page) == ["甲 伙伴大客户", "丙 主动客户", "乙 基本客户", "庚 只有备注", "丁 可靠客户"]
    assert "天王巨星" in plain(section(page, f"due-{accounts['a'].id}"))
    assert "10:00–12:00" in plain(section(page, f"due-{accounts['d'].id}"))  # 丁's best time, from its deal's call
    assert "外队" not in page and "己 流失客户" not in page
    response = client.post(f"/care/accounts/{accounts['a'].id}/touch", data={"kind": "call", "call_result": "busy"})
    assert response.status_code == 302
    logged = db.session.scalars(select(Activity).where(Activity.account_id == accounts["a"].id)).all()
    assert [(x.kind, x.call_result, x.user_id) for x in logged][-1] == ("call", "busy", people.rep.id)
    # Busy is still a touch: 甲 has been contacted today and leaves the list until its interval runs out again.
    assert due_names(text(client.get("/care")))[:1] == ["丙 主动客户"]


def test_a_touch_on_someone_elses_account_is_404_and_logs_nothing(
    people: People, make_account: Callable[..., Account], browser: Callable[[User], FlaskClient]
) -> None:
    theirs = make_account(people.outsider, "外队 客户")
    db.session.commit()
    response = browser(people.rep).post(f"/care/accounts/{theirs.id}/touch", data={"kind": "call"})
    assert response.status_code == 404
    assert db.session.scalar(select(Activity.id)) is None


def test_a_lead_sees_the_team_and_filters_by_rep_a_rep_only_their_own(
    people: People, make_account: Callable[..., Account], browser: Callable[[User], FlaskClient]
) -> None:
    make_account(people.rep, "王芳的客户")
    make_account(people.rep_b, "张伟的客户")
    make_account(people.outsider, "陈静的客户")
    db.session.commit()
    client = browser(people.lead)
    assert sorted(due_names(text(client.get("/care")))) == ["张伟的客户", "王芳的客户"]
    assert due_names(text(client.get(f"/care?owner={people.rep_b.id}"))) == ["张伟的客户"]
    client.post("/logout")
    assert due_names(text(browser(people.rep_b).get("/care"))) == ["张伟的客户"]


def test_the_list_is_paginated(
    people: People, make_account: Callable[..., Account], browser: Callable[[User], FlaskClient], app: object
) -> None:
    for n in range(7):
        make_account(people.rep, f"客户{n:02d}")
    db.session.commit()
    app.config["PIPELINE_PAGE_SIZE"] = 3  # type: ignore[attr-defined]
    client = browser(people.rep)
    pages = [due_names(text(client.get(f"/care?page={n}"))) for n in (1, 2, 3)]
    assert [len(p) for p in pages] == [3, 3, 1]
    assert sorted(name for p in pages for name in p) == [f"客户{n:02d}" for n in range(7)]
    assert client.get("/care?page=0").status_code == 422


def test_the_query_count_does_not_grow_with_the_accounts(
    people: People, make_account: Callable[..., Account], today: date
) -> None:
    def count() -> int:
        with counting_statements() as statements:
            due_accounts(people.rep, today)
        return len(statements)

    for n in range(3):
        touch(people.rep, at(today - timedelta(days=400)), account_id=make_account(people.rep, f"少{n}").id)
    db.session.commit()
    few = count()
    for n in range(30):
        touch(people.rep, at(today - timedelta(days=400)), account_id=make_account(people.rep, f"多{n}").id)
    db.session.commit()
    assert count() == few
