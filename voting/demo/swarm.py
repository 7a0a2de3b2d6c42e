"""A process of headless kiosks for ``renda bench session`` (voting/demo/bench.py).

``python -m voting.demo.swarm SPEC.json`` enrols the kiosks of the spec (``{"url", "folder",
"scrypt_n", "kiosks": [{"i", "code", "choice"}]}``), connects them, and reports on stdout one
JSON line per event, with wall-clock times (``time.time()``, comparable between the processes
of one machine):

- ``{"ev": "connected"}`` once every kiosk of the process is connected;
- ``{"ev": "issued", "i", "t"}`` when kiosk ``i`` got its signed ballot (发出选票);
- ``{"ev": "built", "i", "t"}`` when its ballot is built and encrypted (it then waits for ``go``);
- ``{"ev": "ack", "i", "t", "latency"}`` when its receipt checks (latency: send → ack);
- ``{"ev": "result", "i", "t"}``, ``{"ev": "error", "i", "what"}``;
- ``{"ev": "done", "reconnects": [...], "casts": [...]}`` after ``stop``.

It reads ``go`` (every kiosk sends its ballot) and ``stop`` on stdin. Several such processes
split the kiosks of a large hall over the cores (one event loop each).
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

from kiosk.choices import Script
from kiosk.client import BallotDraft, HeadlessDeputy, Kiosk
from kiosk.enrol import enrol
from tally import messages as m
from tally.workers import die_with_parent

CONNECTING = 25  # kiosks of one process in their connection handshake at a time


async def connect_gradually(kiosks: list[Any], at_once: int) -> list[asyncio.Task[None]]:
    """Start every kiosk, at most ``at_once`` of them between connecting and their welcome.

    All at once, a process of 750 kiosks on a loaded machine opened more handshakes than it
    (and the server) could finish within the kiosks' 10 s open timeout: each kiosk gave up,
    closed and connected again, and the server's listen queue filled with connections whose
    client had already left (6,600 sockets in CLOSE-WAIT at 3,000 kiosks), each accepted and
    counted against ``--max-connections`` before its end was read. Tablets in a hall are
    switched on over minutes; the benchmark measures the vote, not a reconnection storm."""
    gate = asyncio.Semaphore(at_once)
    tasks: list[asyncio.Task[None]] = []

    async def start(k: Any) -> None:
        async with gate:
            tasks.append(asyncio.create_task(k.run()))
            await k.connected.wait()
        _say(ev="up", i=k.number)  # each tablet's connection (the benchmark's progress)

    await asyncio.gather(*(start(k) for k in kiosks))
    return tasks


def _say(**event: Any) -> None:
    sys.stdout.write(json.dumps(event) + "\n")
    sys.stdout.flush()


async def _main(spec: dict[str, Any]) -> None:
    go = asyncio.Event()
    stop = asyncio.Event()
    # A process plays 500 tablets on a share of 2 cores; a real tablet has a CPU of its own.
    # Its event loop must still answer the server's keepalive pings (60 s): in the run of
    # 2 December 02:00 one process, starved, lost all 273 of its connections at once. So the
    # tablets' CPU work goes one at a time, with the loop's I/O in between: one thread
    # builds the ballots (gmpy2 holds the GIL: six threads left the loop a sixth of it), and
    # the checks of a poll_ready (signatures, the trustees' proofs) take turns.
    asyncio.get_running_loop().set_default_executor(ThreadPoolExecutor(1, "ballots"))
    one_at_a_time = asyncio.Semaphore(1)

    class _Deputy(HeadlessDeputy):
        number = 0

        async def confirm(self, draft: BallotDraft) -> bool:
            _say(ev="built", i=self.number, t=time.time())
            await go.wait()
            return await super().confirm(draft)

    class _Kiosk(Kiosk):
        number = 0
        sent_at: float | None = None

        async def _send(self, msg: Any) -> None:
            if isinstance(msg, m.Cast) and self.sent_at is None:
                self.sent_at = time.perf_counter()
            await super()._send(msg)

        async def _handle(self, msg: Any) -> None:
            if isinstance(msg, m.BallotIssued):
                _say(ev="issued", i=self.number, t=time.time())
            await super()._handle(msg)

        async def _on_poll_ready(self, msg: m.PollReady) -> None:
            async with one_at_a_time:
                await super()._on_poll_ready(msg)

    def on_event(k: _Kiosk) -> Any:
        def handle(kind: str, payload: dict[str, Any]) -> None:
            if kind == "ack":
                latency = time.perf_counter() - (k.sent_at or time.perf_counter())
                _say(ev="ack", i=k.number, t=time.time(), latency=latency)
            elif kind == "result":
                _say(ev="result", i=k.number, t=time.time())
            elif kind in ("error", "refused", "bad_receipt"):
                _say(ev="error", i=k.number, what=f"{kind}: {str(payload)[:300]}")

        return handle

    folder = Path(spec["folder"])
    kiosks: list[_Kiosk] = []
    async with httpx.AsyncClient(timeout=120) as client:
        for item in spec["kiosks"]:
            where = folder / f"k{item['i']:04d}"
            vault, identity = await enrol(
                spec["url"],
                item["code"],
                where,
                "bench",
                scrypt_n=spec["scrypt_n"],
                client=client,
            )
            deputy = _Deputy(Script(default=item["choice"]))
            deputy.number = item["i"]
            kiosk = _Kiosk(
                where, vault, identity, deputy, allow_test_group=bool(spec.get("test_group"))
            )
            kiosk.number = item["i"]
            kiosk._on_event = on_event(kiosk)
            kiosks.append(kiosk)
            _say(ev="enrolled", i=item["i"])
    tasks = await connect_gradually(kiosks, int(spec.get("connecting", CONNECTING)))
    _say(ev="connected")

    stdin = ThreadPoolExecutor(1, "stdin")  # not the ballots' thread: it waits for a line

    async def commands() -> None:
        loop = asyncio.get_running_loop()
        while True:
            line = await loop.run_in_executor(stdin, sys.stdin.readline)
            if line.strip() == "go":
                go.set()
            elif line.strip() == "stop" or not line:
                stop.set()
                return

    reader = asyncio.create_task(commands())
    await stop.wait()
    for k in kiosks:
        k.stop()
    await asyncio.wait(tasks, timeout=30)
    reader.cancel()
    _say(
        ev="done",
        reconnects=[max(0, k.events.connections - 1) for k in kiosks],
        casts=[k.events.casts_sent for k in kiosks],
    )


def main() -> None:
    spec = json.loads(Path(sys.argv[1]).read_text("utf-8"))
    # a benchmark killed by any means leaves no kiosk process behind
    die_with_parent(int(spec["parent"]) if "parent" in spec else None)
    logging.basicConfig(  # on stderr (swarm-N.log): why a kiosk's connection ended
        level=logging.WARNING, format="%(asctime)s %(name)s: %(message)s"
    )
    logging.getLogger("renda.kiosk").setLevel(logging.INFO)
    asyncio.run(_main(spec))


if __name__ == "__main__":
    main()
