"""``renda demo``: a scripted town session, end to end, over real sockets.

It starts ``renda serve`` as a subprocess on a temporary SQLite folder and a free loopback port,
imports a roster, enrols N headless kiosks (each with its own passphrase-sealed device key) and
three scrutineers, runs the Pedersen key ceremony, checks deputies in (a few on leave or
absent), then runs a motion, a 12-choose-10 livelihood-project vote and an election of 3 副镇长
from 4 candidates whose staged ballots tie across the last seat, then the tie re-vote. Kiosks
and scrutineers are asyncio tasks in this process talking to the server over websockets; every
ballot is built and encrypted on its kiosk. Each result is printed as a table; the public record
is written to ``--out`` and checked with ``renda verify`` (and ``belenios-tool`` if installed).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import unicodedata
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from voting import demo_plan as plan

HELP = "run a scripted town session end to end (server, kiosks, scrutineers) and verify it"

SESSION_TITLE = "青石镇第十八届人民代表大会第一次会议"
SCRUTINEERS = ("总监票人 郑国强", "监票人 孙丽萍", "监票人 马文涛")
THRESHOLD = 2
KIOSK_PASSPHRASE = "demo-kiosk-passphrase"
KIOSK_SCRYPT_N = 2**14


class DemoError(Exception):
    """The demo could not go on; the message says where and why."""


# -- small utilities --------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _pad(text: str, width: int, right: bool) -> str:
    fill = " " * (width - _width(text))
    return fill + text if right else text + fill


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]], title: str = "") -> str:
    """A plain-text table that lines up Chinese (double-width) characters."""
    cells = [[str(h) for h in headers]] + [[str(c) for c in r] for r in rows]
    widths = [max(_width(row[i]) for row in cells) for i in range(len(headers))]
    numeric = [
        all(r[i].lstrip("-").isdigit() for r in cells[1:]) and len(cells) > 1
        for i in range(len(headers))
    ]
    line = "+" + "+".join("-" * (w + 2) for w in widths) + "+"
    out = [title] if title else []
    out.append(line)
    for k, row in enumerate(cells):
        out.append(
            "| "
            + " | ".join(_pad(c, widths[i], numeric[i] and k > 0) for i, c in enumerate(row))
            + " |"
        )
        if k == 0:
            out.append(line)
    out.append(line)
    return "\n".join(out)


async def wait_until(
    what: str, check: Callable[[], Awaitable[bool]], timeout: float, interval: float = 0.1
) -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not await check():
        if loop.time() > end:
            raise DemoError(f"timed out after {timeout:.0f} s waiting for {what}")
        await asyncio.sleep(interval)


# -- the server process ---------------------------------------------------------------------------


@dataclass
class ServerProcess:
    data_dir: Path
    port: int
    log_path: Path
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        log = open(self.log_path, "wb")  # noqa: SIM115 - closed by the child's exit
        cmd = [
            sys.executable,
            "-m",
            "voting.cli",
            "serve",
            "--data",
            str(self.data_dir),
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--session-name",
            SESSION_TITLE,
        ]
        self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
        log.close()

    async def ready(self, timeout: float = 60) -> dict[str, Any]:
        """Wait for the server to answer; return the staff tokens it wrote."""
        tokens_path = self.data_dir / "tokens.json"

        async def up() -> bool:
            if self.proc is not None and self.proc.poll() is not None:
                tail = self.log_path.read_text("utf-8", "replace")[-2000:]
                raise DemoError(f"renda serve exited with code {self.proc.returncode}:\n{tail}")
            if not tokens_path.exists():
                return False
            try:
                tokens = json.loads(tokens_path.read_text("utf-8"))
                async with httpx.AsyncClient(timeout=2) as c:
                    r = await c.get(
                        self.url + "/api/session",
                        headers={"Authorization": f"Bearer {tokens['secretariat']}"},
                    )
                return r.status_code == 200
            except (httpx.HTTPError, ValueError, KeyError):
                return False

        await wait_until("the server to start", up, timeout, 0.2)
        tokens: dict[str, Any] = json.loads(tokens_path.read_text("utf-8"))
        return tokens

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


class Api:
    """The secretariat's HTTP calls (docs/protocol.md §4)."""

    def __init__(self, url: str, token: str) -> None:
        self.url = url
        self.client = httpx.AsyncClient(
            base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=120
        )

    async def close(self) -> None:
        await self.client.aclose()

    async def call(self, method: str, path: str, body: Any = None) -> Any:
        r = await self.client.request(method, path, json=body)
        if r.status_code >= 400:
            try:
                detail = r.json().get("detail")
            except ValueError:
                detail = r.text[:300]
            raise DemoError(f"{method} {path}: HTTP {r.status_code}: {detail}")
        return r.json() if r.content else None

    async def get(self, path: str) -> Any:
        return await self.call("GET", path)

    async def post(self, path: str, body: Any = None) -> Any:
        return await self.call("POST", path, body if body is not None else {})


