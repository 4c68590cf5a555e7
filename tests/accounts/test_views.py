"""The account pages as reps, leads and admins use them: list, search, filters, forms, contacts and notes."""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from pipeline.accounts.models import ACCOUNT_KINDS, Account, Contact
from pipeline.activities.models import ACTIVITY_KINDS, Activity
from pipeline.activities.services import log_activity
from pipeline.auth.models import User
from pipeline.core.changelog import FieldChange
from pipeline.deals import services as deal_services
from pipeline.deals.method import ACCOUNT_KIND_CHOICES, ACTIVITY_KIND_CHOICES
from pipeline.extensions import db
from tests.conftest import People, counting_statements

Browser = Callable[[User], FlaskClient]


def names_listed(html: str) -> list[str]:
    return re.findall(r'<td><a href="/accounts/\d+">(.*?)</a></td>', html)


def row_of(html: str, name: str) -> list[str]:
    """The cells of the list's row for this account, as text."""
    for row in re.findall(r"<tr>(.*?)</tr>", html, re.S):
        if f">{name}</a>" in row:
            cells = re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
            return [" ".join(re.sub(r"<[^>]+>", " ", cell).split()) for cell in cells]
    raise AssertionError(f"no row for {name}")


def section(html: str, element_id: str) -> str:
    match = re.search(rf'<section[^>]*\bid="{element_id}"[^>]*>(.*?)</section>', html, re.S)
    assert match, f"no #{element_id} on the page"
    return match.group(1)


def field_block(html: str, field_id: str) -> str:
    """The form field's block: its label, input and the message shown next to it."""
    match = re.search(rf'<div class="field[^"]*">\s*<label for="{field_id}">.*?</div>', html, re.S)
    assert match, f"no field {field_id}"
    return match.group(0)


def count(model: Any) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def test_account_and_activity_kinds_are_labelled_once_for_every_key() -> None:
    assert tuple(c.key for c in ACCOUNT_KIND_CHOICES) == ACCOUNT_KINDS
    assert tuple(c.key for c in ACTIVITY_KIND_CHOICES) == ACTIVITY_KINDS


# ---- The list -------------------------------------------------------------------------------------------------


def test_a_rep_lists_their_accounts_with_open_deals_and_pipeline(
    browser: Browser, people: People, make_account: Any, make_deal: Any, tick_stage: Any
) -> None:
    huaxin = make_account(people.rep, "上海华信科技", kind="b2b", industry="制造", region="华东")
    make_account(people.rep, "李女士家庭", kind="b2c", region="华东")
    make_account(people.rep_b, "同事的客户")
    make_account(people.outsider, "别队的客户")
    make_deal(people.rep, "一期", account=huaxin, amount=Decimal("100000.00"))
    make_deal(people.rep, "二期", account=huaxin, amount=Decimal("20000.50"))
    make_deal(people.rep, "海外", account=huaxin, amount=Decimal("3500.00"), currency="USD")
    lost = make_deal(people.rep, "丢掉的", account=huaxin, amount=Decimal("999.00"))
    deal_services.move(people.rep, lost, "lose", lost_reason=deal_services.lost_reasons()[0].key)
    db.session.commit()

    page = browser(people.rep).get("/accounts")
    assert page.status_code == 200
    assert names_listed(page.text) == ["李女士家庭", "上海华信科技"]  # newest first, only the rep's
    assert row_of(page.text, "上海华信科技") == [
        "上海华信科技",
        "商业客户（B2B）",
        "—",
        "",
        "制造",
        "华东",
        "王芳",
        "3",
        "¥120,000.50 USD 3,500",
    ]
    assert row_of(page.text, "李女士家庭")[1] == "个人与家庭客户（B2C）"
    assert row_of(page.text, "李女士家庭")[7:] == ["0", "—"]


