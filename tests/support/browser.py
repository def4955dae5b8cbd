"""A real headless Chromium for the tests, driven by Playwright, always closed.

The browser is the distribution's (``apt-get install chromium``; ``make test``
installs it where apt-get and root are available), never one Playwright
downloads: :func:`chromium` launches it by path and skips the test,
saying how to get it, when it is not there. Every wait is bounded and scaled
by :data:`tests.support.TIMEOUT_SCALE`.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.support import TIMEOUT_SCALE

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

#: where Debian's and Ubuntu's packages put it; WHYLOOP_CHROMIUM names another
CANDIDATES = ("chromium", "chromium-browser", "/usr/bin/chromium", "/usr/lib/chromium/chromium")
#: default wait of every page action, in ms, before scaling
PAGE_TIMEOUT_MS = 30_000
LAUNCH_TIMEOUT_MS = 60_000


def chromium_executable() -> str | None:
    """The system Chromium's path, or None (``$WHYLOOP_CHROMIUM`` first)."""
    named = os.environ.get("WHYLOOP_CHROMIUM")
    if named:
        return named if Path(named).is_file() else None
    for name in CANDIDATES:
        found = shutil.which(name) or (name if Path(name).is_file() else None)
        if found:
            return found
    return None


def ms(timeout_ms: float) -> float:
    """A wait in ms, scaled by TIMEOUT_SCALE (what Playwright's ``timeout=`` arguments take)."""
    return timeout_ms * TIMEOUT_SCALE


@contextlib.contextmanager
def chromium() -> Iterator[Browser]:
    """A fresh headless Chromium, closed on the way out whatever happened.

    Skips the test, saying how to get them, when Chromium or Playwright is missing.
    """
    executable = chromium_executable()
    if executable is None:
        pytest.skip(
            "Chromium is not installed: apt-get install chromium "
            "(make test installs it where apt-get and root are available)"
        )
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="playwright is not installed: pip install -e '.[dev]'"
    )
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable,
            headless=True,
            timeout=ms(LAUNCH_TIMEOUT_MS),
            # /dev/shm is small in containers; Chromium then crashes tabs without this
            args=["--disable-dev-shm-usage"],
        )
        try:
            yield browser
        finally:
            browser.close()


def new_page(browser: Browser, *, width: int = 1280, height: int = 900) -> Page:
    """A page of ``width`` x ``height`` CSS pixels whose actions wait at most ``PAGE_TIMEOUT_MS`` (scaled)."""
    page = browser.new_page(viewport={"width": width, "height": height})
    page.set_default_timeout(ms(PAGE_TIMEOUT_MS))
    return page


@contextlib.contextmanager
def chromium_page(*, width: int = 1280, height: int = 900) -> Iterator[Page]:
    """A page in a fresh headless Chromium (:func:`chromium`), closed with it."""
    with chromium() as browser:
        yield new_page(browser, width=width, height=height)
