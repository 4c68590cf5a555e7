"""The board (看板): columns with totals, cards with what needs attention, filters, and moves from a card."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from markupsafe import escape

from pipeline.core.models import utcnow
from pipeline.deals import services
from pipeline.deals.models import Deal
from pipeline.extensions import db
from tests.conftest import People, counting_statements


def column(html: str, stage: str) -> str:
    match = re.search(rf'<section class="board-column stage-{stage}".*?</section>', html, re.S)
    assert match, f"no {stage} column"
    return match.group(0)


def titles(html: str) -> list[str]:
    return re.findall(r'<h3><a href="/deals/\d+">(.*?)</a></h3>', html)


def test_columns_total_what_the_user_may_see(browser: Any, people: People, make_deal: Any, tick_stage: Any) -> None:
    make_deal(people.rep, title="甲项目", amount=Decimal("100000.00"))
    make_deal(people.rep, title="乙项目", amount=Decimal("50000.50"))
    moved = make_deal(people.rep, title="丙项目", amount=Decimal("40000.00"))
    tick_stage(people.rep, moved)
    services.move(people.rep, moved, "advance")
    db.session.commit()
    make_deal(people.rep_b, title="同事的项目", amount=Decimal("999.00"))
    make_deal(people.outsider, title="别队的项目", amount=Decimal("777.00"))

    html = browser(people.rep).get("/board").text
    qualify = column(html, "qualify")
    assert sorted(titles(qualify)) == ["乙项目", "甲项目"]
    assert '<span class="count">2</span>' in qualify
    assert "¥150,000.50" in qualify and "¥15,000.05" in qualify  # weighted at 10%
    evaluate = column(html, "evaluate")
    assert titles(evaluate) == ["丙项目"] and "¥40,000" in evaluate and "¥10,000" in evaluate  # 25%
    assert "同事的项目" not in html and "别队的项目" not in html


def test_a_lead_sees_the_team_and_can_narrow_to_their_own(browser: Any, people: People, make_deal: Any) -> None:
    make_deal(people.rep, title="王芳的项目")
    make_deal(people.lead, title="经理自己的项目")
    make_deal(people.outsider, title="别队的项目")
    client = browser(people.lead)
    team = titles(client.get("/board").text)
    assert sorted(team) == ["王芳的项目", "经理自己的项目"]
    assert titles(client.get("/board?mine=y").text) == ["经理自己的项目"]
    assert titles(client.get(f"/board?owner={people.rep.id}").text) == ["王芳的项目"]
    assert client.get(f"/board?owner={people.outsider.id}").status_code == 422  # not someone the lead sees


def test_cards_show_progress_days_stalled_and_overdue(
    browser: Any, people: People, make_deal: Any, app_config: dict[str, Any]
) -> None:
    fresh = make_deal(people.rep, title="新项目")
    services.set_checklist_item(people.rep, fresh, services.checklist_for("qualify")[0].key, True)
    old = make_deal(people.rep, title="老项目", next_step="回访张总", next_step_due=utcnow().date() - timedelta(days=3))
    old.stage_entered_at = utcnow() - timedelta(days=20)
    db.session.commit()
    html = browser(people.rep).get("/board").text
    cards = dict(re.findall(r'<article class="card([^"]*)" id="deal-(\d+)">', html)[::-1])
    cards = {
        int(deal_id): classes for classes, deal_id in re.findall(r'<article class="card([^"]*)" id="deal-(\d+)">', html)
    }
    assert cards[fresh.id] == "" and "stalled" in cards[old.id] and "overdue" in cards[old.id]
    fresh_card = html[html.index(f'id="deal-{fresh.id}"') :]
    assert "✓ 1/5" in fresh_card[:2000]
    old_card = html[html.index(f'id="deal-{old.id}"') : html.index(f'id="deal-{fresh.id}"')]
    assert "在本阶段停留 20 天" in old_card and "停滞（超过 14 天）" in old_card and "逾期" in old_card
    assert html.index(f'id="deal-{old.id}"') < html.index(f'id="deal-{fresh.id}"')  # the stalest first


def test_filters_by_strategy_amount_and_search_and_keeps_them_in_the_url(
    browser: Any, people: People, make_deal: Any, make_account: Any
) -> None:
    make_deal(people.rep, title="正面项目", strategy="frontal", amount=Decimal("500000.00"))
    make_deal(people.rep, title="防御项目", strategy="fortify_to_defend", amount=Decimal("20000.00"))
    make_deal(people.rep, title="100%_折扣", account=make_account(people.rep, name="杭州云栖数据"))
    client = browser(people.rep)
    assert titles(client.get("/board?strategy=frontal").text) == ["正面项目"]
    assert titles(client.get("/board?min_amount=100000").text) == ["正面项目"]
    assert titles(client.get("/board?max_amount=30000").text) == ["防御项目", "100%_折扣"]
    assert titles(client.get("/board?q=云栖").text) == ["100%_折扣"]
    assert titles(client.get("/board?q=%25_").text) == ["100%_折扣"]  # % and _ are text, not wildcards
    refused = client.get("/board?min_amount=10&max_amount=5")
    assert refused.status_code == 422 and "不能低于下限" in refused.text


@pytest.mark.parametrize("viewer", ["rep", "lead", "admin"])
def test_search_finds_a_deal_by_its_title_or_its_account_in_every_scope_and_totals_only_the_matches(
    browser: Any, people: People, make_deal: Any, make_account: Any, viewer: str
) -> None:
    """A rep's, a lead's and an admin's board search differently (joined account, or the names read once)."""
    yunqi = make_account(people.rep, name="杭州云栖数据")
    make_deal(people.rep, title="数据中台", account=yunqi, amount=Decimal("300000.00"))
    make_deal(people.rep, title="云栖二期", amount=Decimal("200000.00"))
    make_deal(people.rep, title="别的项目", amount=Decimal("1000.00"))
    make_deal(people.outsider, title="外队云栖", amount=Decimal("50000.00"))
    html = browser(getattr(people, viewer)).get("/board?q=云栖").text
    expected = ["数据中台", "云栖二期"] + (["外队云栖"] if viewer == "admin" else [])
    assert sorted(titles(html)) == sorted(expected)
    total = "550,000" if viewer == "admin" else "500,000"
    assert total in column(html, "qualify")