def test_open_deals_count_only_the_deals_the_reader_may_see(
    browser: Browser, people: People, make_account: Any, make_deal: Any
) -> None:
    account = make_account(people.rep, "共同客户")
    make_deal(people.rep, "王芳的", account=account, amount=Decimal("10.00"))
    deal_services.create_deal(people.lead, account, "张伟的", owner_id=people.rep_b.id, amount=Decimal("90.00"))
    db.session.commit()
    assert row_of(browser(people.rep).get("/accounts").text, "共同客户")[7:] == ["1", "¥10"]
    client = browser(people.lead)
    assert row_of(client.get("/accounts").text, "共同客户")[7:] == ["2", "¥100"]


def test_search_covers_name_industry_and_region_ignoring_case_and_wildcards(
    browser: Browser, people: People, make_account: Any
) -> None:
    make_account(people.rep, "Acme Robotics", industry="Manufacturing", region="East China")
    make_account(people.rep, "杭州云栖数据", industry="软件", region="浙江")
    make_account(people.rep, "100%_纯净水厂", industry="食品", region="华南")
    make_account(people.outsider, "ACME 别队", industry="Manufacturing")
    db.session.commit()
    client = browser(people.rep)
    assert names_listed(client.get("/accounts?q=acme").text) == ["Acme Robotics"]
    assert names_listed(client.get("/accounts?q=MANUFACT").text) == ["Acme Robotics"]
    assert names_listed(client.get("/accounts?q=east+china").text) == ["Acme Robotics"]
    assert names_listed(client.get("/accounts?q=浙江").text) == ["杭州云栖数据"]
    assert names_listed(client.get("/accounts?q=软件").text) == ["杭州云栖数据"]
    assert names_listed(client.get("/accounts?q=%25_").text) == ["100%_纯净水厂"]
    nothing = client.get("/accounts?q=不存在")
    assert names_listed(nothing.text) == [] and "没有符合这些条件的客户" in nothing.text


def test_filters_by_kind_region_and_industry(browser: Browser, people: People, make_account: Any) -> None:
    make_account(people.rep, "工厂甲", kind="b2b", industry="制造", region="华东")
    make_account(people.rep, "工厂乙", kind="b2b", industry="制造", region="华南")
    make_account(people.rep, "张先生", kind="b2c", industry="", region="华东")
    make_account(people.outsider, "别队工厂", industry="化工", region="西北")
    db.session.commit()
    client = browser(people.rep)
    page = client.get("/accounts").text
    select = re.search(r'<select id="region".*?</select>', page, re.S)
    assert select
    regions = re.findall(r'<option[^>]*value="([^"]*)"', select.group(0))
    assert regions == ["", "华东", "华南"]  # the values in use among the rep's accounts, not other teams'
    assert names_listed(client.get("/accounts?kind=b2c").text) == ["张先生"]
    assert names_listed(client.get("/accounts?region=华东").text) == ["张先生", "工厂甲"]
    assert names_listed(client.get("/accounts?industry=制造&region=华南").text) == ["工厂乙"]
    assert names_listed(client.get("/accounts?industry=化工").text) == []  # another team's value finds nothing
    assert client.get("/accounts?kind=b2x").status_code == 422


def test_a_lead_filters_by_owner_within_the_team_and_a_rep_cannot(
    browser: Browser, people: People, make_account: Any
) -> None:
    make_account(people.rep, "王芳的客户")
    make_account(people.rep_b, "张伟的客户")
    make_account(people.outsider, "别队的客户")
    db.session.commit()
    client = browser(people.lead)
    assert sorted(names_listed(client.get("/accounts").text)) == ["张伟的客户", "王芳的客户"]
    assert names_listed(client.get(f"/accounts?owner={people.rep_b.id}").text) == ["张伟的客户"]
    assert client.get(f"/accounts?owner={people.outsider.id}").status_code == 422
    client.post("/logout")
    rep = browser(people.rep)
    assert 'id="owner"' not in rep.get("/accounts").text
    assert rep.get(f"/accounts?owner={people.rep_b.id}").status_code == 422


