"""``renda bench session --deputies N``: a live session on loopback, all kiosks casting at once.

Starts a real ``renda serve`` subprocess on 127.0.0.1 with a temporary SQLite folder, imports a
roster of N deputies, checks them in (a delegation a request), runs the key ceremony with three
``renda trustee`` subprocesses (2 of 3, as in ``renda demo``; they stay connected to decrypt),
and enrols N
headless kiosks (``kiosk.client.Kiosk`` with a scripted deputy, each with its own sealed device
key) in ``--kiosk-processes`` processes (voting/demo/swarm.py; one per 500 kiosks by default),
then opens one motion. Every kiosk builds and encrypts its ballot, then waits until all N are
ready, and they all send together.

Reported (seconds): from opening to all ballots issued (the server's count, and the last
kiosk's ``ballot_issued``) and to every ballot built; p50 / p99 / max of the time from a
kiosk's send of its ``cast`` to the server's signed acknowledgement (checked by the kiosk) and
the wall time until the last acknowledgement, against the CPU time the ballot checks need
(N × the measured cost of one check / cores) and the CPU the server used; the server's peak
memory; the slowest answer of the API (polled every 0.5 s throughout); the kiosk connections
dropped; the time from the close request to the tallied poll, to the published (signed) result,
and until every kiosk has received that result.

The benchmark lives in ``voting/demo/`` because it needs the server and the kiosk; ``tally/``
must not import them. ``renda bench session`` is routed here (by name) by ``voting/cli.py``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import platform
import signal
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from tally.progress import counter
from voting.demo.harness import (
    Api,
    DemoError,
    ServerProcess,
    lower_priority,
    trustee_ceremony,
)

HELP = "a live session on loopback: N kiosks cast together; ack latency and close-to-result time"
EXAMPLES = """examples:
  renda bench session --deputies 45         # a town's congress (--json: every figure)
  renda bench session --deputies 3000 --kiosk-processes 4   # a city's (docs/benchmarks.md)"""

MOTION = {
    "description": "基准测试",
    "name": "议案",
    "questions": [
        {"answers": ["赞成", "反对", "弃权"], "blank": True, "min": 1, "max": 1, "question": "议案"}
    ],
}
SCRUTINEERS, THRESHOLD = 3, 2  # as in renda demo: any 2 of 3 scrutineers with the server
KIOSK_SCRYPT_N = 2**10  # the kiosks' vault key derivation, kept cheap: it is not measured


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--deputies", type=int, default=45, help="kiosks casting together (45)")
    parser.add_argument("--workers", type=int, default=2, help="server ballot-checking processes")
    parser.add_argument("--group", default="BELENIOS-2048", help="Belenios group (BELENIOS-2048)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--keep", type=Path, default=None, help="keep the session folder here")
    parser.add_argument(
        "--scrutineers-nice",
        type=int,
        default=10,
        help="niceness of the scrutineers' processes, which stand in for machines of their own "
        "(10; 0: they share the cores equally with the server)",
    )
    parser.add_argument(
        "--kiosks-nice",
        type=int,
        default=5,
        help="niceness of the kiosk processes, which stand in for tablets with CPUs of their own "
        "(5; 0: they share the cores equally with the server)",
    )
    parser.add_argument(
        "--kiosk-processes",
        type=int,
        default=0,
        help="processes the kiosks are split over (0: one per 500 kiosks)",
    )


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * q // 100))
    return ordered[int(rank) - 1]


