"""The deputy's tablet in a real browser: Debian chromium (Playwright) at 1280×800 with touch,
against ``renda kiosk --ui`` connected to a real ``renda serve`` on loopback (SCREENS.md §3).

One server per test module: four deputies, three enrolled and checked in (this tablet and two
headless kiosks that vote at random, so that every poll has a quorum), the fourth absent. Each
test opens its own poll, votes it by tapping, and closes it. RENDA_SCREENSHOTS=1 writes the
screenshots to docs/screens/tablet/.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tally.election_ballot import ElectionLayout, question_json
from tally.tracker import group_tracker
from tests.browser.support import check_axe, save_screenshot
from tests.browser.tablet_support import (
    Server,
    TabletProcess,
    check_contrast_7,
    check_figures,
    headless_kiosk,
    roster_csv,
    stop,
)

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("tablet")]

DEPUTIES = ["王建国", "李秀英", "张志强", "刘丽华"]
MARKS = ["赞成", "反对", "弃权"]


def motion_template(title: str) -> dict[str, Any]:
    return {
        "description": "本决议草案已经各代表团审议。",
        "name": title,
        "questions": [{"answers": MARKS, "min": 1, "max": 1, "question": "表决意见"}],
    }


def per_item_template(title: str, items: list[str], description: str = "") -> dict[str, Any]:
    return {
        "description": description or title,
        "name": title,
        "questions": [{"answers": MARKS, "min": 1, "max": 1, "question": i} for i in items],
    }


PROJECTS = [
    "老旧小区改造", "镇卫生院扩建", "农村道路硬化", "中心小学食堂", "自来水管网改造",
    "养老服务中心", "垃圾分类站点", "农贸市场改造", "河道综合整治", "路灯亮化工程",
    "文化广场建设", "公交站台改造",
]  # fmt: skip
CANDIDATES = ["陈立新", "林晓燕", "周振华", "吴海燕"]


@dataclass
class Env:
    server: Server
    tablet: TabletProcess
    deputies: list[dict[str, Any]]
    tmp: Path
    others: list[Any] = field(default_factory=list)
    screens: Path = field(default_factory=Path)

    @property
    def url(self) -> str:
        return self.tablet.url


@pytest.fixture(scope="module")
def env(browser: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    tmp = tmp_path_factory.mktemp("tablet")
    server = Server(tmp / "server")
    server.start()
    tablet = TabletProcess(tmp / "tablet", server.url)
    e = Env(server, tablet, [], tmp)
    try:
        e.deputies = server.post("/api/roster", {"csv": roster_csv(DEPUTIES)})["deputies"]
        server.post("/api/ceremony", {"threshold": 0})
        tablet.start()
        for i in (1, 2):
            d = e.deputies[i]
            e.others.append(
                headless_kiosk(
                    tmp / f"kiosk{i}",
                    server.url,
                    d["enrolment_code"],
                    {"default": "random", "seed": i},
                )
            )
        # The secretariat enrols the tablet from the first deputy's card, at the tablet.
        context = browser.new_context(
            viewport={"width": 1280, "height": 800}, has_touch=True, locale="zh-CN"
        )
        page = context.new_page()
        page.goto(tablet.url)
        page.locator("#code").fill(e.deputies[0]["enrolment_code"].lower().replace("-", " "))
        save_screenshot(page, "tablet/01-enrol.png", tmp)
        check_axe(page)
        check_figures(page)
        page.get_by_role("button", name="登记", exact=True).tap()
        page.get_by_text("请签到", exact=True).wait_for(timeout=30_000)
        save_screenshot(page, "tablet/02-waiting-check-in.png", tmp)
        check_axe(page)
        for d in e.deputies[:3]:
            server.post(f"/api/deputies/{d['deputy_id']}/checkin")
        page.get_by_text("已签到", exact=True).wait_for(timeout=30_000)
        save_screenshot(page, "tablet/03-waiting.png", tmp)
        check_figures(page)
        context.close()
        yield e
    finally:
        for proc in e.others:
            stop(proc)
        tablet.stop()
        server.stop()


@pytest.fixture
def page(env: Env, tablet_page: Any) -> Any:
    tablet_page.goto(env.url)
    tablet_page.locator("main").wait_for()
    return tablet_page


def shot(page: Any, env: Env, name: str) -> None:
    save_screenshot(page, f"tablet/{name}.png", env.tmp)


def open_poll(
    env: Env,
    page: Any,
    title: str,
    kind: str,
    template: dict[str, Any],
    rules: dict[str, Any] | None = None,
    *,
    last_press_valid: bool = True,
) -> str:
    pid = env.server.open_poll(title, kind, template, rules, last_press_valid=last_press_valid)
    page.get_by_role("heading", name=title).wait_for(timeout=60_000)
    return pid


def review_and_cast(page: Any) -> None:
    page.get_by_role("button", name="下一步：核对选票").tap()
    page.get_by_role("heading", name="请核对您的选票").wait_for()
    page.get_by_role("button", name="确认投票").tap()
    page.locator(".done").wait_for(timeout=60_000)


def close(env: Env, pid: str) -> None:
    poll = env.server.get(f"/api/polls/{pid}")
    if poll["state"] in ("collecting", "open"):
        env.server.post(f"/api/polls/{pid}/close")


def snapshot(url: str) -> str:
    """The first state the kiosk process sends its page (GET /events)."""
    with httpx.stream("GET", url + "events", timeout=10) as r:
        for line in r.iter_lines():
            if line.startswith("data: "):
                return line[len("data: ") :]
    raise AssertionError("no state from the kiosk process")


def vault_secrets(env: Env) -> list[str]:
    """Every secret in the tablet's vault (the device key, the poll's private credential)."""
    from kiosk.vault import Vault
    from tests.browser.tablet_support import PASSPHRASE

    vault = Vault.open(env.tablet.folder, PASSPHRASE)
    out = []
    for name in vault.names():
        raw = vault.unseal(name) or b""
        if name == "trustees":  # the session's pinned trustees: public, sealed against change
            continue
        if name == "device":
            out.append(json.loads(raw)["device_key"])
        else:
            out.append(raw.decode("ascii"))
    return out


def receipts(env: Env) -> dict[str, Any]:
    path = env.tablet.folder / "receipts.json"
    return dict(json.loads(path.read_text("utf-8"))) if path.exists() else {}


# -- the tests ------------------------------------------------------------------------------------


def test_enrol_another_tablet_from_a_typed_code(env: Env, tablet_page: Any) -> None:
    """The code typed in lower case with spaces and dashes mixed; a wrong code is said in
    Chinese; the absent deputy's tablet then waits with 请签到."""
    other = TabletProcess(env.tmp / "tablet-absent", env.server.url)
    other.start()
    try:
        page = tablet_page
        page.goto(other.url)
        page.locator("#code").fill("ABCD-EFGH-JKLM-NPQR")
        page.get_by_role("button", name="登记", exact=True).tap()
        page.get_by_role("alert").get_by_text("登记码不正确").wait_for()
        code = env.deputies[3]["enrolment_code"]
        typed = code[:4].lower() + " " + code[5:9] + "-" + code[10:].lower().replace("-", " ")
        page.locator("#code").fill(typed)
        page.get_by_role("button", name="登记", exact=True).tap()
        page.get_by_text("请签到", exact=True).wait_for(timeout=30_000)
        assert "刘丽华" in page.locator("header").inner_text()
        assert page.get_by_text("签到后，本平板才能表决").is_visible()
    finally:
        other.stop()
    vault = sorted(p.name for p in (env.tmp / "tablet-absent").iterdir())
    assert "device.sealed" in vault and "vault.json" in vault