def test_an_admin_lists_every_account(browser: Browser, people: People, make_account: Any) -> None:
    for owner, name in ((people.rep, "甲"), (people.outsider, "乙"), (people.other_lead, "丙")):
        make_account(owner, name)
    db.session.commit()
    assert sorted(names_listed(browser(people.admin).get("/accounts").text)) == sorted(["甲", "乙", "丙"])


def test_the_list_pages_by_keyset_keeping_the_filters(
    app: Flask, browser: Browser, people: People, make_account: Any
) -> None:
    accounts = [make_account(people.rep, f"客户{i}", region="华东") for i in range(5)]
    make_account(people.rep, "别的地区", region="华南")
    db.session.commit()
    app.config["PIPELINE_PAGE_SIZE"] = 2
    client = browser(people.rep)
    first = client.get("/accounts?region=华东").text
    assert names_listed(first) == ["客户4", "客户3"]
    older = re.search(r'href="([^"]*before=\d+[^"]*)"', first)
    assert older and "region=" in older.group(1)
    second = client.get(older.group(1).replace("&amp;", "&")).text
    assert names_listed(second) == ["客户2", "客户1"]
    third = client.get(f"/accounts?region=华东&before={accounts[1].id}").text
    assert names_listed(third) == ["客户0"] and "更早的客户" not in third


def test_the_lists_query_count_does_not_grow_with_the_number_of_accounts(
    browser: Browser, people: People, make_account: Any, make_deal: Any
) -> None:
    owners = [people.rep, people.rep_b, people.lead]
    for i in range(3):
        make_deal(owners[i % 3], f"商机{i}", account=make_account(owners[i % 3], f"客户{i}", region=f"地区{i}"))
    client = browser(people.lead)
    client.get("/accounts")  # warm-up: first-request checks are not the list's cost
    with counting_statements() as few:
        assert len(names_listed(client.get("/accounts").text)) == 3
    for i in range(3, 30):
        account = make_account(owners[i % 3], f"客户{i}", region=f"地区{i}", industry=f"行业{i}")
        make_deal(owners[i % 3], f"商机{i}", account=account, currency="USD" if i % 2 else "CNY")
    with counting_statements() as many:
        assert len(names_listed(client.get("/accounts").text)) == 30
    assert len(many) == len(few), many


# ---- New and edited accounts ------------------------------------------------------------------------------------


def test_a_rep_creates_an_account_for_themself(browser: Browser, people: People) -> None:
    client = browser(people.rep)
    form = client.get("/accounts/new").text
    owners = re.findall(r'<option[^>]*value="(\d+)"', re.search(r'<select id="owner_id".*?</select>', form, re.S)[0])
    assert owners == [str(people.rep.id)]  # a rep may own only their own accounts
    response = client.post(
        "/accounts/new",
        data={
            "name": "  宁波港务集团 ",
            "kind": "b2b",
            "industry": "物流",
            "region": "华东",
            "owner_id": people.rep.id,
        },
    )
    assert response.status_code == 302
    account = db.session.scalar(select(Account).where(Account.name == "宁波港务集团"))
    assert account is not None and account.owner_id == people.rep.id and account.industry == "物流"
    assert response.location == f"/accounts/{account.id}"
    assert "客户已创建" in client.get(response.location).text


def test_a_rep_cannot_give_a_new_account_to_a_colleague(browser: Browser, people: People) -> None:
    response = browser(people.rep).post(
        "/accounts/new", data={"name": "某公司", "kind": "b2b", "owner_id": people.rep_b.id}
    )
    assert response.status_code == 422
    assert "field-error" in field_block(response.text, "owner_id")
    assert count(Account) == 0


