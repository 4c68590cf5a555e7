"""Tags and groups: as many as people like, one tag however it is typed, assigned on the pages, lists by group."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from pipeline.accounts.models import Account, Contact, Tag
from pipeline.accounts.tags import parse_tags, set_tags, tag_key
from pipeline.auth.models import User
from pipeline.core.errors import InvalidInput
from pipeline.extensions import db
from tests.accounts.test_views import field_block, section
from tests.conftest import People

Browser = Callable[[User], FlaskClient]


def listed(html: str) -> list[str]:
    """The account names in the list, in order."""
    return re.findall(r'<td><a href="/accounts/\d+">(.*?)</a>', html)


def contacts_listed(html: str) -> list[str]:
    return re.findall(r'<td><a href="/contacts/\d+">(.*?)</a>', html)


def tag_names() -> list[str]:
    return sorted(db.session.scalars(select(Tag.name)))


def contact(account: Account, name: str) -> Contact:
    person = Contact(account_id=account.id, name=name)
    db.session.add(person)
    db.session.flush()
    return person


def test_typed_tags_are_trimmed_split_on_any_comma_and_kept_once() -> None:
    assert parse_tags(" 重要客户 ,集团客户，朋友、 家人 ;普通用户,, 重要客户 ") == [
        "重要客户",
        "集团客户",
        "朋友",
        "家人",
        "普通用户",
    ]
    assert parse_tags("VIP, vip, ＶＩＰ") == ["VIP"]  # case and full width do not make a new tag
    assert parse_tags("  大  客户 ") == ["大 客户"]
    assert tag_key("ＫＡ客户") == tag_key("ka客户")


def test_a_tag_longer_than_the_limit_is_refused_naming_it() -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_tags("重要客户, " + "长" * 51)
    assert "tags" in refused.value.fields and "长" * 20 in refused.value.fields["tags"]
    assert parse_tags("长" * 50) == ["长" * 50]


def test_control_characters_in_a_typed_tag_are_dropped(people: People, make_account: Any) -> None:
    """A NUL typed into the tags field was a 500 on PostgreSQL (found by the form fuzz); now it is never stored."""
    assert parse_tags("重要\x00客户, \x00, \x1b朋友") == ["重要 客户", "朋友"]
    account = make_account(people.rep, "甲")
    set_tags(people.rep, account, parse_tags("\x00VIP"))
    db.session.commit()
    assert tag_names() == ["VIP"]


def test_the_same_tag_typed_differently_is_one_tag(people: People, make_account: Any) -> None:
    first, second = make_account(people.rep, "甲"), make_account(people.rep, "乙")
    set_tags(people.rep, first, ["VIP客户", "École"])
    set_tags(people.rep, second, ["ｖｉｐ客户", "新标签", "ÉCOLE"])
    db.session.commit()
    assert tag_names() == ["VIP客户", "École", "新标签"]
    assert sorted(t.name for t in second.tags) == ["VIP客户", "École", "新标签"]


def test_a_rep_tags_an_account_on_its_page_and_removes_a_tag_by_leaving_it_out(
    browser: Browser, people: People, make_account: Any
) -> None:
    account = make_account(people.rep, "华信科技")
    db.session.commit()
    client = browser(people.rep)
    saved = client.post(f"/accounts/{account.id}/tags", data={"tagging-tags": "重要客户, 集团客户"})
    assert saved.status_code == 302 and saved.location.endswith("#account-tags")
    tags = section(client.get(f"/accounts/{account.id}").text, "account-tags")
    assert sorted(re.findall(r'class="tag group"[^>]*>(.*?)</a>', tags)) == ["重要客户", "集团客户"]
    value = re.search(r'name="tagging-tags"[^>]*value="([^"]*)"', tags)[1]
    assert sorted(value.split(", ")) == ["重要客户", "集团客户"]  # the form starts from the current tags

    client.post(f"/accounts/{account.id}/tags", data={"tagging-tags": "集团客户"})
    db.session.expire_all()
    assert [t.name for t in db.session.get(Account, account.id).tags] == ["集团客户"]
    assert "重要客户" in tag_names()  # the tag stays for others to use


def test_a_too_long_tag_on_the_page_is_refused_next_to_the_field(
    browser: Browser, people: People, make_account: Any
) -> None:
    account = make_account(people.rep, "华信科技")
    db.session.commit()
    client = browser(people.rep)
    refused = client.post(f"/accounts/{account.id}/tags", data={"tagging-tags": "好, " + "很" * 60})
    assert refused.status_code == 422
    block = field_block(refused.text, "tagging-tags")
    assert "50" in block and "很" * 20 in block and 'class="field-error"' in block
    assert tag_names() == []  # nothing saved, not even the short one


def test_the_account_form_creates_new_tags_and_reuses_existing_ones(browser: Browser, people: People) -> None:
    db.session.add(Tag(name="集团客户"))
    db.session.commit()
    client = browser(people.rep)
    response = client.post(
        "/accounts/new",
        data={"name": "宁波港务", "kind": "b2b", "owner_id": people.rep.id, "tags": "集团客户，港口 "},
    )
    assert response.status_code == 302
    account = db.session.scalars(select(Account).where(Account.name == "宁波港务")).one()
    assert sorted(t.name for t in account.tags) == ["港口", "集团客户"]
    assert tag_names() == ["港口", "集团客户"]


def test_the_list_filters_by_tag_and_shows_each_accounts_tags(
    browser: Browser, people: People, make_account: Any
) -> None:
    vip, group_account, plain = (make_account(people.rep, n) for n in ("大客户甲", "集团乙", "普通丙"))
    hidden = make_account(people.outsider, "别队的重要客户")
    set_tags(people.rep, vip, ["重要客户"])
    set_tags(people.rep, group_account, ["集团客户", "重要客户"])
    set_tags(people.outsider, hidden, ["重要客户", "别队的标签"])
    db.session.commit()
    client = browser(people.rep)
    assert listed(client.get("/accounts?tag=重要客户").text) == ["集团乙", "大客户甲"]
    assert listed(client.get("/accounts?tag=ＶＩＰ").text) == []
    assert listed(client.get("/accounts?tag=集团客户").text) == ["集团乙"]
    page = client.get("/accounts").text
    assert listed(page) == ["普通丙", "集团乙", "大客户甲"]
    tag_filter = re.search(r'<select id="tag".*?</select>', page, re.S)[0]
    assert sorted(re.findall(r'<option[^>]*value="([^"]*)"', tag_filter)) == ["", "重要客户", "集团客户"]
    assert "别队的标签" not in page  # tags only another team uses are not offered
    assert plain.id


def test_the_group_view_lists_every_contact_in_a_group_the_reader_may_see(
    browser: Browser, people: People, make_account: Any
) -> None:
    mine, theirs = make_account(people.rep, "华信科技"), make_account(people.outsider, "别队客户")
    wang, li, zhou = contact(mine, "王总"), contact(mine, "李姐"), contact(mine, "周工")
    other = contact(theirs, "别队的朋友")
    for person, tags in ((wang, ["朋友", "重要客户"]), (li, ["家人"]), (zhou, ["朋友"]), (other, ["朋友"])):
        set_tags(people.rep, person, tags)
    db.session.commit()
    client = browser(people.rep)
    friends = client.get("/contacts?tag=朋友")
    assert friends.status_code == 200
    assert contacts_listed(friends.text) == ["周工", "王总"]
    assert "别队的朋友" not in friends.text and "别队客户" not in friends.text
    assert contacts_listed(client.get("/contacts?tag=家人").text) == ["李姐"]
    everyone = client.get("/contacts").text
    assert contacts_listed(everyone) == ["周工", "李姐", "王总"]
    assert ">朋友 (2)</a>" in everyone and ">家人 (1)</a>" in everyone  # the groups with their sizes


def test_a_contact_is_tagged_on_its_page_and_on_its_form(browser: Browser, people: People, make_account: Any) -> None:
    account = make_account(people.rep, "华信科技")
    person = contact(account, "刘洋")
    db.session.commit()
    client = browser(people.rep)
    assert client.post(f"/contacts/{person.id}/tags", data={"tagging-tags": "朋友, 重要客户"}).status_code == 302
    page = client.get(f"/contacts/{person.id}").text
    assert sorted(re.findall(r'class="tag group"[^>]*>(.*?)</a>', section(page, "tags"))) == ["朋友", "重要客户"]
    edited = client.post(f"/contacts/{person.id}/edit", data={"name": "刘洋", "tags": "朋友"})
    assert edited.status_code == 302
    db.session.expire_all()
    assert [t.name for t in db.session.get(Contact, person.id).tags] == ["朋友"]


@pytest.mark.parametrize("path", ["/accounts/{a}/tags", "/contacts/{c}/tags"])
def test_a_rep_cannot_tag_another_teams_account_or_contact(
    browser: Browser, people: People, make_account: Any, path: str
) -> None:
    account = make_account(people.outsider, "别队客户")
    person = contact(account, "别队的人")
    db.session.commit()
    response = browser(people.rep).post(path.format(a=account.id, c=person.id), data={"tagging-tags": "抢来的"})
    assert response.status_code == 404
    assert "别队" not in response.text
    assert tag_names() == []


def test_the_api_reads_and_sets_tags_on_accounts_and_contacts(
    client: FlaskClient, people: People, make_account: Any, token_for: Any
) -> None:
    headers = token_for(people.rep)
    body = {"name": "华信科技", "tags": [" 重要客户 ", "集团客户"]}
    created = client.post("/api/v1/accounts", json=body, headers=headers)
    assert created.status_code == 201, created.json
    account_id = created.json["id"]
    assert sorted(created.json["tags"]) == ["重要客户", "集团客户"]
    changed = client.patch(f"/api/v1/accounts/{account_id}", json={"tags": ["ＶＩＰ", "集团客户"]}, headers=headers)
    assert changed.status_code == 200 and sorted(changed.json["tags"]) == ["VIP", "集团客户"]
    listed_tags = client.get("/api/v1/accounts", headers=headers).json["items"][0]["tags"]
    assert sorted(listed_tags) == ["VIP", "集团客户"]
    too_long = client.patch(f"/api/v1/accounts/{account_id}", json={"tags": ["长" * 51]}, headers=headers)
    assert too_long.status_code == 422 and "tags" in too_long.json["fields"]

    person = client.post(
        f"/api/v1/accounts/{account_id}/contacts", json={"name": "刘洋", "tags": ["朋友"]}, headers=headers
    )
    assert person.status_code == 201 and person.json["tags"] == ["朋友"]
    contact_id = person.json["id"]
    moved = client.patch(
        f"/api/v1/accounts/{account_id}/contacts/{contact_id}", json={"tags": ["家人"]}, headers=headers
    )
    assert moved.status_code == 200 and moved.json["tags"] == ["家人"]
    assert client.get(f"/api/v1/accounts/{account_id}", headers=headers).json["contacts"][0]["tags"] == ["家人"]
