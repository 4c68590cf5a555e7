"""Activities on the deal page: log a touch, read the latest first, count them, and refuse what cannot be."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from pipeline.accounts.models import Account, Contact
from pipeline.activities import panel, services
from pipeline.activities.models import ACTIVITY_KIND_CHOICES, ACTIVITY_KINDS, Activity
from pipeline.auth.models import User
from pipeline.core.timeutil import team_zone
from pipeline.deals.models import Deal
from pipeline.extensions import db
from tests.conftest import People, counting_statements
from tests.pages import plain, section, text


def listed(html: str) -> list[str]:
    return [plain(item) for item in re.findall(r'<li class="activity[^"]*">(.*?)</li>', html, re.S)]


def rows() -> int:
    return db.session.scalar(select(func.count()).select_from(Activity)) or 0


def shanghai_today() -> Any:
    return datetime.now(team_zone()).date()


@pytest.fixture
def deal_with_contacts(
    people: People, make_account: Callable[..., Account], make_deal: Callable[..., Deal]
) -> tuple[Deal, Contact, Contact]:
    """A deal for an account with one contact, and a contact at another of the rep's accounts."""
    account = make_account(people.rep, "杭州云帆网络")
    mine = Contact(account_id=account.id, name="张总", title="信息部总监")
    other = make_account(people.rep, "别家公司")
    elsewhere = Contact(account_id=other.id, name="别家的李工")
    db.session.add_all([mine, elsewhere])
    db.session.commit()
    return make_deal(people.rep, account=account), mine, elsewhere


def log(client: FlaskClient, deal: Deal, **fields: Any) -> Any:
    data = {"kind": "call", "occurred_at": "2026-11-20T10:30", "contact_id": "", "summary": "电话沟通", "outcome": ""}
    data.update(fields)
    return client.post(f"/deals/{deal.id}/activities", data={f"activity-{k}": v for k, v in data.items()})


def test_kind_labels_come_from_one_list_the_database_agrees_with() -> None:
    assert ACTIVITY_KINDS == ("call", "visit", "email", "meeting", "note")
    assert [c.label("zh") for c in ACTIVITY_KIND_CHOICES] == ["电话", "拜访", "邮件", "会议", "备注"]
    constraint = next(c for c in Activity.__table__.constraints if c.name == "ck_activities_kind")
    assert str(constraint.sqltext) == "kind IN (" + ", ".join(f"'{k}'" for k in ACTIVITY_KINDS) + ")"


def test_a_rep_logs_a_visit_with_a_contact_and_it_is_saved_in_utc(
    browser: Callable[[User], FlaskClient], people: People, deal_with_contacts: tuple[Deal, Contact, Contact]
) -> None:
    deal, contact, _ = deal_with_contacts
    client = browser(people.rep)
    response = log(
        client,
        deal,
        kind="visit",
        occurred_at="2026-11-20T08:15",
        contact_id=str(contact.id),
        summary="  上门演示仓储方案  ",
        outcome="客户要求下周报价",
    )
    assert response.status_code == 302
    assert response.location == f"/deals/{deal.id}#activities"
    activity = db.session.scalars(select(Activity)).one()
    assert (activity.kind, activity.summary, activity.outcome) == ("visit", "上门演示仓储方案", "客户要求下周报价")
    assert (activity.deal_id, activity.account_id, activity.contact_id) == (deal.id, deal.account_id, contact.id)
    assert activity.user_id == people.rep.id
    assert activity.occurred_at == datetime(2026, 11, 20, 0, 15, tzinfo=UTC)  # 08:15 in Shanghai
    assert "活动已记录。" in text(client.get(f"/deals/{deal.id}"))