def test_a_lead_creates_an_account_for_a_team_member_only(browser: Browser, people: People) -> None:
    client = browser(people.lead)
    assert (
        client.post("/accounts/new", data={"name": "团队客户", "kind": "b2c", "owner_id": people.rep_b.id}).status_code
        == 302
    )
    assert db.session.scalar(select(Account.owner_id).where(Account.name == "团队客户")) == people.rep_b.id
    refused = client.post("/accounts/new", data={"name": "别队客户", "kind": "b2b", "owner_id": people.outsider.id})
    assert refused.status_code == 422
    assert count(Account) == 1


def test_a_missing_name_is_shown_next_to_the_field_and_nothing_is_saved(browser: Browser, people: People) -> None:
    client = browser(people.rep)
    response = client.post(
        "/accounts/new", data={"name": "   ", "kind": "b2b", "industry": "制造", "owner_id": people.rep.id}
    )
    assert response.status_code == 422
    name = field_block(response.text, "name")
    assert 'aria-invalid="true"' in name and '<p class="field-error" id="name-error">请填写名称。</p>' in name
    assert 'value="制造"' in field_block(response.text, "industry")  # what was typed stays
    assert "field-error" not in field_block(response.text, "industry")
    assert '<a href="#name">名称</a>' in response.text  # the summary links to the field
    assert 'name="next" type="hidden" value="/accounts/new"' in response.text  # switching language keeps the form
    too_long = client.post("/accounts/new", data={"name": "长" * 201, "kind": "b2b", "owner_id": people.rep.id})
    assert too_long.status_code == 422 and "field-error" in field_block(too_long.text, "name")
    wrong_kind = client.post("/accounts/new", data={"name": "某公司", "kind": "b2x", "owner_id": people.rep.id})
    assert wrong_kind.status_code == 422 and "field-error" in field_block(wrong_kind.text, "kind")
    assert count(Account) == 0


def test_editing_an_account_records_each_change_in_its_history(
    browser: Browser, people: People, make_account: Any
) -> None:
    account = make_account(people.rep, "华信科技", industry="制造", region="华东")
    db.session.commit()
    client = browser(people.lead)
    form = client.get(f"/accounts/{account.id}/edit").text
    assert 'value="华信科技"' in form and 'value="制造"' in form
    response = client.post(
        f"/accounts/{account.id}/edit",
        data={"name": "华信科技集团", "kind": "b2b", "industry": "制造", "region": "华南", "owner_id": people.rep_b.id},
    )
    assert response.status_code == 302 and response.location == f"/accounts/{account.id}"
    db.session.expire_all()
    changes = db.session.scalars(
        select(FieldChange).where(FieldChange.entity == "account", FieldChange.entity_id == account.id)
    ).all()
    assert {(c.field, c.old_value, c.new_value, c.user_id) for c in changes} == {
        ("name", "华信科技", "华信科技集团", people.lead.id),
        ("region", "华东", "华南", people.lead.id),
        ("owner_id", str(people.rep.id), str(people.rep_b.id), people.lead.id),
    }
    history = section(client.get(f"/accounts/{account.id}").text, "history")
    assert "地区：华东 → 华南" in history and "名称：华信科技 → 华信科技集团" in history
    assert "负责人：王芳 → 张伟" in history and "李经理" in history
    unchanged = client.post(
        f"/accounts/{account.id}/edit",
        data={"name": "华信科技集团", "kind": "b2b", "industry": "制造", "region": "华南", "owner_id": people.rep_b.id},
    )
    assert unchanged.status_code == 302 and "没有任何修改" in client.get(unchanged.location).text


def test_a_refused_edit_shows_the_message_by_the_field_and_changes_nothing(
    browser: Browser, people: People, make_account: Any
) -> None:
    account = make_account(people.rep, "华信科技", region="华东")
    db.session.commit()
    response = browser(people.rep).post(
        f"/accounts/{account.id}/edit",
        data={"name": "", "kind": "b2b", "region": "华南", "owner_id": people.rep.id},
    )
    assert response.status_code == 422
    assert "请填写名称。" in field_block(response.text, "name")
    assert 'value="华南"' in field_block(response.text, "region")
    db.session.expire_all()
    assert (account.name, account.region) == ("华信科技", "华东")
    assert count(FieldChange) == 0