class _Swarm:
    """One ``python -m voting.demo.swarm`` process and the events it reported."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.events: list[dict[str, Any]] = []
        self.connected = asyncio.Event()
        self.done = asyncio.Event()
        self.reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self.proc.stdout is not None
        async for line in self.proc.stdout:
            try:
                event = json.loads(line)
            except ValueError:
                continue
            self.events.append(event)
            if event.get("ev") == "connected":
                self.connected.set()
            elif event.get("ev") == "done":
                self.done.set()
        self.done.set()
        self.connected.set()

    async def say(self, command: str) -> None:
        if self.proc.stdin is not None and self.proc.returncode is None:
            self.proc.stdin.write(command.encode() + b"\n")
            with contextlib.suppress(ConnectionError):
                await self.proc.stdin.drain()

    async def stop(self) -> None:
        await self.say("stop")
        try:
            await asyncio.wait_for(self.done.wait(), 30)
            await asyncio.wait_for(self.proc.wait(), 10)
        except (TimeoutError, asyncio.CancelledError):
            with contextlib.suppress(ProcessLookupError):
                self.proc.kill()
            await self.proc.wait()


async def _watch(
    what: str, total: int, count: Callable[[], int], done: Awaitable[Any], timeout: float
) -> None:
    """Wait for ``done`` (TimeoutError after ``timeout`` s) with a bar of ``count()`` of
    ``total`` (at a terminal)."""
    task = asyncio.ensure_future(done)
    end = time.monotonic() + timeout
    try:
        with counter(total, what, "step") as reached:
            while not task.done():
                if time.monotonic() > end:
                    raise TimeoutError(f"{what}: not done after {timeout:.0f} s")
                reached(count())
                await asyncio.sleep(0.1)
            reached(count())
        task.result()
    finally:
        task.cancel()


def _proc_memory(pid: int) -> tuple[int, int]:
    """(peak RSS, RSS) in KiB of a process, from /proc (0 where unknown)."""
    peak = rss = 0
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                peak = int(line.split()[1])
            elif line.startswith("VmRSS:"):
                rss = int(line.split()[1])
    return peak, rss


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process and of its waited-for children (/proc)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    ticks = sum(int(x) for x in fields[11:15])  # utime stime cutime cstime
    return ticks / os.sysconf("SC_CLK_TCK")


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        with contextlib.suppress(OSError):
            found.extend(int(x) for x in task.read_text().split())
    return found


def ballot_check_cost(group: str, samples: int = 5) -> float:
    """CPU seconds the server spends checking one ballot of the benchmark's motion
    (voting/checker.check_cast: structure, proofs, signature), median of ``samples``."""
    from keys.credentials import generate_private_credential
    from keys.group import group_by_name
    from tally.ballot import create_ballot
    from tally.election import generate_uuid, make_election
    from voting.session.checker import check_cast

    grp = group_by_name(group, allow_test=True)
    election = make_election(
        MOTION, uuid=generate_uuid(), group=grp, public_key=grp.g_pow(grp.random_exponent())
    )
    times = []
    for _ in range(samples):
        raw = create_ballot(election, generate_private_credential(), [[0, 1, 0, 0]]).raw
        t = time.process_time()
        status, detail, _cred = check_cast(election.raw, True, raw)
        times.append(time.process_time() - t)
        if status != "ok":
            raise DemoError(f"the benchmark's own ballot does not check: {detail}")
    return sorted(times)[len(times) // 2]


async def _bench(args: argparse.Namespace, data: Path) -> dict[str, Any]:
    # SIGTERM ends the run as Ctrl-C does: through the clean-up below (no process left)
    main = asyncio.current_task()
    assert main is not None
    with contextlib.suppress(NotImplementedError):
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, main.cancel)
    n = args.deputies
    per_ballot = await asyncio.to_thread(ballot_check_cost, args.group)
    options: tuple[str, ...] = ("--group", args.group, "--workers", str(args.workers))
    options += ("--collect-timeout", "3600")
    if args.group == "RENDA-TEST-256":
        options = ("--test-group", *options)
    server = ServerProcess(data, data / "serve.log", options, trustee_nice=args.scrutineers_nice)
    server.init()
    server.start()
    swarms: list[_Swarm] = []
    api: Api | None = None
    probe: asyncio.Task[None] | None = None
    api_latencies: list[float] = []
    api_answers: list[tuple[float, str, float]] = []  # (wall time, route, seconds), all
    connecting_max = [0.0]  # the slowest API answer while the kiosks enrol and connect
    loads: list[float] = []  # the machine's 1-minute load average, every probe
    try:
        tokens = await server.ready(600)  # a busy shared machine starts Python slowly
        assert server.proc is not None
        api = Api(server.url, str(tokens["secretariat"]), timeout=600)
        post = api.post

        csv = "name,delegation,seat\n" + "".join(
            f"代表{i},第{i % 5 + 1}代表团,{i:04d}\n" for i in range(1, n + 1)
        )
        deputies = (await post("/api/roster", {"csv": csv}))["deputies"]
        # the check-in desk checks in each delegation at once (POST /api/attendance/checkin)
        for delegation in sorted({d["delegation"] for d in deputies}):
            await post("/api/attendance/checkin", {"delegation": delegation})
        # the scrutineers check the archive one process each: here the three share the
        # server's two cores, and pools of two were no faster (docs/benchmarks.md)
        await trustee_ceremony(
            server,
            api,
            [f"监票人{i}" for i in range(1, SCRUTINEERS + 1)],
            THRESHOLD,
            workers=1,
        )

        routes = ["/api/attendance"]

        async def probe_api() -> None:
            # the secretariat's screens, refreshed every 0.5 s from the kiosks' enrolment to
            # the published result: the attendance, and from the opening the poll's figures
            # (the console's figures.json reads the same)
            assert api is not None
            for turn in itertools.count():
                t0 = time.perf_counter()
                await api.get(routes[turn % len(routes)])
                latency = time.perf_counter() - t0
                api_latencies.append(latency)
                api_answers.append((time.time() - latency, routes[turn % len(routes)], latency))
                loads.append(os.getloadavg()[0])
                if len(routes) == 1:
                    connecting_max[0] = max(connecting_max[0], latency)
                await asyncio.sleep(0.5)

        probe = asyncio.create_task(probe_api())
        t = time.perf_counter()
        procs = args.kiosk_processes or max(1, -(-n // 500))
        folders = Path(tempfile.mkdtemp(prefix="kiosks-", dir=data))
        for p in range(procs):
            items = [
                {"i": i, "code": d["enrolment_code"], "choice": ["赞成", "反对", "弃权"][i % 3]}
                for i, d in enumerate(deputies)
                if i % procs == p
            ]
            spec = folders / f"swarm-{p}.json"
            spec.write_text(
                json.dumps(
                    {
                        "url": server.url,
                        "folder": str(folders),
                        "scrypt_n": KIOSK_SCRYPT_N,
                        "test_group": args.group == "RENDA-TEST-256",
                        "kiosks": items,
                        "parent": os.getpid(),  # the swarm dies with this benchmark
                    }
                ),
                "utf-8",
            )
            proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "voting.demo.swarm",
                str(spec),
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=open(data / f"swarm-{p}.log", "ab"),  # noqa: SIM115
            )
            if args.kiosks_nice:
                lower_priority(proc.pid, args.kiosks_nice)
            swarms.append(_Swarm(proc))
        all_up = asyncio.gather(*(s.connected.wait() for s in swarms))
        await _watch(
            "平板登记、连接 (tablets enrolled, connected)",
            2 * n,
            lambda: sum(1 for s in swarms for e in s.events if e.get("ev") in ("enrolled", "up")),
            all_up,
            1800,
        )
        for s in swarms:
            if s.done.is_set():
                raise DemoError(f"a kiosk process stopped; see {data}/swarm-*.log")
        enrol_s = time.perf_counter() - t

        def events(kind: str) -> list[dict[str, Any]]:
            return [e for s in swarms for e in s.events if e.get("ev") == kind]

        poll = await post("/api/polls", {"title": "议案", "kind": "motion", "template": MOTION})
        pid = poll["poll_id"]

        cpu0 = _cpu_seconds(server.proc.pid) + sum(
            _cpu_seconds(c) for c in _children(server.proc.pid)
        )
        t_open_wall = time.time()
        routes.append(f"/api/polls/{pid}")
        api_latencies.clear()  # from here on: the vote (before: connecting the kiosks)
        await post(f"/api/polls/{pid}/open")
        issued_s = float("nan")
        deadline = time.monotonic() + 3600
        with counter(n, "发出选票 (ballots issued to the tablets)", "tablet") as reached:
            while len(events("built")) < n and time.monotonic() < deadline:
                reached(len(events("built")))
                if issued_s != issued_s:  # nan: not yet
                    state = await api.get(f"/api/polls/{pid}")
                    if state["issued"] >= n:
                        issued_s = time.time() - t_open_wall
                await asyncio.sleep(0.05)
        if len(events("built")) < n:
            raise DemoError(f"only {len(events('built'))} of {n} kiosks got a ballot to cast")
        issued = events("issued")
        kiosks_issued_s = max(e["t"] for e in issued) - t_open_wall if issued else float("nan")
        built_s = max(e["t"] for e in events("built")) - t_open_wall

        cpu1 = _cpu_seconds(server.proc.pid) + sum(
            _cpu_seconds(c) for c in _children(server.proc.pid)
        )
        t_go = time.time()
        for s in swarms:
            await s.say("go")
        with counter(n, "投票、回执 (ballots cast and acknowledged)", "ballot") as reached:
            while len(events("ack")) < n and time.monotonic() < deadline:
                reached(len(events("ack")))
                await asyncio.sleep(0.05)
        acks = events("ack")
        if len(acks) < n:
            raise DemoError(f"only {len(acks)} of {n} ballots acknowledged: {events('error')[:3]}")
        last_ack = max(e["t"] for e in acks) - t_go
        children = _children(server.proc.pid)
        cpu2 = _cpu_seconds(server.proc.pid) + sum(_cpu_seconds(c) for c in children)
        memory = _proc_memory(server.proc.pid)
        workers_rss = sum(_proc_memory(c)[1] for c in children)

        t_close = time.perf_counter()
        t_close_wall = time.time()
        await post(f"/api/polls/{pid}/close")
        while True:
            state = await api.get(f"/api/polls/{pid}")
            if state["state"] == "tallied":
                break
            if state.get("message") and time.perf_counter() - t_close > 600:
                raise DemoError(f"tally stuck: {state['message']}")
            await asyncio.sleep(0.05)
        t_tallied = time.perf_counter()
        published = await post(f"/api/polls/{pid}/publish")
        t_published = time.perf_counter()
        while len(events("result")) < n and time.perf_counter() - t_published < 600:
            await asyncio.sleep(0.05)
        results = events("result")
        t_results = (
            max(e["t"] for e in results) - t_close_wall if len(results) == n else float("nan")
        )
        counts = published.get("counts") or {}
    finally:
        if probe is not None:
            probe.cancel()
        await asyncio.gather(*(s.stop() for s in swarms))
        if api is not None:
            await api.close()
        server.stop()
    done = [e for s in swarms for e in s.events if e.get("ev") == "done"]
    reconnects = sum(sum(e["reconnects"]) for e in done)
    latencies = [e["latency"] for e in acks]
    cores = os.cpu_count() or 1
    return {
        "deputies": n,
        "group": args.group,
        "scrutineers_nice": args.scrutineers_nice,
        "kiosks_nice": args.kiosks_nice,
        "server_workers": args.workers,
        "kiosk_processes": len(swarms),
        "cpus": cores,
        "load_average_1min_at_end": round(os.getloadavg()[0], 2),
        "load_average_during": [round(min(loads or [0]), 1), round(max(loads or [0]), 1)],
        "python": platform.python_version(),
        "received": counts.get("received"),
        "result": counts.get("result"),
        "enrol_and_connect_s": round(enrol_s, 3),
        "open_to_all_issued_s": round(issued_s, 3),
        "open_to_every_kiosk_issued_s": round(kiosks_issued_s, 3),
        "open_to_all_ballots_built_s": round(built_s, 3),
        "ack_p50_s": round(percentile(latencies, 50), 4),
        "ack_p99_s": round(percentile(latencies, 99), 4),
        "ack_max_s": round(max(latencies), 4),
        "all_acknowledged_s": round(last_ack, 3),
        "ballot_check_cpu_s": round(per_ballot, 5),
        "proof_checks_cpu_bound_s": round(n * per_ballot / cores, 3),
        "server_cpu_opening_s": round(cpu1 - cpu0, 2),
        "server_cpu_casting_s": round(cpu2 - cpu1, 2),
        "server_peak_rss_mib": round(memory[0] / 1024, 1),
        "server_workers_rss_mib": round(workers_rss / 1024, 1),
        "api_max_s": round(max(api_latencies), 3) if api_latencies else None,
        "api_max_connecting_s": round(connecting_max[0], 3),
        "api_p99_s": round(percentile(api_latencies, 99), 3) if api_latencies else None,
        # the five slowest answers: when they were asked (s after the opening), what, how long
        "api_slowest": [
            {"at_s": round(at - t_open_wall, 1), "route": route, "s": round(lat, 3)}
            for at, route, lat in sorted(api_answers, key=lambda a: -a[2])[:5]
        ],
        "casting_from_s": round(t_go - t_open_wall, 1),
        "reconnects": reconnects,
        "close_to_tallied_s": round(t_tallied - t_close, 3),
        "close_to_published_s": round(t_published - t_close, 3),
        "close_to_all_kiosks_have_result_s": round(t_results, 3),
        "kiosk_errors": [e["what"] for e in events("error")][:5],
    }


def run(args: argparse.Namespace) -> int:
    if args.deputies < 1:
        print("renda bench session: --deputies must be at least 1", file=sys.stderr)
        return 2
    try:
        if args.keep is not None:
            args.keep.mkdir(parents=True, exist_ok=True)
            figures = asyncio.run(_bench(args, args.keep))
        else:
            with tempfile.TemporaryDirectory(prefix="renda-bench-session-") as tmp:
                figures = asyncio.run(_bench(args, Path(tmp)))
    except (KeyboardInterrupt, asyncio.CancelledError):
        print("renda bench session: stopped; its processes are ended", file=sys.stderr)
        return 130
    if args.keep is not None:  # every figure, beside the session folder it came from
        (args.keep / "figures.json").write_text(
            json.dumps(figures, ensure_ascii=False, indent=1), "utf-8"
        )
    if args.json:
        print(json.dumps(figures, ensure_ascii=False, indent=1))
        return 0
    print(summary(figures))
    return 0


TABLE_HEAD = (
    "| N | open → all issued | ack p50 | p99 | last ack | checks' CPU / cores | server CPU "
    "while casting | peak RSS | API max (vote / connecting) | dropped | load average |\n"
    "|---|---|---|---|---|---|---|---|---|---|---|"
)


def table_row(f: dict[str, Any]) -> str:
    """The run as a row of docs/benchmarks.md's table (:data:`TABLE_HEAD`)."""
    load = f["load_average_during"]
    return (
        f"| {f['deputies']:,} | {f['open_to_all_issued_s']:.1f} s | {f['ack_p50_s']:.1f} s | "
        f"{f['ack_p99_s']:.1f} s | {f['all_acknowledged_s']:.1f} s | {f['deputies']:,} × "
        f"{f['ballot_check_cpu_s'] * 1000:.0f} ms / {f['cpus']} = "
        f"{f['proof_checks_cpu_bound_s']:.1f} s | {f['server_cpu_casting_s']:.1f} s | "
        f"{f['server_peak_rss_mib']:.0f} MiB (+ {f['server_workers_rss_mib']:.0f} MiB checkers) | "
        f"{f['api_max_s']:.2f} s / {f['api_max_connecting_s']:.2f} s | {f['reconnects']} | "
        f"{load[0]:.0f}–{load[1]:.0f} |"
    )


