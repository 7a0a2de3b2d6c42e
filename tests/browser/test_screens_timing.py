"""The hall and presidium screens with a preset voting time and 直接显示, in Chromium against a
real ``renda serve`` with headless kiosks casting (GB 50799 §6.2.2-4, §6.2.2-5).

* the presidium opened with the console's login (no token in any address);
* a timed poll set to 直接显示: both screens count down, the poll closes by itself at zero, and
  the hall shows the result as soon as it is tallied — and not one frame before (every websocket
  frame the hall's page receives is read);
* a restart during a countdown whose time runs out while the server is down: the server closes
  the poll at once when it is back and the screens say it closed by its time;
* the key figures' rendered size at 1920×1080 and 3840×2160 against SCREENS.md §4 (at least a
  tenth of the screen's height), with a 4K screenshot.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.browser.support import check_axe, save_screenshot
from tests.browser.tablet_support import Server, headless_kiosk, stop
from tests.browser.test_screens import (
    CHOICE_WORDS,
    Screen,
    _has_choice_counts,
    _key_number_heights,
    _template,
    wait,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ROSTER = ["王建国", "李秀英", "张志强", "刘玉兰"]
TIMED_TITLE = "关于设立青石镇老年食堂的决定"
RESTART_TITLE = "关于青石镇河道整治的决定"
# three deputies vote 赞成 in every motion, the fourth does not press
SCRIPTS: list[dict[str, Any]] = [{"default": "赞成"}] * 3 + [{"default": "未按"}]


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, list[Any]]]:
    tmp = tmp_path_factory.mktemp("timing")
    srv = Server(tmp / "session")
    kiosks: list[Any] = []
    try:
        srv.start()
        deputies = srv.post(
            "/api/roster",
            {"csv": "name,delegation,seat\n" + "".join(
                f"{n},第一代表团,{i + 1:03d}\n" for i, n in enumerate(ROSTER))},
        )["deputies"]  # fmt: skip
        srv.post("/api/ceremony", {"threshold": 0})
        for d in deputies:
            srv.post(f"/api/deputies/{d['deputy_id']}/checkin")
        kiosks = [
            headless_kiosk(tmp / f"kiosk-{i}", srv.url, d["enrolment_code"], script)
            for i, (d, script) in enumerate(zip(deputies, SCRIPTS, strict=True))
        ]
        wait(
            "the kiosks to enrol",
            lambda: sum(d["enrolled"] for d in srv.get("/api/deputies")) == 4,
            180,
        )
        time.sleep(5)  # and connect
        yield srv, kiosks
    finally:
        for k in kiosks:
            stop(k)
        srv.stop()


@pytest.fixture
def screens(browser: Any) -> Iterator[tuple[Screen, Screen]]:
    contexts = [
        browser.new_context(viewport={"width": 1920, "height": 1080}, locale="zh-CN")
        for _ in range(2)
    ]
    try:
        yield Screen(contexts[0].new_page()), Screen(contexts[1].new_page())
    finally:
        for context in contexts:
            context.close()


def _login_presidium(server: Server, page: Any) -> None:
    """The chair logs in as for the console and lands on the presidium screen."""
    page.goto(server.url + "/screen/presidium")
    page.get_by_role("link", name="用控制台账号登录").click()
    page.wait_for_url("**/login**")
    page.get_by_label("令牌").fill(server.tokens["chair"])
    page.get_by_role("button", name="登录").click()
    page.wait_for_url("**/screen/presidium")


def _timed_poll(server: Server, title: str, duration: int, **extra: Any) -> str:
    rules = {"id": f"timed-{abs(hash(title)) % 10_000}", "kind": "motion", "title": title}
    body = {
        "title": title,
        "kind": "motion",
        "template": _template(title, ["表决意见"]),
        "rules": rules,
        "duration": duration,
        **extra,
    }
    pid = str(server.post("/api/polls", body)["poll_id"])
    server.post(f"/api/polls/{pid}/open")
    return pid


def test_a_timed_poll_counts_down_closes_itself_and_is_shown_at_tally(
    session: tuple[Server, list[Any]], screens: tuple[Screen, Screen], tmp_path: Path
) -> None:
    server, _kiosks = session
    hall, presidium = screens
    shot = lambda s, name: save_screenshot(s.page, f"hall/{name}.png", tmp_path)  # noqa: E731
    hall.page.goto(server.url + "/screen/hall")
    _login_presidium(server, presidium.page)
    for s in (hall, presidium):
        s.until("the first snapshot", lambda s=s: s.stage() in ("idle", "result"))
    history = presidium.page.evaluate("() => [location.href, document.referrer]")
    assert all(server.tokens["chair"] not in url for url in history), history
    assert presidium.page.locator("#token-form-box").is_hidden()
    check_axe(presidium.page)

    hall.frames.clear()
    pid = _timed_poll(server, TIMED_TITLE, 20, result_display="immediate")
    for s in (hall, presidium):
        s.until("the countdown", lambda s=s: s.page.locator(".countdown").count() == 1, 120)
    hall.until("已投 3", lambda: hall.bind("received") == "3", 120)
    left = hall.page.locator(".countdown").inner_text()
    assert left.startswith("00:") and 0 < int(left[3:]) <= 20, left
    assert "剩余时间" in hall.text()
    for word in CHOICE_WORDS:
        assert word not in hall.text(), word
    heights = _key_number_heights(hall.page, ".vote .figure dd")  # 发出 已投 剩余时间
    assert len(heights) >= 3 and min(heights) >= 108, heights
    shot(hall, "11-countdown")
    check_axe(hall.page)
    assert presidium.page.locator(".countdown").count() == 1

    # nobody closes it: at zero it closes by itself, and 直接显示 shows the result at tally
    poll = server.wait_poll(pid, "closed", "tallied", timeout=60)
    assert poll["closed_by"] == "timer"
    tallied = server.wait_poll(pid, "tallied", timeout=120)
    hall.until("the result at tally (直接显示)", lambda: hall.stage() == "result", 60)
    text = hall.text()
    assert "通过" in text and "尚未公布" in text, text
    figures = hall.page.locator(".tally .figure dd").all_inner_texts()
    assert figures == ["3", "0", "0", "1"], figures
    shot(hall, "12-immediate-result")
    check_axe(hall.page)
    # the first frame the hall received with anything of the choices is the tallied poll's
    first = next(json.loads(raw) for raw in hall.frames if _has_choice_counts(raw))
    assert first["type"] == "snapshot", first
    assert first["state"]["poll"]["state"] == "tallied", first["state"]["poll"]
    ptext = presidium.text()
    assert "预设时间到，自动结束" in ptext, ptext  # the presidium says how it was closed
    assert tallied["counts"]["received"] == 3
    server.post(f"/api/polls/{pid}/publish")
    hall.until("the QR code after publication", lambda: hall.page.locator(".qr svg").count() == 1)


def test_a_restart_while_a_countdown_runs_out(
    session: tuple[Server, list[Any]], screens: tuple[Screen, Screen], tmp_path: Path
) -> None:
    server, _kiosks = session
    hall, presidium = screens
    hall.page.goto(server.url + "/screen/hall")
    _login_presidium(server, presidium.page)
    pid = _timed_poll(server, RESTART_TITLE, 8)
    hall.until("the countdown", lambda: hall.page.locator(".countdown").count() == 1, 120)
    deadline = server.get(f"/api/polls/{pid}")["deadline"]
    server.stop()
    hall.until("the reconnect banner", lambda: hall.page.is_visible("#reconnect-banner"), 60)
    end = datetime.fromisoformat(deadline.replace("Z", "+00:00"))
    left = (end - datetime.now(UTC)).total_seconds()
    assert left > 0, "the server was stopped after the deadline: the test proves nothing"
    time.sleep(left + 1)
    server.start()
    poll = server.wait_poll(pid, "tallied", "closed", timeout=60)
    assert poll["closed_by"] == "timer"
    assert "重启后立即结束" in server.log() or "closed now" in server.log()
    for s in (hall, presidium):
        s.until("back", lambda s=s: not s.page.is_visible("#reconnect-banner"), 90)
        s.until("no countdown", lambda s=s: s.page.locator(".countdown").count() == 0, 60)
    hall.until("the hall says the time ran out", lambda: "投票时间到" in hall.text(), 60)
    presidium.until("tallied", lambda: presidium.stage() == "result", 120)
    assert "预设时间到，自动结束" in presidium.text()
    server.wait_poll(pid, "tallied", timeout=120)
    htext = hall.text()  # 延时显示 (the default): nothing of the result before publication
    for word in CHOICE_WORDS:
        assert word not in htext, (word, htext)
    server.post(f"/api/polls/{pid}/publish")
    hall.until("the published result", lambda: hall.stage() == "result", 60)
    save_screenshot(hall.page, "hall/13-after-restart.png", tmp_path)


@pytest.mark.parametrize("size", [(1920, 1080), (3840, 2160)], ids=["1080p", "4k"])
def test_the_hall_screen_scales_to_4k(
    session: tuple[Server, list[Any]], browser: Any, size: tuple[int, int], tmp_path: Path
) -> None:
    """SCREENS.md §4: the key numbers at least a tenth of the screen's height, at both sizes;
    every size on the hall screen is in viewport units, so 4K is the same picture, twice as
    large."""
    server, _kiosks = session
    width, height = size
    context = browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN")
    try:
        page = context.new_page()
        page.goto(server.url + "/screen/hall")
        wait("the result", lambda: page.get_attribute("#screen", "data-stage") == "result", 60)
        wait("the QR code", lambda: page.locator(".qr svg").count() == 1, 30)
        figures = _key_number_heights(page, ".tally .figure dd")
        verdict = _key_number_heights(page, ".verdict")
        assert len(figures) == 4 and min(figures) >= height / 10, (figures, height)
        assert verdict and verdict[0] >= height / 10, verdict
        # (a snapshot redraws the screen and fetches the QR code again: wait for its box)
        qr = wait("the QR code's box", lambda: page.locator(".qr svg").bounding_box(), 30)
        assert qr["height"] >= height / 5, qr  # scannable from the front rows
        size = "e => parseFloat(getComputedStyle(e).fontSize)"
        title = page.locator(".poll-title").evaluate(size)
        assert title >= height * 0.05, title
        # nothing overflows the screen
        overflow = page.evaluate(
            "() => [document.documentElement.scrollWidth, document.documentElement.scrollHeight]"
        )
        assert overflow[0] <= width and overflow[1] <= height, overflow
        name = "14-result-4k" if width == 3840 else "14-result-1080p"
        save_screenshot(page, f"hall/{name}.png", tmp_path)
        check_axe(page)
    finally:
        context.close()
