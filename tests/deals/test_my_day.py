"""My day (我的一天) at /: overdue next steps, stalled deals, this month's closes and recent activity."""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from flask.testing import FlaskClient

from pipeline.accounts.models import Contact
from pipeline.activities.services import log_activity
from pipeline.auth.models import User
from pipeline.core.models import utcnow
from pipeline.core.pages import today
from pipeline.deals import services
from pipeline.deals.models import Deal
from pipeline.extensions import db
from tests.conftest import People, counting_statements

Browser = Callable[[User], FlaskClient]


def section(html: str, element_id: str) -> str:
    match = re.search(rf'<section[^>]*\bid="{element_id}"[^>]*>(.*?)</section>', html, re.S)
    assert match, f"no #{element_id} on the page"
    return match.group(1)


def titles(html: str) -> list[str]:
    return re.findall(r'<a href="/deals/\d+">(.*?)</a>', html)


def item(html: str, title: str) -> str:
    """The list item of the deal with this title, its tags removed and its spaces squeezed."""
    for li in re.findall(r"<li>(.*?)</li>", html, re.S):
        if f">{title}</a>" in li:
            return " ".join(re.sub(r"<[^>]+>", " ", li).split())
    raise AssertionError(f"no item for {title}")


def stalled_for(deal: Deal, days: int) -> None:
    deal.stage_entered_at = utcnow() - timedelta(days=days)
    db.session.commit()


def lose(deal: Deal) -> None:
    services.move(deal.owner, deal, "lose", lost_reason=services.lost_reasons()[0].key)
    db.session.commit()


def test_overdue_next_steps_are_the_users_late_ones_oldest_first(
    browser: Browser, people: People, make_deal: Any
) -> None:
    day = today()
    make_deal(people.rep, "五天前到期", next_step="发方案", next_step_due=day - timedelta(days=5))
    make_deal(people.rep, "昨天到期", next_step="回访张总", next_step_due=day - timedelta(days=1))
    make_deal(people.rep, "今天到期", next_step="打电话", next_step_due=day)
    make_deal(people.rep, "明天到期", next_step="拜访", next_step_due=day + timedelta(days=1))
    make_deal(people.rep, "没有日期", next_step="想一想")
    lose(make_deal(people.rep, "已输单", next_step="不用了", next_step_due=day - timedelta(days=3)))
    make_deal(people.rep_b, "同事的逾期", next_step_due=day - timedelta(days=2))

    html = browser(people.rep).get("/").text
    overdue = section(html, "overdue")
    assert titles(overdue) == ["五天前到期", "昨天到期"]
    assert "发方案 逾期 5 天 · " + str(day - timedelta(days=5)) in item(overdue, "五天前到期")
    assert "回访张总 逾期 1 天" in item(overdue, "昨天到期")


def test_stalled_deals_are_those_over_their_stages_threshold(
    browser: Browser, people: People, make_deal: Any, tick_stage: Any
) -> None:
    stalled_for(make_deal(people.rep, "确认二十天"), 20)
    stalled_for(make_deal(people.rep, "确认十五天"), 15)
    stalled_for(make_deal(people.rep, "确认十四天"), 14)  # exactly the threshold: not yet stalled
    evaluating = make_deal(people.rep, "考察二十天")
    tick_stage(people.rep, evaluating)
    services.move(people.rep, evaluating, "advance")
    db.session.commit()
    stalled_for(evaluating, 20)  # 考察 allows 30 days
    long_evaluating = make_deal(people.rep, "考察四十天")
    tick_stage(people.rep, long_evaluating)
    services.move(people.rep, long_evaluating, "advance")
    db.session.commit()
    stalled_for(long_evaluating, 40)
    lost = make_deal(people.rep, "输掉的老商机")
    lose(lost)
    stalled_for(lost, 100)
    stalled_for(make_deal(people.outsider, "别人的老商机"), 50)

    stalled = section(browser(people.rep).get("/").text, "stalled")
    assert titles(stalled) == ["考察四十天", "确认二十天", "确认十五天"]  # the longest waiting first
    assert "考察 在本阶段停留 40 天（超过 30 天）" in item(stalled, "考察四十天")
    assert "确认 在本阶段停留 20 天（超过 14 天）" in item(stalled, "确认二十天")


