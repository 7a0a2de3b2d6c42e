"""SIGKILL of a real server while a group commit of concurrent ballots is under way (one
transaction and one archive fsync for every ballot that arrived together): no acknowledged
ballot is lost, none is stored twice, and the ballots cut off are stored once when resent."""

from __future__ import annotations

import threading
import time
from contextlib import suppress
from pathlib import Path
from typing import Any

import httpx

from keys.credentials import generate_private_credential, public_credential
from keys.group import group_by_name, to_str
from tally import messages as m
from tally import statements as st
from tally.archive import _last_complete_event_end, parse_archive, read_archive
from tally.ballot import create_ballot, parse_ballot
from tally.election import parse_election
from tally.verify import verify_archive
from tests.server.helpers import MOTION, mid, roster_csv
from tests.server.test_crash import NO, YES, Kiosk, Server
from voting.config import read_tokens

N = 20


def test_sigkill_during_a_group_commit(tmp_path: Path, db: dict[str, Any]) -> None:
    data = tmp_path / "session"
    server = Server(data, db)
    server.start()
    try:
        tokens = read_tokens(data)
        h = {"Authorization": f"Bearer {tokens['secretariat']}"}
        api = httpx.Client(base_url=server.url, headers=h, timeout=60)
        deputies = api.post("/api/roster", json={"csv": roster_csv(N)}).json()["deputies"]
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
            k.election = parse_election(k.until(m.PollReady).election, allow_test_group=True)
        votes = [YES if i % 3 else NO for i in range(N)]
        raws = [
            create_ballot(k.election, k.cred or "", v).raw
            for k, v in zip(kiosks, votes, strict=True)
        ]
        ids = [mid() for _ in kiosks]
        # each kiosk listens in a thread of its own; the first ack kills the server at once
        # (polling the kiosks in turn took long enough for the last batches to finish): the
        # batches after it are being checked, stored or fsynced
        acked: dict[int, m.Ack] = {}
        lock = threading.Lock()

        def listen(i: int, k: Kiosk) -> None:
            with suppress(Exception):  # the connection ends with the kill
                while True:
                    msg = m.parse_server_message(k.ws.recv(timeout=60))
                    if isinstance(msg, m.Ack) and msg.reply_to == ids[i]:
                        with lock:
                            acked[i] = msg  # it reached the kiosk before the end
                            if len(acked) == 1:
                                server.kill()
                        return

        listeners = [
            threading.Thread(target=listen, args=(i, k), daemon=True) for i, k in enumerate(kiosks)
        ]
        for t in listeners:
            t.start()
        for k, raw, msg_id in zip(kiosks, raws, ids, strict=True):  # all at once
            k.ws.send(m.dump(m.Cast(id=msg_id, poll_id=pid, ballot=raw)))
        for t in listeners:
            t.join(timeout=120)
        assert acked, "no ballot was acknowledged"
        for c in conns:
            with suppress(Exception):
                c.__exit__(None, None, None)
        assert len(acked) < N, "the kill came after the last ack: nothing was cut off"

        # every acknowledged ballot survived the kill, in the archive (the database's view
        # comes after the restart, which completes the archive from it)
        blob = (data / "archives" / f"{pid}.bel").read_bytes()
        survived = parse_archive(blob[: _last_complete_event_end(blob)])  # a cut tail aside
        in_archive = {e.hash for e, _raw in survived.ballots()}
        for ack in acked.values():
            assert ack.receipt is not None
            event = st.verify_statement(
                ack.receipt, expected_signer=kiosks[0].server_key, kind=st.RECEIPT
            )
            assert event["event_hash"] in in_archive

        server.start()
        for i, k in enumerate(kiosks):  # every kiosk resends its ballot
            with k.connect(server.url):
                again = k.cast(pid, raws[i])
                assert isinstance(again, m.Ack), again
                if i in acked:
                    assert again.again and again.receipt == acked[i].receipt
        poll = api.get(f"/api/polls/{pid}").json()
        assert poll["received"] == N
        assert api.post(f"/api/polls/{pid}/close").status_code == 200
        for _ in range(600):
            poll = api.get(f"/api/polls/{pid}").json()
            if poll["state"] == "tallied":
                break
            assert "failed" not in poll["message"], poll["message"]
            time.sleep(0.05)
        yes = sum(1 for v in votes if v == YES)
        assert poll["result"] == {"result": [[0, yes, N - yes, 0]]}
        path = data / "archives" / f"{pid}.bel"
        report = verify_archive(path, workers=1, allow_test_group=True)
        assert report.ok, report.first_failure
        trackers = [
            parse_ballot(kiosks[0].election, raw).tracker
            for _e, raw in read_archive(path).ballots()
        ]
        assert sorted(trackers) == sorted(parse_ballot(kiosks[0].election, r).tracker for r in raws)
    finally:
        server.stop()