# -- the session ----------------------------------------------------------------------------------


@dataclass
class Seat:
    deputy: plan.Deputy
    deputy_id: int
    code: str
    kiosk: Any = None  # kiosk.client.Kiosk
    script: Any = None  # kiosk.choices.Script
    task: asyncio.Task[None] | None = None


@dataclass
class PollReport:
    poll_id: str
    title: str
    kind: str
    data: dict[str, Any]
    seconds: float
    phases: dict[str, float] = field(default_factory=dict)


@dataclass
class Demo:
    n: int
    out: Path
    work: Path
    quiet: bool = False
    seats: list[Seat] = field(default_factory=list)
    reports: list[PollReport] = field(default_factory=list)
    scrutineers: list[Any] = field(default_factory=list)
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    expected: int | None = None  # 应到, from the check-in
    problems: list[str] = field(default_factory=list)  # the session did not go as staged

    def say(self, text: str = "") -> None:
        if not self.quiet:
            print(text, flush=True)

    # -- set-up -----------------------------------------------------------------------------

    async def roster(self, api: Api) -> None:
        deputies = plan.roster(self.n)
        answer = await api.post("/api/roster", {"csv": plan.roster_csv(deputies)})
        by_seat = {str(d["seat"]): d for d in answer["deputies"]}
        for d in deputies:
            row = by_seat[d.seat]
            self.seats.append(Seat(d, int(row["deputy_id"]), str(row["enrolment_code"])))
        self.say(f"名册导入 (roster imported): {len(self.seats)} 名代表")

    async def enrol_kiosks(self, url: str) -> None:
        from kiosk.choices import Script
        from kiosk.client import HeadlessDeputy, Kiosk
        from kiosk.enrol import enrol

        gate = asyncio.Semaphore(8)

        async def one(seat: Seat, client: httpx.AsyncClient) -> None:
            async with gate:
                folder = self.work / "kiosks" / f"seat-{int(seat.deputy.seat):04d}"
                vault, identity = await enrol(
                    url,
                    seat.code,
                    folder,
                    KIOSK_PASSPHRASE,
                    scrypt_n=KIOSK_SCRYPT_N,
                    client=client,
                )
            seat.script = Script(rules=[], default=plan.SKIP)
            seat.kiosk = Kiosk(folder, vault, identity, HeadlessDeputy(seat.script))

        async with httpx.AsyncClient(timeout=60) as client:
            await asyncio.gather(*(one(s, client) for s in self.seats))
        self.say(f"平板登记 (kiosks enrolled): {len(self.seats)} 台，设备密钥已加密保存")

    async def start_kiosks(self) -> None:
        for seat in self.seats:
            seat.task = asyncio.create_task(seat.kiosk.run())
            self.tasks.append(seat.task)

        async def all_connected() -> bool:
            return all(s.kiosk.connected.is_set() for s in self.seats)

        await wait_until("every kiosk to connect", all_connected, 60)
        self.say(f"平板联网 (kiosks connected): {len(self.seats)} 台")

    async def ceremony(self, api: Api, url: str) -> None:
        from voting.cli_trustee import KeyFile, Scrutineer

        folder = self.work / "scrutineers"
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        for name in SCRUTINEERS:
            answer = await api.post("/api/scrutineers", {"name": name})
            path = folder / f"scrutineer-{answer['index']}.json"
            keyfile = KeyFile(server=url, token=str(answer["token"]))
            keyfile.save(path)
            s = Scrutineer(path, keyfile)
            self.scrutineers.append(s)
            self.tasks.append(asyncio.create_task(s.run()))

        async def authenticated() -> bool:
            return all(s.authenticated.is_set() for s in self.scrutineers)

        await wait_until("the scrutineers to connect", authenticated, 30)
        await api.post("/api/ceremony", {"threshold": THRESHOLD})
        state: dict[str, Any] = {}

        async def done() -> bool:
            state.update(await api.get("/api/ceremony"))
            if state.get("state") == "failed":
                raise DemoError(f"the key ceremony failed: {state.get('message')}")
            return state.get("state") == "done"

        await wait_until("the key ceremony", done, 120, 0.2)
        self.say(
            f"密钥仪式完成 (key ceremony done): {len(SCRUTINEERS)} 名监票人，"
            f"任意 {THRESHOLD} 人与服务器共同才能解密"
        )

    async def attendance(self, api: Api) -> list[Seat]:
        att = plan.attendance(self.n)
        for i in att.on_leave:
            await api.post(f"/api/deputies/{self.seats[i].deputy_id}/leave")
        for i in att.absent:
            await api.post(f"/api/deputies/{self.seats[i].deputy_id}/absent")
        present = [self.seats[i] for i in att.present(self.n)]
        for seat in present:
            await api.post(f"/api/deputies/{seat.deputy_id}/checkin")
        a = await api.get("/api/attendance")
        self.expected = int(a["expected"])
        self.say()
        self.say(
            table(
                ["应到", "实到", "请假", "缺席", "法定人数"],
                [
                    [
                        a["expected"],
                        a["present"],
                        a["on_leave"],
                        a["absent"],
                        "已达到" if a["quorum"] else "未达到",
                    ]
                ],
                title="签到 (check-in)",
            )
        )
        if not a["quorum"]:
            raise DemoError("no quorum: the session cannot vote")
        return present

    # -- one poll --------------------------------------------------------------------------------

    async def run_poll(
        self,
        api: Api,
        voters: list[Seat],
        title: str,
        kind: str,
        template: dict[str, Any],
        rules: dict[str, Any] | None,
        choices: list[Any],
        *,
        poll_id: str | None = None,
    ) -> PollReport:
        from kiosk.choices import PollRule, is_skip

        t0 = time.monotonic()
        if poll_id is None:
            poll = await api.post(
                "/api/polls",
                {
                    "title": title,
                    "kind": kind,
                    "template": template,
                    "rules": rules,
                    "last_press_valid": False,
                },
            )
            poll_id = str(poll["poll_id"])
        for seat, choice in zip(voters, choices, strict=True):
            seat.script.rules.append(PollRule(poll_id, choice))
        pressing = sum(1 for c in choices if not is_skip(c))
        self.say()
        self.say(f"【{title}】 开始表决 (vote opens) …")
        await api.post(f"/api/polls/{poll_id}/open")
        state: dict[str, Any] = {}

        async def refresh() -> dict[str, Any]:
            state.clear()
            state.update(await api.get(f"/api/polls/{poll_id}"))
            return state

        async def is_open() -> bool:
            return (await refresh()).get("state") == "open"

        await wait_until(f"poll {poll_id} to issue its ballots", is_open, 60)
        phases = {"issue": time.monotonic() - t0}
        issued = state.get("issued")

        async def all_in() -> bool:
            return int((await refresh()).get("received") or 0) >= pressing

        await wait_until(f"the ballots of poll {poll_id}", all_in, 300, 0.2)
        phases["cast"] = time.monotonic() - t0 - phases["issue"]
        self.say(f"   发出选票 {issued} 张，收回 {state.get('received')} 张；宣布表决结束")
        await api.post(f"/api/polls/{poll_id}/close")

        async def tallied() -> bool:
            s = (await refresh()).get("state")
            if s == "void":
                raise DemoError(f"poll {poll_id} was declared void")
            return s in ("tallied", "published")

        t_close = time.monotonic()
        await wait_until(f"the tally of poll {poll_id}", tallied, 300, 0.2)
        phases["tally"] = time.monotonic() - t_close
        if state.get("state") == "tallied":
            await api.post(f"/api/polls/{poll_id}/publish")
        await refresh()
        report = PollReport(poll_id, title, kind, dict(state), time.monotonic() - t0, phases)
        self.reports.append(report)
        self.say(render_result(report, template, self.expected))
        return report

    def expect(self, report: PollReport, statuses: dict[str, int]) -> None:
        """Record a problem if the rules engine's outcome is not the staged one."""
        items = _items(report.data.get("outcome"))
        for status, n in statuses.items():
            got = sum(1 for i in items if i.get("status") == status)
            if got != n:
                self.problems.append(
                    f"{report.title}: expected {n} item(s) {STATUS.get(status, status)}, got {got}"
                )

    # -- record ------------------------------------------------------------------------------------

    async def record_when_signed(self, api: Api, timeout: float = 60.0) -> Any:
        """The record once every tallied poll's count report carries the k scrutineers'
        signatures it needs (they arrive after publication, which never waits for them)."""
        deadline = time.monotonic() + timeout
        while True:
            data = await api.get("/api/record")
            waiting = [
                str(p.get("poll_id"))
                for p in data.get("polls", [])
                if isinstance(p.get("report"), dict) and not p["report"].get("complete")
            ]
            if not waiting:
                return data
            if time.monotonic() > deadline:
                self.say(f"监票人签名未齐 (report signatures missing) for {', '.join(waiting)}")
                return data
            await asyncio.sleep(0.2)

    async def export_record(self, url: str, api: Api) -> list[Path]:
        """The server's record layout (voting.record): its JSON parts from ``/api/record``,
        each poll's archive from the public ``/record/polls/<poll_id>/<uuid>.bel``."""
        from voting.record import write_record

        data = await self.record_when_signed(api)
        folders: list[Path] = []
        async with httpx.AsyncClient(base_url=url, timeout=120) as public:
            for poll, folder in write_record(data, self.out):
                uuid = poll["uuid"]
                r = await public.get(f"/record/polls/{poll['poll_id']}/{uuid}.bel")
                r.raise_for_status()
                (folder / f"{uuid}.bel").write_bytes(r.content)
                folders.append(folder)
        return folders


