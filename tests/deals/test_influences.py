"""Buying influences (客户参与者): the customer's people on a deal, on the page, in the API, and the 报价 gate."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_babel import refresh
from markupsafe import escape
from sqlalchemy import func, select

from pipeline import create_app
from pipeline.accounts.models import Account, Contact
from pipeline.auth.models import User
from pipeline.core.changelog import FieldChange
from pipeline.core.errors import Conflict, GateRefused, InvalidInput, Missing, NotFound
from pipeline.deals import deal_page, influences, services, workflow
from pipeline.deals.models import BuyingInfluence, Deal, StageEvent
from pipeline.extensions import db
from tests.conftest import People, counting_statements
from tests.pages import plain, reload, section, text

Tick = Callable[[User, Deal], None]


def people_on(deal: Deal) -> list[tuple[str, str, str, str, int]]:
    rows = db.session.execute(
        select(
            Contact.name,
            BuyingInfluence.role,
            BuyingInfluence.attitude,
            BuyingInfluence.influence,
            BuyingInfluence.depth,
        )
        .join(Contact)
        .where(BuyingInfluence.deal_id == deal.id)
        .order_by(BuyingInfluence.id)
    )
    return [tuple(r) for r in rows]  # type: ignore[misc]


@pytest.fixture
def account(people: People, make_account: Callable[..., Account]) -> Account:
    """The rep's account with two people already on file."""
    acct = make_account(people.rep, "苏州恒瑞精密制造有限公司")
    db.session.add_all(
        [
            Contact(account_id=acct.id, name="张三", title="总经理"),
            Contact(account_id=acct.id, name="李四", title="IT 总监"),
        ]
    )
    db.session.commit()
    return acct


def contact(account: Account, name: str) -> Contact:
    found = db.session.scalar(select(Contact).where(Contact.account_id == account.id, Contact.name == name))
    assert found is not None
    return found


@pytest.fixture
def at_evaluate(people: People, make_deal: Callable[..., Deal], ready_fields: dict[str, Any], account: Account) -> Deal:
    """A deal in 考察 with all its work ticked and the proposal fields set, but nobody named yet."""
    deal = make_deal(people.rep, "MES 系统项目", account=account, **ready_fields)
    for item in services.checklist_for("qualify"):
        services.set_checklist_item(people.rep, deal, item.key, True)
    services.move(people.rep, deal, "advance")
    for item in services.checklist_for("evaluate"):
        services.set_checklist_item(people.rep, deal, item.key, True)
    db.session.commit()
    return deal


def name_both(actor: User, deal: Deal, account: Account) -> None:
    influences.add_influence(
        actor, deal, role="economic_buyer", contact_id=contact(account, "张三").id, attitude="supporter", depth=3
    )
    influences.add_influence(actor, deal, role="coach", name="王五", title="项目经理", attitude="supporter", depth=4)
    db.session.commit()


# ---- The service -------------------------------------------------------------------------------------------------


def test_a_rep_names_an_existing_contact_and_a_new_one_on_the_account(
    people: People, at_evaluate: Deal, account: Account
) -> None:
    name_both(people.rep, at_evaluate, account)
    assert people_on(at_evaluate) == [
        ("张三", "economic_buyer", "supporter", "medium", 3),
        ("王五", "coach", "supporter", "medium", 4),
    ]
    new = contact(account, "王五")
    assert new.title == "项目经理" and new.account_id == account.id
    deal = reload(at_evaluate)
    assert deal.owner_id == people.rep.id  # both loaded: what is counted is the list alone
    with counting_statements() as statements:
        listed = influences.list_influences(people.rep, deal)
        assert [(i.contact.name, i.contact.title, i.role) for i in listed] == [
            ("张三", "总经理", "economic_buyer"),
            ("王五", "项目经理", "coach"),
        ]
    assert len(statements) == 1