@pytest.mark.parametrize("app_config", [{"PIPELINE_STALL_DAYS": {"qualify": 3}}])
def test_stall_thresholds_come_from_the_configuration(
    browser: Browser, people: People, make_deal: Any, app_config: dict[str, Any]
) -> None:
    stalled_for(make_deal(people.rep, "五天"), 5)
    stalled_for(make_deal(people.rep, "两天"), 2)
    stalled = section(browser(people.rep).get("/").text, "stalled")
    assert titles(stalled) == ["五天"] and "超过 3 天" in stalled


def test_deals_closing_this_month_with_their_totals(
    browser: Browser, people: People, make_deal: Any, make_account: Any
) -> None:
    day = today()
    first = day.replace(day=1)
    last = day.replace(day=calendar.monthrange(day.year, day.month)[1])
    account = make_account(people.rep, "华信科技")
    make_deal(people.rep, "月初", account=account, expected_close_date=first, amount=Decimal("50.50"))
    make_deal(people.rep, "今天", account=account, expected_close_date=day, amount=Decimal("100.00"))
    make_deal(people.rep, "月底美元", account=account, expected_close_date=last, amount=Decimal("3500"), currency="USD")
    make_deal(people.rep, "下个月", account=account, expected_close_date=last + timedelta(days=1))
    make_deal(people.rep, "上个月", account=account, expected_close_date=first - timedelta(days=1))
    make_deal(people.rep, "没日期", account=account)
    lose(make_deal(people.rep, "输了", account=account, expected_close_date=day, amount=Decimal("999.00")))
    make_deal(people.rep_b, "同事的", expected_close_date=day, amount=Decimal("777.00"))

    html = browser(people.rep).get("/").text
    closing = section(html, "closing")
    assert titles(closing) == ["月初", "今天", "月底美元"]
    totals = " ".join(re.sub(r"<[^>]+>", " ", section_totals(closing)).split())
    assert totals == "商机 2 个 ¥150.50 商机 1 个 USD 3,500"
    assert f"确认 ¥100 预计 {day} 成交" in item(closing, "今天")
    ids = re.findall(r'\sid="([^"]+)"', html)
    assert len(ids) == len(set(ids)), sorted(ids)


def section_totals(html: str) -> str:
    match = re.search(r'<dl class="totals" id="closing-totals">(.*?)</dl>', html, re.S)
    assert match
    return match.group(1)


def test_recent_activity_is_the_last_twenty_on_the_users_deals_and_accounts(
    browser: Browser, people: People, make_deal: Any, make_account: Any
) -> None:
    account = make_account(people.rep, "华信科技")
    deal = make_deal(people.rep, "ERP 升级", account=account)
    contact = Contact(account_id=account.id, name="刘洋")
    db.session.add(contact)
    db.session.flush()
    start = utcnow() - timedelta(days=30)
    for i in range(22):
        log_activity(people.rep, "call", f"第{i}次电话", deal_id=deal.id, occurred_at=start + timedelta(hours=i))
    log_activity(people.rep, "note", "客户备注", account_id=account.id, occurred_at=start + timedelta(days=2))
    log_activity(people.rep, "visit", "拜访刘洋", contact_id=contact.id, occurred_at=start + timedelta(days=3))
    foreign = make_deal(people.outsider, "别人的")
    log_activity(people.outsider, "call", "别人的电话", deal_id=foreign.id, occurred_at=start + timedelta(days=4))
    db.session.commit()

    recent = section(browser(people.rep).get("/").text, "recent")
    summaries = re.findall(r'<p class="summary">(.*?)</p>', recent)
    assert summaries[:3] == ["拜访刘洋", "客户备注", "第21次电话"]
    assert len(summaries) == 20 and summaries[-1] == "第4次电话" and "别人的电话" not in summaries
    assert f'<a href="/deals/{deal.id}">ERP 升级</a>' in recent
    assert f'<a href="/accounts/{account.id}">华信科技</a>' in recent  # the note and the visit link to the account


