"""A rep's day in the browser, found by role and label as a person finds things: from a new account to 跟进."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from tests.browser.support import skip_without_chromium

skip_without_chromium()

from playwright.sync_api import Page, expect  # noqa: E402

from pipeline.deals.models import Deal, StageEvent  # noqa: E402
from pipeline.extensions import db  # noqa: E402
from tests.browser.support import sign_in  # noqa: E402
from tests.conftest import People  # noqa: E402

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-output" / "screenshots"


def _tick_everything(page: Page) -> None:
    """Mark every open checklist item of the stage done, one press at a time, as the rep would."""
    checklist = page.locator("#checklist")
    while checklist.get_by_role("button", name="标记完成").count():
        checklist.get_by_role("button", name="标记完成").first.click()
        expect(page.locator(".flash, .notice").first).to_be_visible()


def _advance(page: Page, to: str) -> None:
    page.get_by_role("button", name=f"推进到{to}").click()
    expect(page.locator("#progress [aria-current=step]")).to_contain_text(to)


def _name_person(page: Page, name: str, role: str) -> None:
    people = page.locator("#influences details.influence-add")
    people.get_by_text("添加参与者").click()  # the form opens from its summary line
    people.get_by_label("新联系人姓名").fill(name)
    people.get_by_label("决策角色").select_option(label=role)
    people.get_by_label("态度").select_option(label="支持")
    people.get_by_role("button", name="添加到商机").click()
    expect(page.locator("#influences table")).to_contain_text(name)


def test_a_rep_takes_a_new_deal_from_a_new_account_to_follow_up(open_page: Callable[..., Page], people: People) -> None:
    page = open_page()
    sign_in(page, people.rep)
    expect(page.get_by_role("heading", name="我的一天")).to_be_visible()

    # A new account, then a deal on it from the account's page.
    page.get_by_role("link", name="客户", exact=True).first.click()
    page.locator("#main").get_by_role("link", name="新建客户").click()
    page.get_by_label("名称").fill("苏州恒远精密机械有限公司")
    page.get_by_role("button", name="创建客户").click()
    expect(page.get_by_role("heading", name="苏州恒远精密机械有限公司")).to_be_visible()
    page.locator("#main").get_by_role("link", name="新建商机").click()
    expect(page.get_by_label("客户")).to_have_value(re.compile(r"\d+"))
    page.get_by_label("标题").fill("MES 车间管理系统")
    page.get_by_label("金额").fill("860000")
    page.get_by_label("预计成交日期").fill("2027-03-31")
    page.get_by_label("竞争策略").select_option(label="正面出击")
    page.get_by_role("button", name="创建商机").click()
    expect(page.get_by_role("heading", name="MES 车间管理系统")).to_be_visible()

    # Advancing with the work undone is refused, and the page says exactly what is missing.
    page.get_by_role("button", name="推进到考察").click()
    refusal = page.get_by_role("alert")
    expect(refusal).to_contain_text("研究客户")
    expect(refusal).to_contain_text("评估机会的性质")
    expect(page.locator("#progress [aria-current=step]")).to_contain_text("确认")

    _tick_everything(page)
    _advance(page, "考察")
    _tick_everything(page)
    page.get_by_role("button", name="推进到报价").click()
    expect(page.get_by_role("alert")).to_contain_text("内线")  # nobody named as coach yet
    _name_person(page, "刘总", "决策者（经济买家）")
    _name_person(page, "小周", "内线（教练）")
    _advance(page, "报价")
    _tick_everything(page)
    _advance(page, "成交")
    _tick_everything(page)
    _advance(page, "跟进")

    # A visit logged on the deal counts as a touch.
    touches = page.locator("#activities")
    touches.locator("summary").first.click()  # 记录一次活动: the form opens from its summary line
    touches.get_by_label("类型").select_option(label="拜访")
    touches.get_by_label("摘要").fill("上门签约，确认实施计划")
    touches.get_by_role("button", name="记录活动").click()
    expect(page.locator("#activities")).to_contain_text("上门签约，确认实施计划")
    expect(page.locator("#activities .touches")).to_contain_text("1")

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "deal-page.png"), full_page=True)
    page.get_by_role("link", name="看板").first.click()
    expect(page.locator("#stage-follow_up")).to_contain_text("MES 车间管理系统")
    page.screenshot(path=str(SCREENSHOTS / "board.png"), full_page=True)

    # English on request, then sign out.
    page.get_by_role("button", name="English").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/login"))

    db.session.rollback()  # a fresh snapshot: the server committed everything on its own connection
    deal = db.session.scalar(db.select(Deal).where(Deal.title == "MES 车间管理系统"))
    assert deal is not None and deal.stage == "follow_up" and deal.owner_id == people.rep.id
    moves = db.session.scalars(db.select(StageEvent.to_stage).where(StageEvent.deal_id == deal.id)).all()
    assert moves == ["qualify", "evaluate", "propose", "close", "follow_up"]
