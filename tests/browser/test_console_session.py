"""A whole session run through the console in Chromium, as a secretary would.

A real ``renda serve``; the secretary uploads rosters (one with errors, one UTF-8 with a BOM,
one GBK), prints the cards (their codes read back from the PDF enrol real headless kiosks),
checks deputies in by seat, registers two scrutineers whose ``renda trustee`` tools run the
key ceremony and the decryptions, builds a motion, a 12-choose-10 project vote and a 差额
election from the forms (and sees a lawless election refused with the article), opens,
closes and publishes each (the election with a write-in, 另选他人; the poll's figures followed
live over the websocket), prints the count report (its text read back), enters a motion held
by show of hands (the devices failed) and sees it on the hall screen, and downloads the
record, verified with ``renda verify`` and belenios-tool. The chair cannot import a roster; a
display token cannot log in. Every page passes axe-core at level AA; screenshots of each page
go to docs/screens/console/ with RENDA_SCREENSHOTS=1.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import tarfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.belenios import belenios_verify
from tests.browser.served import RENDA, Served, wait_for
from tests.browser.support import check_axe, save_screenshot
from tests.console import pdf_text

# the longest test: a whole session with three tallies, a show of hands and two verifiers
pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(1500)]

PROJECTS = [f"民生实事项目{i}" for i in range(1, 13)]
MOTION = "关于镇人民政府工作报告的决议"
ELECTION = "选举副镇长"
HANDS = "关于表决器故障时举手表决的议案"
DEPUTIES = [
    ("张三", "第一代表团", "001"),
    ("李四", "第一代表团", "002"),
    ("王五", "第二代表团", "003"),
    ("赵六", "第二代表团", "004"),
    ("钱七", "第三代表团", "005"),
    ("孙八", "第三代表团", "006"),
]
SCRIPT = {
    "default": "弃权",
    "polls": [
        {"match": "决议", "choice": "赞成"},
        {"match": "民生实事", "choice": list(range(10))},
        # 另选他人: 孙八 (roster number 6) instead of 候选人乙, each write-in with a 反对 of its own
        {
            "match": "副镇长",
            "choice": {"候选人甲": "赞成", "候选人乙": "反对", "候选人丙": "反对", "另选他人": [6]},
        },
    ],
}


class Processes:
    """Kiosk and trustee processes started by the test, stopped at the end."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.procs: list[subprocess.Popen[bytes]] = []

    def start(
        self, name: str, *args: str, env: dict[str, str] | None = None
    ) -> subprocess.Popen[bytes]:
        log = open(self.folder / f"{name}.log", "ab")  # noqa: SIM115 (closed with the process)
        proc = subprocess.Popen(
            [*RENDA, *args], stdout=log, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})}
        )
        log.close()
        self.procs.append(proc)
        return proc

    def stop(self) -> None:
        for p in self.procs:
            if p.poll() is None:
                p.terminate()
        for p in self.procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


@pytest.fixture
def session(tmp_path: Path) -> Iterator[tuple[Served, Processes]]:
    # a real group (renda verify accepts no test group); RFC-3526-2048 allows write-in elections
    server = Served(tmp_path / "session", "--group", "RFC-3526-2048")
    procs = Processes(tmp_path)
    try:
        server.start()
        yield server, procs
    finally:
        procs.stop()
        server.stop()


def shot(page: Any, name: str, tmp_path: Path) -> None:
    check_axe(page)
    save_screenshot(page, f"console/{name}.png", tmp_path)


def login(page: Any, url: str, token: str) -> None:
    page.goto(url + "/console")
    assert "/login" in page.url
    page.get_by_label("令牌").fill(token)
    page.get_by_role("button", name="登录").click()


def downloaded_pdf_text(page: Any) -> str:
    """The text of the card PDF offered (once) on the page shown after codes were made."""
    with page.expect_download() as info:
        page.get_by_role("link", name=re.compile("下载登记卡")).click()
    return pdf_text(Path(info.value.path()).read_bytes())


