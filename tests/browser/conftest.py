"""Fixtures for browser tests: one Debian chromium per test process, a fresh context per test."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser.support import CHROMIUM_ARGS, chromium_path, cjk_fonts_installed, missing


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Headless Debian chromium driven by Playwright (its own browser download is never used).

    One per test module, not per session: Playwright's sync API runs an event loop in this
    thread while it is started, so a later test's ``asyncio.run()`` in the same process would
    fail with "cannot be called from a running event loop"."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing("PyPI playwright is not installed (pip install -e '.[dev]')")
    path = chromium_path()
    if path is None:
        missing("chromium is not installed (apt-get install chromium)")
    if not cjk_fonts_installed():
        missing("Chinese fonts are not installed (apt-get install fonts-noto-cjk)")
    with sync_playwright() as pw:
        instance = pw.chromium.launch(executable_path=path, headless=True, args=CHROMIUM_ARGS)
        try:
            yield instance
        finally:
            instance.close()


@pytest.fixture
def tablet_page(browser: Any) -> Iterator[Any]:
    """A 1280×800 touch page, as on the deputy's tablet (SCREENS.md §3)."""
    context = browser.new_context(
        viewport={"width": 1280, "height": 800}, has_touch=True, locale="zh-CN"
    )
    page = context.new_page()
    try:
        yield page
    finally:
        context.close()


@pytest.fixture
def screen_page(browser: Any) -> Iterator[Any]:
    """A 1920×1080 page, as on the hall's projector or the presidium's screen (SCREENS.md §4)."""
    context = browser.new_context(viewport={"width": 1920, "height": 1080}, locale="zh-CN")
    page = context.new_page()
    try:
        yield page
    finally:
        context.close()