# ---- Who sees what ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/accounts/{a}", "/accounts/{a}/edit", "/accounts/{a}/contacts/new", "/contacts/{c}/edit"]
)
def test_another_reps_account_answers_404_to_a_rep_and_opens_for_their_lead_and_an_admin(
    browser: Browser, people: People, make_account: Any, path: str
) -> None:
    account = make_account(people.rep_b, "张伟的客户")
    contact = Contact(account_id=account.id, name="刘洋")
    db.session.add(contact)
    db.session.commit()
    url = path.format(a=account.id, c=contact.id)
    client = browser(people.rep)
    assert client.get(url).status_code == 404
    if not path.endswith("}"):  # the forms answer 404 to a POST too, and change nothing
        assert client.post(url, data={"name": "改名", "kind": "b2b", "owner_id": people.rep.id}).status_code == 404
    client.post("/logout")
    assert browser(people.lead).get(url).status_code == 200
    client.post("/logout")
    assert browser(people.other_lead).get(url).status_code == 404  # another team's lead
    client.post("/logout")
    assert browser(people.admin).get(url).status_code == 200
    db.session.expire_all()
    assert db.session.get(Account, account.id).name == "张伟的客户"
    assert db.session.get(Contact, contact.id).name == "刘洋"


def test_notes_cannot_be_added_to_an_account_one_cannot_see(
    browser: Browser, people: People, make_account: Any
) -> None:
    account = make_account(people.outsider, "别队的客户")
    db.session.commit()
    assert browser(people.rep).post(f"/accounts/{account.id}/notes", data={"note": "偷偷写"}).status_code == 404
    assert count(Activity) == 0


# ---- One account -------------------------------------------------------------------------------------------------


def test_the_account_page_shows_its_visible_deals_contacts_and_activity(
    browser: Browser, people: People, make_account: Any, make_deal: Any
) -> None:
    account = make_account(people.rep, "华信科技", industry="制造", region="华东")
    other = make_account(people.rep, "别的客户")
    deal = make_deal(people.rep, "ERP 升级", account=account, amount=Decimal("880000.00"))
    make_deal(people.rep, "别的商机", account=other)
    hidden = deal_services.create_deal(people.lead, account, "张伟跟的", owner_id=people.rep_b.id)
    contact = Contact(
        account_id=account.id, name="刘洋", title="采购经理", mobile="13800138000", email="liu@example.cn"
    )
    db.session.add(contact)
    db.session.flush()
    log_activity(people.rep, "visit", "拜访刘总，了解需求", deal_id=deal.id)
    log_activity(people.rep, "call", "电话确认预算", contact_id=contact.id)
    log_activity(people.rep, "meeting", "季度回顾", account_id=account.id)
    log_activity(people.rep_b, "call", "张伟的电话", deal_id=hidden.id)
    log_activity(people.rep, "call", "别的客户的电话", account_id=other.id)
    db.session.commit()

    page = browser(people.rep).get(f"/accounts/{account.id}").text
    deals = section(page, "deals")
    assert f'href="/deals/{deal.id}">ERP 升级</a>' in deals and "确认" in deals and "¥880,000" in deals
    assert "张伟跟的" not in page and "别的商机" not in page
    contacts = section(page, "contacts")
    assert "刘洋" in contacts and "采购经理" in contacts and "mailto:liu@example.cn" in contacts
    assert f'href="/contacts/{contact.id}/edit"' in contacts
    activity = section(page, "activity")
    assert "拜访刘总" in activity and "电话确认预算" in activity and "季度回顾" in activity
    assert "张伟的电话" not in activity and "别的客户的电话" not in activity
    assert f'href="/deals/new?account_id={account.id}"' in page
    ids = re.findall(r'\sid="([^"]+)"', page)
    assert len(ids) == len(set(ids)), sorted(ids)  # labels and links point at one element each


