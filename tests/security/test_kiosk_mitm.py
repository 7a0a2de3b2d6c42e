"""A machine in the middle of the hall network rewrites what the server tells the tablets
(issue 15 §2): a real ``renda serve`` (BELENIOS-2048), two real scrutineers' tools (2 of 2),
four real kiosks (kiosk.client.Kiosk, enrolled at the secretariat's desk, then connected
through the machine in the middle), and a relay that passes every frame on — except that it
gives one tablet the election re-made under the attacker's own key, strips the signed setup
for another, re-signs the setup with its own key for a third, and passes the real trustees on
with fewer than k scrutineers' signatures of them (or one copied) to a fourth and fifth.

Every attacked tablet refuses to vote and tells the deputy in plain Chinese words; the honest
tablet votes, the poll is tallied by the scrutineers, and the session record is accepted by
``renda verify`` and the archive by belenios-tool.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import shutil
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from keys.group import BELENIOS_2048
from keys.trustee_key import generate_trustee_key
from kiosk.choices import Script
from kiosk.client import HeadlessDeputy, Kiosk
from kiosk.enrol import enrol
from tally import statements
from tally.election import make_election
from tally.trustees import SingleTrustee, Trustees, serialize_trustees
from tests.belenios import verify as belenios_verify
from voting.cli_trustee import KeyFile, Scrutineer
from voting.demo.harness import ServerProcess, wait_until

pytestmark = pytest.mark.slow


def swap_key(ready: dict[str, Any]) -> None:
    """The attacker's election: same uuid and questions, its own key (and trustees)."""
    election = json.loads(ready["election"])
    _x, tpk = generate_trustee_key(BELENIOS_2048)
    template = {k: election[k] for k in ("description", "name", "questions")}
    ready["election"] = make_election(
        template, uuid=election["uuid"], group=BELENIOS_2048, public_key=tpk.public_key
    ).raw
    ready["trustees"] = serialize_trustees(Trustees((SingleTrustee(tpk),)))


def strip_setup(ready: dict[str, Any]) -> None:
    swap_key(ready)
    del ready["setup"]


def own_signature(ready: dict[str, Any]) -> None:
    swap_key(ready)
    key = statements.generate_key()
    payload = dict(ready["setup"]["statement"])
    payload["election_hash"] = statements.sha256_hex(ready["election"])
    payload["trustees_hash"] = statements.sha256_hex(ready["trustees"])
    ready["setup"] = statements.sign_statement(key, payload).model_dump()


def fewer_signatures(ready: dict[str, Any]) -> None:
    """The real trustees, signed by one scrutineer of the two needed."""
    ready["trustees_signatures"] = ready["trustees_signatures"][:1]


def copied_signature(ready: dict[str, Any]) -> None:
    """Two signatures, but the second is the first one's, claimed for the other scrutineer."""
    first, second = ready["trustees_signatures"][:2]
    ready["trustees_signatures"] = [first, {**first, "trustee_id": second["trustee_id"]}]