def test_every_wrong_field_is_named_and_nothing_is_written(
    people: People, at_evaluate: Deal, account: Account, make_account: Callable[..., Account]
) -> None:
    elsewhere = make_account(people.rep, "别家公司")
    stranger = Contact(account_id=elsewhere.id, name="赵六")
    db.session.add(stranger)
    db.session.commit()
    with pytest.raises(InvalidInput) as exc:
        influences.add_influence(
            people.rep, at_evaluate, role="boss", attitude="hostile", influence="huge", depth=6, name="新人"
        )
    assert set(exc.value.fields) == {"role", "attitude", "influence", "depth"}
    with pytest.raises(InvalidInput) as exc:
        influences.add_influence(people.rep, at_evaluate, role="user", contact_id=stranger.id)
    assert set(exc.value.fields) == {"contact_id"}
    with pytest.raises(InvalidInput) as exc:
        influences.add_influence(people.rep, at_evaluate, role="user")
    assert set(exc.value.fields) == {"name"}
    with pytest.raises(InvalidInput) as exc:
        influences.add_influence(people.rep, at_evaluate, role="user", contact_id=contact(account, "李四").id, name="x")
    assert set(exc.value.fields) == {"name"}
    for depth in (0, "3.5", True, None):
        with pytest.raises(InvalidInput) as exc:
            influences.add_influence(people.rep, at_evaluate, role="user", name="孙七", depth=depth)
        assert set(exc.value.fields) == {"depth"}
    db.session.rollback()
    assert people_on(at_evaluate) == []
    assert db.session.scalar(select(func.count()).select_from(Contact).where(Contact.name == "新人")) == 0


def test_the_same_person_twice_in_one_role_is_refused_but_a_second_role_is_fine(
    people: People, at_evaluate: Deal, account: Account
) -> None:
    li = contact(account, "李四")
    influences.add_influence(people.rep, at_evaluate, role="technical", contact_id=li.id)
    with pytest.raises(InvalidInput) as exc:
        influences.add_influence(people.rep, at_evaluate, role="technical", contact_id=li.id)
    assert "role" in exc.value.fields
    coach = influences.add_influence(people.rep, at_evaluate, role="coach", contact_id=li.id)
    with pytest.raises(InvalidInput) as exc:
        influences.change_influence(people.rep, at_evaluate, coach.id, {"role": "technical"})
    assert "role" in exc.value.fields


def test_changes_are_checked_and_logged_and_removal_keeps_the_contact(
    people: People, at_evaluate: Deal, account: Account
) -> None:
    row = influences.add_influence(people.rep, at_evaluate, role="user", contact_id=contact(account, "李四").id)
    with pytest.raises(InvalidInput) as exc:
        influences.change_influence(people.rep, at_evaluate, row.id, {"attitude": "angry", "depth": 9, "colour": 1})
    assert set(exc.value.fields) == {"attitude", "depth", "colour"}
    influences.change_influence(people.rep, at_evaluate, row.id, {"attitude": "opponent", "depth": "2"})
    influences.change_influence(people.rep, at_evaluate, row.id, {"attitude": "opponent"})  # no change, no log
    influences.remove_influence(people.rep, at_evaluate, row.id)
    db.session.commit()
    assert people_on(at_evaluate) == []
    assert contact(account, "李四").account_id == account.id
    log = db.session.scalars(
        select(FieldChange)
        .where(FieldChange.entity == "deal", FieldChange.field == "influence")
        .order_by(FieldChange.id)
    ).all()
    assert [(c.old_value is None, c.new_value is None) for c in log] == [(True, False), (False, False), (False, True)]
    assert json.loads(log[1].old_value or "")["attitude"] == "neutral"
    assert json.loads(log[1].new_value or "") | {"contact_id": 0} == {
        "contact_id": 0,
        "name": "李四",
        "title": "IT 总监",
        "role": "user",
        "attitude": "opponent",
        "influence": "medium",
        "depth": 2,
    }
    assert all(c.user_id == people.rep.id and c.entity_id == at_evaluate.id for c in log)