def test_a_quick_note_is_kept_on_the_account(browser: Browser, people: People, make_account: Any) -> None:
    account = make_account(people.rep, "华信科技")
    db.session.commit()
    client = browser(people.rep)
    assert "还没有备注" in section(client.get(f"/accounts/{account.id}").text, "account-notes")
    response = client.post(f"/accounts/{account.id}/notes", data={"note": "刘总下月生日，准备贺卡"})
    assert response.status_code == 302 and response.location == f"/accounts/{account.id}#account-notes"
    note = db.session.scalar(select(Activity))
    assert (note.kind, note.account_id, note.user_id, note.summary) == (
        "note",
        account.id,
        people.rep.id,
        "刘总下月生日，准备贺卡",
    )
    page = client.get(f"/accounts/{account.id}").text
    assert "刘总下月生日" in section(page, "account-notes") and "刘总下月生日" not in section(page, "activity")
    empty = client.post(f"/accounts/{account.id}/notes", data={"note": "  "})
    assert empty.status_code == 422 and "请先写备注内容。" in field_block(empty.text, "note")
    assert count(Activity) == 1


def test_the_new_deal_link_preselects_the_account(browser: Browser, people: People, make_account: Any) -> None:
    make_account(people.rep, "甲客户")
    account = make_account(people.rep, "乙客户")
    foreign = make_account(people.outsider, "别队客户")
    db.session.commit()
    client = browser(people.rep)
    form = client.get(f"/deals/new?account_id={account.id}").text
    assert re.search(rf'<option selected value="{account.id}">乙客户</option>', form)
    assert (
        "selected"
        not in re.search(
            r'<select id="account_id".*?</select>', client.get(f"/deals/new?account_id={foreign.id}").text, re.S
        )[0]
    )


# ---- Contacts --------------------------------------------------------------------------------------------------


def test_a_contact_is_added_with_all_their_details(browser: Browser, people: People, make_account: Any) -> None:
    account = make_account(people.rep, "华信科技")
    db.session.commit()
    client = browser(people.rep)
    assert client.get(f"/accounts/{account.id}/contacts/new").status_code == 200
    response = client.post(
        f"/accounts/{account.id}/contacts/new",
        data={
            "name": " 刘洋 ",
            "title": "采购经理",
            "mobile": "13800138000",
            "phone": "021-5555 0000",
            "email": "liu.yang@huaxin.example.cn",
            "birthday": "1985-06-01",
            "address": "上海市浦东新区世纪大道 100 号",
            "notes": "喜欢喝茶",
        },
    )
    assert response.status_code == 302 and response.location == f"/accounts/{account.id}#contacts"
    contact = db.session.scalar(select(Contact))
    assert (contact.account_id, contact.name, contact.email, str(contact.birthday)) == (
        account.id,
        "刘洋",
        "liu.yang@huaxin.example.cn",
        "1985-06-01",
    )
    assert "021-5555 0000" in section(client.get(f"/accounts/{account.id}").text, "contacts")


@pytest.mark.parametrize("email", ["liu.example.cn", "liu@", "liu @example.cn", "liu@example", "@example.cn"])
def test_a_wrong_email_is_shown_next_to_the_field_and_nothing_is_saved(
    browser: Browser, people: People, make_account: Any, email: str
) -> None:
    account = make_account(people.rep, "华信科技")
    db.session.commit()
    response = browser(people.rep).post(
        f"/accounts/{account.id}/contacts/new", data={"name": "刘洋", "email": email, "mobile": "13800138000"}
    )
    assert response.status_code == 422
    assert "请填写有效的电子邮箱" in field_block(response.text, "email")
    assert 'value="13800138000"' in field_block(response.text, "mobile")
    assert count(Contact) == 0


