"""A vote removed from the record after the fact (issue 15, "A record cannot leave a vote
out"), by the server itself, which holds the key that signs the list of polls.

A real ``renda serve`` signs its list of polls at every change of a poll (tally/poll_list.py)
and two real kiosks keep the latest version they receive. Deputy 王五 votes in poll A, then is
on leave (请假) while poll B is voted: his tablet casts nothing in B — no receipt for B — but
receives the signed lists naming B. The server then publishes a record without B: its
outcome, issuance and archive removed, the chain of lists cut before B was created, and (the
second variant) a new version signed at export in place of the lists that named B. The
auditor's ``renda verify`` cannot tell (the chain is the server's to write), but ``renda kiosk
--check-record`` on 王五's tablet refuses both records, and accepts the honest one; ``renda
verify`` refuses a chain with a version taken out of its middle.
"""

from __future__ import annotations

import asyncio
import copy
import json
import shutil
import subprocess
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kiosk import poll_list as kept_list
from kiosk.choices import Script
from kiosk.client import HeadlessDeputy, Kiosk
from kiosk.enrol import enrol
from tally import statements as st
from tally.poll_list import poll_list_payload, statement_hash
from tally.session_record import verify_session
from voting.demo.harness import ServerProcess, renda, wait_until
from voting.session.record import write_record

pytestmark = pytest.mark.slow

TEMPLATE = {
    "description": "表决",
    "name": "议案",
    "questions": [
        {"answers": ["赞成", "反对", "弃权"], "min": 1, "max": 1, "question": "表决意见"}
    ],
}


def _true(predicate: Callable[[], bool]) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return predicate()

    return check


def check_record(folder: Path, record: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        renda("kiosk", "--dir", str(folder), "--check-record", str(record)),
        capture_output=True,
        text=True,
        timeout=120,
    )


def without_poll(record: Path, out: Path, pid: str) -> dict[str, Any]:
    """A copy of ``record`` without poll ``pid`` (outcome, issuance, archive folder)."""
    shutil.copytree(record, out)
    outcomes = json.loads((out / "outcomes.json").read_text("utf-8"))
    (out / "outcomes.json").write_text(
        json.dumps([p for p in outcomes if p["poll_id"] != pid], ensure_ascii=False), "utf-8"
    )
    issuance = json.loads((out / "issuance.json").read_text("utf-8"))
    issuance.pop(pid, None)
    (out / "issuance.json").write_text(json.dumps(issuance, ensure_ascii=False), "utf-8")
    shutil.rmtree(out / "polls" / pid, ignore_errors=True)
    session: dict[str, Any] = json.loads((out / "session.json").read_text("utf-8"))
    return session


def write_session(record: Path, session: dict[str, Any]) -> None:
    (record / "session.json").write_text(json.dumps(session, ensure_ascii=False), "utf-8")


