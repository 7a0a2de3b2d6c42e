"""``renda demo``: a scripted town session, end to end, over real sockets.

It starts ``renda serve`` as a subprocess on a temporary SQLite folder and a free loopback port,
imports a roster, enrols N headless kiosks (each with its own passphrase-sealed device key) and
three scrutineers, runs the Pedersen key ceremony, checks deputies in (a few on leave or
absent), then runs a motion, a 12-choose-10 livelihood-project vote and an election of 3 副镇长
from 4 candidates on the 人大 election ballot (shuffled by the server and the scrutineers,
decrypted ballot by ballot and counted by the rules engine; one ballot writes a deputy in by
seat number) whose staged ballots tie across the last seat, then the tie re-vote. Kiosks
and scrutineers are asyncio tasks in this process talking to the server over websockets; every
ballot is built and encrypted on its kiosk. Each result is printed as a table; the public record
is written to ``--out`` and checked with ``renda verify`` (and ``belenios-tool`` if installed).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from kiosk.choices import PollRule, Script, is_skip
from kiosk.client import HeadlessDeputy, Kiosk
from kiosk.enrol import enrol
from tally import progress
from tally.poll_counts import election_layout
from voting.cli_trustee import KeyFile, Scrutineer
from voting.demo import plan
from voting.demo.harness import Api, DemoError, ServerProcess, wait_until
from voting.demo.results import (
    STATUS,
    PollReport,
    outcome_items,
    render_result,
    table,
    verify_record,
)
from voting.session.record import write_record

HELP = "run a scripted town session end to end (server, kiosks, scrutineers) and verify it"
EXAMPLES = """examples:
  renda demo                                # 45 deputies; the record in renda-demo-record/
  renda demo --deputies 9 --out /tmp/rec    # a smaller session
  renda verify /tmp/rec                     # then verify its record"""

SESSION_TITLE = "青石镇第十八届人民代表大会第一次会议"
SCRUTINEERS = ("总监票人 郑国强", "监票人 孙丽萍", "监票人 马文涛")
THRESHOLD = 2
KIOSK_PASSPHRASE = "demo-kiosk-passphrase"
KIOSK_SCRYPT_N = 2**14


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

    async def stop(self) -> None:
        """End the kiosks' and the scrutineers' tasks and wait for them."""
        for task in self.tasks:
            task.cancel()
        for s in self.seats:
            if s.kiosk is not None:
                s.kiosk.stop()
        for sc in self.scrutineers:
            sc.stop()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await asyncio.gather(*self.tasks, return_exceptions=True)

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
        items = outcome_items(report.data.get("outcome"))
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
        """The server's record layout (voting.session.record): its JSON parts from ``/api/record``,
        each poll's archive from the public ``/record/polls/<poll_id>/<uuid>.bel``."""
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


# -- main ---------------------------------------------------------------------------------------


async def _session(demo: Demo) -> int:
    # the scrutineers run in threads here: their bars would garble the demo's lines; the
    # record's check at the end shows its own (at a terminal)
    bars = progress.enabled()
    progress.configure(False)
    server = ServerProcess(
        demo.work / "server", demo.work / "server.log", ("--session-name", SESSION_TITLE)
    )
    server.data_dir.mkdir(mode=0o700, parents=True)
    t_start = time.monotonic()
    server.init()
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
            plan.election_template(plan.ELECTION_TITLE, plan.CANDIDATES, demo.n),
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
            layout = election_layout(template)
            if layout is None:
                raise DemoError("the tie re-vote poll is not on the election ballot")
            tied = list(layout.candidates)
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
                for i in outcome_items(r.data.get("outcome"))
                if i.get("status") == "elected"
            ]
            demo.say()
            demo.say(f"当选副镇长 (elected): {'、'.join(elected)}")
        demo.say()
        folders = await demo.export_record(server.url, api)
        session_seconds = time.monotonic() - t_start
    finally:
        await demo.stop()
        if api is not None:
            await api.close()
        server.stop()
    demo.say(f"会议用时 (session time) {session_seconds:.1f} s; record written to {demo.out}")
    progress.configure(bars)
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
