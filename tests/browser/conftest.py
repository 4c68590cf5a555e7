"""Browser fixtures: the app served on a real port from this test's database, and Debian's Chromium driving it.

The server runs in a thread of its own with an empty context, so each request pushes its own app context and
gets its own database session and commit, exactly as under a real server; the test's thread keeps its session.
Playwright never downloads a browser here: it drives /usr/bin/chromium (`apt-get install -y chromium`).
"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Callable, Iterator
from functools import partial
from typing import TYPE_CHECKING, Any

import pytest
from flask import Flask
from werkzeug.serving import make_server

from tests.browser.support import CHROMIUM, STEP_TIMEOUT_MS

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page


@pytest.fixture
def app_config() -> dict[str, Any]:
    """A browser sends the CSRF token like anyone else's: check it, so the JavaScript must send it too."""
    return {"WTF_CSRF_ENABLED": True}


@pytest.fixture
def live_server(app: Flask) -> Iterator[str]:
    """The app on 127.0.0.1 at a free port, for this test only; yields its base URL."""
    server = make_server("127.0.0.1", 0, app)  # one request at a time, each its own app context and session
    serve = partial(server.serve_forever, poll_interval=0.05)  # stops within 50 ms of shutdown()
    thread = threading.Thread(target=contextvars.Context().run, args=(serve,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture(scope="session")
def chromium() -> Iterator[Browser]:
    """One headless Chromium for the whole run; each test gets a fresh context (cookies, storage) of its own."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM)
        yield browser
        browser.close()


def blocked_by_policy(console_text: str) -> bool:
    """Whether a console message is Chromium reporting a Content-Security-Policy violation."""
    return "Content Security Policy" in console_text


@pytest.fixture
def open_page(chromium: Browser, live_server: str) -> Iterator[Callable[..., Page]]:
    """Open a page in a fresh browser context: a Chinese-speaking visitor unless told otherwise.

    Any error a page's JavaScript throws fails the test, even when what the test looks at still came out right, and
    so does anything the Content-Security-Policy blocked (Chromium says so on the console).
    """
    contexts: list[BrowserContext] = []
    errors: list[str] = []

    def open_(*, javascript: bool = True, width: int = 1280, height: int = 900) -> Page:
        context = chromium.new_context(
            base_url=live_server,
            locale="zh-CN",
            java_script_enabled=javascript,
            viewport={"width": width, "height": height},
        )
        context.set_default_timeout(STEP_TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda error: errors.append(f"{page.url}: {error}"))
        page.on(
            "console", lambda message: blocked_by_policy(message.text) and errors.append(f"{page.url}: {message.text}")
        )
        return page

    yield open_
    for context in contexts:
        context.close()
    assert not errors, errors


@pytest.fixture
def page(open_page: Callable[..., Page]) -> Page:
    """A desktop page with JavaScript on."""
    return open_page()
