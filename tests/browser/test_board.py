"""The board in a real browser: drag a card on, see a refusal on the card, and the buttons without JavaScript."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from pipeline.deals import services
from pipeline.deals.models import Deal
from pipeline.extensions import db
from tests.browser.support import sign_in, skip_without_chromium
from tests.conftest import People

skip_without_chromium()

from playwright.sync_api import Page, expect  # noqa: E402  (only once we know Playwright is there)

pytestmark = pytest.mark.browser


def stage_of(deal: Deal) -> str:
    """The deal's stage as the database has it now (the server committed in its own session): the test's own
    transaction ends first, since on SQLite, as on PostgreSQL, a transaction reads one snapshot throughout."""
    db.session.rollback()
    return db.session.get(Deal, deal.id).stage


def test_the_board_shows_five_columns_with_counts(page: Page, people: People, make_deal: Any, tick_stage: Any) -> None:
    make_deal(people.rep, title="甲项目")
    make_deal(people.rep, title="乙项目")
    moved = make_deal(people.rep, title="丙项目")
    tick_stage(people.rep, moved)
    services.move(people.rep, moved, "advance")
    db.session.commit()
    sign_in(page, people.rep)
    page.goto("/board")
    expect(page.locator(".board-column h2")).to_have_text(["确认 2", "考察 1", "报价 0", "成交 0", "跟进 0"])
    expect(page.locator("#stage-evaluate .card h3")).to_have_text(["丙项目"])


def test_dragging_a_ready_card_moves_it_to_the_next_column(
    page: Page, people: People, make_deal: Any, tick_stage: Any
) -> None:
    deal = make_deal(people.rep, title="准备好的项目")
    tick_stage(people.rep, deal)
    make_deal(people.rep, title="还在确认的项目")
    sign_in(page, people.rep)
    page.goto("/board")
    page.evaluate("window.sameDocument = true")  # gone if the board were reloaded as a whole page
    card = page.locator(f"#deal-{deal.id}")

    card.drag_to(page.locator("#stage-propose"))  # two stages on: not a place this card may go
    expect(page.locator("#stage-qualify .count")).to_have_text("2")

    card.hover()
    page.mouse.down()
    page.locator("#stage-evaluate h2").hover()
    expect(page.locator(".board-column.drop-target")).to_have_count(1)  # only the next stage's column
    expect(page.locator("#stage-evaluate")).to_have_class(re.compile(r"\bdrop-target\b"))
    page.mouse.up()

    expect(page.locator(f"#stage-evaluate #deal-{deal.id}")).to_be_visible()
    expect(page.locator("#stage-qualify .card h3")).to_have_text(["还在确认的项目"])
    expect(page.locator(".board-column .count")).to_have_text(["1", "1", "0", "0", "0"])
    expect(page.get_by_role("status")).to_have_text("已转到考察。")
    expect(page.locator(".drop-target, .is-dragging")).to_have_count(0)
    assert page.evaluate("window.sameDocument") is True
    assert stage_of(deal) == "evaluate"


def test_dragging_a_card_with_work_missing_keeps_it_and_shows_what_is_missing(
    page: Page, people: People, make_deal: Any
) -> None:
    deal = make_deal(people.rep, title="缺资料的项目")
    sign_in(page, people.rep)
    page.goto("/board?mine=y")
    page.evaluate("window.sameDocument = true")
    page.locator(f"#deal-{deal.id}").drag_to(page.locator("#stage-evaluate"))

    refusal = page.locator(f"#stage-qualify #deal-{deal.id} [role=alert]")
    expect(refusal).to_contain_text("无法执行此操作，还缺少：")
    required = [t.label_zh for t in services.checklist_for("qualify") if t.required]
    expect(refusal.locator("li")).to_have_text(required)
    expect(page.locator("#stage-evaluate .card")).to_have_count(0)
    expect(page.get_by_label("只看我的商机")).to_be_checked()  # the board kept its filters
    assert page.evaluate("window.sameDocument") is True
    assert stage_of(deal) == "qualify"


def test_without_javascript_the_card_buttons_move_deals(
    open_page: Callable[..., Page], people: People, make_deal: Any, tick_stage: Any
) -> None:
    page = open_page(javascript=False)
    ready = make_deal(people.rep, title="准备好的项目")
    tick_stage(people.rep, ready)
    missing = make_deal(people.rep, title="缺资料的项目")
    sign_in(page, people.rep)
    page.goto("/board")
    expect(page.locator(f"#deal-{ready.id}")).not_to_have_attribute("draggable", "true")

    page.locator(f"#deal-{ready.id}").get_by_role("button", name="推进 →").click()
    expect(page.locator(f"#stage-evaluate #deal-{ready.id}")).to_be_visible()
    assert page.url.endswith(f"/board#deal-{ready.id}")
    assert stage_of(ready) == "evaluate"

    page.locator(f"#deal-{missing.id}").get_by_role("button", name="推进 →").click()
    expect(page.locator(f"#stage-qualify #deal-{missing.id} [role=alert]")).to_contain_text("还缺少")
    assert stage_of(missing) == "qualify"