def test_a_vote_removed_after_the_fact_is_seen_by_the_tablet(tmp_path: Path) -> None:
    async def main() -> None:
        data = tmp_path / "server"
        server = ServerProcess(data, tmp_path / "server.log", options=["--test-group"])
        server.start()
        kiosks: list[Kiosk] = []
        tasks: list[asyncio.Task[None]] = []
        try:
            tokens = await server.ready(240)
            api = httpx.AsyncClient(
                base_url=server.url,
                headers={"Authorization": f"Bearer {tokens['secretariat']}"},
                timeout=60,
            )

            async def post(path: str, body: Any = None) -> Any:
                r = await api.post(path, json=body if body is not None else {})
                assert r.status_code == 200, (path, r.text)
                return r.json()

            async def state(pid: str) -> str:
                return str((await api.get(f"/api/polls/{pid}")).json()["state"])

            roster = "name,delegation,seat\n王五,一组,1\n赵六,一组,2\n钱七,二组,3\n"
            deputies = (await post("/api/roster", {"csv": roster}))["deputies"]
            await post("/api/ceremony", {"threshold": 0})
            for i, d in enumerate(deputies[:2]):
                folder = tmp_path / f"kiosk{i}"
                vault, identity = await enrol(
                    server.url, d["enrolment_code"], folder, "pw", scrypt_n=2**10
                )
                k = Kiosk(
                    folder,
                    vault,
                    identity,
                    HeadlessDeputy(Script(default="赞成")),
                    allow_test_group=True,
                )
                kiosks.append(k)
                tasks.append(asyncio.create_task(k.run()))
            for d in deputies:
                await post(f"/api/deputies/{d['deputy_id']}/checkin")
            await wait_until(
                "the kiosks", _true(lambda: all(k.connected.is_set() for k in kiosks)), 60
            )
            wang, zhao = kiosks

            async def vote(title: str, voters: list[Kiosk]) -> str:
                pid = str(
                    (
                        await post(
                            "/api/polls",
                            {
                                "title": title,
                                "kind": "motion",
                                "template": {**TEMPLATE, "name": title},
                            },
                        )
                    )["poll_id"]
                )
                await post(f"/api/polls/{pid}/open")
                await wait_until(
                    f"the ballots of {title}",
                    _true(
                        lambda: all(
                            k.polls.get(pid) is not None and k.polls[pid].acknowledged
                            for k in voters
                        )
                    ),
                    60,
                )
                await post(f"/api/polls/{pid}/close")

                async def tallied() -> bool:
                    return await state(pid) == "tallied"

                await wait_until(f"the tally of {title}", tallied, 60, 0.2)
                return pid

            a = await vote("议案甲", [wang, zhao])
            await post(f"/api/polls/{a}/publish")
            await post(f"/api/deputies/{deputies[0]['deputy_id']}/leave")  # 王五 请假
            b = await vote("议案乙", [zhao])
            assert not wang.outbox.receipt(b)  # 王五 cast nothing in B

            def wang_saw_b_closed() -> bool:
                seen = kept_list.kept(wang.folder) or {}
                polls = seen.get("statement", {}).get("polls", [])
                return any(p["poll_id"] == b and p["state"] == "closed" for p in polls)

            await wait_until(
                "王五's tablet to keep the list naming B", _true(wang_saw_b_closed), 30
            )
            seen_seq = kept_list.kept(wang.folder)["statement"]["seq"]  # type: ignore[index]

            record = tmp_path / "record"
            for entry, folder in write_record((await api.get("/api/record")).json(), record):
                shutil.copyfile(
                    data / "archives" / f"{entry['poll_id']}.bel", folder / f"{entry['uuid']}.bel"
                )
            await api.aclose()
        finally:
            for k in kiosks:
                k.stop()
            await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), 30)
            server.stop()

        # the honest record: both checks accept it
        report = verify_session(record, allow_test_group=True)
        assert report.ok, report.first_failure
        honest = check_record(wang.folder, record)
        assert honest.returncode == 0, honest.stdout + honest.stderr
        assert "表决清单" in honest.stdout and "✓" in honest.stdout

        session = json.loads((record / "session.json").read_text("utf-8"))
        chain = session["poll_lists"]
        assert [v["statement"]["seq"] for v in chain] == list(range(1, len(chain) + 1))
        assert len(chain) >= seen_seq
        # the versions before B was created
        cut = next(
            i
            for i, v in enumerate(chain)
            if any(p["poll_id"] == b for p in v["statement"]["polls"])
        )
        before_b = chain[:cut]

        # 1. the chain cut before B: older than what the tablet saw
        cut_record = tmp_path / "cut"
        forged = without_poll(record, cut_record, b)
        forged["poll_lists"], forged["poll_list"] = before_b, before_b[-1]
        write_session(cut_record, forged)
        assert verify_session(cut_record, allow_test_group=True).ok  # the auditor cannot tell
        result = check_record(wang.folder, cut_record)
        assert result.returncode == 1, result.stdout
        assert "✗ 表决清单" in result.stdout and "older than version" in result.stdout

        # 2. the server re-signs the list at export, at the earlier state, as the next version
        key = Ed25519PrivateKey.from_private_bytes((data / "server.key").read_bytes())
        resigned = st.sign_statement(
            key,
            poll_list_payload(
                session["session"],
                len(before_b) + 1,
                statement_hash(before_b[-1]),
                copy.deepcopy(before_b[-1]["statement"]["polls"]),
            ),
        ).model_dump()
        resign_record = tmp_path / "resigned"
        forged = without_poll(record, resign_record, b)
        forged["poll_lists"], forged["poll_list"] = [*before_b, resigned], resigned
        write_session(resign_record, forged)
        assert verify_session(resign_record, allow_test_group=True).ok
        result = check_record(wang.folder, resign_record)
        assert result.returncode == 1, result.stdout
        assert "✗ 表决清单" in result.stdout, result.stdout
        assert "does not extend" in result.stdout
        # his receipt for A still checks: only the list shows what was removed
        assert "✓ " + a in result.stdout

        # 3. the auditor refuses a chain with a version taken out of its middle
        broken = tmp_path / "broken"
        shutil.copytree(record, broken)
        middle = dict(session, poll_lists=chain[:1] + chain[2:])
        write_session(broken, middle)
        report = verify_session(broken, allow_test_group=True)
        assert not report.ok
        assert "list of polls" in str(report.first_failure), report.first_failure

    asyncio.run(main())
