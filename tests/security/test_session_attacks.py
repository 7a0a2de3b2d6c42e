"""Attacks on a real ``renda serve`` (issue 15 §4, §6, §7), with real kiosks (kiosk.client.Kiosk):

* a revoked tablet keeps its live connection and votes for the deputy: a new enrolment card
  now closes the old tablet's connection at once, the old tablet is refused when it comes back,
  and only the replacement tablet gets the ballot;
* the result is read before the chair publishes it: the public archive ends before the Result
  event and the hall screen's (display) token sees no result, outcome or count report, until
  the chair publishes;
* another local user reads the session's files: the folder is 0700 and every file in it 0600,
  the database and its WAL included.

The small test group (``--test-group``, no scrutineers) keeps it quick: what is attacked here is
the server's handling of connections, files and publication, not the cryptography.
"""

from __future__ import annotations

import asyncio
import stat
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from kiosk.choices import Script
from kiosk.client import HeadlessDeputy, Kiosk
from kiosk.enrol import enrol
from tally.archive import parse_archive
from voting.demo.harness import ServerProcess, wait_until

pytestmark = pytest.mark.slow

TEMPLATE = {
    "description": "表决",
    "name": "关于预算的议案",
    "questions": [
        {"answers": ["赞成", "反对", "弃权"], "min": 1, "max": 1, "question": "表决意见"}
    ],
}


def _true(predicate: Callable[[], bool]) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return predicate()

    return check


def test_revocation_publication_and_file_modes(tmp_path: Path) -> None:
    async def main() -> None:
        data = tmp_path / "server"
        server = ServerProcess(data, tmp_path / "server.log", options=["--test-group"])
        server.start()
        kiosks: list[Kiosk] = []
        tasks: list[asyncio.Task[None]] = []
        try:
            tokens = await server.ready()

            def client(role: str | None) -> httpx.AsyncClient:
                headers = {"Authorization": f"Bearer {tokens[role]}"} if role else {}
                return httpx.AsyncClient(base_url=server.url, headers=headers, timeout=60)

            api, hall, public = client("secretariat"), client("display"), client(None)

            async def post(path: str, body: Any = None) -> Any:
                r = await api.post(path, json=body if body is not None else {})
                assert r.status_code == 200, (path, r.text)
                return r.json()

            roster = "name,delegation,seat\n王五,一组,1\n赵六,一组,2\n"
            deputies = (await post("/api/roster", {"csv": roster}))["deputies"]
            await post("/api/ceremony", {"threshold": 0})

            async def tablet(name: str, code: str, choice: str) -> Kiosk:
                folder = tmp_path / name
                vault, identity = await enrol(server.url, code, folder, "pw", scrypt_n=2**10)
                k = Kiosk(
                    folder,
                    vault,
                    identity,
                    HeadlessDeputy(Script(default=choice)),
                    allow_test_group=True,
                )
                kiosks.append(k)
                tasks.append(asyncio.create_task(k.run()))
                await wait_until(f"{name} to connect", _true(k.connected.is_set), 60)
                return k

            wang = deputies[0]
            old = await tablet("old", wang["enrolment_code"], "反对")
            other = await tablet("other", deputies[1]["enrolment_code"], "赞成")
            for d in deputies:
                await post(f"/api/deputies/{d['deputy_id']}/checkin")

            # the tablet is lost: a new enrolment card revokes it, and its live connection
            # closes at once (no waiting for it to reconnect)
            card = await post(f"/api/deputies/{wang['deputy_id']}/new_code")
            await wait_until(
                "the old tablet's connection to close",
                _true(lambda: not old.connected.is_set()),
                30,
            )
            new = await tablet("new", card["enrolment_code"], "赞成")

            pid = (
                await post(
                    "/api/polls",
                    {"title": "关于预算的议案", "kind": "motion", "template": TEMPLATE},
                )
            )["poll_id"]
            await post(f"/api/polls/{pid}/open")

            def voted() -> bool:
                return all(
                    k.polls.get(pid) is not None and k.polls[pid].acknowledged for k in (new, other)
                )

            await wait_until("the ballots", _true(voted), 60)
            # the old tablet never got this poll: it is refused whenever it tries again
            assert pid not in old.polls or old.polls[pid].public_credential is None
            assert old.events.casts_sent == 0
            assert not old.connected.is_set()
            assert any("未登记" in t or "撤销" in t for t in old.deputy.messages), (
                old.deputy.messages
            )  # type: ignore[attr-defined]

            await post(f"/api/polls/{pid}/close")

            async def tallied() -> bool:
                return bool((await api.get(f"/api/polls/{pid}")).json()["state"] == "tallied")

            await wait_until("the tally", tallied, 60, 0.2)
            info = (await api.get(f"/api/polls/{pid}")).json()
            assert info["result"]["result"] == [[2, 0, 0]]
            # not public before the chair publishes: no Result in the public archive, nothing
            # on the hall screen's token
            name = f"/record/polls/{pid}/{info['uuid']}.bel"
            blob = (await public.get(name)).content
            assert parse_archive(blob).result() is None
            assert parse_archive(blob).sized_encrypted_tally() is not None
            seen = (await hall.get(f"/api/polls/{pid}")).json()
            assert seen["result"] is None and seen["outcome"] is None and seen["report"] is None
            assert "result" not in (seen["counts"] or {})
            assert all(p["result"] is None for p in (await hall.get("/api/polls")).json())
            full = (await api.get(name)).content
            assert parse_archive(full).result() is not None
            await post(f"/api/polls/{pid}/publish")
            assert parse_archive((await public.get(name)).content).result() is not None
            assert (await hall.get(f"/api/polls/{pid}")).json()["result"] == info["result"]

            # every file of the session is the server's alone
            assert (data / "session.db-wal").exists()
            for path in [data, *data.rglob("*")]:
                mode = stat.S_IMODE(path.stat().st_mode)
                assert mode == (0o700 if path.is_dir() else 0o600), (path, oct(mode))
            for c in (api, hall, public):
                await c.aclose()
        finally:
            for k in kiosks:
                k.stop()
            await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), 30)
            server.stop()

    asyncio.run(main())