def summary(f: dict[str, Any]) -> str:
    """The figures in words, then as a row ready to paste into docs/benchmarks.md."""
    lines = [
        f"renda bench session: {f['deputies']} kiosks in {f['kiosk_processes']} processes, "
        f"{f['group']}, {f['server_workers']} server workers, {f['cpus']} CPUs, scrutineers "
        f"at nice {f.get('scrutineers_nice', 0)}, kiosks at nice {f.get('kiosks_nice', 0)}, "
        "load average "
        f"{f['load_average_during'][0]}–{f['load_average_during'][1]} during the run",
        f"  open → all ballots issued {f['open_to_all_issued_s']} s (server), → every kiosk "
        f"has its ballot {f['open_to_every_kiosk_issued_s']} s, → every ballot built on its "
        f"tablet {f['open_to_all_ballots_built_s']} s",
        f"  send → ack: p50 {f['ack_p50_s']} s, p99 {f['ack_p99_s']} s, max {f['ack_max_s']} s; "
        f"all acknowledged after {f['all_acknowledged_s']} s (proof checks need "
        f"{f['deputies']} × {f['ballot_check_cpu_s']} s / {f['cpus']} cores = "
        f"{f['proof_checks_cpu_bound_s']} s of CPU; the server used {f['server_cpu_casting_s']} s)",
        f"  ballots stored {f['received']}, counted {f['result']}",
        f"  server memory: peak {f['server_peak_rss_mib']} MiB (+ {f['server_workers_rss_mib']} "
        f"MiB in its ballot checkers); slowest API answer {f['api_max_s']} s from the opening on "
        f"(p99 {f['api_p99_s']} s), {f['api_max_connecting_s']} s while the kiosks connected; "
        f"{f['reconnects']} kiosk connection(s) dropped",
        f"  close → tallied {f['close_to_tallied_s']} s, → published "
        f"{f['close_to_published_s']} s, → every kiosk has the signed result "
        f"{f['close_to_all_kiosks_have_result_s']} s",
        f"  (setup, not measured above: enrol and connect the kiosks {f['enrol_and_connect_s']} s)",
    ]
    if f.get("api_slowest"):
        lines.append(
            "  slowest API answers (s after the opening; casting from "
            f"{f['casting_from_s']} s): "
            + ", ".join(f"{a['s']} s at {a['at_s']} s {a['route']}" for a in f["api_slowest"])
        )
    if f["kiosk_errors"]:
        lines.append(f"  kiosk errors: {f['kiosk_errors']}")
    lines += ["", "docs/benchmarks.md row:", TABLE_HEAD, table_row(f)]
    return "\n".join(lines)
