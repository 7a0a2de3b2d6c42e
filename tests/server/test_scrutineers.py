"""The key ceremony (Pedersen 2 of 3 + the server's key) and the decryption over /ws/trustee."""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest

from keys.group import group_by_name
from keys.pki import SignedMsg
from keys.threshold import Vinput, decryption_key, generate_cert, make_polynomial, make_voutput
from tally import messages as m
from tally.decryption import compute_partial_decryption
from tally.election import parse_election
from tally.encrypted_tally import parse_encrypted_tally
from tests.server.helpers import Session as TSession
from tests.server.helpers import (
    add_scrutineers,
    checked_in,
    config_for,
    connect_kiosks,
    mid,
    open_motion,
    open_poll,
    run_ceremony,
    scrutineer_config,
    wait_state,
)


class Scrutineer:
    """Answers ceremony steps and decryption requests in a thread."""

    def __init__(
        self,
        client: Any,
        token: str,
        *,
        decrypt: bool = True,
        shuffle: bool = True,
        bad: bool = False,
        keys: dict[str, list[str]] | None = None,
    ) -> None:
        self.client, self.token, self.decrypt, self.bad = client, token, decrypt, bad
        self.shuffle = shuffle  # False: a scrutineer that hangs on its shuffle request
        self.requests: list[Any] = []
        # group name -> [seed, dkey]: a session of two groups makes a key in each
        self.keys: dict[str, list[str]] = dict(keys or {})
        self.errors: list[m.Error] = []
        self.stop = threading.Event()
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self) -> None:
        with self.client.websocket_connect("/ws/trustee") as ws:
            self.ws = ws
            ws.send_text(m.dump(m.Auth(id=mid(), token=self.token)))
            auth = m.parse_server_message(ws.receive_text())
            assert isinstance(auth, m.Authenticated)
            self.ready.set()
            while not self.stop.is_set():
                msg = m.parse_server_message(ws.receive_text())
                self.requests.append(msg)
                if isinstance(msg, m.CeremonyRequest):
                    group = group_by_name(msg.group, allow_test=True)
                    certs = [SignedMsg.parse(group, c) for c in msg.certs or []]
                    if msg.step == 1:
                        seed, cert = generate_cert(group)
                        self.keys[group.name] = [seed, ""]
                        data = cert.serialize()
                    elif msg.step == 3:
                        seed = self.keys[group.name][0]
                        data = make_polynomial(group, certs, seed, msg.threshold).serialize()
                    else:
                        assert msg.vinput is not None
                        seed = self.keys[group.name][0]
                        vo = make_voutput(group, certs, seed, Vinput.parse(group, msg.vinput))
                        self.keys[group.name][1] = vo.private_key
                        data = vo.serialize()
                    ws.send_text(
                        m.dump(
                            m.CeremonyReply(
                                id=mid(), ceremony_id=msg.ceremony_id, step=msg.step, data=data
                            )
                        )
                    )
                elif isinstance(msg, m.CeremonyDone):
                    pass
                elif isinstance(msg, m.ShuffleRequest) and self.shuffle:
                    from tally.shuffle import shuffle_ciphertexts

                    election = parse_election(msg.election, allow_test_group=True)
                    rows = parse_encrypted_tally(election.group, msg.ciphertexts)
                    raw = shuffle_ciphertexts(election, rows).raw
                    ws.send_text(
                        m.dump(
                            m.ShuffleMsg(
                                id=mid(),
                                poll_id=msg.poll_id,
                                trustee_id=msg.trustee_id,
                                shuffle=raw,
                            )
                        )
                    )
                elif isinstance(msg, m.DecryptionRequest) and self.decrypt:
                    election = parse_election(msg.election, allow_test_group=True)
                    group = election.group
                    key = decryption_key(group, *self.keys[group.name])
                    if self.bad:
                        key = key + 1
                    et = parse_encrypted_tally(group, msg.encrypted_tally)
                    pd = compute_partial_decryption(group, election.fingerprint, key, et)
                    ws.send_text(
                        m.dump(
                            m.PartialDecryptionMsg(
                                id=mid(),
                                poll_id=msg.poll_id,
                                trustee_id=msg.trustee_id,
                                partial_decryption=pd.serialize(),
                            )
                        )
                    )
                elif isinstance(msg, m.Error):
                    self.errors.append(msg)

    def close(self) -> None:
        self.stop.set()
        self.ws.send_text(m.dump(m.Ping(id=mid())))  # wakes the thread, which then leaves
        self.thread.join(30)