def test_motion_first_press(env: Env, page: Any) -> None:
    title = "关于《青石镇2026年财政预算草案》的决议"
    pid = open_poll(
        env,
        page,
        title,
        "motion",
        motion_template(title),
        {"id": "budget", "kind": "motion", "title": title},
        last_press_valid=False,
    )
    try:
        assert page.get_by_text("确认后不能更改").is_visible()
        state = snapshot(env.url)
        secrets = vault_secrets(env)
        assert len(secrets) == 2  # the device key and this poll's private credential
        for secret in secrets:  # nothing secret reaches the page
            assert secret not in state and secret not in page.content()
        shot(page, env, "04-motion")
        check_contrast_7(page)
        check_axe(page)
        check_figures(page)
        yes = page.get_by_role("button", name="赞成", exact=True)
        yes.tap()
        assert yes.get_attribute("aria-pressed") == "true"
        page.get_by_role("button", name="反对", exact=True).tap()  # change of mind
        assert yes.get_attribute("aria-pressed") == "false"
        yes.tap()
        page.get_by_role("button", name="下一步：核对选票").tap()
        page.get_by_role("heading", name="请核对您的选票").wait_for()
        assert page.locator(".review").get_by_text("赞成").is_visible()
        assert page.get_by_text("确认后不能更改。").is_visible()
        shot(page, env, "05-motion-review")
        check_axe(page)
        page.get_by_role("button", name="确认投票").tap()
        page.locator(".done").wait_for(timeout=60_000)
        tracker = receipts(env)[pid]["statement"]["tracker"]
        groups = group_tracker(tracker).split(" ")
        shown = page.locator(".tracker").inner_text()
        assert shown.split() == groups
        assert page.locator(".tracker .lead").inner_text() == " ".join(groups[:2])
        assert page.get_by_text("回执已核对").is_visible()
        qr = httpx.get(env.url + f"receipt/{pid}/qr.svg", timeout=10)
        assert qr.status_code == 200 and qr.headers["content-type"].startswith("image/svg+xml")
        assert page.locator("img[alt^='二维码']").evaluate("i => i.naturalWidth") > 0
        shot(page, env, "06-receipt")
        check_contrast_7(page)
        check_axe(page)
        check_figures(page)
        # 本机信息: the trustees this tablet pinned, by fingerprint, to compare with the hall
        from tally.session_trustees import trustees_fingerprint

        page.get_by_role("button", name="本机信息").tap()
        dialog = page.get_by_role("dialog", name="本机信息")
        trustees = env.server.get("/api/record")["session"]["trustees"]
        assert dialog.locator("#trustees-fp").inner_text() == trustees_fingerprint(trustees)
        assert "测试会议" in dialog.inner_text()  # threshold 0: no scrutineers
        shot(page, env, "06b-about")
        check_axe(page)
        dialog.get_by_role("button", name="关闭").tap()
        dialog.wait_for(state="detached")
        env.server.post(f"/api/polls/{pid}/close")
        page.get_by_role("heading", name="投票已结束").wait_for(timeout=60_000)
        shot(page, env, "07-closed")
        env.server.wait_poll(pid, "tallied")
        env.server.post(f"/api/polls/{pid}/publish")
        page.get_by_text("表决结果", exact=True).wait_for(timeout=60_000)
        body = page.locator("main").inner_text()
        assert "应到 4" in body.replace("\n", " ") or "应到\n4" in body
        outcome = env.server.get(f"/api/polls/{pid}")["outcome"]
        word = {"passed": "通过", "not_passed": "未通过"}[outcome["items"][0]["status"]]
        assert page.locator(".results tbody td").last.inner_text() == word
        yes = outcome["items"][0]["yes"]
        assert page.locator(".results tbody td").nth(1).inner_text() == str(yes)
        shot(page, env, "08-result")
        check_contrast_7(page)
        check_axe(page)
    finally:
        close(env, pid)


