"""The check-in page's 批量签到 in Chromium: a delegation chosen from the list, then seats typed
with 、; the figures follow; a seat not on the roster is refused and nothing changes. The page
passes axe-core at level AA with the batch form."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.served import Served
from tests.browser.support import check_axe

pytestmark = [pytest.mark.browser]

ROSTER = (
    "name,delegation,seat\n张三,第一代表团,001\n李四,第一代表团,002\n"
    "王五,第二代表团,003\n赵六,第二代表团,004\n钱七,第三代表团,005\n"
)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    server = Served(tmp_path / "session")
    try:
        server.start()
        yield server
    finally:
        server.stop()


def test_batch_check_in_from_the_console(served: Served, browser: Any) -> None:
    served.post("/api/roster", {"csv": ROSTER})
    ctx = browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN")
    page = ctx.new_page()
    try:
        page.goto(served.url + "/console")
        page.get_by_label("令牌").fill(served.tokens["secretariat"])
        page.get_by_role("button", name="登录").click()
        page.goto(served.url + "/console/checkin")
        check_axe(page)
        page.get_by_label("代表团").select_option("第二代表团")
        page.get_by_role("button", name="批量签到").click()
        assert "代表团“第二代表团”：2 名代表签到，已记录" in page.inner_text("main")
        assert re.search(r"实到\s*2", page.inner_text("main"))
        page.get_by_label("或座位号").fill("001、003")
        page.get_by_role("button", name="批量签到").click()
        text = page.inner_text("main")
        assert "2 个座位：1 名代表签到，已记录；未改变 1 名：003（已签到）" in text
        assert re.search(r"实到\s*3", text)
        page.get_by_label("或座位号").fill("002 099")
        page.get_by_role("button", name="批量签到").click()
        text = page.inner_text("main")
        assert "名单上没有座位号 099" in text and re.search(r"实到\s*3", text)
        assert served.get("/api/attendance")["present"] == 3
    finally:
        ctx.close()
