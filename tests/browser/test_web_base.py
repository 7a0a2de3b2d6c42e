"""The index page in Chromium against a real ``renda serve``: Chinese, no raw JSON, axe AA clean."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.served import Served
from tests.browser.support import check_axe, save_screenshot

pytestmark = pytest.mark.browser


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    server = Served(tmp_path / "session")
    try:
        server.start()
        yield server
    finally:
        server.stop()


def test_index_and_missing_page(served: Served, screen_page: Any, tmp_path: Path) -> None:
    page = screen_page
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto(served.url + "/")
    assert page.title().startswith("首页")
    for name in ("会场大屏", "主席台", "秘书处控制台", "公告栏"):
        assert page.get_by_role("link", name=name).count() >= 1
    # the system's CJK font, not a web font
    family = page.evaluate("() => getComputedStyle(document.body).fontFamily")
    assert "Noto Sans CJK SC" in family
    check_axe(page)
    save_screenshot(page, "web/index.png", tmp_path)
    page.goto(served.url + "/no-such-page")
    assert "页面不存在" in page.inner_text("main")
    assert "{" not in page.inner_text("body")
    check_axe(page)
    assert all(u.startswith(served.url) for u in requests), requests