def test_projects_choose_ten_of_twelve(env: Env, page: Any) -> None:
    title = "青石镇2026年民生实事项目票决"
    template = {
        "description": "从12个候选项目中选出10个",
        "name": title,
        "questions": [{"answers": PROJECTS, "min": 0, "max": 10, "question": "候选项目"}],
    }
    rules = {
        "id": "projects", "kind": "projects", "title": title, "form": "B", "select": 10,
        "projects": [{"id": f"P{i + 1}", "name": n} for i, n in enumerate(PROJECTS)],
    }  # fmt: skip
    pid = open_poll(env, page, title, "projects", template, rules)
    try:
        assert page.get_by_text("最多选10项").first.is_visible()
        counter = page.locator(".counter")
        for i, name in enumerate(PROJECTS[:7]):
            page.get_by_role("button", name=name).tap()
            assert counter.inner_text().replace(" ", "") == f"已选{i + 1}/10"
        shot(page, env, "09-projects")
        check_contrast_7(page)
        check_axe(page)
        check_figures(page)
        for name in PROJECTS[7:10]:
            page.get_by_role("button", name=name).tap()
        eleventh = page.get_by_role("button", name=PROJECTS[10])
        eleventh.tap()
        assert eleventh.get_attribute("aria-pressed") == "false"
        page.get_by_role("alert").get_by_text("最多选10项，已经选满10项").wait_for()
        assert counter.inner_text().replace(" ", "") == "已选10/10"
        shot(page, env, "10-projects-eleventh-refused")
        page.get_by_role("button", name=PROJECTS[2]).tap()  # changes her mind: 3 out, 11 in
        eleventh.tap()
        assert eleventh.get_attribute("aria-pressed") == "true"
        page.get_by_role("button", name="下一步：核对选票").tap()
        page.get_by_role("heading", name="请核对您的选票").wait_for()
        notice = page.locator(".notice").first.inner_text()
        assert "第3项「农村道路硬化」未选" in notice and "第12项「公交站台改造」未选" in notice
        shot(page, env, "11-projects-review")
        check_axe(page)
        page.get_by_role("button", name="确认投票").tap()
        page.locator(".done").wait_for(timeout=60_000)
    finally:
        close(env, pid)


