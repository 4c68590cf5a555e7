"""The Content-Security-Policy in a real browser: an injected inline script does not run, and Chromium says why.

The `open_page` fixture fails any test whose pages trip the policy; this test proves the policy bites and that
the fixture's detector recognises what Chromium reports (ASVS 5.0 V3.4.3).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.browser.conftest import blocked_by_policy
from tests.browser.support import STEP_TIMEOUT_MS, skip_without_chromium

skip_without_chromium()

pytestmark = pytest.mark.browser

if TYPE_CHECKING:
    from playwright.sync_api import Browser


def test_an_injected_inline_script_is_blocked_and_reported(chromium: Browser, live_server: str) -> None:
    context = chromium.new_context(base_url=live_server, locale="zh-CN")
    context.set_default_timeout(STEP_TIMEOUT_MS)
    try:
        page = context.new_page()
        console: list[str] = []
        page.on("console", lambda message: console.append(message.text))
        page.goto("/login")
        page.evaluate(
            """() => {
                const script = document.createElement("script");
                script.textContent = "window.injected = true";
                document.body.append(script);
                const img = document.createElement("img");
                img.setAttribute("onerror", "window.handler = true");
                img.src = "/no-such-image";
                document.body.append(img);
            }"""
        )
        page.wait_for_timeout(200)  # the image's error event, had its handler been allowed
        assert page.evaluate("() => [window.injected === true, window.handler === true]") == [False, False]
        assert any(blocked_by_policy(text) for text in console), console
    finally:
        context.close()