def test_a_lead_sees_their_own_deals_and_may_switch_to_the_team(
    browser: Browser, people: People, make_deal: Any
) -> None:
    late = today() - timedelta(days=2)
    make_deal(people.lead, "经理自己的", next_step_due=late)
    make_deal(people.rep, "王芳的", next_step_due=late)
    make_deal(people.outsider, "别队的", next_step_due=late)
    client = browser(people.lead)
    mine = client.get("/").text
    assert titles(section(mine, "overdue")) == ["经理自己的"]
    assert '<a href="/?team=1">团队的商机</a>' in mine
    team = client.get("/?team=1").text
    assert sorted(titles(section(team, "overdue"))) == ["王芳的", "经理自己的"]
    assert "王芳" in item(section(team, "overdue"), "王芳的")  # whose deal it is, once it may be someone else's
    client.post("/logout")
    rep = browser(people.rep)
    assert titles(section(rep.get("/?team=1").text, "overdue")) == ["王芳的"]  # a rep has no team view
    assert "team=1" not in rep.get("/").text
    client.post("/logout")
    everyone = browser(people.admin).get("/?team=1").text
    assert sorted(titles(section(everyone, "overdue"))) == ["别队的", "王芳的", "经理自己的"]


def test_empty_sections_say_what_to_do(browser: Browser, people: People) -> None:
    html = browser(people.rep).get("/").text
    assert "没有逾期的下一步" in section(html, "overdue")
    assert "没有在某个阶段停留过久的商机" in section(html, "stalled")
    day = today()
    first, last = day.replace(day=1), day.replace(day=calendar.monthrange(day.year, day.month)[1])
    assert f"{first} 至 {last} 之间没有预计成交的进行中商机" in section(html, "closing")
    assert "还没有活动" in section(html, "recent")


def test_my_day_makes_the_same_number_of_queries_for_few_or_many_deals(
    browser: Browser, people: People, make_deal: Any, make_account: Any
) -> None:
    day = today()

    def busy(owner: User, i: int) -> None:
        account = make_account(owner, f"客户{i}")
        deal = make_deal(
            owner,
            f"商机{i}",
            account=account,
            next_step_due=day - timedelta(days=i + 1),
            expected_close_date=day,
            amount=Decimal(i),
            currency="USD" if i % 2 else "CNY",
        )
        stalled_for(deal, 20 + i)
        log_activity(owner, "call", f"电话{i}", deal_id=deal.id)
        log_activity(owner, "note", f"备注{i}", account_id=account.id)
        db.session.commit()

    client = browser(people.lead)
    busy(people.rep, 0)
    client.get("/?team=1")  # warm-up: first-request checks are not the page's cost
    with counting_statements() as few:
        html = client.get("/?team=1").text
    assert len(titles(section(html, "overdue"))) == 1
    for i in range(1, 25):
        busy(people.rep if i % 2 else people.lead, i)
    with counting_statements() as many:
        html = client.get("/?team=1").text
    assert len(titles(section(html, "overdue"))) == 25 and len(titles(section(html, "stalled"))) == 25
    assert len(many) == len(few), many


def test_the_month_runs_from_its_first_to_its_last_day_in_a_leap_year(people: People, make_deal: Any) -> None:
    from pipeline.deals.my_day import my_day

    for title, close in (
        ("一月底", date(2028, 1, 31)),
        ("二月一日", date(2028, 2, 1)),
        ("闰日", date(2028, 2, 29)),
        ("三月一日", date(2028, 3, 1)),
    ):
        make_deal(people.rep, title, expected_close_date=close, amount=Decimal("10.00"))
    day = my_day(people.rep, date(2028, 2, 15))
    assert (day.month_start, day.month_end) == (date(2028, 2, 1), date(2028, 2, 29))
    assert [d.title for d in day.closing] == ["二月一日", "闰日"]
    assert [(t.currency, t.count, t.amount) for t in day.closing_totals] == [("CNY", 2, Decimal("20.00"))]
