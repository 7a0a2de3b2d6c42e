"""The browser used by every screen test works here: Debian chromium, Chinese fonts, axe-core."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.browser.support import check_axe

PAGE = """<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>测试</title></head>
<body><main><h1>表决</h1><button style="font-size:24px;min-height:48px">赞成</button></main></body>
</html>"""


def test_chinese_page_renders_and_passes_axe(tablet_page: Any, tmp_path: Path) -> None:
    tablet_page.set_content(PAGE)
    button = tablet_page.get_by_role("button", name="赞成")
    box = button.bounding_box()
    assert box is not None and box["height"] >= 48
    # CJK glyphs have real width (a missing font would render tofu boxes of another width).
    width = tablet_page.evaluate(
        "() => { const s = document.createElement('span'); s.textContent = '表决表决';"
        " s.style.fontSize = '40px'; document.body.appendChild(s);"
        " return s.getBoundingClientRect().width; }"
    )
    assert 150 <= width <= 170
    check_axe(tablet_page)


def test_axe_finds_a_violation(tablet_page: Any) -> None:
    tablet_page.set_content(
        '<!doctype html><html lang="zh-CN"><head><title>x</title></head>'
        '<body><img src="data:,"><button></button></body></html>'
    )
    with pytest.raises(pytest.fail.Exception):
        check_axe(tablet_page)
