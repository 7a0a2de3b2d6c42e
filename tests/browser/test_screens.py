"""The hall screen (会场大屏), the presidium screen (主席台屏) and the bulletin board (公告栏) in
Chromium against a real ``renda serve`` with headless kiosk processes casting.

One session, in the order a secretariat runs it: check-in followed live by the hall; a motion
(发出 / 已投, never a count of choices: the page's text and every websocket frame it receives
are read); the tally seen on the presidium screen before publication and nothing of it on the
hall's (延时显示); the result after publication with its QR code and fingerprint; a server
restart while the screens are open; a project vote and an election; a deputy's tracker found
on the bulletin board. Screenshots at 1920×1080 of each state (RENDA_SCREENSHOTS=1 keeps them
in docs/screens/hall/).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tally.election_ballot import ElectionLayout, question_json
from tests.browser.support import check_axe, save_screenshot
from tests.browser.tablet_support import Server, headless_kiosk, stop

pytestmark = [pytest.mark.browser, pytest.mark.slow]

MARKS = ["赞成", "反对", "弃权"]
MOTION_TITLE = "关于青石镇2025年财政预算执行情况和2026年财政预算的决议"
PROJECTS_TITLE = "青石镇2026年民生实事项目票决"
PROJECTS = ["老旧小区改造", "镇卫生院扩建", "农村道路硬化", "中心小学食堂", "自来水管网改造"]
ELECTION_TITLE = "选举青石镇副镇长"
CANDIDATES = ["陈立新", "林晓燕", "周振华", "吴海燕"]
ROSTER = ["王建国", "李秀英", "张志强", "刘玉兰", "陈国平", "杨丽华", "赵德明"]
CHOICE_WORDS = ("赞成", "反对", "弃权", "未按", "通过", "当选", "入选")
CHOICE_KEYS = ("yes", "no", "abstain", "not_pressed", "rows", "counts", "outcome", "statement")


def _template(title: str, questions: list[str]) -> dict[str, Any]:
    return {
        "description": title,
        "name": title,
        "questions": [{"answers": MARKS, "min": 1, "max": 1, "question": q} for q in questions],
    }


# What each present deputy's tablet chooses (the fifth does not press in the motion).
SCRIPTS: list[dict[str, Any]] = [
    {
        "default": "未按",
        "polls": [
            {"match": "财政预算", "choice": "赞成"},
            {"match": "民生实事", "choice": picks},
            {"match": "副镇长", "choice": marks},
        ],
    }
    for picks, marks in [
        ([0, 1, 2], ["赞成", "赞成", "反对", "弃权"]),
        ([0, 1, 3], ["赞成", "反对", "赞成", "弃权"]),
        ([0, 2, 3], ["赞成", "赞成", "反对", "反对"]),
        ([0, 1, 4], ["赞成", "反对", "反对", "赞成"]),
    ]
] + [{"default": "未按", "polls": [{"match": "民生实事", "choice": [1, 2, 4]}]}]


def _has_choice_counts(raw: str) -> bool:
    def walk(value: Any) -> bool:
        if isinstance(value, dict):
            return any(
                (k in CHOICE_KEYS or k == "result") and v not in (None, [], {})
                for k, v in value.items()
            ) or any(walk(v) for v in value.values())
        if isinstance(value, list):
            return any(walk(v) for v in value)
        return False

    return walk(json.loads(raw))


def wait(what: str, check: Callable[[], Any], timeout: float = 120) -> Any:
    end = time.monotonic() + timeout
    while True:
        try:
            value = check()
        except (httpx.HTTPError, KeyError, ValueError):
            value = None
        if value:
            return value
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


class Screen:
    """A page and every websocket frame it has received."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.frames: list[str] = []

        def on_ws(ws: Any) -> None:
            ws.on(
                "framereceived",
                lambda payload: self.frames.append(
                    payload if isinstance(payload, str) else payload.decode()
                ),
            )

        page.on("websocket", on_ws)

    def text(self) -> str:
        return str(self.page.inner_text("#screen"))

    def stage(self) -> str:
        return str(self.page.get_attribute("#screen", "data-stage"))

    def until(self, what: str, check: Callable[[], Any], timeout: float = 120) -> Any:
        return wait(what, check, timeout)

    def bind(self, name: str) -> str:
        return str(self.page.locator(f'[data-bind="{name}"]').first.inner_text())


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("screens")
    srv = Server(tmp / "session")
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture
def screens(browser: Any) -> Iterator[tuple[Screen, Screen]]:
    contexts = []
    pages = []
    for _ in range(2):
        context = browser.new_context(viewport={"width": 1920, "height": 1080}, locale="zh-CN")
        contexts.append(context)
        pages.append(context.new_page())
    try:
        yield Screen(pages[0]), Screen(pages[1])
    finally:
        for context in contexts:
            context.close()