def upload(page: Any, url: str, path: Path) -> None:
    page.goto(url + "/console/roster")
    page.get_by_label("名册文件").set_input_files(str(path))
    page.get_by_role("button", name="预览").click()


def confirm(page: Any, url: str, pid: str, label: str) -> None:
    page.goto(f"{url}/console/polls/{pid}")
    page.get_by_role("link", name=label, exact=True).click()
    page.get_by_role("button", name=f"确认{label}").click()
    assert f"已{label}" in page.inner_text("main"), page.inner_text("main")


def poll_until(served: Served, pid: str, ok: Callable[[dict[str, Any]], bool], what: str) -> Any:
    return wait_for(
        what,
        lambda: (p := served.get(f"/api/polls/{pid}")) and ok(p) and p,
        timeout=240,
        logs=served.log,
    )


def test_a_session_run_from_the_console(
    session: tuple[Served, Processes], browser: Any, belenios_tool: str, tmp_path: Path
) -> None:
    served, procs = session
    url = served.url
    ctx = browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN")
    page = ctx.new_page()
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))

    # -- a display token cannot log in; the secretariat's can --
    login(page, url, served.tokens["display"])
    assert "只能用于显示屏" in page.inner_text("main")
    shot(page, "login", tmp_path)
    login(page, url, served.tokens["secretariat"])
    assert page.url.endswith("/console")
    shot(page, "overview-empty", tmp_path)

    # -- rosters: one with errors, one UTF-8 with a BOM, one GBK as Excel writes it --
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "姓名,代表团,座位号\n张三,第一代表团,001\n,第一代表团,002\n李四,一团,001\n", "utf-8"
    )
    upload(page, url, bad)
    text = page.inner_text("main")
    assert "第3行：姓名为空" in text and "第4行：李四：座位号 001 与第2行重复" in text
    assert page.get_by_role("button", name=re.compile("导入")).count() == 0
    shot(page, "roster-errors", tmp_path)
    first = tmp_path / "first.csv"
    first.write_bytes(
        "\ufeff序号,姓名,代表团,座位号\r\n".encode()
        + "".join(f"{i},{n},{d},{s}\r\n" for i, (n, d, s) in enumerate(DEPUTIES[:4], 1)).encode()
    )
    upload(page, url, first)
    assert "UTF-8（带 BOM）" in page.inner_text("main")
    shot(page, "roster-preview", tmp_path)
    page.get_by_role("button", name="导入这 4 名代表").click()
    assert "已导入 4 名代表" in page.inner_text("main")
    # the cards exist only in this page (the server keeps the codes' hashes)
    shot(page, "cards-ready", tmp_path)
    card_texts = [downloaded_pdf_text(page)]
    second = tmp_path / "second.csv"
    second.write_bytes(
        ("姓名,代表团,座位号\r\n" + "".join(f"{n},{d},{s}\r\n" for n, d, s in DEPUTIES[4:])).encode(
            "gbk"
        )
    )
    upload(page, url, second)
    assert "GBK" in page.inner_text("main")
    page.get_by_role("button", name="导入这 2 名代表").click()
    assert "已导入 2 名代表" in page.inner_text("main")
    card_texts.append(downloaded_pdf_text(page))
    page.goto(url + "/console/roster")
    shot(page, "roster", tmp_path)

    # -- cards: the PDFs read back; their codes enrol the kiosks --
    text = "\n".join(card_texts)
    codes = re.findall(r"[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}", text)
    assert len(codes) == 6 and all(name in text for name, _, _ in DEPUTIES)
    assert "座位号：005" in text and "第三代表团" in text
    script = tmp_path / "script.json"
    script.write_text(json.dumps(SCRIPT, ensure_ascii=False), "utf-8")
    for i, code in enumerate(codes[:5]):
        procs.start(
            f"kiosk-{i}",
            "kiosk",
            "--server",
            url,
            "--enrol",
            code,
            "--dir",
            str(tmp_path / f"kiosk-{i}"),
            "--script",
            str(script),
            env={"RENDA_KIOSK_PASSPHRASE": "test-passphrase"},
        )

    # -- check-in by seat; one deputy on leave --
    for _name, _d, seat in DEPUTIES[:5]:
        page.goto(url + "/console/checkin")
        page.get_by_label("座位号或姓名").fill(seat)
        page.get_by_role("button", name="查找").click()
        page.get_by_role("row").filter(has_text=seat).get_by_role(
            "button", name=re.compile("^签到")
        ).click()
        assert f"座位 {seat}）：签到，已记录" in page.inner_text("main")
    page.goto(url + "/console/checkin?q=孙八")
    page.get_by_role("button", name=re.compile("^请假")).click()
    wait_for(
        "the five kiosks to connect",
        lambda: (page.reload() or True) and "表决器未连接" not in page.inner_text("main"),
        timeout=180,
        logs=served.log,
    )
    page.goto(url + "/console/checkin")
    text = page.inner_text("main")
    assert re.search(r"实到\s*5", text) and re.search(r"请假\s*1", text) and "已达到" in text
    shot(page, "checkin", tmp_path)

    # -- scrutineers: tokens shown once, their tools run the ceremony --
    keys = []
    envs: list[dict[str, str]] = []
    tools = []
    for i, name in enumerate(("总监票人甲", "监票人乙"), 1):
        page.goto(url + "/console/scrutineers")
        page.get_by_label("姓名").fill(name)
        page.get_by_role("button", name="登记并显示令牌").click()
        token = page.locator("#token").inner_text().strip()
        if i == 1:
            assert "只显示这一次" in page.inner_text("main")
            shot(page, "scrutineer-token", tmp_path)
        key = tmp_path / f"scrutineer-{i}.json"
        keys.append(key)
        secrets = {"RENDA_TRUSTEE_TOKEN": token, "RENDA_TRUSTEE_PASSPHRASE": f"pass-{i}"}
        envs.append(secrets)  # the token never on a command line; the key file sealed
        tool = procs.start(
            f"ceremony-{i}", "trustee", "ceremony", "--server", url, "--key", str(key), env=secrets
        )
        tools.append(tool)
    page.goto(url + "/console/scrutineers")
    wait_for(
        "both scrutineers to connect",
        lambda: (
            served.get("/api/ceremony") is not None
            and (page.reload() or True)
            and "未连接" not in page.inner_text("table")
        ),
        timeout=120,
        logs=served.log,
    )
    page.get_by_label("门限 k").fill("2")
    page.get_by_role("button", name="开始生成密钥").click()
    wait_for(
        "the key ceremony",
        lambda: served.get("/api/ceremony")["state"] == "done",
        timeout=240,
        logs=served.log,
    )
    for tool in tools:  # each ceremony tool saves its key and exits
        assert tool.wait(timeout=120) == 0
    for i, key in enumerate(keys, 1):
        procs.start(f"trustee-{i}", "trustee", "--key", str(key), env=envs[i - 1])
    page.goto(url + "/console/scrutineers")
    assert "已完成" in page.inner_text("main")
    shot(page, "scrutineers", tmp_path)

    # -- polls from the forms --
    page.goto(url + "/console/polls/new/election")
    page.get_by_label("选举名称").fill(ELECTION)
    page.get_by_label("职务", exact=True).fill("副镇长")
    page.get_by_label("应选人数").fill("2")
    page.get_by_label("职务类别").select_option("deputy")
    page.get_by_label("所属机关").select_option("government")
    page.get_by_label(re.compile("^候选人")).fill("候选人甲\n候选人乙")
    page.get_by_role("button", name="检查并保存为草稿").click()
    text = page.inner_text("main")
    assert "未保存" in text and "地方组织法 第二十七条第一款" in text and "多一人至三人" in text
    shot(page, "poll-refused", tmp_path)
    page.get_by_label(re.compile("^候选人")).fill("候选人甲\n候选人乙\n候选人丙")
    # on the 人大 election ballot, always: shuffled by the server and the scrutineers, then
    # decrypted ballot by ballot (a write-in by seat number allowed)
    assert "逐张解密" in page.inner_text("main")
    page.get_by_role("button", name="检查并保存为草稿").click()
    assert "已保存为草稿" in page.inner_text("main")
    election = page.url.rsplit("/", 1)[1]
    shot(page, "poll-draft", tmp_path)

    page.goto(url + "/console/polls/new/motion")
    page.get_by_label("议案名称").fill(MOTION)
    page.get_by_role("button", name="检查并保存为草稿").click()
    motion = page.url.rsplit("/", 1)[1]

    page.goto(url + "/console/polls/new/projects")
    page.get_by_label("票决名称").fill("2027年度民生实事项目票决")
    page.get_by_label(re.compile("^候选项目")).fill("\n".join(PROJECTS))
    page.get_by_label(re.compile("^应选项目数")).fill("10")
    shot(page, "poll-form-projects", tmp_path)
    page.get_by_role("button", name="检查并保存为草稿").click()
    projects = page.url.rsplit("/", 1)[1]
    page.goto(url + "/console/polls")
    shot(page, "polls", tmp_path)
    page.get_by_role("link", name="导入会议通过的选举办法、票决办法").click()
    assert "只导入一次" in page.inner_text("main")
    shot(page, "poll-import", tmp_path)

    # -- each poll: open, the kiosks vote, close, publish --
    for pid in (motion, projects, election):
        page.goto(f"{url}/console/polls/{pid}")
        page.get_by_role("link", name="开始投票", exact=True).click()
        if pid == motion:
            shot(page, "confirm-open", tmp_path)
        page.get_by_role("button", name="确认开始投票").click()
        if pid == motion:  # the poll's page follows the vote live (websocket), no reload
            page.wait_for_url(re.compile(rf"/console/polls/{pid}$"))
            page.wait_for_function(
                "document.querySelector('dd[data-k=received]').textContent === '5'"
                " && Number(document.body.dataset.liveEvents) > 0",
                timeout=120_000,
            )
        poll_until(
            served,
            pid,
            lambda p: p["state"] == "open" and p["received"] == 5,
            f"five ballots in {pid}",
        )
        if pid == motion:
            page.goto(f"{url}/console/polls/{pid}")
            text = page.inner_text("main")
            assert "投票中" in text and "赞成" not in text.split("选票内容")[0]
            shot(page, "poll-open", tmp_path)
        confirm(page, url, pid, "结束投票")
        poll_until(served, pid, lambda p: p["state"] == "tallied", f"{pid} tallied")
        poll_until(
            served,
            pid,
            lambda p: bool(p["report"] and p["report"]["complete"]),
            f"the scrutineers' signatures of {pid}",
        )
        confirm(page, url, pid, "公布结果")
    page.goto(f"{url}/console/polls/{election}")
    text = page.inner_text("main")
    assert "当选" in text and "候选人甲" in text and "监票人电子签名：2 / 需要 2" in text
    assert "孙八（另选）" in text  # the write-in, by roster number, named from the roster
    shot(page, "poll-result", tmp_path)

    # -- the devices fail: a motion by show of hands, entered in the console, on the hall screen --
    hall = ctx.new_page()
    hall.goto(url + "/screen/hall")
    page.goto(url + "/console/polls/new/motion")
    page.get_by_label("议案名称").fill(HANDS)
    page.get_by_role("button", name="检查并保存为草稿").click()
    hands = page.url.rsplit("/", 1)[1]
    page.get_by_role("link", name=re.compile("录入举手表决")).click()
    assert page.get_by_label("举手表决").is_checked()
    page.get_by_label("赞成", exact=True).fill("4")
    page.get_by_label("反对", exact=True).fill("2")  # 6 hands, 5 deputies present: refused
    page.get_by_role("button", name="检查并计算结果").click()
    assert "多于实到人数" in page.inner_text("main")
    page.get_by_label("反对", exact=True).fill("1")
    shot(page, "poll-manual", tmp_path)
    page.get_by_role("button", name="检查并计算结果").click()
    text = page.inner_text("main")
    assert "已按举手表决录入结果" in text and "本事项为举手表决" in text, text
    poll_until(
        served,
        hands,
        lambda p: bool(p["report"] and p["report"]["complete"]),
        "the scrutineers' signatures of the show of hands",
    )
    confirm(page, url, hands, "公布结果")
    wait_for(
        "the show of hands on the hall screen",
        lambda: HANDS in hall.inner_text("body") and "举手表决" in hall.inner_text("body"),
        timeout=60,
        logs=served.log,
    )
    assert "通过" in hall.inner_text("body")
    hall.close()
    hands_report = pdf_text(page.request.get(f"{url}/console/polls/{hands}/report.pdf").body())
    assert "本次为举手表决" in hands_report and "赞成4票，反对1票，弃权0票" in hands_report

    # -- the count report, read back --
    report = page.request.get(f"{url}/console/polls/{election}/report.pdf")
    text = pdf_text(report.body())
    for field in (
        "计票结果报告单",
        "应到代表（实有代表数）6",
        "实到代表5",
        "发出票数5",
        "收回票数5",
        "应选人数2",
        "候选人甲、候选人乙、候选人丙",
        "总监票人：总监票人甲",
        "监票人：监票人乙",
        "已电子签名",
        "记录指纹",
        "本次投票有效",
    ):
        assert field in text, (field, text[:3000])
    assert re.search(r"候选人甲5.*当选", text) and re.search(r"候选人丙0.*未当选", text)
    assert re.search(r"孙八.*5.*当选", text)  # the write-in
    motion_report = pdf_text(page.request.get(f"{url}/console/polls/{motion}/report.pdf").body())
    assert "赞成5票，反对0票，弃权0票" in motion_report and "通过" in motion_report
    page.goto(url + "/console/documents")
    shot(page, "documents", tmp_path)
    announcement = pdf_text(page.request.get(url + "/console/announcement.pdf").body())
    assert MOTION in announcement and "候选人甲" in announcement
    sheet = pdf_text(page.request.get(url + "/console/attendance.pdf").body())
    assert "应到6人，实到5人，请假1人" in sheet
    page.goto(url + "/console/audit")
    assert "开始投票" in page.inner_text("main")
    shot(page, "audit", tmp_path)
    page.goto(url + "/console")
    shot(page, "overview", tmp_path)

    # -- the record, downloaded and verified --
    blob = page.request.get(url + "/console/record.tar.gz").body()
    (tmp_path / "record.tar.gz").write_bytes(blob)
    with tarfile.open(tmp_path / "record.tar.gz") as tar:
        tar.extractall(tmp_path / "out", filter="data")
    record = tmp_path / "out" / "record"
    done = subprocess.run(
        [*RENDA, "verify", str(record)], capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "cannot be verified cryptographically" in done.stdout + done.stderr  # the show of hands
    for pid in (motion, projects, election):
        check = belenios_verify(belenios_tool, record / "polls" / pid)
        assert check.returncode == 0, check.stderr

    # -- the chair sees, but cannot import a roster --
    chair = browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN").new_page()
    login(chair, url, served.tokens["chair"])
    assert chair.get_by_role("link", name="名册与登记卡").count() == 0
    chair.goto(url + "/console/roster")
    assert "无权" in chair.inner_text("main")
    chair.context.close()
    ctx.close()
    assert all(u.startswith(url) for u in requests), [u for u in requests if not u.startswith(url)]