def _session(data: Path, n: int, bad: bool = False, **cfg: Any) -> tuple[Any, Any]:
    from fastapi.testclient import TestClient

    from voting.api.app import create_app
    from voting.config import ServerConfig, read_tokens

    config = config_for(data, **cfg)
    if "group" in cfg:
        config = ServerConfig(**{**config.__dict__, "group": cfg["group"]})
    app = create_app(config)
    return app, (TestClient, read_tokens)


@pytest.mark.parametrize("group_name", ["RENDA-TEST-256"])
def test_ceremony_and_threshold_decryption(
    tmp_path: Path, group_name: str, db: dict[str, Any]
) -> None:
    run_session(tmp_path, group_name, db=db)


def run_session(
    tmp_path: Path, group_name: str, *, n: int = 3, db: dict[str, Any] | None = None
) -> tuple[Path, str]:
    from fastapi.testclient import TestClient

    from voting.api.app import create_app

    data = tmp_path / "s"
    config = scrutineer_config(data, group_name, **(db or {}))
    with TestClient(create_app(config)) as client, ExitStack() as stack:
        s = checked_in(client, data, n)
        # the second scrutineer sends a wrong decryption: refused; 1 and 3 suffice (k = 2)
        _, scrs = add_scrutineers(s, 3, lambda i, t: Scrutineer(client, t, bad=i == 1), stack)
        r = client.post(
            "/api/polls", json={"title": "x", "kind": "motion", "template": {}}, headers=s.h()
        )
        assert r.status_code == 422
        state = run_ceremony(s, 2)
        assert state["state"] == "done", state
        trustees = json.loads(state["trustees"])
        assert [t[0] for t in trustees] == ["Single", "Pedersen"]
        kiosks = connect_kiosks(s, stack)
        pid = open_motion(s, kiosks)
        for k, v in zip(kiosks, [[[0, 1, 0, 0]], [[0, 0, 1, 0]], [[0, 1, 0, 0]]], strict=True):
            assert isinstance(k.cast(pid, k.ballot(pid, v)), m.Ack)
        s.post(f"/api/polls/{pid}/close", role="chair")
        poll = wait_state(s, pid, "tallied", tries=2000)
        assert poll["result"] == {"result": [[0, 2, 1, 0]]}
        s.post(f"/api/polls/{pid}/publish", role="chair")
        assert [e.code for e in scrs[1].errors] == [m.ErrorCode.INVALID_DECRYPTION]
        assert not scrs[0].errors and not scrs[2].errors
        return data / "archives" / f"{pid}.bel", poll["uuid"]


def belenios_verify(
    belenios_tool: str, archive: Path, copy: Path
) -> subprocess.CompletedProcess[str]:
    """``belenios-tool election verify`` on a copy of ``archive`` alone in a new folder."""
    copy.parent.mkdir()
    shutil.copyfile(archive, copy)
    return subprocess.run(
        [belenios_tool, "election", "verify", "--dir", str(copy.parent)],
        capture_output=True,
        text=True,
        env={"BELENIOS_USE_URANDOM": "1", "PATH": "/usr/bin:/bin"},
        timeout=300,
    )


@pytest.mark.belenios
@pytest.mark.slow
def test_belenios_tool_verifies_a_session_archive(tmp_path: Path, belenios_tool: str) -> None:
    archive, uuid = run_session(tmp_path, "BELENIOS-2048")
    folder = tmp_path / "verify"
    out = belenios_verify(belenios_tool, archive, folder / f"{uuid}.bel")
    assert out.returncode == 0, out.stderr + out.stdout
    from tally.verify import verify_archive

    assert verify_archive(folder, workers=1).ok