def _key_number_heights(page: Any, selector: str = ".figure dd, .verdict") -> list[float]:
    """The font size (px) of the screen's key numbers that are on screen."""
    return list(
        page.evaluate(
            "(sel) => [...document.querySelectorAll(sel)]"
            ".filter(e => e.offsetParent !== null)"
            ".map(e => parseFloat(getComputedStyle(e).fontSize))",
            selector,
        )
    )


def test_a_session_on_the_hall_and_presidium_screens(
    server: Server, screens: tuple[Screen, Screen], tmp_path: Path
) -> None:
    hall, presidium = screens
    shot = lambda s, name: save_screenshot(s.page, f"hall/{name}.png", tmp_path)  # noqa: E731
    deputies = server.post(
        "/api/roster",
        {"csv": "name,delegation,seat\n" + "".join(
            f"{n},第{i % 2 + 1}代表团,{i + 1:03d}\n" for i, n in enumerate(ROSTER))},
    )["deputies"]  # fmt: skip
    server.post("/api/ceremony", {"threshold": 0})

    hall.page.goto(server.url + "/screen/hall")
    # the presidium: the chair's token typed into the page once (kept in the tab, no address)
    presidium.page.goto(server.url + "/screen/presidium")
    presidium.page.get_by_label("令牌").fill(server.tokens["chair"])
    presidium.page.get_by_role("button", name="进入主席台屏").click()
    hall.until("the hall's first snapshot", lambda: hall.stage() == "idle")
    assert hall.bind("expected") == "7" and hall.bind("present") == "0"
    assert "不足法定人数" in hall.text()
    presidium.until("the presidium's first snapshot", lambda: presidium.stage() == "idle")
    assert server.tokens["chair"] not in presidium.page.url  # never in an address
    shot(hall, "01-waiting")
    check_axe(hall.page)

    # check-in, followed live (no reload)
    for d in deputies[:5]:
        server.post(f"/api/deputies/{d['deputy_id']}/checkin")
    server.post(f"/api/deputies/{deputies[5]['deputy_id']}/leave")
    hall.until("实到 5", lambda: hall.bind("present") == "5")
    assert hall.bind("on_leave") == "1" and hall.bind("absent") == "1"
    assert "符合法定人数" in hall.text()
    heights = _key_number_heights(hall.page)
    assert heights and min(heights) >= 108, heights  # a tenth of 1080
    shot(hall, "02-attendance")

    kiosks = [
        headless_kiosk(server.data.parent / f"kiosk-{i}", server.url, d["enrolment_code"], script)
        for i, (d, script) in enumerate(zip(deputies[:5], SCRIPTS, strict=True))
    ]
    try:
        wait(
            "the kiosks to enrol",
            lambda: sum(d["enrolled"] for d in server.get("/api/deputies")) == 5,
            180,
        )
        time.sleep(5)  # and connect (each enrols, then connects at once)
        _motion(server, hall, presidium, shot)
        _restart(server, hall, presidium, shot)
        _projects_and_election(server, hall, shot)
        _bulletin_board(server, hall.page, tmp_path)
    finally:
        for k in kiosks:
            stop(k)


