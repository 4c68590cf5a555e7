"""The report pages in a real browser: the funnel draws, its filter bar puts the choice in the URL, phones fit."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.browser.support import sign_in, skip_without_chromium
from tests.conftest import People

skip_without_chromium()

from playwright.sync_api import Page, expect  # noqa: E402  (only once we know Playwright is there)

pytestmark = pytest.mark.browser


def test_the_funnel_renders_and_its_filters_land_in_the_url(page: Page, people: People, make_deal: Any) -> None:
    make_deal(people.rep, title="ERP 系统升级项目", amount=Decimal("120000"))
    sign_in(page, people.lead)
    page.goto("/reports/funnel")
    page.get_by_role("button", name="English").click()
    expect(page.locator("main h1")).to_have_text("Funnel")
    expect(page.locator("#stage-qualify")).to_contain_text("¥120,000")  # the deal, created this month
    page.get_by_label("Period", exact=True).select_option("last_week")
    page.get_by_label("Rep", exact=True).select_option(label=people.rep.name)
    page.get_by_role("button", name="Show report").click()
    page.wait_for_url("**/reports/funnel?*period=last_week*")
    wanted = parse_qs(urlsplit(page.url).query)
    assert wanted["period"] == ["last_week"] and wanted["rep"] == [str(people.rep.id)]
    expect(page.locator("#report-scope")).to_contain_text(people.rep.name)
    expect(page.locator("#stage-qualify")).to_contain_text("¥0")  # last week the deal did not exist yet

    page.get_by_role("link", name="By rep").click()  # the other reports keep the filters
    assert parse_qs(urlsplit(page.url).query)["period"] == ["last_week"]
    expect(page.locator("main h1")).to_have_text("By rep")


def test_the_report_pages_need_no_sideways_scrolling_on_a_phone(
    open_page: Callable[..., Page], people: People, make_deal: Any
) -> None:
    make_deal(people.rep, title="上海华信科技有限公司数据中心整体迁移与异地灾备建设二期项目", amount=Decimal("1234567"))
    page = open_page(width=390, height=844)
    sign_in(page, people.admin)
    for language in ("中文", "English"):
        page.get_by_role("button", name=language).click()
        for report in ("funnel", "weekly", "strategy", "reps", "stalled", "forecast"):
            page.goto(f"/reports/{report}")
            scroll_width, client_width = page.evaluate(
                "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
            )
            assert scroll_width <= client_width, f"/reports/{report} ({language}): {scroll_width}px on {client_width}px"
