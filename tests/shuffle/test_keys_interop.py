"""keys.shuffle against shuffles made and checked by the real belenios-tool 2.0."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from keys.elgamal import Ciphertext
from keys.group import RFC_3526_2048
from keys.hashing import hjson, sha256_hex
from keys.shuffle import (
    ShuffleProof,
    check_shuffle_proof,
    check_shuffle_proof_exact,
    gen_shuffle,
    gen_shuffle_proof,
)
from tests.shuffle.belenios_run import make_nh_archive, read_raw_archive, run_tool

G = RFC_3526_2048
VOTES = [[[1, 0], [1, 2, 3]], [[0, 1], [3, 1, 2]], [[0, 0], [2, 3, 1]]]


def _compact(obj: object) -> str:
    return json.dumps(obj, separators=(",", ":"))


@pytest.mark.belenios
def test_belenios_shuffle_checks_and_ours_passes_belenios(
    belenios_tool: str, tmp_path: Path
) -> None:
    archive = make_nh_archive(belenios_tool, tmp_path, VOTES)
    out = run_tool(belenios_tool, tmp_path, "election", "shuffle", "--trustee-id=1")
    run_tool(belenios_tool, tmp_path, "archive", "add-event", "--type=Shuffle", stdin=out)
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

    # Our shuffle of Belenios's output, added as the second Shuffle event, passes its verify.
    e3, r3, psi = gen_shuffle(G, y, e2)
    proof3 = gen_shuffle_proof(G, fingerprint, y, e2, e3, r3, psi)
    ours = _compact({"ciphertexts": [[c.to_json() for c in e3]], "proofs": [proof3.to_json()]})
    ours_owned = _compact({"owner": 1, "payload": sha256_hex(ours)})
    run_tool(
        belenios_tool,
        tmp_path,
        "archive",
        "add-event",
        "--type=Shuffle",
        stdin=ours + "\n" + ours_owned + "\n",
    )
    run_tool(belenios_tool, tmp_path, "archive", "add-event", "--type=EndShuffles")
    privkey = next(tmp_path.glob("*.privkey"))
    pd = run_tool(
        belenios_tool,
        tmp_path,
        "election",
        "decrypt",
        "--privkey",
        privkey.name,
        "--trustee-id",
        "1",
    )
    run_tool(belenios_tool, tmp_path, "archive", "add-event", "--type=PartialDecryption", stdin=pd)
    result = run_tool(belenios_tool, tmp_path, "election", "compute-result")
    run_tool(belenios_tool, tmp_path, "archive", "add-event", "--type=Result", stdin=result)
    run_tool(belenios_tool, tmp_path, "election", "verify")
    decoded = json.loads(result)["result"][1]
    assert sorted(decoded) == sorted(v[1] for v in VOTES)