def _motion(server: Server, hall: Screen, presidium: Screen, shot: Any) -> None:
    rules = {"id": "budget", "kind": "motion", "title": MOTION_TITLE}
    hall.frames.clear()
    pid = server.open_poll(MOTION_TITLE, "motion", _template(MOTION_TITLE, ["表决意见"]), rules)
    hall.until("the vote on the hall screen", lambda: hall.stage() == "vote", 180)
    hall.until("已投 4", lambda: hall.bind("received") == "4", 180)
    assert hall.bind("issued") == "5"
    text = hall.text()
    assert MOTION_TITLE in text and "发出" in text and "已投" in text
    for word in CHOICE_WORDS:
        assert word not in text, (word, text)
    shot(hall, "03-vote")
    check_axe(hall.page)

    server.post(f"/api/polls/{pid}/close")
    server.wait_poll(pid, "tallied")
    presidium.until("the presidium's result", lambda: presidium.stage() == "result")
    ptext = presidium.text()
    assert "计票结果（尚未公布）" in ptext and "通过" in ptext and "计票过程" in ptext
    for step in ("发出选票", "收回选票", "投票结束", "计票结果", "主持人宣布结果"):
        assert step in ptext, step
    shot(presidium, "04-presidium-tallied")
    check_axe(presidium.page)
    hall.until("the hall waits for publication", lambda: hall.stage() == "counting")
    htext = hall.text()
    assert "结果待主持人宣布" in htext
    for word in CHOICE_WORDS:
        assert word not in htext, (word, htext)
    shot(hall, "05-counting")
    # nothing the hall received until now carries anything of the choices (延时显示)
    assert hall.frames
    for raw in hall.frames:
        assert not _has_choice_counts(raw), raw

    server.post(f"/api/polls/{pid}/publish")
    hall.until("the published result", lambda: hall.stage() == "result")
    page = hall.page
    hall.until("the QR code", lambda: page.locator(".qr svg").count() == 1)
    text = hall.text()
    assert "通过" in text and "赞成" in text and "未按" in text
    figures = page.locator(".tally .figure dd").all_inner_texts()
    assert figures == ["4", "0", "0", "1"], figures  # 赞成 反对 弃权 未按
    archive = server.get(f"/api/polls/{pid}")
    fp = page.locator(".fingerprint").inner_text()
    blob = httpx.get(f"{server.url}/record/polls/{pid}/{archive['uuid']}.bel", timeout=60).content
    import hashlib

    digest = hashlib.sha256(blob).hexdigest()
    assert re.sub(r"[^0-9a-f]", "", fp.replace("记录指纹", "")) == digest
    label = page.locator(".qr svg").get_attribute("aria-label")
    assert label and MOTION_TITLE in label
    heights = _key_number_heights(page, ".tally .figure dd, .verdict")
    assert len(heights) == 5 and min(heights) >= 108, heights
    shot(hall, "06-result-motion")
    check_axe(page)


def _restart(server: Server, hall: Screen, presidium: Screen, shot: Any) -> None:
    server.stop()
    for s in (hall, presidium):
        s.until("the reconnect banner", lambda s=s: s.page.is_visible("#reconnect-banner"), 60)
        assert "正在重新连接" in s.page.inner_text("#reconnect-banner")
    shot(hall, "07-reconnecting")
    server.start()
    for s in (hall, presidium):
        s.until("back from a snapshot", lambda s=s: not s.page.is_visible("#reconnect-banner"), 90)
        s.until("the result again", lambda s=s: s.stage() == "result", 60)
        assert "通过" in s.text()
    time.sleep(12)  # the kiosks reconnect too (their back-off is at most 10 s)