def test_the_list_is_latest_first_with_who_when_whom_and_the_touch_count(
    browser: Callable[[User], FlaskClient], people: People, deal_with_contacts: tuple[Deal, Contact, Contact]
) -> None:
    deal, contact, _ = deal_with_contacts
    services.log_for_deal(
        people.rep, deal, "call", "首次电话", occurred_at=datetime(2026, 11, 2, 1, 0, tzinfo=UTC), outcome="约了拜访"
    )
    services.log_for_deal(
        people.lead,
        deal,
        "meeting",
        "方案评审会",
        contact_id=contact.id,
        occurred_at=datetime(2026, 11, 19, 23, 30, tzinfo=UTC),  # 2026-11-20 07:30 in Shanghai
    )
    budget = datetime(2026, 11, 10, 4, 0, tzinfo=UTC)
    services.log_for_deal(people.rep, deal, "note", "客户预算已批", occurred_at=budget)
    db.session.commit()
    page = text(browser(people.rep).get(f"/deals/{deal.id}"))
    panel = section(page, "activities")
    assert plain(section(page, "touches")) == "3 次接触 · 最近 2026-11-20"
    entries = listed(panel)
    assert len(entries) == 3
    assert entries[0].startswith("会议 2026-11-20 07:30 李经理 联系人：张总 方案评审会")
    assert entries[1].startswith("备注 2026-11-10 12:00 王芳 客户预算已批")
    assert entries[2] == "电话 2026-11-02 09:00 王芳 首次电话 结果：约了拜访"


def test_the_blank_form_starts_now_in_the_team_zone_and_offers_only_the_deals_contacts(
    browser: Callable[[User], FlaskClient], people: People, deal_with_contacts: tuple[Deal, Contact, Contact]
) -> None:
    deal, _, _ = deal_with_contacts
    before = shanghai_today()
    page = text(browser(people.rep).get(f"/deals/{deal.id}"))
    after = shanghai_today()
    panel = section(page, "activities")
    field = re.search(r"<input[^>]*\bname=\"activity-occurred_at\"[^>]*>", panel)
    assert field and 'type="datetime-local"' in field.group(0)
    when = re.search(r'value="([^"]+)"', field.group(0))
    assert when and when.group(1)[:10] in {before.isoformat(), after.isoformat()}
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d", when.group(1))
    assert "张总 · 信息部总监" in panel and "别家的李工" not in panel
    for label in ("电话", "拜访", "邮件", "会议", "备注"):
        assert f">{label}</option>" in panel
    assert plain(section(page, "touches")) == "0 次接触"
    assert "尚无活动。" in panel
    for name in ("kind", "occurred_at", "contact_id", "summary", "outcome"):
        assert f'<label for="activity-{name}">' in panel


def test_a_touch_without_a_summary_or_in_the_future_is_refused_next_to_the_field(
    browser: Callable[[User], FlaskClient], people: People, deal_with_contacts: tuple[Deal, Contact, Contact]
) -> None:
    deal, _, elsewhere = deal_with_contacts
    client = browser(people.rep)
    empty = log(client, deal, summary="   ", outcome="留着")
    assert empty.status_code == 422
    panel = section(text(empty), "activities")
    assert '<p class="field-error" id="activity-summary-error">请说明发生了什么。</p>' in panel
    assert "留着" in panel  # what was typed stays
    assert '<a href="#activity-summary">摘要</a>' in section(text(empty), "refusal")
    tomorrow = shanghai_today() + timedelta(days=1)
    future = log(client, deal, occurred_at=f"{tomorrow.isoformat()}T00:05")
    assert future.status_code == 422
    assert "日期不能晚于今天。" in section(text(future), "activities")
    ancient = log(client, deal, occurred_at="0001-01-01T00:00")
    assert ancient.status_code == 422
    assert "日期太早了。" in text(ancient)
    for wrong in ({"kind": "lunch"}, {"contact_id": str(elsewhere.id)}, {"occurred_at": "昨天"}, {"occurred_at": ""}):
        assert log(client, deal, **wrong).status_code == 422, wrong
    assert rows() == 0
    later_today = log(client, deal, occurred_at=f"{shanghai_today().isoformat()}T23:59", summary="晚上的会")
    assert later_today.status_code == 302  # later today is still today
    assert rows() == 1