def test_projects_form_a_names_the_unmarked_project(env: Env, page: Any) -> None:
    title = "2026年民生实事项目（逐项表决）"
    items = PROJECTS[:5]
    pid = open_poll(env, page, title, "projects", per_item_template(title, items))
    try:
        cards = page.locator(".item")
        for k in (0, 1, 2, 3):  # the fifth left unmarked
            cards.nth(k).get_by_role("button", name=MARKS[k % 3], exact=True).tap()
        page.get_by_role("button", name="下一步：核对选票").tap()
        page.get_by_role("heading", name="请核对您的选票").wait_for()
        assert page.get_by_text("第5项「自来水管网改造」未选").is_visible()
        assert page.get_by_text("未选的项按弃权计").is_visible()
        shot(page, env, "12-form-a-review-unmarked")
        check_axe(page)
        page.get_by_role("button", name="返回修改").tap()
        cards.nth(4).get_by_role("button", name="赞成", exact=True).tap()
        review_and_cast(page)
    finally:
        close(env, pid)


def test_the_demos_election_3_of_4_with_a_write_in(env: Env, page: Any) -> None:
    """The demo's election (3 副镇长 of 4 candidates, 差额, write-ins by seat number) on the 人大
    election ballot: a fourth name is refused, on the page and by the kiosk process."""
    title = "选举青石镇副镇长"
    layout = ElectionLayout(tuple(CANDIDATES), seats=3, roster_max=len(DEPUTIES))
    description = "副镇长：应选3名，候选人4名，可以另选他人"
    template = {"description": description, "name": title,
                "questions": [question_json(layout, "副镇长")]}  # fmt: skip
    rules = {
        "id": "vice-mayor", "kind": "election", "title": title, "post": "副镇长",
        "post_type": "deputy", "organ": "government", "seats": 3,
        "candidates": [{"id": f"C{i + 1}", "name": n} for i, n in enumerate(CANDIDATES)],
    }  # fmt: skip
    pid = open_poll(env, page, title, "election", template, rules)
    try:
        assert page.get_by_text("应选3名").first.is_visible()
        assert page.get_by_text("可以另选他人").first.is_visible()
        cards = page.locator(".item")
        counter = page.locator(".counter")
        for k in range(3):
            cards.nth(k).get_by_role("button", name="赞成", exact=True).tap()
        assert counter.inner_text().replace(" ", "") == "赞成3/应选3"
        fourth = cards.nth(3).get_by_role("button", name="赞成", exact=True)
        fourth.tap()
        assert fourth.get_attribute("aria-pressed") == "false"
        page.get_by_role("alert").get_by_text("不能再赞成").wait_for()
        shot(page, env, "13-election-overvote-refused")
        check_axe(page)
        check_figures(page)
        # 反对 for 周振华 and 吴海燕, then deputy 2 written in: 2 赞成 + 1 另选 = 3 names
        cards.nth(2).get_by_role("button", name="反对", exact=True).tap()
        cards.nth(3).get_by_role("button", name="反对", exact=True).tap()
        page.get_by_role("button", name="＋ 另选他人").tap()
        dialog = page.get_by_role("dialog")
        dialog.get_by_role("button", name="2", exact=True).tap()
        dialog.get_by_role("button", name="确定").tap()
        assert page.get_by_text("2号代表").is_visible() or page.get_by_text("（2号）").is_visible()
        assert counter.inner_text().replace(" ", "") == "已选3（赞成2，另选他人1）/应选3"
        shot(page, env, "13b-election-3-of-4-write-in")
        check_contrast_7(page)
        check_figures(page)
        # the kiosk process refuses an overvote too, whatever a page would send
        for answer in ({"marks": [0, 0, 0, 0]}, {"marks": [0, 0, 0, 1], "write_ins": [2]}):
            r = httpx.post(env.url + "api/cast", json={"poll_id": pid, "answers": [answer]},
                           timeout=10)  # fmt: skip
            assert r.status_code == 400, r.text
            assert "合计不能超过3名" in r.json()["error"]["message"]
        page.get_by_role("button", name="下一步：核对选票").tap()
        page.get_by_role("heading", name="请核对您的选票").wait_for()
        assert page.locator(".review").get_by_text("另选他人").is_visible()
        shot(page, env, "13c-election-3-of-4-review")
        check_axe(page)
        page.get_by_role("button", name="确认投票").tap()
        page.locator(".done").wait_for(timeout=60_000)
    finally:
        close(env, pid)