def test_a_contact_needs_a_name_and_a_real_date(browser: Browser, people: People, make_account: Any) -> None:
    account = make_account(people.rep, "华信科技")
    db.session.commit()
    response = browser(people.rep).post(
        f"/accounts/{account.id}/contacts/new", data={"name": "", "birthday": "1985-13-40"}
    )
    assert response.status_code == 422
    assert "请填写名称。" in field_block(response.text, "name")
    assert "field-error" in field_block(response.text, "birthday")
    assert count(Contact) == 0


def test_editing_a_contact_checks_the_email_and_logs_the_change(
    browser: Browser, people: People, make_account: Any
) -> None:
    account = make_account(people.rep, "华信科技")
    contact = Contact(account_id=account.id, name="刘洋", email="liu@example.cn")
    db.session.add(contact)
    db.session.commit()
    client = browser(people.rep)
    assert 'value="liu@example.cn"' in client.get(f"/contacts/{contact.id}/edit").text
    wrong = client.post(f"/contacts/{contact.id}/edit", data={"name": "刘洋", "email": "liu at example.cn"})
    assert wrong.status_code == 422 and "请填写有效的电子邮箱" in field_block(wrong.text, "email")
    db.session.expire_all()
    assert db.session.get(Contact, contact.id).email == "liu@example.cn"
    saved = client.post(
        f"/contacts/{contact.id}/edit", data={"name": "刘洋", "title": "采购总监", "email": "liu.yang@example.cn"}
    )
    assert saved.status_code == 302 and saved.location == f"/accounts/{account.id}#contacts"
    db.session.expire_all()
    fresh = db.session.get(Contact, contact.id)
    assert (fresh.title, fresh.email) == ("采购总监", "liu.yang@example.cn")
    logged = db.session.scalars(select(FieldChange).where(FieldChange.entity == "contact")).all()
    assert {(c.field, c.old_value, c.new_value) for c in logged} == {
        ("title", "", "采购总监"),
        ("email", "liu@example.cn", "liu.yang@example.cn"),
    }


def test_the_contact_services_refuse_a_wrong_email_too(people: People, make_account: Any) -> None:
    from pipeline.accounts import services
    from pipeline.core.errors import InvalidInput

    account = make_account(people.rep, "华信科技")
    with pytest.raises(InvalidInput) as refused:
        services.create_contact(people.rep, account, "刘洋", email="not-an-email")
    assert set(refused.value.fields) == {"email"}
    contact = services.create_contact(people.rep, account, "刘洋", email="liu@example.cn")
    with pytest.raises(InvalidInput):
        services.update_contact(people.rep, contact, {"email": "liu@"})


def test_pages_are_escaped(browser: Browser, people: People, make_account: Any) -> None:
    account = make_account(people.rep, "<script>alert(1)</script>")
    db.session.add(Contact(account_id=account.id, name="<b>刘</b>"))
    db.session.commit()
    client = browser(people.rep)
    for html in (client.get("/accounts").text, client.get(f"/accounts/{account.id}").text):
        assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html
    assert "<b>刘</b>" not in client.get(f"/accounts/{account.id}").text


def test_my_day_and_accounts_are_in_the_navigation(browser: Browser, people: People) -> None:
    html = browser(people.rep).get("/deals").text
    nav = re.search(r'<nav class="main-nav".*?</nav>', html, re.S)[0]
    assert '<a href="/">我的一天</a>' in nav and '<a href="/accounts">客户</a>' in nav


def test_a_contact_name_longer_than_its_column_is_refused_by_the_field_not_by_the_database(
    browser: Any, people: Any, make_account: Any
) -> None:
    from pipeline.accounts import services
    from pipeline.core.errors import InvalidInput

    account = make_account(people.rep)
    with pytest.raises(InvalidInput) as refused:
        services.create_contact(people.rep, account, name="长" * 101)
    assert refused.value.fields == {"name": "at most 100 characters"}
