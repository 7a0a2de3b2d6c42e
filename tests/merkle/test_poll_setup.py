"""The signed poll setup with the credentials' Merkle root (tally/poll_setup.py): the kiosk's
inclusion check and the auditor's recomputation."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tally import statements
from tally.errors import RecordError
from tally.merkle import MerkleTree, credential_leaves
from tally.poll_setup import check_setup_against_record, includes, make_setup_statement

KEY = statements.generate_key()
SERVER = statements.public_key_hex(KEY)
ELECTION, TRUSTEES = '{"uuid":"x"}', '[["Single",{}]]'
POLL = {"poll_id": "p1", "uuid": "1" * 14, "group": "G"}


def creds(values: list[int]) -> str:
    return json.dumps([str(v) for v in sorted(set(values))], separators=(",", ":"))


def setup_of(raw: str) -> statements.SignedStatement:
    return make_setup_statement(
        KEY,
        session="s",
        election=ELECTION,
        trustees=TRUSTEES,
        public_credentials=raw,
        last_press_valid=False,
        **POLL,
    )


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(2, 10**30), min_size=1, max_size=40, unique=True), st.data())
def test_every_listed_credential_has_a_proof_under_the_signed_root(
    values: list[int], data: st.DataObject
) -> None:
    raw = creds(values)
    payload = statements.verify_statement(setup_of(raw), expected_signer=SERVER)
    assert payload["voters"] == len(set(values))
    leaves = credential_leaves(raw)
    leaf = data.draw(st.sampled_from(leaves))
    proof = MerkleTree(leaves).proof_for(leaf)
    assert proof is not None and includes(payload, leaf, proof)
    assert not includes(payload, str(10**31), proof)
    assert not includes({**payload, "voters": payload["voters"] + 1}, leaf, proof)


def test_auditor_recomputes_root_and_count_from_the_record() -> None:
    raw = creds([5, 7, 11])
    signed = setup_of(raw)
    kw = {"server_key": SERVER, "election": ELECTION, "trustees": TRUSTEES, **POLL}
    check_setup_against_record(signed, public_credentials=raw, **kw)
    with pytest.raises(RecordError, match="counts 3"):  # a credential added to the record
        check_setup_against_record(signed, public_credentials=creds([5, 7, 11, 13]), **kw)
    with pytest.raises(RecordError, match="Merkle root"):  # one replaced
        check_setup_against_record(signed, public_credentials=creds([5, 7, 13]), **kw)
    with pytest.raises(RecordError, match="election_hash"):
        check_setup_against_record(signed, public_credentials=raw, **{**kw, "election": "{}"})
    with pytest.raises(RecordError, match="signed by another key"):
        check_setup_against_record(signed, public_credentials=raw, **{**kw, "server_key": "0" * 64})
