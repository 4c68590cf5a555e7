"""What the browser tests need from the machine, how long one step may wait, and signing in as a person does."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from pipeline.auth.models import User
from tests.conftest import PASSWORDS

if TYPE_CHECKING:
    from playwright.sync_api import Page

CHROMIUM = "/usr/bin/chromium"  # Debian's Chromium; Playwright's own browser downloads are never used
STEP_TIMEOUT_MS = 10_000  # a ceiling for one step to fail on, never a measured speed


REQUIRED = "PIPELINE_REQUIRE_BROWSER_TESTS"  # set by .ci/run: there a missing browser fails instead of skipping


def skip_without_chromium() -> None:
    """Skip the calling module, saying what to install, when Chromium or Playwright is missing (CI has both)."""
    missing = None
    if not Path(CHROMIUM).is_file():
        missing = f"browser tests need Debian's Chromium at {CHROMIUM}: apt-get install -y chromium"
    elif importlib.util.find_spec("playwright") is None:
        missing = "browser tests need Playwright for Python: pip install -e '.[test]'"
    if missing and os.environ.get(REQUIRED):
        pytest.fail(f"{missing} ({REQUIRED} is set)", pytrace=False)
    if missing:
        pytest.skip(missing, allow_module_level=True)


def sign_in(page: Page, user: User, *, email_label: str = "电子邮箱", password_label: str = "密码") -> None:
    """Sign in through the form and wait to be let in."""
    page.goto("/login")
    page.get_by_label(email_label).fill(user.email)
    page.get_by_label(password_label).fill(PASSWORDS[user.email])
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(lambda url: "/login" not in url)