def test_only_someone_who_sees_the_deal_may_list_or_change_its_people(
    people: People, at_evaluate: Deal, account: Account
) -> None:
    name_both(people.rep, at_evaluate, account)
    row = influences.list_influences(people.rep, at_evaluate)[0]
    for outsider in (people.rep_b, people.outsider, people.other_lead):
        with pytest.raises(NotFound):
            influences.list_influences(outsider, at_evaluate)
        with pytest.raises(NotFound):
            influences.add_influence(outsider, at_evaluate, role="user", name="钱八")
        with pytest.raises(NotFound):
            influences.change_influence(outsider, at_evaluate, row.id, {"attitude": "opponent"})
        with pytest.raises(NotFound):
            influences.remove_influence(outsider, at_evaluate, row.id)
    assert len(influences.list_influences(people.lead, at_evaluate)) == 2  # the rep's lead sees the team's deals
    influences.change_influence(people.lead, at_evaluate, row.id, {"depth": 5})
    with pytest.raises(NotFound):
        influences.change_influence(people.rep, at_evaluate, 10**6, {"depth": 5})


def test_a_deal_that_is_over_keeps_its_people_as_they_were(people: People, at_evaluate: Deal, account: Account) -> None:
    name_both(people.rep, at_evaluate, account)
    services.move(people.rep, at_evaluate, "lose", lost_reason="price")
    db.session.commit()
    row = influences.list_influences(people.rep, at_evaluate)[0]
    with pytest.raises(Conflict):
        influences.add_influence(people.rep, at_evaluate, role="user", name="钱八")
    with pytest.raises(Conflict):
        influences.change_influence(people.rep, at_evaluate, row.id, {"depth": 5})
    with pytest.raises(Conflict):
        influences.remove_influence(people.rep, at_evaluate, row.id)


# ---- The 报价 gate -------------------------------------------------------------------------------------------------


def test_entering_propose_is_refused_until_an_economic_buyer_and_a_coach_are_named(
    people: People, at_evaluate: Deal, account: Account
) -> None:
    with pytest.raises(GateRefused) as exc:
        services.move(people.rep, at_evaluate, "advance")
    assert [(m.kind, m.key, m.label, m.label_en) for m in exc.value.missing] == [
        ("influence", "economic_buyer", "决策者（经济买家）", "Economic buyer"),
        ("influence", "coach", "内线（教练）", "Coach"),
    ]
    assert "决策者（经济买家）、内线（教练）" in exc.value.message
    db.session.rollback()
    influences.add_influence(people.rep, at_evaluate, role="economic_buyer", contact_id=contact(account, "张三").id)
    db.session.commit()
    with pytest.raises(GateRefused) as exc:
        services.move(people.rep, at_evaluate, "advance")
    assert [m.key for m in exc.value.missing] == ["coach"]
    db.session.rollback()
    influences.add_influence(people.rep, at_evaluate, role="coach", name="王五")
    db.session.commit()
    event = services.move(people.rep, at_evaluate, "advance")
    db.session.commit()
    assert (event.from_stage, event.to_stage, event.override) == ("evaluate", "propose", False)


def test_the_gate_on_a_plain_object_without_a_database() -> None:
    at = datetime(2026, 3, 31, 9, 0, tzinfo=UTC)
    deal = SimpleNamespace(
        stage="evaluate", amount=Decimal("10.00"), expected_close_date=date(2026, 6, 30), strategy="frontal",
        stage_entered_at=at, won_on=None, lost_on=None, lost_reason_key=None, lost_from_stage=None,
    )  # fmt: skip
    facts = workflow.ChecklistFacts({}, frozenset())
    both = frozenset({"economic_buyer", "coach"})

    def move(**kw: Any) -> workflow.Move:
        return workflow.Move("advance", "rep", at, at.date(), facts, locale="en", **kw)

    with pytest.raises(GateRefused) as exc:
        workflow.fire(deal, move(required_influences=both, influence_roles=frozenset({"coach", "user"})))
    assert exc.value.missing == [Missing("influence", "economic_buyer", "Economic buyer", "Economic buyer")]
    assert deal.stage == "evaluate"
    assert workflow.fire(deal, move()) == "evaluate" and deal.stage == "propose"  # nothing required by default
    assert workflow.reads_influences("evaluate", "advance")
    for source, trigger in (("qualify", "advance"), ("propose", "advance"), ("propose", "revert"), ("lost", "reopen")):
        assert not workflow.reads_influences(source, trigger)