def test_election_with_a_write_in(env: Env, page: Any) -> None:
    title = "选举镇人大副主席"
    layout = ElectionLayout(("甲一", "乙二", "丙三"), seats=2, roster_max=255)
    template = {"description": title, "name": title, "questions": [question_json(layout, title)]}
    rules = {
        "id": "vice-chair", "kind": "election", "title": title, "post": "人大副主席",
        "post_type": "deputy", "organ": "township_congress", "seats": 2,
        "candidates": [{"id": "A", "name": "甲一"}, {"id": "B", "name": "乙二"},
                       {"id": "C", "name": "丙三"}],
    }  # fmt: skip
    pid = open_poll(env, page, title, "election", template, rules)
    try:
        assert page.get_by_text("可以另选他人").first.is_visible()
        cards = page.locator(".item")
        write = page.get_by_role("button", name="＋ 另选他人")
        write.tap()  # no 反对 yet: a write-in needs one
        page.get_by_role("alert").get_by_text("请先对一位候选人投反对票").wait_for()
        cards.nth(0).get_by_role("button", name="赞成", exact=True).tap()
        cards.nth(1).get_by_role("button", name="反对", exact=True).tap()
        write.tap()
        dialog = page.get_by_role("dialog")
        dialog.get_by_role("button", name="3", exact=True).tap()
        shot(page, env, "14-election-write-in-keypad")
        check_axe(page)
        dialog.get_by_role("button", name="确定").tap()
        assert page.get_by_text("3号代表").is_visible()
        counted = page.locator(".counter").inner_text().replace(" ", "")
        assert counted == "已选2（赞成1，另选他人1）/应选2"
        third = cards.nth(2).get_by_role("button", name="赞成", exact=True)
        third.tap()  # 赞成 1 + one written in = 2 seats: a third would be an overvote
        assert third.get_attribute("aria-pressed") == "false"
        page.get_by_role("alert").get_by_text("不能再赞成").wait_for()
        cards.nth(2).get_by_role("button", name="弃权", exact=True).tap()
        shot(page, env, "15-election-write-in")
        check_contrast_7(page)
        check_figures(page)
        page.get_by_role("button", name="下一步：核对选票").tap()
        page.get_by_role("heading", name="请核对您的选票").wait_for()
        assert page.locator(".review").get_by_text("3号代表").is_visible()
        page.get_by_role("button", name="确认投票").tap()
        page.locator(".done").wait_for(timeout=60_000)
        env.server.post(f"/api/polls/{pid}/close")
        poll = env.server.wait_poll(pid, "tallied", timeout=180)
        vectors = poll["result"]["result"][0]
        # this tablet's ballot, decrypted after the shuffle: 赞成, 反对, 弃权, seat 3, empty
        assert [1, 2, 3, 3, 0] in [[int(v) for v in vec] for vec in vectors]
        env.server.post(f"/api/polls/{pid}/publish")
        page.get_by_text("表决结果", exact=True).wait_for(timeout=60_000)
        rows = page.locator(".results tbody tr")
        assert rows.first.locator("td").first.inner_text() in ("甲一", "乙二", "丙三")
        assert "应选" not in page.locator(".results").inner_text()
        shot(page, env, "20-election-result")
        check_axe(page)
    finally:
        close(env, pid)


