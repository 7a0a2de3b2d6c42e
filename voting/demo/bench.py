"""``renda bench session --deputies N``: a live session on loopback, all kiosks casting at once.

Starts a real ``renda serve`` subprocess on 127.0.0.1 with a temporary SQLite folder, imports a
roster of N deputies, checks them all in, runs the key ceremony with three ``renda trustee``
subprocesses (2 of 3, as in ``renda demo``; they stay connected to decrypt), enrols N headless
kiosks (``kiosk.client.Kiosk`` with a
scripted deputy, each with its own sealed device key) and opens one motion. Every kiosk builds
and encrypts its ballot, then waits until all N are ready, and they all send together.

Reported (seconds): p50 / p99 / max of the time from a kiosk's send of its ``cast`` to the
server's signed acknowledgement (checked by the kiosk), the wall time until the last
acknowledgement, and the time from the close request to the tallied poll, to the published
(signed) result, and until every kiosk has received that result.

The benchmark lives in ``voting/demo/`` because it needs the server and the kiosk; ``tally/``
must not import them. ``renda bench session`` is routed here (by name) by ``voting/cli.py``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from kiosk.choices import Script
from kiosk.client import BallotDraft, HeadlessDeputy, Kiosk
from kiosk.enrol import enrol
from tally import messages as m
from voting.demo.harness import Api, DemoError, ServerProcess, trustee_ceremony

HELP = "a live session on loopback: N kiosks cast together; ack latency and close-to-result time"

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


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * q // 100))
    return ordered[int(rank) - 1]


async def _bench(args: argparse.Namespace, data: Path) -> dict[str, Any]:
    n = args.deputies
    options = ("--group", args.group, "--workers", str(args.workers), "--collect-timeout", "3600")
    server = ServerProcess(data, data / "serve.log", options)
    server.init()
    server.start()
    kiosks: list[Kiosk] = []
    tasks: list[asyncio.Task[None]] = []
    api: Api | None = None
    try:
        tokens = await server.ready(60)
        api = Api(server.url, str(tokens["secretariat"]), timeout=600)
        post = api.post

        csv = "name,delegation,seat\n" + "".join(
            f"代表{i},第{i % 5 + 1}代表团,{i:04d}\n" for i in range(1, n + 1)
        )
        deputies = (await post("/api/roster", {"csv": csv}))["deputies"]
        for d in deputies:
            await post(f"/api/deputies/{d['deputy_id']}/checkin")
        await trustee_ceremony(
            server, api, [f"监票人{i}" for i in range(1, SCRUTINEERS + 1)], THRESHOLD
        )

        ready = 0
        all_ready = asyncio.Event()
        go = asyncio.Event()
        sent: dict[int, float] = {}
        acked: dict[int, float] = {}
        results: dict[int, float] = {}
        errors: list[str] = []

        class _TogetherDeputy(HeadlessDeputy):
            """Confirms only when every kiosk has built its ballot: all send together."""

            async def confirm(self, draft: BallotDraft) -> bool:
                nonlocal ready
                ready += 1
                if ready == n:
                    all_ready.set()
                await go.wait()
                return await super().confirm(draft)

        class _TimedKiosk(Kiosk):
            """Stamps the moment the cast frame is handed to the websocket."""

            number = 0

            async def _send(self, msg: Any) -> None:
                if isinstance(msg, m.Cast):
                    sent.setdefault(self.number, time.perf_counter())
                await super()._send(msg)

        def on_event(i: int) -> Any:
            def handle(kind: str, payload: dict[str, Any]) -> None:
                if kind == "ack":
                    acked.setdefault(i, time.perf_counter())
                elif kind == "result":
                    results.setdefault(i, time.perf_counter())
                elif kind in ("error", "refused", "bad_receipt"):
                    errors.append(f"{kind}: {payload}")

            return handle

        t = time.perf_counter()
        folders = Path(tempfile.mkdtemp(prefix="kiosks-", dir=data))
        async with httpx.AsyncClient(timeout=120) as enrol_client:
            for i, d in enumerate(deputies):
                vault, identity = await enrol(
                    server.url,
                    d["enrolment_code"],
                    folders / f"k{i:04d}",
                    "bench",
                    scrypt_n=KIOSK_SCRYPT_N,
                    client=enrol_client,
                )
                script = Script(default=["赞成", "反对", "弃权"][i % 3])
                kiosk = _TimedKiosk(
                    folders / f"k{i:04d}",
                    vault,
                    identity,
                    _TogetherDeputy(script),
                    on_event=on_event(i),
                )
                kiosk.number = i
                kiosks.append(kiosk)
        enrol_s = time.perf_counter() - t
        tasks = [asyncio.create_task(k.run()) for k in kiosks]
        await asyncio.wait_for(asyncio.gather(*(k.connected.wait() for k in kiosks)), 600)

        poll = await post("/api/polls", {"title": "议案", "kind": "motion", "template": MOTION})
        pid = poll["poll_id"]
        t = time.perf_counter()
        await post(f"/api/polls/{pid}/open")
        await asyncio.wait_for(all_ready.wait(), 3600)
        open_s = time.perf_counter() - t  # credentials, issuance, ballots built on tablets
        t_go = time.perf_counter()
        go.set()
        deadline = time.monotonic() + 3600
        while len(acked) < n and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        if len(acked) < n:
            raise DemoError(f"only {len(acked)} of {n} ballots acknowledged: {errors[:3]}")
        last_ack = max(acked.values()) - t_go

        t_close = time.perf_counter()
        await post(f"/api/polls/{pid}/close")
        while True:
            state = await api.get(f"/api/polls/{pid}")
            if state["state"] == "tallied":
                break
            if state.get("message"):
                raise DemoError(f"tally stuck: {state['message']}")
            await asyncio.sleep(0.01)
        t_tallied = time.perf_counter()
        published = await post(f"/api/polls/{pid}/publish")
        t_published = time.perf_counter()
        while len(results) < n and time.perf_counter() - t_published < 600:
            await asyncio.sleep(0.01)
        t_results = max(results.values()) if len(results) == n else float("nan")
        counts = published.get("counts") or {}
    finally:
        for k in kiosks:
            k.stop()
        if tasks:
            await asyncio.wait(tasks, timeout=30)
        if api is not None:
            await api.close()
        server.stop()
    latencies = [acked[i] - sent[i] for i in range(n)]
    return {
        "deputies": n,
        "group": args.group,
        "server_workers": args.workers,
        "cpus": os.cpu_count(),
        "load_average_1min_at_end": round(os.getloadavg()[0], 2),
        "python": platform.python_version(),
        "received": counts.get("received"),
        "result": counts.get("result"),
        "enrol_s": round(enrol_s, 3),
        "open_to_all_ballots_built_s": round(open_s, 3),
        "ack_p50_s": round(percentile(latencies, 50), 4),
        "ack_p99_s": round(percentile(latencies, 99), 4),
        "ack_max_s": round(max(latencies), 4),
        "all_acknowledged_s": round(last_ack, 3),
        "close_to_tallied_s": round(t_tallied - t_close, 3),
        "close_to_published_s": round(t_published - t_close, 3),
        "close_to_all_kiosks_have_result_s": round(t_results - t_close, 3),
        "kiosk_errors": errors[:5],
    }


def run(args: argparse.Namespace) -> int:
    if args.deputies < 1:
        print("renda bench session: --deputies must be at least 1", file=sys.stderr)
        return 2
    if args.keep is not None:
        args.keep.mkdir(parents=True, exist_ok=True)
        figures = asyncio.run(_bench(args, args.keep))
    else:
        with tempfile.TemporaryDirectory(prefix="renda-bench-session-") as tmp:
            figures = asyncio.run(_bench(args, Path(tmp)))
    if args.json:
        print(json.dumps(figures, ensure_ascii=False, indent=1))
        return 0
    print(
        f"renda bench session: {figures['deputies']} kiosks, {figures['group']}, "
        f"{figures['server_workers']} server workers, load average "
        f"{figures['load_average_1min_at_end']}"
    )
    print(
        f"  send → ack: p50 {figures['ack_p50_s']} s, p99 {figures['ack_p99_s']} s, "
        f"max {figures['ack_max_s']} s; all acknowledged after {figures['all_acknowledged_s']} s"
    )
    print(
        f"  close → tallied {figures['close_to_tallied_s']} s, → published "
        f"{figures['close_to_published_s']} s, → every kiosk has the signed result "
        f"{figures['close_to_all_kiosks_have_result_s']} s"
    )
    print(
        f"  (setup, not measured above: enrolment {figures['enrol_s']} s; open → all ballots "
        f"built on the tablets {figures['open_to_all_ballots_built_s']} s)"
    )
    if figures["kiosk_errors"]:
        print(f"  kiosk errors: {figures['kiosk_errors']}")
    return 0