# -- result tables ------------------------------------------------------------------------------

STATUS = {
    "passed": "通过",
    "not_passed": "未通过",
    "elected": "当选",
    "not_elected": "未当选",
    "tied": "票数相等，再次投票",
    "selected": "入选",
    "not_selected": "未入选",
    "none": "—",
}


def _items(outcome: Any) -> list[dict[str, Any]]:
    if isinstance(outcome, dict) and isinstance(outcome.get("items"), list):
        return [i for i in outcome["items"] if isinstance(i, dict)]
    return []


def _counts(report: PollReport, template: dict[str, Any]) -> list[list[int]]:
    """Per question, the decrypted Belenios counts (blank flag removed)."""
    result = report.data.get("result")
    rows = result.get("result") if isinstance(result, dict) else result
    if not isinstance(rows, list):
        return []
    out = []
    for q, row in zip(template["questions"], rows, strict=False):
        values = [int(x) for x in row]
        out.append(values[1:] if q.get("blank") else values)
    return out


def render_result(report: PollReport, template: dict[str, Any], expected: int | None = None) -> str:
    """The poll's result as the hall's screen shows it, with the rules engine's verdicts."""
    d = report.data
    outcome = d.get("outcome") or {}
    items = _items(outcome)
    counts = _counts(report, template)
    raw_figures = d.get("counts")
    figures: dict[str, Any] = raw_figures if isinstance(raw_figures, dict) else {}
    total = expected if expected is not None else figures.get("total", "")
    present = outcome.get("present", figures.get("present", ""))
    issued = outcome.get("issued", figures.get("issued", d.get("issued", "")))
    returned = outcome.get("returned", figures.get("received", d.get("received", "")))
    unpressed = (
        int(issued) - int(returned) if str(issued).isdigit() and str(returned).isdigit() else ""
    )
    head = ["应到", "实到", "发出", "收回", "未按"]
    base = [total, present, issued, returned, unpressed]
    verdict = outcome.get("verdict")
    lines = []
    title = f"【{report.title}】 结果 (result)"
    if verdict and verdict != "valid":
        title += f" — 本次表决无效 ({verdict})"
    if isinstance(outcome, dict) and outcome.get("error"):
        title += f" — 规则引擎未给出结论 (rules engine: {outcome['error']})"
    if report.kind == "motion":
        my, mn, ma = ([*counts[0], 0, 0, 0] if counts else ["", "", ""])[:3]
        verdict_label = STATUS.get(str(items[0].get("status")), "") if items else ""
        lines.append(
            table(
                [*head, "赞成", "反对", "弃权", "结果"],
                [[*base, my, mn, ma, verdict_label]],
                title=title,
            )
        )
    elif report.kind == "projects":
        lines.append(table(head, [base], title=title))
        names = template["questions"][0]["answers"]
        chosen: list[Any] = list(counts[0]) if counts else [""] * len(names)
        labels = {str(i.get("name")): STATUS.get(str(i.get("status")), "") for i in items}
        rows = sorted(
            ([n, y, labels.get(n, "")] for n, y in zip(names, chosen, strict=False)),
            key=lambda r: -int(r[1]) if str(r[1]).isdigit() else 0,
        )
        lines.append(
            table(["名次", "候选项目", "赞成", "结果"], [[k, *r] for k, r in enumerate(rows, 1)])
        )
    else:
        lines.append(table(head, [base], title=title))
        labels = {str(i.get("name")): STATUS.get(str(i.get("status")), "") for i in items}
        rows = []
        for q, c in zip(template["questions"], counts or [[]] * 99, strict=False):
            cy, cn, ca = ([*c, "", "", ""])[:3]
            rows.append([q["question"], cy, cn, ca, labels.get(q["question"], "")])
        lines.append(table(["候选人", "赞成", "反对", "弃权", "结果"], rows))
    nxt = outcome.get("next_polls") if isinstance(outcome, dict) else None
    if nxt:
        for n in nxt:
            if isinstance(n, dict):
                lines.append(f"   下一步 (next): {n.get('kind')} — {n.get('reason', '')}")
    steps = ", ".join(f"{k} {v:.1f} s" for k, v in report.phases.items())
    lines.append(f"   ({report.seconds:.1f} s from opening to the published result: {steps})")
    return "\n".join(lines)