def _projects_and_election(server: Server, hall: Screen, shot: Any) -> None:
    rules = {
        "id": "projects", "kind": "projects", "title": PROJECTS_TITLE, "form": "B", "select": 3,
        "projects": [{"id": f"P{i + 1}", "name": n} for i, n in enumerate(PROJECTS)],
    }  # fmt: skip
    template = {
        "description": PROJECTS_TITLE,
        "name": PROJECTS_TITLE,
        "questions": [{"answers": PROJECTS, "min": 0, "max": 3, "question": "候选项目"}],
    }
    pid = server.open_poll(PROJECTS_TITLE, "projects", template, rules)
    wait("5 ballots", lambda: server.get(f"/api/polls/{pid}")["received"] == 5, 180)
    server.close_and_publish(pid)
    hall.until("the projects' ranking", lambda: PROJECTS_TITLE in hall.text()
               and hall.stage() == "result")  # fmt: skip
    hall.until("the QR code", lambda: hall.page.locator(".qr svg").count() == 1)
    text = hall.text()
    assert "入选线" in text and "入选2项" in text  # 4 votes of 7 deputies: a majority floor
    rows = hall.page.locator(".result-rows tbody tr:not(.cut-line) th").all_inner_texts()
    assert rows[0] == "老旧小区改造"  # 4 votes: first
    shot(hall, "08-result-projects")
    check_axe(hall.page)

    rules = {
        "id": "vice-mayor", "kind": "election", "title": ELECTION_TITLE, "post": "副镇长",
        "post_type": "deputy", "organ": "government", "seats": 2,
        "candidates": [{"id": f"C{i + 1}", "name": n} for i, n in enumerate(CANDIDATES)],
    }  # fmt: skip
    layout = ElectionLayout(tuple(CANDIDATES), 2, len(ROSTER))  # the 人大 election ballot
    template = {"description": ELECTION_TITLE, "name": ELECTION_TITLE,
                "questions": [question_json(layout, "副镇长")]}  # fmt: skip
    pid = server.open_poll(ELECTION_TITLE, "election", template, rules)
    wait("4 ballots", lambda: server.get(f"/api/polls/{pid}")["received"] == 4, 180)
    server.close_and_publish(pid)
    hall.until("the election result", lambda: ELECTION_TITLE in hall.text()
               and hall.stage() == "result")  # fmt: skip
    hall.until("the QR code", lambda: hall.page.locator(".qr svg").count() == 1)
    text = hall.text()
    assert "当选" in text and "未当选" in text and "陈立新" in text
    assert "另行选举" in text  # one of two seats filled: the next step is named
    for name in CANDIDATES:  # every candidate is on screen, none cut off
        box = hall.page.get_by_role("rowheader", name=name).bounding_box()
        assert box is not None and box["y"] + box["height"] <= 1080, (name, box)
    shot(hall, "09-result-election")
    check_axe(hall.page)


def _bulletin_board(server: Server, page: Any, tmp_path: Path) -> None:
    receipts = json.loads((server.data.parent / "kiosk-0" / "receipts.json").read_text("utf-8"))
    tracker = next(iter(receipts.values()))["statement"]["tracker"]
    grouped = " ".join(tracker[i : i + 4] for i in range(0, len(tracker), 4))
    from urllib.parse import quote

    page.goto(f"{server.url}/results?tracker={quote(tracker, safe='')}")
    assert "找到了" in page.inner_text("main") and "已计入结果" in page.inner_text("main")
    assert grouped in page.inner_text("main")
    check_axe(page)
    # typing the first three groups into the search box works too
    page.goto(f"{server.url}/results")
    page.get_by_label(re.compile("跟踪号")).fill(" ".join(grouped.split(" ")[:3]))
    page.get_by_role("button", name="查找").click()
    page.wait_for_load_state()
    assert "找到了" in page.inner_text("main")
    save_screenshot(page, "hall/10-bulletin-board.png", tmp_path)
    page.goto(f"{server.url}/results?tracker=AAAA+BBBB+CCCC")
    assert "没有找到" in page.inner_text("main")
    page.goto(f"{server.url}/results/verify")
    assert "renda verify" in page.inner_text("main") and "belenios-tool" in page.inner_text("main")
    check_axe(page)
