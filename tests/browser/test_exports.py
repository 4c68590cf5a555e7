"""The export page in a real browser: its form downloads the file chosen, and it fits a phone."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.browser.support import sign_in, skip_without_chromium
from tests.conftest import People

skip_without_chromium()

from playwright.sync_api import Page, expect  # noqa: E402  (only once we know Playwright is there)

pytestmark = pytest.mark.browser


def test_the_form_downloads_the_week_format_and_language_chosen(page: Page, people: People, make_deal: Any) -> None:
    make_deal(people.rep, title="ERP 系统升级项目")
    make_deal(people.outsider, title="华南的项目")
    sign_in(page, people.lead)
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="导出").click()  # Chinese first
    page.get_by_role("button", name="English").click()
    expect(page.locator("main h1")).to_have_text("Weekly export")
    page.get_by_label("Week", exact=True).fill("2026-W10")
    page.get_by_label("Format", exact=True).select_option("csv")
    page.get_by_label("Language of the file", exact=True).select_option("zh")
    with page.expect_download() as info:
        page.get_by_role("button", name="Download").click()
    download = info.value
    assert download.suggested_filename == "pipeline-2026-W10-华东.csv"
    data = Path(download.path()).read_bytes()
    text = data.decode("utf-8-sig")
    assert data.startswith(b"\xef\xbb\xbf") and text.startswith("商机编号,")
    assert "ERP 系统升级项目" in text and "华南的项目" not in text
    page.goto("/exports/weekly")
    expect(page.locator("#recent-exports")).to_contain_text("2026-W10")


def test_the_export_page_needs_no_sideways_scrolling_on_a_phone(
    open_page: Callable[..., Page], people: People, make_deal: Any
) -> None:
    make_deal(people.rep, title="上海华信科技有限公司数据中心整体迁移与异地灾备建设二期项目")
    page = open_page(width=390, height=844)
    sign_in(page, people.admin)
    assert page.request.get("/exports/weekly/download?format=csv").ok  # a row in the list of recent exports
    for language in ("中文", "English"):
        page.goto("/exports/weekly")
        page.get_by_role("button", name=language).click()
        expect(page.locator("#recent-exports")).to_be_visible()
        scroll_width, client_width = page.evaluate(
            "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
        )
        assert scroll_width <= client_width, f"/exports/weekly ({language}): {scroll_width}px on {client_width}px"