# -- verification ---------------------------------------------------------------------------------


def verify_record(
    folders: Sequence[Path], say: Callable[[str], None], record: Path | None = None
) -> bool:
    """``renda verify`` on every poll's archive, and ``belenios-tool election verify``; with
    ``record``, ``renda verify`` on the whole session record too (its last row).

    All are single-process here and run two at a time (one per core)."""
    from concurrent.futures import ThreadPoolExecutor

    tool = shutil.which("belenios-tool")
    env = dict(os.environ, BELENIOS_USE_URANDOM="1")
    jobs: list[tuple[Path, str, list[str]]] = []
    for folder in folders:
        jobs.append(
            (
                folder,
                "renda verify",
                [sys.executable, "-m", "voting.cli", "verify", "--quiet", "--workers", "1",
                 str(folder)],
            )
        )  # fmt: skip
        if tool:
            jobs.append(
                (folder, "belenios-tool", [tool, "election", "verify", "--dir", str(folder)])
            )
    if record is not None:
        cmd = [sys.executable, "-m", "voting.cli", "verify", "--quiet", "--workers", "1"]
        jobs.append((record, "renda verify", [*cmd, str(record)]))

    def one(job: tuple[Path, str, list[str]]) -> subprocess.CompletedProcess[str]:
        return subprocess.run(job[2], capture_output=True, text=True, check=False, env=env)

    with ThreadPoolExecutor(max_workers=2) as pool:
        done = list(pool.map(one, jobs))
    verdicts: dict[tuple[str, str], bool] = {}
    for (folder, name, _cmd), r in zip(jobs, done, strict=True):
        verdicts[(folder.name, name)] = r.returncode == 0
        if r.returncode != 0:
            say(f"{name} {folder.name}: {(r.stdout + r.stderr).strip()[-800:]}")
    rows = []
    for folder in [*folders, *([record] if record is not None else [])]:
        cells = [folder.name if folder is not record else f"{folder.name} (会议记录 session)"]
        for name in ("renda verify", "belenios-tool"):
            v = verdicts.get((folder.name, name))
            if folder is record and name == "belenios-tool":
                cells.append("—")
                continue
            cells.append(
                "未安装 (not installed)" if v is None else "通过 (ok)" if v else "失败 (FAILED)"
            )
        rows.append(cells)
    say(table(["记录 (record)", "renda verify", "belenios-tool"], rows, title="记录核验"))
    return all(verdicts.values()) and any(k[1] == "renda verify" for k in verdicts)