def test_a_refused_move_stays_on_the_board_and_lists_what_is_missing(
    browser: Any, people: People, make_deal: Any
) -> None:
    deal = make_deal(people.rep, title="缺资料的项目")
    client = browser(people.rep)
    response = client.post(
        f"/deals/{deal.id}/move/advance",
        data={"advance-version": deal.version, "back_to": "board", "board_query": "mine=y"},
    )
    assert response.status_code == 409
    assert titles(column(response.text, "qualify")) == ["缺资料的项目"]
    refusal = re.search(rf'id="refused-{deal.id}">(.*?)</div>', response.text, re.S)
    assert refusal is not None
    missing = re.findall(r"<li>(.*?)</li>", refusal.group(1))
    assert missing == [str(escape(t.label_zh)) for t in services.checklist_for("qualify") if t.required]
    db.session.expire_all()
    assert db.session.get(Deal, deal.id).stage == "qualify"


def test_a_move_from_a_card_goes_back_to_the_same_filtered_board(
    browser: Any, people: People, make_deal: Any, tick_stage: Any
) -> None:
    deal = make_deal(people.rep, title="准备好的项目")
    tick_stage(people.rep, deal)
    client = browser(people.rep)
    response = client.post(
        f"/deals/{deal.id}/move/advance",
        data={"advance-version": deal.version, "back_to": "board", "board_query": "mine=y"},
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/board?mine=y#deal-{deal.id}")
    assert titles(column(client.get("/board?mine=y").text, "evaluate")) == ["准备好的项目"]


def test_titles_are_escaped(browser: Any, people: People, make_deal: Any) -> None:
    make_deal(people.rep, title="<script>alert(1)</script>")
    html = browser(people.rep).get("/board").text
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_the_board_makes_the_same_number_of_queries_for_3_or_30_deals(
    browser: Any, people: People, make_deal: Any, make_account: Any
) -> None:
    client = browser(people.lead)
    accounts = {people.rep.id: make_account(people.rep), people.rep_b.id: make_account(people.rep_b, name="宁波港务")}
    for i in range(3):
        make_deal(people.rep, title=f"项目{i}", account=accounts[people.rep.id], strategy="frontal")
    with counting_statements() as few:
        assert client.get("/board").status_code == 200
    for i in range(27):
        owner = people.rep_b if i % 2 else people.rep
        make_deal(owner, title=f"更多项目{i}", account=accounts[owner.id])
    with counting_statements() as many:
        html = client.get("/board").text
    assert len(titles(html)) == 30
    assert len(many) == len(few), many


def test_stall_thresholds_come_from_the_environment(monkeypatch: Any, tmp_path: Any) -> None:
    from pipeline import create_app

    monkeypatch.setenv("PIPELINE_STALL_DAYS", "qualify=3, propose=40")
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'x.db'}", "SECRET_KEY": "x"})
    assert app.config["PIPELINE_STALL_DAYS"] == {"qualify": 3, "propose": 40}
    monkeypatch.setenv("PIPELINE_STALL_DAYS", "qualfy=3")
    with pytest.raises(ValueError, match="PIPELINE_STALL_DAYS: 'qualfy=3'"):
        create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'x.db'}", "SECRET_KEY": "x"})


def test_the_board_script_is_served_by_the_app_and_cards_name_where_they_may_be_dropped(
    browser: Any, people: People, make_deal: Any, client: Any
) -> None:
    deal = make_deal(people.rep, title="可拖动的项目")
    html = browser(people.rep).get("/board").text
    assert re.findall(r"<script[^>]*>", html) == ['<script defer src="/static/board.js">']  # no inline script
    assert not re.search(r"\son[a-z]+=", html)  # nor inline handlers (a CSP without 'unsafe-inline' is coming)
    card = html[html.index(f'id="deal-{deal.id}"') :]
    assert re.search(r'class="card-move"\s+data-drop-to="stage-evaluate"', card[:3000])
    with client.get("/static/board.js") as script:
        assert script.status_code == 200 and "javascript" in script.content_type
        assert b"fetch(" in script.data
