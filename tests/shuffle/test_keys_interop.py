"""keys.shuffle against shuffles made and checked by the real belenios-tool 2.0."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from keys.elgamal import Ciphertext
from keys.group import RFC_3526_2048
from keys.hashing import hjson
from keys.shuffle import (
    ShuffleProof,
    check_shuffle_proof,
    check_shuffle_proof_exact,
)
from tally.verify import verify_archive
from tests.belenios import (
    add_event,
    add_shuffle,
    decrypt_and_finish,
    nh_archive,
    read_raw_archive,
)

G = RFC_3526_2048
VOTES = [[[1, 0], [1, 2, 3]], [[0, 1], [3, 1, 2]], [[0, 0], [2, 3, 1]]]


def _compact(obj: object) -> str:
    return json.dumps(obj, separators=(",", ":"))


@pytest.mark.belenios
def test_belenios_shuffles_pass_our_checks_and_renda_verify(
    belenios_tool: str, tmp_path: Path
) -> None:
    archive = nh_archive(belenios_tool, tmp_path, VOTES, trustees=2)
    add_shuffle(belenios_tool, tmp_path, 1)
    raw = read_raw_archive(archive)
    election_raw = raw.setup()["election"]
    fingerprint = hjson(election_raw)
    y = G.parse_element(json.loads(election_raw)["public_key"])
    sized = json.loads(raw.payload(raw.events[-2]))
    tally = json.loads(raw.files[sized["encrypted_tally"]])
    e = [Ciphertext.from_json(G, c) for c in tally[1]]
    owned = json.loads(raw.payload(raw.events[-1]))
    shuffle_raw = raw.files[owned["payload"]]
    shuffle = json.loads(shuffle_raw)
    e2 = [Ciphertext.from_json(G, c) for c in shuffle["ciphertexts"][0]]
    proof = ShuffleProof.from_json(G, shuffle["proofs"][0])
    # Belenios's proof passes both our checks, and we serialize it back byte for byte.
    assert check_shuffle_proof(G, fingerprint, y, e, e2, proof)
    assert check_shuffle_proof_exact(G, fingerprint, y, e, e2, proof)
    assert _compact(proof.to_json()) == _compact(shuffle["proofs"][0])
    assert not check_shuffle_proof(G, fingerprint + "x", y, e, e2, proof)
    assert not check_shuffle_proof(G, fingerprint, y, e, e2[1:] + e2[:1], proof)

    # A second shuffle by belenios-tool (trustee 2), both decryptions by belenios-tool:
    # the archive, made and decrypted by belenios-tool alone, passes renda verify.
    add_shuffle(belenios_tool, tmp_path, 2)
    add_event(belenios_tool, tmp_path, "EndShuffles")
    result = decrypt_and_finish(belenios_tool, tmp_path, [1, 2])
    assert sorted(json.loads(result)["result"][1]) == sorted(v[1] for v in VOTES)
    report = verify_archive(tmp_path)
    assert report.ok, report.first_failure