# -- main ---------------------------------------------------------------------------------------


async def _session(demo: Demo) -> int:
    server = ServerProcess(demo.work / "server", free_port(), demo.work / "server.log")
    server.data_dir.mkdir(mode=0o700, parents=True)
    t_start = time.monotonic()
    server.start()
    api: Api | None = None
    try:
        tokens = await server.ready()
        demo.say(f"服务器已启动 (server up) at {server.url}")
        api = Api(server.url, str(tokens["secretariat"]))
        await demo.roster(api)
        await demo.enrol_kiosks(server.url)
        await demo.ceremony(api, server.url)
        present = await demo.attendance(api)
        await demo.start_kiosks()
        voters = len(present)

        motion = await demo.run_poll(
            api,
            present,
            plan.MOTION_TITLE,
            "motion",
            plan.motion_template(plan.MOTION_TITLE),
            motion_rules(),
            plan.motion_choices(voters, demo.n),
        )
        projects = await demo.run_poll(
            api,
            present,
            plan.PROJECTS_TITLE,
            "projects",
            plan.projects_template(),
            projects_rules(),
            plan.project_choices(voters),
        )
        election = await demo.run_poll(
            api,
            present,
            plan.ELECTION_TITLE,
            "election",
            plan.election_template(plan.ELECTION_TITLE, plan.CANDIDATES),
            election_rules(),
            plan.election_choices(voters, demo.n),
        )
        demo.expect(motion, {"passed": 1})
        demo.expect(projects, {"selected": plan.PROJECTS_SELECT})
        demo.expect(election, {"elected": plan.SEATS - 1, "tied": 2})
        revote = await find_followup(api, election)
        if revote is None:
            demo.problems.append("the election's tie did not produce a tie re-vote poll")
        else:
            template = revote.get("template")
            if isinstance(template, str):
                template = json.loads(template)
            if not isinstance(template, dict):
                raise DemoError("the tie re-vote poll has no template")
            tied = [q["question"] for q in template["questions"]]
            second = await demo.run_poll(
                api,
                present,
                str(revote["title"]),
                str(revote.get("kind", "election")),
                template,
                None,
                plan.revote_choices(voters, demo.n, tied),
                poll_id=str(revote["poll_id"]),
            )
            demo.expect(second, {"elected": 1})
            elected = [
                str(i.get("name"))
                for r in (election, second)
                for i in _items(r.data.get("outcome"))
                if i.get("status") == "elected"
            ]
            demo.say()
            demo.say(f"当选副镇长 (elected): {'、'.join(elected)}")
        demo.say()
        folders = await demo.export_record(server.url, api)
        session_seconds = time.monotonic() - t_start
    finally:
        for task in demo.tasks:
            task.cancel()
        for s in demo.seats:
            if s.kiosk is not None:
                s.kiosk.stop()
        for sc in demo.scrutineers:
            sc.stop()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await asyncio.gather(*demo.tasks, return_exceptions=True)
        if api is not None:
            await api.close()
        server.stop()
    demo.say(f"会议用时 (session time) {session_seconds:.1f} s; record written to {demo.out}")
    ok = await asyncio.to_thread(verify_record, folders, demo.say, demo.out)
    for problem in demo.problems:
        print(f"renda demo: {problem}", file=sys.stderr)
    return 0 if ok and not demo.problems else 1