def test_tally_resumes_after_a_restart(tmp_path: Path, db: dict[str, Any]) -> None:
    """Closed while the scrutineers are away, restarted: they reconnect and the tally ends."""
    from fastapi.testclient import TestClient

    from voting.api.app import create_app
    from voting.config import read_tokens

    data = tmp_path / "s"
    config = scrutineer_config(data, **db)
    with TestClient(create_app(config)) as client, ExitStack() as stack:
        s = checked_in(client, data, 2)
        tokens, scrs = add_scrutineers(s, 2, lambda _, t: Scrutineer(client, t))
        run_ceremony(s, 2)
        keys = [sc.keys for sc in scrs]
        for sc in scrs:
            sc.close()
        kiosks = connect_kiosks(s, stack)
        pid = open_motion(s, kiosks)
        for k in kiosks:
            assert isinstance(k.cast(pid, k.ballot(pid, [[0, 0, 0, 1]])), m.Ack)
        s.post(f"/api/polls/{pid}/close")
        assert s.get(f"/api/polls/{pid}")["state"] == "closed"  # waiting for the scrutineers
    with TestClient(create_app(config)) as client, ExitStack() as stack:
        s = TSession(client, data, read_tokens(data))
        for t, k in zip(tokens, keys, strict=True):
            sc = Scrutineer(client, t, keys=k)
            assert sc.ready.wait(30)
            stack.callback(sc.close)
        poll = wait_state(s, pid, "tallied", tries=2000)
        assert poll["result"] == {"result": [[0, 0, 0, 2]]}
    from tally.verify import verify_archive

    assert verify_archive(data / "archives" / f"{pid}.bel", workers=1, allow_test_group=True).ok


def test_collection_restarts_after_a_restart(tmp_path: Path, db: dict[str, Any]) -> None:
    """Credentials collected before a restart were in memory only: the tablets are asked again."""
    from fastapi.testclient import TestClient

    from tests.server.helpers import MOTION
    from voting.api.app import create_app
    from voting.config import read_tokens

    data = tmp_path / "s"
    config = scrutineer_config(data, **db)
    with TestClient(create_app(config)) as client, ExitStack() as stack:
        s = checked_in(client, data, 2)
        s.post("/api/ceremony", {"threshold": 0})
        kiosks = connect_kiosks(s, stack)
        pid = s.post("/api/polls", {"title": "t", "kind": "motion", "template": MOTION})["poll_id"]
        s.post(f"/api/polls/{pid}/open")
        kiosks[0].answer_request(kiosks[0].recv_until(m.CredentialRequest))
        assert s.get(f"/api/polls/{pid}")["state"] == "collecting"
    with TestClient(create_app(config)) as client, ExitStack() as stack:
        s = TSession(client, data, read_tokens(data))
        for k in kiosks:
            k.s = s
            stack.enter_context(k.connect())
        for k in kiosks:
            k.answer_request(k.recv_until(m.CredentialRequest))
        for k in kiosks:
            k.ready(pid)
        for k in kiosks:
            assert isinstance(k.cast(pid, k.ballot(pid, [[0, 1, 0, 0]])), m.Ack)
        s.post(f"/api/polls/{pid}/close")
        assert wait_state(s, pid, "tallied")["result"] == {"result": [[0, 2, 0, 0]]}


NH_TEMPLATE = {
    "description": "另选他人",
    "name": "选举（可另选他人）",
    "questions": [
        {"type": "NonHomomorphic", "value": {"question": "选票", "answers": ["甲", "乙", "丙"]}}
    ],
}


def test_non_homomorphic_poll_is_shuffled_then_decrypted(
    tmp_path: Path, db: dict[str, Any]
) -> None:
    """Server shuffle, then k = 2 scrutineers' shuffles, EndShuffles, decryption of ballots."""
    from tally.archive import read_archive
    from tally.verify import verify_archive

    archive, _uuid = run_nh(tmp_path, "RENDA-TEST-256", db=db)
    owners = [o.owner for _e, o, _r in read_archive(archive).owned_items("Shuffle")]
    assert owners[0] == 1 and len(owners) == 3
    assert verify_archive(archive, workers=1, allow_test_group=True).ok


