"""Pages in a real browser: signing in, the language switch, and a phone-sized screen."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from pipeline.auth.models import User
from pipeline.deals import services
from pipeline.extensions import db
from tests.browser.support import sign_in, skip_without_chromium
from tests.conftest import People

skip_without_chromium()

from playwright.sync_api import Page, expect  # noqa: E402  (only once we know Playwright is there)

pytestmark = pytest.mark.browser


def test_signing_in_through_the_form_lands_on_the_page_asked_for_in_chinese(page: Page, people: People) -> None:
    page.goto("/board")
    expect(page.locator("main h1")).to_have_text("登录")  # the board needs a signed-in user
    page.get_by_label("电子邮箱").fill(people.rep.email)
    page.get_by_label("密码").fill("rep-pass-1")
    page.get_by_role("button", name="登录").click()
    page.wait_for_url("**/board")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(page.locator("main h1")).to_have_text("看板")
    expect(page.get_by_role("navigation", name="主导航")).to_contain_text("商机")


def test_english_stays_chosen_after_signing_out_and_back_in(page: Page, people: People) -> None:
    sign_in(page, people.rep)
    page.goto("/board")
    page.get_by_role("button", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("main h1")).to_have_text("Board")
    expect(page).to_have_url(page.url.split("#")[0])  # back on the board, not elsewhere

    page.get_by_role("button", name="Sign out").click()
    expect(page.locator("main h1")).to_have_text("Sign in")  # this browser keeps the choice

    page.context.clear_cookies()  # another browser, or the same one a week later
    page.goto("/login")
    expect(page.locator("main h1")).to_have_text("登录")  # a stranger gets what the browser asks for
    sign_in(page, people.rep)
    page.goto("/board")
    expect(page.locator("main h1")).to_have_text("Board")  # the user's choice came back with the user
    db.session.rollback()  # a fresh snapshot: the server committed the choice on its own connection
    assert db.session.get(User, people.rep.id).locale == "en"


def test_a_phone_screen_needs_no_sideways_scrolling(
    open_page: Callable[..., Page], people: People, make_deal: Any, tick_stage: Any, ready_fields: dict[str, Any]
) -> None:
    deal = make_deal(
        people.rep,
        title="上海华信科技有限公司数据中心整体迁移与异地灾备建设二期项目",
        next_step="约信息中心主任和采购部一起确认技术方案与预算",
        **ready_fields,
    )
    for _ in range(3):  # 确认 → 考察 → 报价 → 成交: a stage bar with dates, a long history
        tick_stage(people.rep, deal)
        services.move(people.rep, deal, "advance")
        db.session.commit()
    make_deal(people.rep, title="ERP 系统升级项目")
    page = open_page(width=390, height=844)
    sign_in(page, people.rep)
    for language in ("中文", "English"):  # English words are longer and break less easily
        page.get_by_role("button", name=language).click()
        for path in ("/board", f"/deals/{deal.id}", "/deals"):
            page.goto(path)
            scroll_width, client_width = page.evaluate(
                "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
            )
            assert scroll_width <= client_width, f"{path} ({language}): {scroll_width}px on {client_width}px"