async def find_followup(api: Api, parent: PollReport) -> dict[str, Any] | None:
    """The tie re-vote poll the server drafted from the parent's outcome, with its template
    (taken from the outcome's follow-up, which is what the server created it from)."""
    outcome = parent.data.get("outcome")
    drafts = outcome.get("followups") if isinstance(outcome, dict) else None
    template = next(
        (
            f.get("template")
            for f in drafts or []
            if isinstance(f, dict) and f.get("relation") == "tie_revote"
        ),
        None,
    )
    for p in await api.get("/api/polls"):
        if str(p.get("parent_id")) == parent.poll_id and p.get("relation") == "tie_revote":
            full: dict[str, Any] = await api.get(f"/api/polls/{p['poll_id']}")
            full.setdefault("template", template)
            return full
    return None


def motion_rules() -> dict[str, Any]:
    return {"id": "budget", "kind": "motion", "title": plan.MOTION_TITLE}


def projects_rules() -> dict[str, Any]:
    return {
        "id": "projects",
        "kind": "projects",
        "title": plan.PROJECTS_TITLE,
        "form": "B",
        "select": plan.PROJECTS_SELECT,
        "projects": [{"id": f"P{i + 1}", "name": n} for i, n in enumerate(plan.PROJECTS)],
    }


def election_rules() -> dict[str, Any]:
    return {
        "id": "vice-mayor",
        "kind": "election",
        "title": plan.ELECTION_TITLE,
        "post": "副镇长",
        "post_type": "deputy",
        "organ": "government",
        "seats": plan.SEATS,
        "candidates": [{"id": f"C{i + 1}", "name": n} for i, n in enumerate(plan.CANDIDATES)],
    }


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--deputies", type=int, default=45, help="number of deputies (default 45, at least 9)"
    )
    parser.add_argument(
        "--out", type=Path, default=Path("renda-demo-record"), help="folder for the record"
    )
    parser.add_argument("--quiet", action="store_true", help="print only the verdict")
    parser.add_argument(
        "--keep", action="store_true", help="keep the temporary server and kiosk folders"
    )
    parser.add_argument(
        "--work",
        type=Path,
        default=None,
        help="put the server's and kiosks' folders here (must not exist yet) and keep them",
    )