def test_someone_elses_deal_answers_404_and_logs_nothing(
    browser: Callable[[User], FlaskClient], people: People, make_deal: Callable[..., Deal]
) -> None:
    theirs = make_deal(people.rep_b, "张伟的商机")
    assert log(browser(people.rep), theirs).status_code == 404
    assert log(browser(people.other_lead), theirs).status_code == 404
    assert log(browser(people.rep), theirs, kind="nonsense").status_code == 404  # 404 before any validation
    assert rows() == 0
    assert log(browser(people.lead), theirs).status_code == 302  # the lead of the owner's team may


def test_the_deal_pages_query_count_does_not_grow_with_its_activities(
    browser: Callable[[User], FlaskClient], people: People, deal_with_contacts: tuple[Deal, Contact, Contact]
) -> None:
    deal, contact, _ = deal_with_contacts
    client = browser(people.rep)

    def add(n: int) -> None:
        for i in range(n):
            who = people.rep if i % 2 else people.lead
            with_whom = contact.id if i % 3 else None
            services.log_for_deal(who, deal, ACTIVITY_KINDS[i % 5], f"第{i}次", contact_id=with_whom)
        db.session.commit()

    add(2)
    client.get(f"/deals/{deal.id}")
    with counting_statements() as few:
        client.get(f"/deals/{deal.id}")
    add(12)
    with counting_statements() as many:
        page = text(client.get(f"/deals/{deal.id}"))
    assert len(listed(section(page, "activities"))) == 14
    assert len(many) == len(few)


def test_activities_in_english(
    browser: Callable[[User], FlaskClient], people: People, deal_with_contacts: tuple[Deal, Contact, Contact]
) -> None:
    deal, _, _ = deal_with_contacts
    services.log_for_deal(people.rep, deal, "email", "发了报价", occurred_at=datetime(2026, 11, 20, 2, 0, tzinfo=UTC))
    db.session.commit()
    client = browser(people.rep)
    client.post("/lang", data={"lang": "en", "next": "/deals"})
    page = text(client.get(f"/deals/{deal.id}"))
    assert plain(section(page, "touches")) == "Touches: 1 · latest 2026-11-20"
    assert listed(section(page, "activities"))[0].startswith("Email 2026-11-20 10:00")


class TestCsrf:
    @pytest.fixture
    def app_config(self) -> dict[str, Any]:
        return {"WTF_CSRF_ENABLED": True}

    def test_logging_without_the_pages_token_is_refused(
        self, client: FlaskClient, people: People, make_deal: Callable[..., Deal]
    ) -> None:
        deal = make_deal(people.rep)
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', text(client.get("/login")))
        assert token
        client.post("/login", data={"email": "rep@example.com", "password": "rep-pass-1", "csrf_token": token.group(1)})
        assert log(client, deal).status_code == 400
        assert rows() == 0
        panel = section(text(client.get(f"/deals/{deal.id}")), "activities")
        token = re.search(r'name="activity-csrf_token"[^>]*value="([^"]+)"', panel)
        assert token
        data = {"activity-kind": "call", "activity-occurred_at": "2026-11-20T10:30", "activity-summary": "电话"}
        response = client.post(f"/deals/{deal.id}/activities", data={**data, "activity-csrf_token": token.group(1)})
        assert response.status_code == 302
        assert rows() == 1


def test_a_long_log_shows_the_latest_and_says_how_many_there_are(
    browser: Callable[[User], FlaskClient],
    people: People,
    make_deal: Callable[..., Deal],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(panel, "SHOWN", 2)
    deal = make_deal(people.rep)
    for day in (1, 2, 3):
        when = datetime(2026, 11, day, tzinfo=UTC)
        services.log_for_deal(people.rep, deal, "call", f"11月{day}日电话", occurred_at=when)
    db.session.commit()
    page = section(text(browser(people.rep).get(f"/deals/{deal.id}")), "activities")
    assert [entry.split()[-1] for entry in listed(page)] == ["11月3日电话", "11月2日电话"]
    assert "显示最近的 2 条，共 3 条。" in page
    assert "3 次接触 · 最近 2026-11-03" in plain(page)