def test_election_with_a_free_name(env: Env, page: Any) -> None:
    """镇长 (government: "其他任何代表或者选民", 地方组织法 第二十八条) on the ballot the server
    derives (version 2): a person who is not a deputy written in by name, refused when blank or
    too long, named on the review, decrypted after the shuffle and credited in the result."""
    from tally.election_ballot import decode_ballot
    from tally.poll_counts import election_layout
    from tally.poll_description import ElectionDescription, derive
    from tally.rules.model import Organ, PostType

    title = "选举青石镇镇长"
    desc = ElectionDescription(
        title, "镇长", PostType.HEAD, Organ.GOVERNMENT, 1, ("赵立国", "钱文静")
    )
    derived = derive(desc, entry_id="mayor", roster_max=len(DEPUTIES), max_ints=30)
    layout = election_layout(derived.template)
    assert layout is not None and layout.name_chars == 8  # the test group: 2 + 1 + 24 ≤ 30
    pid = open_poll(env, page, title, "election", derived.template, derived.rules)
    try:
        assert page.get_by_text("按座位号或姓名").first.is_visible()
        cards = page.locator(".item")
        by_name = page.get_by_role("button", name="＋ 按姓名另选他人")
        by_name.tap()  # no 反对 yet
        page.get_by_role("alert").get_by_text("请先对一位候选人投反对票").wait_for()
        cards.nth(0).get_by_role("button", name="反对", exact=True).tap()
        cards.nth(1).get_by_role("button", name="反对", exact=True).tap()
        by_name.tap()
        dialog = page.get_by_role("dialog")
        field = dialog.get_by_label("被选人姓名")
        assert field.evaluate("e => e === document.activeElement")  # the keyboard comes up
        dialog.get_by_role("button", name="确定").tap()
        dialog.get_by_role("alert").get_by_text("请输入被选人的姓名").wait_for()
        field.fill("阿不都热合曼买买提江")  # 10 characters
        field.press("Enter")
        dialog.get_by_role("alert").get_by_text("姓名最多8个字，现在是10个字").wait_for()
        field.fill(" 欧阳建国 ")  # the spaces around are dropped
        assert page.locator("#name-error").is_hidden()  # the refusal went with the old text
        shot(page, env, "15b-election-free-name-entry")
        check_axe(page)
        for target in (field, *dialog.get_by_role("button").all()):  # above the ballot
            box = target.bounding_box()
            assert box is not None and box["height"] >= 48 and box["width"] >= 48, box
        dialog.get_by_role("button", name="确定").tap()
        assert page.get_by_text("欧阳建国（非代表）").is_visible()
        counted = page.locator(".counter").inner_text().replace(" ", "")
        assert counted == "已选1（赞成0，另选他人1）/应选1"
        page.get_by_role("button", name="＋ 按座位号另选代表").tap()  # the seat is taken
        page.get_by_role("alert").get_by_text("不能再另选").wait_for()
        shot(page, env, "15c-election-free-name")
        check_axe(page)
        check_contrast_7(page)
        page.get_by_role("button", name="下一步：核对选票").tap()
        page.get_by_role("heading", name="请核对您的选票").wait_for()
        assert page.locator(".review").get_by_text("欧阳建国（按姓名另选，非代表）").is_visible()
        shot(page, env, "15d-election-free-name-review")
        check_axe(page)
        page.get_by_role("button", name="确认投票").tap()
        page.locator(".done").wait_for(timeout=60_000)
        env.server.post(f"/api/polls/{pid}/close")
        poll = env.server.wait_poll(pid, "tallied", timeout=180)
        decoded = [
            decode_ballot(layout, [int(v) for v in vec]) for vec in poll["result"]["result"][0]
        ]
        assert ((2, 2), ("欧阳建国",)) in [(d.marks, d.write_ins) for d in decoded]
        items = {i["name"]: i for i in poll["outcome"]["items"]}
        assert items["欧阳建国"]["write_in"] is True and items["欧阳建国"]["yes"] >= 1
        env.server.post(f"/api/polls/{pid}/publish")
        page.get_by_text("表决结果", exact=True).wait_for(timeout=60_000)
        assert page.locator(".results").get_by_text("欧阳建国（另选）").is_visible()
        public = httpx.get(f"{env.server.url}/results/{pid}", timeout=10).text
        assert "欧阳建国" in public
    finally:
        close(env, pid)