def test_the_gate_reads_the_people_in_one_query_and_only_on_the_way_to_propose(
    people: People, at_evaluate: Deal, account: Account, make_deal: Callable[..., Deal]
) -> None:
    name_both(people.rep, at_evaluate, account)
    with counting_statements() as to_propose:
        services.move(people.rep, reload(at_evaluate), "advance")
    db.session.commit()
    assert sum("buying_influences" in s for s in to_propose) == 1
    early = make_deal(people.rep)
    for item in services.checklist_for("qualify"):
        services.set_checklist_item(people.rep, early, item.key, True)
    db.session.commit()
    with counting_statements() as other_moves:
        services.move(people.rep, reload(early), "advance")
        services.move(people.rep, early, "revert", reason="客户重新评估")
        services.move(people.rep, reload(at_evaluate), "revert", reason="报价前再确认一次需求")
    assert not any("buying_influences" in s for s in other_moves)


def test_a_lead_may_override_the_gate_and_history_names_the_roles_waived(
    people: People, at_evaluate: Deal, browser: Callable[[User], FlaskClient]
) -> None:
    event = services.move(people.lead, at_evaluate, "advance", override=True, reason="客户高层已口头确认")
    db.session.commit()
    assert event.override and event.overridden == ["economic_buyer", "coach"]
    history = section(text(browser(people.lead).get(f"/deals/{at_evaluate.id}")), "history")
    assert "豁免：决策者（经济买家）、内线（教练）" in plain(history)


class TestConfiguredRoles:
    @pytest.fixture
    def app_config(self) -> dict[str, Any]:
        return {"PIPELINE_REQUIRED_INFLUENCES": "technical"}

    def test_the_required_roles_come_from_the_configuration(
        self, app: Flask, people: People, at_evaluate: Deal, account: Account
    ) -> None:
        assert app.config["PIPELINE_REQUIRED_INFLUENCES"] == frozenset({"technical"})
        with pytest.raises(GateRefused) as exc:
            services.move(people.rep, at_evaluate, "advance")
        assert [(m.kind, m.key) for m in exc.value.missing] == [("influence", "technical")]
        db.session.rollback()
        influences.add_influence(people.rep, at_evaluate, role="technical", contact_id=contact(account, "李四").id)
        db.session.commit()
        assert services.move(people.rep, at_evaluate, "advance").to_stage == "propose"


class TestGateOff:
    @pytest.fixture
    def app_config(self) -> dict[str, Any]:
        return {"PIPELINE_REQUIRED_INFLUENCES": ""}

    def test_an_empty_setting_turns_the_gate_off(self, people: People, at_evaluate: Deal) -> None:
        with counting_statements() as statements:
            assert services.move(people.rep, at_evaluate, "advance").to_stage == "propose"
        assert not any("buying_influences" in s for s in statements)


