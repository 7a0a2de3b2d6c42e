"""SIGKILL of a real server process during a vote loses no acknowledged ballot."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from websockets.sync.client import connect

from keys.credentials import generate_private_credential, public_credential
from keys.group import group_by_name, to_str
from tally import messages as m
from tally import statements as st
from tally.ballot import create_ballot
from tally.election import parse_election
from tally.verify import verify_archive
from tests.server.helpers import MOTION, mid, roster_csv
from voting.config import read_tokens

YES = [[0, 1, 0, 0]]
NO = [[0, 0, 1, 0]]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    def __init__(self, data: Path, db: dict[str, Any]) -> None:
        self.data = data
        self.db_args: list[str] = []
        if db:  # a real PostgreSQL database, in the test's own schema
            self.db_args = ["--database-url", db["database_url"], "--schema", db["schema"]]
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        if not (self.data / "tokens.json").exists():  # a new session: renda serve --init first
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "voting.cli",
                    "serve",
                    "--data",
                    str(self.data),
                    "--init",
                    "--test-group",
                    *self.db_args,
                ],
                check=True,
                capture_output=True,
            )
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "voting.cli",
                "serve",
                "--data",
                str(self.data),
                "--port",
                str(self.port),
                "--test-group",
                "--workers",
                "1",
                "--collect-timeout",
                "0",
                *self.db_args,
            ],
            stdout=subprocess.DEVNULL,
            stderr=open(self.data.parent / "server.log", "ab"),  # noqa: SIM115
        )
        for _ in range(300):
            try:
                httpx.get(self.url + "/record/index.json", timeout=1)
                return
            except httpx.HTTPError:
                time.sleep(0.1)
        raise AssertionError("the server did not start")

    def kill(self) -> None:
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=20)


class Kiosk:
    def __init__(self, url: str, code: str) -> None:
        self.key = Ed25519PrivateKey.generate()
        info = httpx.post(
            url + "/api/enrol",
            json={"code": code, "device_public_key": st.public_key_hex(self.key)},
        ).json()
        self.device_id = info["device_id"]
        self.server_key = info["server_public_key"]
        self.cred: str | None = None
        self.election: Any = None

    @contextmanager
    def connect(self, url: str) -> Iterator[Any]:
        with connect(url.replace("http", "ws") + "/ws/kiosk", max_size=2**26) as ws:
            ch = m.parse_server_message(ws.recv())
            sig = st.sign(self.key, st.hello_payload(self.device_id, ch.nonce))
            ws.send(m.dump(m.Hello(id=mid(), device_id=self.device_id, signature=sig)))
            assert isinstance(m.parse_server_message(ws.recv()), m.Welcome)
            self.ws = ws
            yield self

    def recv(self) -> Any:
        return m.parse_server_message(self.ws.recv(timeout=60))

    def until(self, kind: type) -> Any:
        while True:
            msg = self.recv()
            if isinstance(msg, kind):
                return msg

    def cast(self, poll_id: str, raw: str) -> Any:
        msg_id = mid()
        self.ws.send(m.dump(m.Cast(id=msg_id, poll_id=poll_id, ballot=raw)))
        while True:
            reply = self.recv()
            if isinstance(reply, m.Ack | m.Error) and reply.reply_to == msg_id:
                return reply


def test_sigkill_during_a_vote_loses_no_acknowledged_ballot(
    tmp_path: Path, db: dict[str, Any]
) -> None:
    data = tmp_path / "session"
    server = Server(data, db)
    server.start()
    try:
        # the PostgreSQL run really uses PostgreSQL: no SQLite file in the session folder
        assert (data / "session.db").exists() == (not db)
        tokens = read_tokens(data)
        h = {"Authorization": f"Bearer {tokens['secretariat']}"}
        api = httpx.Client(base_url=server.url, headers=h, timeout=60)
        deputies = api.post("/api/roster", json={"csv": roster_csv(3)}).json()["deputies"]
        for d in deputies:
            assert api.post(f"/api/deputies/{d['deputy_id']}/checkin").status_code == 200
        assert api.post("/api/ceremony", json={"threshold": 0}).status_code == 200
        kiosks = [Kiosk(server.url, d["enrolment_code"]) for d in deputies]
        pid = api.post(
            "/api/polls", json={"title": "议案", "kind": "motion", "template": MOTION}
        ).json()["poll_id"]
        conns = [k.connect(server.url) for k in kiosks]
        for c in conns:
            c.__enter__()
        assert api.post(f"/api/polls/{pid}/open").status_code == 200
        group = group_by_name("RENDA-TEST-256", allow_test=True)
        for k in kiosks:
            req = k.until(m.CredentialRequest)
            k.cred = generate_private_credential()
            pub = to_str(public_credential(group, req.uuid, k.cred))
            sig = st.sign(k.key, st.credential_payload(pid, req.uuid, pub))
            k.ws.send(
                m.dump(
                    m.CredentialMsg(
                        id=mid(), poll_id=pid, uuid=req.uuid, public_credential=pub, signature=sig
                    )
                )
            )
        for k in kiosks:
            ready = k.until(m.PollReady)
            k.election = parse_election(ready.election, allow_test_group=True)
        raws = [
            create_ballot(k.election, k.cred, v).raw
            for k, v in zip(kiosks, [YES, YES, NO], strict=True)
        ]
        acks = [kiosks[i].cast(pid, raws[i]) for i in (0, 1)]
        assert all(isinstance(a, m.Ack) for a in acks)
        # the third ballot is in flight when the server dies
        kiosks[2].ws.send(m.dump(m.Cast(id=mid(), poll_id=pid, ballot=raws[2])))
        server.kill()
        for c in conns:
            with suppress(Exception):
                c.__exit__(None, None, None)
        server.start()

        with kiosks[0].connect(server.url), kiosks[2].connect(server.url):
            again = kiosks[0].cast(pid, raws[0])  # a resend after the crash
            assert isinstance(again, m.Ack) and again.again
            assert again.receipt == acks[0].receipt
            third = kiosks[2].cast(pid, raws[2])  # resend of the in-flight ballot
            assert isinstance(third, m.Ack)
            acks.append(third)
        poll = api.get(f"/api/polls/{pid}").json()
        assert poll["received"] == 3
        assert api.post(f"/api/polls/{pid}/close").status_code == 200
        for _ in range(400):
            poll = api.get(f"/api/polls/{pid}").json()
            if poll["state"] == "tallied":
                break
            assert "failed" not in poll["message"], poll["message"]
            time.sleep(0.05)
        assert poll["result"] == {"result": [[0, 2, 1, 0]]}
        report = verify_archive(data / "archives" / f"{pid}.bel", workers=1, allow_test_group=True)
        assert report.ok, report.first_failure
        # every acknowledged tracker is in the archive, once
        from tally.archive import read_archive
        from tally.ballot import parse_ballot

        archive = read_archive(data / "archives" / f"{pid}.bel")
        trackers = [parse_ballot(kiosks[0].election, raw).tracker for _e, raw in archive.ballots()]
        assert sorted(trackers) == sorted(a.tracker for a in acks)
    finally:
        server.stop()
