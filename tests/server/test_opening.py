"""O(N) opening: every kiosk gets the same poll_ready (signed setup, no credential list) and
the inclusion proof of its own credential; a kiosk away at publication gets the result when it
comes back; the record's setups verify and a changed list of credentials is refused."""

from __future__ import annotations

import asyncio
import json
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from keys.credentials import public_credential
from keys.group import TEST_256, to_str
from keys.hashing import sha256_hex
from tally import messages as m
from tally import statements as st
from tally.merkle import InclusionProof
from tally.poll_setup import includes
from tally.session_record import verify_session
from tests.server.helpers import MOTION, connect_kiosks, mid, open_motion, session, wait_state
from voting.session.record import export_record


def _proof(k: Any, pid: str, pub: str) -> Any:
    msg_id = mid()
    k.send(m.ProofRequest(id=msg_id, poll_id=pid, public_credential=pub))
    while True:
        reply = k.recv()
        if isinstance(reply, m.CredentialProof | m.Error) and reply.reply_to == msg_id:
            return reply


def test_each_kiosk_proves_its_credential_against_the_signed_root(tmp_path: Path) -> None:
    with session(tmp_path / "s", n=5) as s, ExitStack() as stack:
        kiosks = connect_kiosks(s, stack)
        pid = s.post("/api/polls", {"title": "议案", "kind": "motion", "template": MOTION})[
            "poll_id"
        ]
        s.post(f"/api/polls/{pid}/open")
        for k in kiosks:
            k.answer_request(k.recv_until(m.CredentialRequest))
        readies = [k.ready(pid) for k in kiosks]
        # one message for all: no credential list, nothing that differs between kiosks
        assert len({m.dump(r.model_copy(update={"id": "x"})) for r in readies}) == 1
        assert "public_credentials" not in m.dump(readies[0])
        for k, ready in zip(kiosks, readies, strict=True):
            setup = st.verify_statement(
                ready.setup, expected_signer=k.server_key, kind=st.POLL_SETUP
            )
            assert setup["election_hash"] == sha256_hex(ready.election)
            assert setup["voters"] == 5
            pub = to_str(public_credential(TEST_256, ready.uuid, k.private[pid]))
            proof = _proof(k, pid, pub)
            assert isinstance(proof, m.CredentialProof), proof
            assert includes(setup, pub, InclusionProof(proof.index, proof.size, tuple(proof.path)))
        # a credential that is not in the list: refused, and no proof for it
        stranger = to_str(TEST_256.g_pow(12345))
        refused = _proof(kiosks[0], pid, stranger)
        assert isinstance(refused, m.Error) and refused.code == m.ErrorCode.WRONG_CREDENTIAL


def test_kiosk_away_at_publication_gets_the_result_on_reconnect(tmp_path: Path) -> None:
    with session(tmp_path / "s", n=3) as s, ExitStack() as stack:
        kiosks = connect_kiosks(s, stack)
        pid = open_motion(s, kiosks)
        for k in kiosks:
            assert isinstance(k.cast(pid, k.ballot(pid, [[0, 1, 0, 0]])), m.Ack)
        s.post(f"/api/polls/{pid}/close", role="chair")
        wait_state(s, pid, "tallied")
        away = kiosks[2]
        stack.close()  # every kiosk leaves; one stays connected to see the broadcast
        s.post(f"/api/polls/{pid}/publish", role="chair")
        # the kiosk was not connected at publication: it comes back and gets the result
        with away.connect():
            res = away.recv_until(m.ResultMsg)
            payload = st.verify_statement(res.statement, expected_signer=away.server_key)
            assert payload["poll_id"] == pid and payload["counts"]["received"] == 3


def test_record_setups_verify_and_a_changed_list_is_refused(tmp_path: Path) -> None:
    with session(tmp_path / "s", n=3) as s, ExitStack() as stack:
        kiosks = connect_kiosks(s, stack)
        pid = open_motion(s, kiosks)
        for k in kiosks:
            k.cast(pid, k.ballot(pid, [[0, 1, 0, 0]]))
        s.post(f"/api/polls/{pid}/close", role="chair")
        wait_state(s, pid, "tallied")
        s.post(f"/api/polls/{pid}/publish", role="chair")
        service = s.client.app.state.service  # type: ignore[attr-defined]
        record = asyncio.run(export_record(service, tmp_path / "record"))
    report = verify_session(record, allow_test_group=True, workers=1, check_archives=False)
    details = {c.name: (c.status, c.detail) for c in report.checks}
    setups = "the server's signed poll setups (Merkle root of the credentials)"
    assert details[setups][0] == "pass", details
    outcomes = json.loads((record / "outcomes.json").read_text("utf-8"))
    signed = st.SignedStatement.model_validate(outcomes[0]["setup"])
    # the server signs a root of another list than the archive's: refused
    fixed = {**signed.statement, "credentials_root": "0" * 64}
    key = st.load_or_create_key(tmp_path / "s" / "server.key")
    outcomes[0]["setup"] = st.SignedStatement(
        statement=fixed, signature=st.sign(key, fixed), signer=signed.signer
    ).model_dump()
    (record / "outcomes.json").write_text(json.dumps(outcomes, ensure_ascii=False), "utf-8")
    report = verify_session(record, allow_test_group=True, workers=1, check_archives=False)
    failure = report.first_failure
    assert failure is not None and failure.name == setups
    assert "Merkle root" in failure.detail