def test_confirmation_and_removal(env: Env, page: Any) -> None:
    title = "表决任命名单"
    persons = ["赵文斌", "孙桂兰"]
    pid = open_poll(env, page, title, "confirmation", per_item_template(title, persons))
    try:
        assert page.get_by_text("表决人选").first.is_visible()
        page.locator(".item").nth(0).get_by_role("button", name="赞成", exact=True).tap()
        page.locator(".item").nth(1).get_by_role("button", name="反对", exact=True).tap()
        shot(page, env, "16-confirmation")
        review_and_cast(page)
    finally:
        close(env, pid)
    title = "关于罢免马永福代表职务的决定"
    rules = {
        "id": "removal",
        "kind": "removal",
        "title": title,
        "persons": [{"id": "R1", "name": "马永福"}],
    }
    pid = open_poll(env, page, title, "other", per_item_template(title, ["马永福"]), rules)
    try:
        assert page.locator(".kind").inner_text() == "罢免"
        page.locator(".item").get_by_role("button", name="赞成", exact=True).tap()
        review_and_cast(page)
    finally:
        close(env, pid)


def test_server_down_while_sending_then_back(env: Env, page: Any) -> None:
    title = "关于设立青石镇人大代表联络站的决议"
    pid = open_poll(env, page, title, "motion", motion_template(title))
    try:
        page.get_by_role("button", name="反对", exact=True).tap()
        page.get_by_role("button", name="下一步：核对选票").tap()
        page.get_by_role("heading", name="请核对您的选票").wait_for()
        before = env.server.get(f"/api/polls/{pid}")["received"]
        env.server.stop()
        page.get_by_text("未连接").wait_for(timeout=30_000)
        page.get_by_role("button", name="确认投票").tap()
        page.get_by_text("暂时连不上会议服务器").wait_for(timeout=30_000)
        body = page.locator("main").inner_text()
        assert "选票已经保存在本平板上" in body and "失败" not in body
        assert page.locator(".tracker").is_visible()
        shot(page, env, "17-offline-ballot-kept")
        check_contrast_7(page)
        check_axe(page)
        tracker = page.locator(".tracker").inner_text()
        # the tablet itself restarts while the ballot waits: it is still kept, still shown
        env.tablet.stop()
        env.tablet.start()
        page.goto(env.url)
        page.get_by_text("暂时连不上会议服务器").wait_for(timeout=30_000)
        assert page.locator(".tracker").inner_text() == tracker
        env.server.start()
        page.locator(".done").wait_for(timeout=60_000)
        assert page.locator(".tracker").inner_text() == tracker
        poll = env.server.get(f"/api/polls/{pid}")
        assert poll["received"] == before + 1  # acknowledged, and counted once
        assert pid in receipts(env)
        assert json.loads((env.tablet.folder / "outbox.json").read_text("utf-8")) == {}
    finally:
        if env.server.proc is None:
            env.server.start()
        close(env, pid)