class MachineInTheMiddle:
    """A websocket relay to the real server; rewrites ``poll_ready`` for chosen devices."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream.replace("http://", "ws://")
        self.attacks: dict[str, Callable[[dict[str, Any]], None]] = {}  # device id -> rewrite
        self.rewritten: list[str] = []
        self.port = 0

    async def start(self) -> None:
        from websockets.asyncio.server import serve

        self._server = await serve(self._relay, "127.0.0.1", 0, max_size=None)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        self._server.close()
        await self._server.wait_closed()

    async def _relay(self, client: Any) -> None:
        from websockets.asyncio.client import connect
        from websockets.exceptions import ConnectionClosed

        device: list[str] = []
        async with connect(self.upstream + client.request.path, max_size=None) as server:

            async def up() -> None:
                async for frame in client:
                    msg = json.loads(frame)
                    if msg.get("type") == "hello":
                        device.append(msg["device_id"])
                    await server.send(frame)

            async def down() -> None:
                async for frame in server:
                    msg = json.loads(frame)
                    attack = self.attacks.get(device[0]) if device else None
                    if msg.get("type") == "poll_ready" and attack is not None:
                        attack(msg)
                        self.rewritten.append(device[0])
                        frame = json.dumps(msg, ensure_ascii=False)
                    await client.send(frame)

            tasks = [asyncio.create_task(up()), asyncio.create_task(down())]
            try:
                await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            except ConnectionClosed:
                pass
            finally:
                for t in tasks:
                    t.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)


def test_tablets_refuse_a_rewritten_setup(tmp_path: Path, belenios_tool: str) -> None:
    async def main() -> None:
        data = tmp_path / "server"
        data.mkdir(mode=0o700)
        server = ServerProcess(data, tmp_path / "server.log")
        server.start()
        mitm = MachineInTheMiddle(server.url)
        tasks: list[asyncio.Task[None]] = []
        stoppers: list[Callable[[], None]] = []
        try:
            tokens = await server.ready()
            await mitm.start()
            api = httpx.AsyncClient(
                base_url=server.url,
                headers={"Authorization": f"Bearer {tokens['secretariat']}"},
                timeout=60,
            )

            async def post(path: str, body: Any = None) -> Any:
                r = await api.post(path, json=body if body is not None else {})
                assert r.status_code == 200, (path, r.text)
                return r.json()

            roster = (
                "name,delegation,seat\n王五,一组,1\n赵六,一组,2\n钱七,二组,3\n"
                "周九,二组,4\n吴十,二组,5\n孙八,二组,6\n"
            )
            deputies = (await post("/api/roster", {"csv": roster}))["deputies"]
            scrs = []
            for name in ("监票人甲", "监票人乙"):
                answer = await post("/api/scrutineers", {"name": name})
                path = tmp_path / f"scrutineer-{answer['index']}.json"
                s = Scrutineer(path, KeyFile(server=server.url, token=answer["token"]))
                scrs.append(s)
                tasks.append(asyncio.create_task(s.run()))
                stoppers.append(s.stop)
            await wait_until(
                "the scrutineers", _true(lambda: all(s.authenticated.is_set() for s in scrs)), 60
            )
            await post("/api/ceremony", {"threshold": 2})

            async def ceremony_done() -> bool:
                return bool((await api.get("/api/ceremony")).json()["state"] == "done")

            await wait_until("the key ceremony", ceremony_done, 120, 0.2)

            kiosks: list[Kiosk] = []
            for i, d in enumerate(deputies):
                folder = tmp_path / f"kiosk{i}"
                # enrolled at the secretariat's desk (the server key is pinned there) ...
                vault, identity = await enrol(
                    server.url, d["enrolment_code"], folder, "pw", scrypt_n=2**10
                )
                # ... then on the hall network, through the machine in the middle
                identity = dataclasses.replace(identity, server_url=f"http://127.0.0.1:{mitm.port}")
                k = Kiosk(folder, vault, identity, HeadlessDeputy(Script(default="赞成")))
                kiosks.append(k)
                tasks.append(asyncio.create_task(k.run()))
                stoppers.append(k.stop)
                await post(f"/api/deputies/{d['deputy_id']}/checkin")
            attacks = [swap_key, strip_setup, own_signature, fewer_signatures, copied_signature]
            attacked = kiosks[: len(attacks)]
            for k, attack in zip(kiosks, attacks, strict=False):
                mitm.attacks[k.identity.device_id] = attack
            await wait_until(
                "the kiosks", _true(lambda: all(k.connected.is_set() for k in kiosks)), 60
            )
            poll = await post(
                "/api/polls",
                {
                    "title": "关于预算的议案",
                    "kind": "motion",
                    "template": {
                        "description": "表决",
                        "name": "关于预算的议案",
                        "questions": [
                            {
                                "answers": ["赞成", "反对", "弃权"],
                                "min": 1,
                                "max": 1,
                                "question": "表决意见",
                            }
                        ],
                    },
                    "rules": {"id": "m", "kind": "motion", "title": "关于预算的议案"},
                },
            )
            pid = poll["poll_id"]
            await post(f"/api/polls/{pid}/open")

            def settled() -> bool:
                states = [k.polls.get(pid) for k in kiosks]
                return (
                    all(s is not None for s in states)
                    and all(
                        s.refused
                        for s in states[:-1]  # type: ignore[union-attr]
                    )
                    and bool(states[-1] and states[-1].acknowledged)
                )

            await wait_until("the kiosks to vote or refuse", _true(settled), 120)
            assert sorted(mitm.rewritten) == sorted(k.identity.device_id for k in attacked)
            for k in attacked:
                assert k.events.casts_sent == 0  # nothing was encrypted to the attacker
                refusal = k.polls[pid].refused or ""
                assert "本机拒绝投票" in refusal, refusal
                assert any("本机拒绝投票" in text for text in k.deputy.messages)  # type: ignore[attr-defined]
            assert "differs from the signed one" in (kiosks[0].polls[pid].refused or "")
            assert "not signed by the server" in (kiosks[1].polls[pid].refused or "")
            assert "not signed by the server" in (kiosks[2].polls[pid].refused or "")
            for k in kiosks[3:5]:  # the kiosk checks the scrutineers' signatures itself
                refusal = k.polls[pid].refused or ""
                assert "没有足够的监票人签名" in refusal, refusal
                assert k.pinned_trustees() == {}  # nothing pinned
            assert "only 1 of the 2" in (kiosks[3].polls[pid].refused or "")
            assert "does not sign" in (kiosks[4].polls[pid].refused or "")
            # the honest tablet pinned the trustees with both signatures, and shows their
            # fingerprint: the same the scrutineers' tools announce
            from tally.session_trustees import trustees_fingerprint

            [honest] = kiosks[-1].trustees_info()["groups"]  # one group: the motion's
            session_trustees = (await api.get("/api/record")).json()["session"]["trustees"]
            assert honest["fingerprint"] == trustees_fingerprint(session_trustees)
            assert len(honest["signers"]) == 2 and honest["needed"] == 2, honest

            await post(f"/api/polls/{pid}/close")

            async def signed() -> bool:
                info = (await api.get(f"/api/polls/{pid}")).json()
                assert "failed" not in info.get("message", ""), info  # waits are said, not faults
                return info["state"] == "tallied" and all(s.reports_signed >= 1 for s in scrs)

            await wait_until("the tally and the report signatures", signed, 120, 0.2)
            info = (await api.get(f"/api/polls/{pid}")).json()
            assert info["result"]["result"] == [[1, 0, 0]]
            assert info["issued"] == len(kiosks) and info["received"] == 1
            assert all(not s.errors for s in scrs), [s.errors for s in scrs]

            # both verifiers accept the record
            from tally.session_record import verify_session
            from voting.session.record import write_record

            record = tmp_path / "record"
            for entry, folder in write_record((await api.get("/api/record")).json(), record):
                shutil.copyfile(
                    data / "archives" / f"{entry['poll_id']}.bel", folder / f"{entry['uuid']}.bel"
                )
            report = verify_session(record)
            assert report.ok, report.first_failure
            belenios_verify(belenios_tool, record / "polls" / pid)
            # the honest tablet finds its ballot in the record; not in a record without the poll
            from kiosk.receipts import check_receipts

            checks = check_receipts(kiosks[-1].folder, record)
            assert [c.ok for c in checks] == [True], checks
            outcomes = json.loads((record / "outcomes.json").read_text("utf-8"))
            (record / "outcomes.json").write_text(json.dumps(outcomes[1:]), "utf-8")
            checks = check_receipts(kiosks[-1].folder, record)
            assert not checks[0].ok and "公布的记录中没有这次表决" in checks[0].message
            assert check_receipts(kiosks[0].folder, record) == []  # it cast nothing
            await api.aclose()
        finally:
            for stop in stoppers:
                stop()
            await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), 30)
            await mitm.stop()
            server.stop()

    asyncio.run(main())


def _true(predicate: Callable[[], bool]) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return predicate()

    return check
