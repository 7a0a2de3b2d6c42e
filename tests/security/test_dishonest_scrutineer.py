"""A dishonest scrutineer is named, not obeyed (issue 15), against a real ``renda serve``.

Three scrutineers, any 2 of whom decrypt with the server: two run the real tool
(voting.cli_trustee.Scrutineer, the code of ``renda trustee``), the third is the same tool except
that its partial decryption is forged (tests/security/forgery.py: wrong factors, every Belenios
2.0 proof valid). Four deputies vote on real kiosks in a motion (homomorphic) and in an election
with write-ins (另选他人: shuffled, decrypted ballot by ballot), in a session of two groups: the
motion in BELENIOS-2048, the election in RFC-3526-2048, the forger's key in each made by the
one ceremony (the trustee ids the blame names are the same in both).

For each poll one honest scrutineer is away at the close: the server has the forger's and the
other honest one's partial decryptions, which do not combine; it says so, names both as
suspects and waits. The away scrutineer comes back, decrypts, and the server tallies with the
two honest ones, names the forger in the poll's message and the audit log, and leaves its
partial decryption out of the archive. The count is the deputies' (no ballot turned void); the
record passes ``renda verify`` and ``belenios-tool election verify``.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from keys.hashing import hjson
from kiosk.choices import PollRule, Script
from kiosk.client import HeadlessDeputy, Kiosk
from kiosk.enrol import enrol
from tally import messages as m
from tally.archive import parse_archive
from tally.election_ballot import ElectionBallot, ElectionLayout, Mark, encode_ballot, question_json
from tally.encrypted_tally import parse_encrypted_tally
from tests.belenios import verify as belenios_verify
from tests.security.forgery import forge_partial_decryption
from voting.cli_trustee import KeyFile, Scrutineer
from voting.demo.harness import Api, ServerProcess, wait_until
from voting.session.record import write_record

pytestmark = pytest.mark.slow

NAMES = ["监票人甲", "监票人乙", "监票人丙"]  # the third one forges
MOTION = {
    "description": "关于预算的议案",
    "name": "关于预算的议案",
    "questions": [
        {"answers": ["赞成", "反对", "弃权"], "min": 1, "max": 1, "question": "表决意见"}
    ],
}
LAYOUT = ElectionLayout(("甲", "乙", "丙"), seats=2, roster_max=255)
ELECTION = {
    "description": "选举人大副主席（可另选他人）",
    "name": "人大副主席",
    "questions": [question_json(LAYOUT, "人大副主席")],
}
RULES = {
    "id": "vice-chair",
    "kind": "election",
    "title": "选举镇人大副主席",
    "post": "人大副主席",
    "post_type": "deputy",
    "organ": "township_congress",
    "seats": 2,
    "candidates": [{"id": "A", "name": "甲"}, {"id": "B", "name": "乙"}, {"id": "C", "name": "丙"}],
}
Y, N = Mark.FOR, Mark.AGAINST
VOTES: list[tuple[Any, list[int]]] = [
    ({"甲": "赞成", "乙": "反对", "丙": "反对", "另选他人": [4]}, [Y, N, N]),
    ({"甲": "赞成", "乙": "反对", "丙": "反对", "另选他人": [4]}, [Y, N, N]),
    ({"甲": "赞成", "乙": "赞成", "丙": "反对"}, [Y, Y, N]),
    ({"甲": "反对", "乙": "赞成", "丙": "反对", "另选他人": [3]}, [N, Y, N]),
]
WRITE_INS = [(4,), (4,), (), (3,)]


class ForgingScrutineer(Scrutineer):
    """``renda trustee`` with every check, except that the partial decryption it sends is
    forged: wrong factors with valid Belenios 2.0 proofs."""

    forged = 0

    def decrypt(self, req: m.DecryptionRequest) -> str:
        super().decrypt(req)  # the tool's checks and its key file; the honest answer is dropped
        group, x = self.keyfile.private_key(json.loads(req.election)["group"])
        tally = parse_encrypted_tally(group, req.encrypted_tally)
        self.forged += 1
        return forge_partial_decryption(group, hjson(req.election), x, tally).serialize()


def test_a_forged_partial_decryption_is_named_and_left_out(
    tmp_path: Path, belenios_tool: str
) -> None:
    asyncio.run(_session(tmp_path, belenios_tool))


async def _session(tmp_path: Path, belenios_tool: str) -> None:
    data = tmp_path / "server"
    server = ServerProcess(
        data,
        tmp_path / "server.log",
        ("--log-level", "info"),  # BELENIOS-2048 + RFC-3526-2048
    )
    server.start()
    kiosks: list[Kiosk] = []
    scrutineers: dict[int, Scrutineer] = {}
    tasks: dict[Any, asyncio.Task[None]] = {}
    api: Api | None = None
    try:
        tokens = await server.ready()
        api = Api(server.url, str(tokens["secretariat"]))
        roster = "name,delegation,seat\n" + "".join(f"代表{i},一组,{i}\n" for i in range(1, 5))
        deputies = (await api.post("/api/roster", {"csv": roster}))["deputies"]

        keys: dict[int, Path] = {}

        def start(index: int) -> Scrutineer:
            kind = ForgingScrutineer if index == 3 else Scrutineer
            s = kind(keys[index], KeyFile.load(keys[index]))
            scrutineers[index] = s
            tasks[("s", index)] = asyncio.create_task(s.run())
            return s

        for name in NAMES:
            answer = await api.post("/api/scrutineers", {"name": name})
            index = int(answer["index"])
            keys[index] = tmp_path / f"scrutineer-{index}.json"
            KeyFile(server=server.url, token=str(answer["token"])).save(keys[index])
            start(index)
        await wait_until(
            "the scrutineers to connect",
            _all(lambda: all(s.authenticated.is_set() for s in scrutineers.values())),
            30,
        )
        await api.post("/api/ceremony", {"threshold": 2})

        async def ceremony_done() -> bool:
            state = await api.get("/api/ceremony")  # type: ignore[union-attr]
            assert state["state"] != "failed", state
            return bool(state["state"] == "done")

        await wait_until("the key ceremony", ceremony_done, 180, 0.2)

        scripts: list[Script] = []
        for i, d in enumerate(deputies):
            folder = tmp_path / f"kiosk-{i}"
            vault, identity = await enrol(
                server.url, str(d["enrolment_code"]), folder, "pw", scrypt_n=2**10
            )
            script = Script(rules=[], default="未按")
            scripts.append(script)
            k = Kiosk(folder, vault, identity, HeadlessDeputy(script))
            kiosks.append(k)
            tasks[("k", i)] = asyncio.create_task(k.run())
            await api.post(f"/api/deputies/{d['deputy_id']}/checkin")
        await wait_until("the kiosks", _all(lambda: all(k.connected.is_set() for k in kiosks)), 60)

        async def run_poll(body: dict[str, Any], choices: list[Any]) -> dict[str, Any]:
            assert api is not None
            pid = str((await api.post("/api/polls", body))["poll_id"])
            for script, choice in zip(scripts, choices, strict=True):
                script.rules.append(PollRule(pid, choice))
            await api.post(f"/api/polls/{pid}/open")

            async def voted() -> bool:
                return int((await api.get(f"/api/polls/{pid}"))["received"] or 0) == 4  # type: ignore[union-attr]

            await wait_until("the ballots", voted, 120, 0.2)
            # an honest scrutineer is away when the poll closes
            scrutineers[2].stop()
            await tasks.pop(("s", 2))
            await api.post(f"/api/polls/{pid}/close")
            info: dict[str, Any] = {}

            async def waiting() -> bool:
                info.update(await api.get(f"/api/polls/{pid}"))  # type: ignore[union-attr]
                assert info["state"] == "closed", info
                return "嫌疑" in (info.get("message") or "")

            await wait_until("the server to say it cannot combine", waiting, 300, 0.3)
            said = info["message"]
            assert "监票人 1（监票人甲）" in said and "监票人 3（监票人丙）" in said, said
            assert "监票人 2" not in said and "one more scrutineer" in said, said
            start(2)  # it comes back and decrypts

            async def tallied() -> bool:
                info.update(await api.get(f"/api/polls/{pid}"))  # type: ignore[union-attr]
                return bool(info["state"] == "tallied")

            await wait_until("the tally", tallied, 300, 0.3)
            said = info["message"]
            assert "监票人 3（监票人丙） (scrutineer 3) 的部分解密有误" in said, said
            assert "监票人 1（监票人甲）" in said and "监票人 2（监票人乙）" in said, said
            await api.post(f"/api/polls/{pid}/publish")
            return info

        motion = await run_poll(
            {"title": "关于预算的议案", "kind": "motion", "template": MOTION},
            ["赞成", "赞成", "赞成", "反对"],
        )
        assert motion["result"]["result"] == [[3, 1, 0]]
        election = await run_poll(
            {"title": "选举", "kind": "election", "template": ELECTION, "rules": RULES},
            [choice for choice, _marks in VOTES],
        )
        # every ballot decodes to what its deputy cast: none turned void, no count changed
        cast = sorted(
            encode_ballot(LAYOUT, ElectionBallot(tuple(marks), (*w, *([None] * (2 - len(w))))))
            for (_c, marks), w in zip(VOTES, WRITE_INS, strict=True)
        )
        assert sorted(election["result"]["result"][0]) == cast
        assert (motion["group"], election["group"]) == ("BELENIOS-2048", "RFC-3526-2048")
        forger = scrutineers[3]
        assert isinstance(forger, ForgingScrutineer) and forger.forged == 2

        # the record: the forger's partial decryption is in no archive; both verifiers accept
        record = tmp_path / "record"

        async def signed() -> bool:
            got = await api.get("/api/record")  # type: ignore[union-attr]
            reports = [p.get("report") for p in got["polls"]]
            assert any(isinstance(r, dict) for r in reports), reports
            return all(r.get("complete") for r in reports if isinstance(r, dict))

        try:
            await wait_until("the count reports' signatures", signed, 120, 0.3)
        except Exception:
            print({i: s.errors for i, s in scrutineers.items()})
            raise
        folders = []
        async with httpx.AsyncClient(base_url=server.url, timeout=120) as public:
            for poll, folder in write_record(await api.get("/api/record"), record):
                r = await public.get(f"/record/polls/{poll['poll_id']}/{poll['uuid']}.bel")
                r.raise_for_status()
                archive = parse_archive(r.content)
                owners = {o.owner for _e, o, _r in archive.owned_items("PartialDecryption")}
                assert owners == {1, 2, 3}, owners  # the server, scrutineers 1 and 2
                (folder / f"{poll['uuid']}.bel").write_bytes(r.content)
                folders.append(folder)
        assert len(folders) == 2
        proc = subprocess.run(
            [sys.executable, "-m", "voting.cli", "verify", "--workers", "1", str(record)],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert proc.returncode == 0 and "VERIFIED" in proc.stdout, proc.stdout + proc.stderr
        for folder in folders:
            belenios_verify(belenios_tool, folder)
    finally:
        for k in kiosks:
            k.stop()
        for s in scrutineers.values():
            s.stop()
        await asyncio.wait_for(asyncio.gather(*tasks.values(), return_exceptions=True), 30)
        if api is not None:
            await api.close()
        server.stop()

    # the audit log names the forger, once per poll, and the suspects while it waited
    db = sqlite3.connect(data / "session.db")
    rows = db.execute("select action, detail from audit_log order by id").fetchall()
    db.close()
    rejected = [d for a, d in rows if a == "partial_decryption_rejected"]
    assert len(rejected) == 2, rows
    assert all("监票人 3（监票人丙）" in d and "Belenios trustee 4" in d for d in rejected)
    waited = [d for a, d in rows if a == "partial_decryptions_inconsistent"]
    assert len(waited) == 2 and all("suspects trustee(s) [2, 4]" in d for d in waited), waited
    log = (tmp_path / "server.log").read_text("utf-8", "replace")
    assert "sent a wrong partial decryption" in log


def _all(predicate: Any) -> Any:
    async def check() -> bool:
        return bool(predicate())

    return check