def test_larger_text_and_portrait(env: Env, page: Any, browser: Any) -> None:
    page.get_by_role("button", name="大字").wait_for(timeout=30_000)
    normal = page.evaluate("() => parseFloat(getComputedStyle(document.body).fontSize)")
    page.get_by_role("button", name="大字").tap()
    page.get_by_role("button", name="标准字").wait_for()
    large = page.evaluate("() => parseFloat(getComputedStyle(document.body).fontSize)")
    assert large >= normal * 1.25
    title = "表决青石镇人民政府组成人员名单"
    pid = open_poll(env, page, title, "confirmation", per_item_template(title, CANDIDATES))
    try:
        assert page.get_by_role("button", name="标准字").is_visible()  # kept across polls
        measures = check_figures(page)
        assert measures["bodyCap"] * 25.4 / 96 >= 6
        check_axe(page)
        shot(page, env, "19-large-text")
        for k in range(4):
            page.locator(".item").nth(k).get_by_role("button", name="赞成", exact=True).tap()
        review_and_cast(page)
    finally:
        close(env, pid)
    page.get_by_role("button", name="标准字").tap()
    page.get_by_role("button", name="大字").wait_for()
    context = browser.new_context(
        viewport={"width": 800, "height": 1280}, has_touch=True, locale="zh-CN"
    )
    try:
        tall = context.new_page()
        tall.goto(env.url)
        title = "关于青石镇河道综合整治的决议"
        pid = open_poll(env, tall, title, "motion", motion_template(title))
        try:
            m = check_figures(tall)
            assert 4.5 <= m["bodyCap"] * 25.4 / 96 <= 5.5  # about 4.9 mm by default
            check_axe(tall)
            save_screenshot(tall, "tablet/18-portrait-800x1280.png", env.tmp)
            tall.get_by_role("button", name="弃权", exact=True).tap()
            review_and_cast(tall)
        finally:
            close(env, pid)
    finally:
        context.close()


def test_withdrawn_while_on_screen(env: Env, page: Any) -> None:
    """The secretariat withdraws the poll while the deputy is choosing: the ballot leaves the
    screen and the tablet says why; nothing is sent."""
    title = "关于调整会议议程的决定"
    pid = open_poll(env, page, title, "motion", motion_template(title))
    try:
        page.get_by_role("button", name="赞成", exact=True).tap()
        env.server.post(f"/api/polls/{pid}/withdraw")
        page.get_by_role("heading", name="本次表决已撤回").wait_for(timeout=30_000)
        assert page.get_by_role("button", name="赞成", exact=True).count() == 0
        assert pid not in receipts(env)
    finally:
        close(env, pid)


def test_a_timed_poll_counts_down_and_closes_by_itself(env: Env, page: Any) -> None:
    """A poll with a preset voting time (GB 50799 §6.2.2-4): the tablet counts down to the
    deadline the server signed in the poll's setup; at zero the poll closes by itself and the
    ballot still on screen leaves it (投票已结束)."""
    title = "关于设立青石镇老年食堂的决定"
    body = {
        "title": title,
        "kind": "motion",
        "template": motion_template(title),
        "rules": {"id": "canteen", "kind": "motion", "title": title},
        "duration": 12,
    }
    pid = str(env.server.post("/api/polls", body)["poll_id"])
    env.server.post(f"/api/polls/{pid}/open")
    page.get_by_role("heading", name=title).wait_for(timeout=60_000)
    timer = page.locator("#timer")
    timer.wait_for(state="visible", timeout=10_000)
    left = page.locator("#timer-left").inner_text()
    assert re.fullmatch(r"00:(0\d|1[0-2])", left), left
    deadline = env.server.get(f"/api/polls/{pid}")["deadline"]
    assert json.loads(snapshot(env.url))["poll"]["deadline"] == deadline  # the signed one
    shot(page, env, "21-countdown")
    check_axe(page)
    check_contrast_7(page)
    poll = env.server.wait_poll(pid, "closed", "tallied", timeout=60)
    assert poll["closed_by"] == "timer"
    page.get_by_role("heading", name="投票已结束").wait_for(timeout=30_000)
    assert not timer.is_visible()  # no countdown once the poll is over
    assert pid not in receipts(env)


def test_the_page_answers_only_its_own_loopback_origin(env: Env) -> None:
    r = httpx.get(env.url, headers={"Host": "renda.example:80"}, timeout=10)
    assert r.status_code == 403 and r.json()["error"]["message"] == "只接受本机的请求"
    r = httpx.post(
        env.url + "api/text",
        json={"large": True},
        timeout=10,
        headers={"Origin": "http://evil.example"},
    )
    assert r.status_code == 403
    r = httpx.post(
        env.url + "api/text",
        content=b'{"large": true}',
        timeout=10,
        headers={"Content-Type": "text/plain"},
    )
    assert r.status_code == 400  # a form post from elsewhere cannot reach it either
    page = httpx.get(env.url, timeout=10)
    assert page.headers["content-security-policy"].startswith("default-src 'self'")