@pytest.mark.belenios
@pytest.mark.slow
def test_belenios_tool_verifies_a_shuffled_poll(tmp_path: Path, belenios_tool: str) -> None:
    archive, uuid = run_nh(tmp_path, "RFC-3526-2048")
    folder = tmp_path / "verify"
    out = belenios_verify(belenios_tool, archive, folder / f"{uuid}.bel")
    assert out.returncode == 0, out.stderr + out.stdout


def run_nh(tmp_path: Path, group_name: str, db: dict[str, Any] | None = None) -> tuple[Path, str]:
    from fastapi.testclient import TestClient

    from voting.api.app import create_app

    data = tmp_path / "s"
    config = scrutineer_config(data, group_name, **(db or {}))
    with TestClient(create_app(config)) as client, ExitStack() as stack:
        s = checked_in(client, data, 3)
        _, scrs = add_scrutineers(s, 3, lambda _, t: Scrutineer(client, t), stack)
        run_ceremony(s, 2)
        kiosks = connect_kiosks(s, stack)
        # a plain non-homomorphic question (not an election: those need the election ballot)
        pid = open_poll(s, kiosks, {"title": "nh", "kind": "other", "template": NH_TEMPLATE})
        votes = [[[1, 0, 2]], [[0, 1, 0]], [[1, 0, 2]]]
        for k, v in zip(kiosks, votes, strict=True):
            assert isinstance(k.cast(pid, k.ballot(pid, v)), m.Ack)
        s.post(f"/api/polls/{pid}/close")
        poll = wait_state(s, pid, "tallied", tries=2000)
        ballots = sorted(tuple(b) for b in poll["result"]["result"][0])
        assert ballots == [(0, 1, 0), (1, 0, 2), (1, 0, 2)]
        assert not any(sc.errors for sc in scrs), [sc.errors for sc in scrs]
    return data / "archives" / f"{pid}.bel", str(poll["uuid"])


def test_a_partial_decryption_after_the_count_is_not_an_error(tmp_path: Path) -> None:
    """k = 2 of 3: the scrutineer whose answer comes after the count did what was asked; it is
    told nothing went wrong (no error), and the archive keeps the partials that made the result."""
    import time

    from fastapi.testclient import TestClient

    from voting.api.app import create_app

    data = tmp_path / "s"
    with TestClient(create_app(scrutineer_config(data))) as client, ExitStack() as stack:
        s = checked_in(client, data, 3)
        _, scrs = add_scrutineers(s, 3, lambda _, t: Scrutineer(client, t), stack)
        assert run_ceremony(s, 2)["state"] == "done"
        kiosks = connect_kiosks(s, stack)
        pid = open_motion(s, kiosks)
        for k in kiosks:
            assert isinstance(k.cast(pid, k.ballot(pid, [[0, 1, 0, 0]])), m.Ack)
        s.post(f"/api/polls/{pid}/close", role="chair")
        wait_state(s, pid, "tallied", tries=2000)
        before = partials(data / "archives" / f"{pid}.bel")
        late = scrs[0]
        request = next(
            r for r in late.requests if isinstance(r, m.DecryptionRequest) and r.poll_id == pid
        )
        election = parse_election(request.election, allow_test_group=True)
        group = election.group
        key = decryption_key(group, *late.keys[group.name])
        et = parse_encrypted_tally(group, request.encrypted_tally)
        pd = compute_partial_decryption(group, election.fingerprint, key, et)
        late.ws.send_text(
            m.dump(
                m.PartialDecryptionMsg(
                    id=mid(),
                    poll_id=pid,
                    trustee_id=request.trustee_id,
                    partial_decryption=pd.serialize(),
                )
            )
        )
        late.ws.send_text(m.dump(m.Ping(id=mid())))  # answered in order, after the partial
        for _ in range(600):
            if any(isinstance(r, m.Pong) for r in late.requests):
                break
            time.sleep(0.05)
        assert any(isinstance(r, m.Pong) for r in late.requests)
        assert not late.errors
        assert not scrs[1].errors and not scrs[2].errors
        assert partials(data / "archives" / f"{pid}.bel") == before  # nothing added late


def partials(archive: Path) -> list[int]:
    from tally.archive import read_archive

    return [o.owner for _e, o, _r in read_archive(archive).owned_items("PartialDecryption")]