def test_the_setting_is_read_from_the_environment_and_checked_at_startup(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    settings = {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'x.db'}", "SECRET_KEY": "x"}
    monkeypatch.setenv("PIPELINE_REQUIRED_INFLUENCES", " economic_buyer , technical ,")
    assert create_app(settings).config["PIPELINE_REQUIRED_INFLUENCES"] == {"economic_buyer", "technical"}
    monkeypatch.setenv("PIPELINE_REQUIRED_INFLUENCES", "")
    assert create_app(settings).config["PIPELINE_REQUIRED_INFLUENCES"] == frozenset()
    monkeypatch.delenv("PIPELINE_REQUIRED_INFLUENCES")
    assert create_app(settings).config["PIPELINE_REQUIRED_INFLUENCES"] == {"economic_buyer", "coach"}
    monkeypatch.setenv("PIPELINE_REQUIRED_INFLUENCES", "economic_buyer,champion")
    with pytest.raises(ValueError, match="PIPELINE_REQUIRED_INFLUENCES: 'champion' is not a role"):
        create_app(settings)
    monkeypatch.delenv("PIPELINE_REQUIRED_INFLUENCES")
    with pytest.raises(ValueError, match="'boss' is not a role"):
        create_app({**settings, "PIPELINE_REQUIRED_INFLUENCES": "boss"})


# ---- The deal page ---------------------------------------------------------------------------------------------


def test_the_deal_page_lists_the_people_with_labels_and_what_propose_still_wants(
    browser: Callable[[User], FlaskClient], people: People, at_evaluate: Deal, account: Account
) -> None:
    client = browser(people.rep)
    page = text(client.get(f"/deals/{at_evaluate.id}"))
    assert "客户参与者" in page
    assert plain(section(page, "influences-missing")) == "进入报价前还需确定：决策者（经济买家）、内线（教练）"
    influences.add_influence(
        people.rep, at_evaluate, role="economic_buyer", contact_id=contact(account, "张三").id, attitude="supporter",
        influence="high", depth=2, note="预算审批人",
    )  # fmt: skip
    db.session.commit()
    page = text(client.get(f"/deals/{at_evaluate.id}"))
    row = plain(section(page, f"influence-{influences.list_influences(people.rep, at_evaluate)[0].id}"))
    assert row.startswith("张三 预算审批人 总经理 决策者（经济买家） 支持 高 二级 还熟悉")
    assert plain(section(page, "influences-missing")) == "进入报价前还需确定：内线（教练）"
    client.post("/lang", data={"lang": "en", "next": "/deals"})
    english = text(client.get(f"/deals/{at_evaluate.id}"))
    assert "Buying influences" in english
    assert "Economic buyer" in english and "Supporter" in english and "2 Acquainted" in english
    assert plain(section(english, "influences-missing")) == "Before Propose, still to identify: Coach"


def test_the_missing_roles_show_only_in_evaluate(
    browser: Callable[[User], FlaskClient], people: People, make_deal: Callable[..., Deal]
) -> None:
    deal = make_deal(people.rep)
    page = text(browser(people.rep).get(f"/deals/{deal.id}"))
    assert 'id="influences"' in page and 'id="influences-missing"' not in page


def test_a_rep_adds_changes_and_removes_people_from_the_page(
    browser: Callable[[User], FlaskClient], people: People, at_evaluate: Deal, account: Account
) -> None:
    client = browser(people.rep)
    page = text(client.get(f"/deals/{at_evaluate.id}"))
    assert f'<option value="{contact(account, "张三").id}">张三 · 总经理</option>' in page
    added = client.post(
        f"/deals/{at_evaluate.id}/influences",
        data={
            "influence-contact_id": contact(account, "张三").id,
            "influence-role": "economic_buyer",
            "influence-attitude": "neutral",
            "influence-influence": "high",
            "influence-depth": "2",
        },
    )
    assert added.status_code == 302 and added.location == f"/deals/{at_evaluate.id}#influences"
    added = client.post(
        f"/deals/{at_evaluate.id}/influences",
        data={
            "influence-contact_id": "",
            "influence-name": "王五",
            "influence-title": "项目经理",
            "influence-role": "coach",
            "influence-attitude": "supporter",
            "influence-influence": "medium",
            "influence-depth": "4",
        },
    )
    assert added.status_code == 302
    assert "已添加王五（内线（教练））。" in text(client.get(added.location))
    assert people_on(at_evaluate) == [
        ("张三", "economic_buyer", "neutral", "high", 2),
        ("王五", "coach", "supporter", "medium", 4),
    ]
    buyer = influences.list_influences(people.rep, at_evaluate)[0]
    changed = client.post(
        f"/deals/{at_evaluate.id}/influences/{buyer.id}",
        data={
            f"influence{buyer.id}-role": "economic_buyer",
            f"influence{buyer.id}-attitude": "supporter",
            f"influence{buyer.id}-influence": "high",
            f"influence{buyer.id}-depth": "3",
        },
    )
    assert changed.status_code == 302
    assert people_on(at_evaluate)[0] == ("张三", "economic_buyer", "supporter", "high", 3)
    history = plain(section(text(client.get(f"/deals/{at_evaluate.id}")), "history"))
    assert (
        "客户参与者：张三 · 决策者（经济买家） · 中立 · 影响力高 · 二级 还熟悉 → 张三 · 决策者（经济买家） · 支持"
        in history
    )
    assert "客户参与者：— → 王五 · 内线（教练） · 支持 · 影响力中 · 四级 很熟悉" in history
    removed = client.post(f"/deals/{at_evaluate.id}/influences/{buyer.id}/remove")
    assert removed.status_code == 302
    assert "已将张三移出此商机。" in text(client.get(removed.location))
    assert [p[0] for p in people_on(at_evaluate)] == ["王五"]
    history = plain(section(text(client.get(f"/deals/{at_evaluate.id}")), "history"))
    assert "客户参与者：张三 · 决策者（经济买家） · 支持 · 影响力高 · 三级 比较熟悉 → —" in history


def test_refusals_are_shown_beside_the_fields_and_keep_what_was_typed(
    browser: Callable[[User], FlaskClient], people: People, at_evaluate: Deal, account: Account
) -> None:
    client = browser(people.rep)
    neither = client.post(
        f"/deals/{at_evaluate.id}/influences", data={"influence-role": "user", "influence-depth": "1"}
    )
    assert neither.status_code == 422
    page = text(neither)
    assert "请输入新联系人的姓名，或选择客户的一位联系人。" in section(page, "refusal")
    assert 'id="influence-name-error"' in page
    assert re.search(r'<details class="influence-add" open>', page)
    zhang = contact(account, "张三")
    influences.add_influence(people.rep, at_evaluate, role="economic_buyer", contact_id=zhang.id)
    db.session.commit()
    twice = client.post(
        f"/deals/{at_evaluate.id}/influences",
        data={"influence-contact_id": zhang.id, "influence-role": "economic_buyer", "influence-note": "再来一次"},
    )
    assert twice.status_code == 422
    page = text(twice)
    assert 'id="influence-role-error"' in page and "此人已在此商机中担任该角色。" in page
    assert 'value="再来一次"' in page
    row = influences.list_influences(people.rep, at_evaluate)[0]
    bad = client.post(f"/deals/{at_evaluate.id}/influences/{row.id}", data={f"influence{row.id}-depth": "9"})
    assert bad.status_code == 422
    assert f'id="influence{row.id}-depth-error"' in text(bad)
    assert people_on(at_evaluate) == [("张三", "economic_buyer", "neutral", "medium", 1)]


def test_another_reps_deal_answers_404_to_every_influence_form(
    browser: Callable[[User], FlaskClient], people: People, at_evaluate: Deal, account: Account,
    make_deal: Callable[..., Deal],
) -> None:  # fmt: skip
    name_both(people.rep, at_evaluate, account)
    row = influences.list_influences(people.rep, at_evaluate)[0]
    client = browser(people.outsider)
    data = {"influence-name": "入侵者", "influence-role": "coach", "influence-depth": "1"}
    assert client.post(f"/deals/{at_evaluate.id}/influences", data=data).status_code == 404
    change = {f"influence{row.id}-role": "user", f"influence{row.id}-depth": "1"}
    assert client.post(f"/deals/{at_evaluate.id}/influences/{row.id}", data=change).status_code == 404
    assert client.post(f"/deals/{at_evaluate.id}/influences/{row.id}/remove").status_code == 404
    own = make_deal(people.outsider)
    assert client.post(f"/deals/{own.id}/influences/{row.id}", data=change).status_code == 404
    assert client.post(f"/deals/{own.id}/influences/{row.id}/remove").status_code == 404
    assert len(people_on(at_evaluate)) == 2


def test_the_refused_advance_names_the_missing_people_on_the_page_and_the_board(
    browser: Callable[[User], FlaskClient], people: People, at_evaluate: Deal
) -> None:
    client = browser(people.rep)
    refused = client.post(f"/deals/{at_evaluate.id}/move/advance", data={"advance-version": at_evaluate.version})
    assert refused.status_code == 409
    items = re.findall(r"<li>(.*?)</li>", section(text(refused), "missing"))
    assert items == ["决策者（经济买家）", "内线（教练）"]
    board = client.post(
        f"/deals/{at_evaluate.id}/move/advance",
        data={"advance-version": at_evaluate.version, "back_to": "board", "board_query": ""},
    )
    assert board.status_code == 409
    card = re.search(rf'id="refused-{at_evaluate.id}">(.*?)</div>', text(board), re.S)
    assert card is not None
    assert re.findall(r"<li>(.*?)</li>", card.group(1)) == [str(escape("决策者（经济买家）")), "内线（教练）"]
    client.post("/lang", data={"lang": "en", "next": "/deals"})
    english = client.post(f"/deals/{at_evaluate.id}/move/advance", data={"advance-version": at_evaluate.version})
    assert re.findall(r"<li>(.*?)</li>", section(text(english), "missing")) == ["Economic buyer", "Coach"]
    assert reload(at_evaluate).stage == "evaluate"


def test_the_timeline_reads_a_snapshot_in_either_language(app: Flask) -> None:
    value = json.dumps(
        {"name": "张三", "role": "economic_buyer", "attitude": "supporter", "influence": "high", "depth": 5}
    )
    with app.test_request_context("/?lang=zh"):
        assert deal_page.influence_text(value, "zh") == "张三 · 决策者（经济买家） · 支持 · 影响力高 · 五级 相知"
        assert deal_page.influence_text(None, "zh") == "—"
        assert deal_page.influence_text("not json", "zh") == "not json"
        assert deal_page.influence_text("[1]", "zh") == "[1]"
    with app.test_request_context("/?lang=en"):
        refresh()  # the suite keeps one app context, where Flask-Babel remembers the last locale
        assert deal_page.influence_text(value, "en") == "张三 · Economic buyer · Supporter · High influence · 5 Trusted"


class TestCsrf:
    @pytest.fixture
    def app_config(self) -> dict[str, Any]:
        return {"WTF_CSRF_ENABLED": True}

    def test_influence_forms_need_the_pages_token(self, client: FlaskClient, people: People, at_evaluate: Deal) -> None:
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', text(client.get("/login")))
        assert token
        client.post("/login", data={"email": "rep@example.com", "password": "rep-pass-1", "csrf_token": token.group(1)})
        data = {"influence-name": "王五", "influence-role": "coach", "influence-depth": "1"}
        assert client.post(f"/deals/{at_evaluate.id}/influences", data=data).status_code == 400
        assert people_on(at_evaluate) == []
        page = text(client.get(f"/deals/{at_evaluate.id}"))
        form = re.search(r'action="/deals/\d+/influences".*?</form>', page, re.S)
        assert form
        token = re.search(r'name="influence-csrf_token"[^>]*value="([^"]+)"', form.group(0))
        assert token
        added = client.post(
            f"/deals/{at_evaluate.id}/influences", data={**data, "influence-csrf_token": token.group(1)}
        )
        assert added.status_code == 302
        assert [p[0] for p in people_on(at_evaluate)] == ["王五"]


# ---- The API ---------------------------------------------------------------------------------------------------


def test_the_api_lists_adds_changes_and_removes_people(
    client: FlaskClient, people: People, token_for: Callable[[User], dict[str, str]], at_evaluate: Deal,
    account: Account,
) -> None:  # fmt: skip
    rep = token_for(people.rep)
    path = f"/api/v1/deals/{at_evaluate.id}/influences"
    empty = client.get(path, headers=rep)
    assert empty.status_code == 200
    assert empty.json["items"] == []
    assert [(m["kind"], m["key"], m["label"]) for m in empty.json["missing"]] == [
        ("influence", "economic_buyer", "决策者（经济买家）"),
        ("influence", "coach", "内线（教练）"),
    ]
    added = client.post(
        path, headers=rep, json={"contact_id": contact(account, "张三").id, "role": "economic_buyer", "depth": 3}
    )
    assert added.status_code == 201, added.json
    assert added.json | {"id": 0, "contact_id": 0, "created_at": "", "updated_at": ""} == {
        "id": 0,
        "deal_id": at_evaluate.id,
        "contact_id": 0,
        "name": "张三",
        "title": "总经理",
        "role": "economic_buyer",
        "role_label": "决策者（经济买家）",
        "attitude": "neutral",
        "attitude_label": "中立",
        "influence": "medium",
        "influence_label": "中",
        "depth": 3,
        "depth_label": "三级 比较熟悉",
        "note": "",
        "created_at": "",
        "updated_at": "",
    }
    coach = client.post(path, headers=rep, json={"name": "王五", "title": "项目经理", "role": "coach"})
    assert coach.status_code == 201 and coach.json["name"] == "王五"
    listed = client.get(path, headers=rep).json
    assert [i["name"] for i in listed["items"]] == ["张三", "王五"] and listed["missing"] == []
    patched = client.patch(f"{path}/{coach.json['id']}", headers=rep, json={"attitude": "supporter", "depth": 5})
    assert patched.status_code == 200 and (patched.json["attitude"], patched.json["depth"]) == ("supporter", 5)
    assert client.delete(f"{path}/{coach.json['id']}", headers=rep).status_code == 204
    assert [i["name"] for i in client.get(path, headers=rep).json["items"]] == ["张三"]
    assert client.delete(f"{path}/{coach.json['id']}", headers=rep).status_code == 404
    history = client.get(f"/api/v1/deals/{at_evaluate.id}/history", headers=rep).json["changes"]
    assert [c["field"] for c in history if c["field"] == "influence"] == ["influence"] * 4


def test_the_api_refuses_wrong_people_and_others_deals(
    client: FlaskClient, people: People, token_for: Callable[[User], dict[str, str]], at_evaluate: Deal,
    account: Account,
) -> None:  # fmt: skip
    rep = token_for(people.rep)
    path = f"/api/v1/deals/{at_evaluate.id}/influences"
    wrong = client.post(path, headers=rep, json={"role": "boss", "depth": 7, "attitude": "x"})
    assert wrong.status_code == 422 and {"role", "depth", "attitude"} <= set(wrong.json["fields"])
    nobody = client.post(path, headers=rep, json={"role": "user"})
    assert nobody.status_code == 422 and set(nobody.json["fields"]) == {"name"}
    foreign = client.post(path, headers=rep, json={"role": "user", "contact_id": 999999})
    assert foreign.status_code == 422 and set(foreign.json["fields"]) == {"contact_id"}
    zhang = client.post(path, headers=rep, json={"role": "user", "contact_id": contact(account, "张三").id})
    assert zhang.status_code == 201
    bad_patch = client.patch(f"{path}/{zhang.json['id']}", headers=rep, json={"influence": "huge"})
    assert bad_patch.status_code == 422 and "influence" in bad_patch.json["fields"]
    other = token_for(people.outsider)
    assert client.get(path, headers=other).status_code == 404
    assert client.post(path, headers=other, json={"role": "coach", "name": "入侵者"}).status_code == 404
    assert client.patch(f"{path}/{zhang.json['id']}", headers=other, json={"depth": 2}).status_code == 404
    assert client.delete(f"{path}/{zhang.json['id']}", headers=other).status_code == 404
    assert client.get(path, headers=token_for(people.lead)).status_code == 200
    assert [p[0] for p in people_on(at_evaluate)] == ["张三"]


def test_the_api_names_the_missing_roles_before_and_when_advancing(
    client: FlaskClient, people: People, token_for: Callable[[User], dict[str, str]], at_evaluate: Deal
) -> None:
    people.rep.locale = "en"
    db.session.commit()
    rep = token_for(people.rep)
    detail = client.get(f"/api/v1/deals/{at_evaluate.id}", headers=rep).json
    assert [(m["kind"], m["key"], m["label"]) for m in detail["missing"]] == [
        ("influence", "economic_buyer", "Economic buyer"),
        ("influence", "coach", "Coach"),
    ]
    refused = client.post(f"/api/v1/deals/{at_evaluate.id}/transitions", headers=rep, json={"trigger": "advance"})
    assert refused.status_code == 409
    assert refused.json["missing"] == [
        {"kind": "influence", "key": "economic_buyer", "label": "Economic buyer", "label_en": "Economic buyer"},
        {"kind": "influence", "key": "coach", "label": "Coach", "label_en": "Coach"},
    ]
    assert db.session.scalar(select(func.count()).select_from(StageEvent).where(StageEvent.to_stage == "propose")) == 0