DEMO_MARK = ".renda-demo-record"


def prepare_out(out: Path) -> None:
    """An empty folder for the record. A record an earlier demo wrote there is replaced;
    any other non-empty folder is refused (nothing of the user's is ever deleted)."""
    if out.exists():
        if not out.is_dir():
            raise DemoError(f"--out {out} is a file, not a folder")
        if any(out.iterdir()):
            if not (out / DEMO_MARK).exists():
                raise DemoError(f"--out {out} is not empty; choose a new folder")
            shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / DEMO_MARK).write_text("written by renda demo; replaced by the next run\n")


def run(args: argparse.Namespace) -> int:
    if args.deputies < plan.MIN_DEPUTIES:
        print(f"renda demo: --deputies must be at least {plan.MIN_DEPUTIES}", file=sys.stderr)
        return 2
    try:
        prepare_out(args.out)
    except DemoError as exc:
        print(f"renda demo: {exc}", file=sys.stderr)
        return 2
    keep = args.keep or args.work is not None
    if args.work is not None:
        if args.work.exists():
            print(f"renda demo: --work {args.work} already exists", file=sys.stderr)
            return 2
        args.work.mkdir(mode=0o700, parents=True)
        work = args.work
    else:
        work = Path(tempfile.mkdtemp(prefix="renda-demo-"))
    demo = Demo(args.deputies, args.out, work, quiet=args.quiet)
    demo.say(f"{SESSION_TITLE} — Renda demo, {args.deputies} 名代表")
    try:
        code = asyncio.run(_session(demo))
    except (DemoError, httpx.HTTPError, OSError, KeyError, ValueError) as exc:
        print(f"renda demo: {type(exc).__name__}: {exc}", file=sys.stderr)
        log = work / "server.log"
        if log.exists():
            print(f"(server log: {log}; folders kept in {work})", file=sys.stderr)
        return 1
    if keep:
        demo.say(f"(server and kiosk folders kept in {work})")
    else:
        shutil.rmtree(work, ignore_errors=True)
    print("DEMO OK: 会议按计划完成，所有记录核验通过" if code == 0 else "DEMO FAILED (see above)")
    return code
