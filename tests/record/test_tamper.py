"""Tampered archives whose hash chain was rebuilt: only a semantic check can refuse them.

Each test changes one thing in a valid archive, rewrites the archive with a fresh, valid hash
chain (so the file itself is well formed and canonical), and expects `renda verify` to refuse
it at the right check with a message that says what is wrong.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from keys.elgamal import Ciphertext
from keys.group import TEST_256, to_str
from tally.json_format import compact
from tally.verify import VerificationReport, verify_archive
from tests.record.builder import (
    Built,
    Step,
    ballot_steps,
    build,
    edit_json,
    resign,
    step_index,
    write_steps,
)

VOTES = [[[1, 0, 0], [0, 1, 1, 0]], [[0, 1, 0], [1, 0, 0, 0]], [[0, 0, 1], [0, 0, 1, 0]]]


@pytest.fixture
def built(tmp_path: Path) -> Built:
    return build(tmp_path, VOTES)


def _verify(path: Path) -> VerificationReport:
    return verify_archive(path, workers=1, allow_test_group=True)


def _refused(built: Built, steps: list[Step], check_words: str, *message: str) -> str:
    write_steps(built.path, steps)
    report = _verify(built.path)
    failure = report.first_failure
    assert not report.ok and failure is not None, "the tampered archive was accepted"
    # the byte-level checks all passed: the chain was rebuilt
    assert all(c.status == "pass" for c in report.checks[:4])
    assert check_words in failure.name, failure
    for words in message:
        assert words in failure.detail, failure.detail
    return failure.detail


def test_untampered_archive_passes(built: Built) -> None:
    report = _verify(built.path)
    assert report.ok, report.first_failure
    assert [c.status for c in report.checks].count("pass") == 13  # only shuffles skipped


def _other_element(x: Any) -> str:
    return to_str(TEST_256.mul(int(x), TEST_256.g))


def test_changed_ciphertext(built: Built) -> None:
    steps = list(built.steps)
    k = ballot_steps(steps)[1]

    def change(obj: dict[str, Any]) -> None:
        c = obj["answers"][0]["choices"][0]
        c["beta"] = _other_element(c["beta"])  # still in the group: only proofs can tell

    steps[k] = edit_json(steps[k], 0, change)
    detail = _refused(built, steps, "ballots", "ballot #2", "invalid")
    assert "signature" in detail  # the signature covers the ciphertexts


def test_changed_ciphertext_resigned(built: Built) -> None:
    steps = list(built.steps)
    k = ballot_steps(steps)[1]
    obj = json.loads(steps[k].items[0])
    c = obj["answers"][1]["choices"][2]
    c["alpha"] = _other_element(c["alpha"])
    steps[k] = Step("Ballot", (resign(built, 1, obj),))
    _refused(built, steps, "ballots", "ballot #2", "question 2")


def test_changed_proof(built: Built) -> None:
    steps = list(built.steps)
    k = ballot_steps(steps)[0]
    obj = json.loads(steps[k].items[0])
    proof = obj["answers"][0]["individual_proofs"][1][0]
    proof["challenge"] = to_str((int(proof["challenge"]) + 1) % int(TEST_256.q))
    steps[k] = Step("Ballot", (resign(built, 0, obj),))  # a valid signature over the change
    _refused(built, steps, "ballots", "ballot #1", "proof")


def test_answers_moved_to_another_credential(built: Built) -> None:
    steps = list(built.steps)
    first, second = ballot_steps(steps)[:2]
    a = json.loads(steps[first].items[0])
    b = json.loads(steps[second].items[0])
    b["answers"] = a["answers"]  # voter 2 "casts" voter 1's encrypted answers
    steps[second] = Step("Ballot", (resign(built, 1, b),))
    _refused(built, steps, "ballots", "ballot #2", "invalid")


def test_deleted_ballot(built: Built) -> None:
    steps = list(built.steps)
    del steps[ballot_steps(steps)[2]]
    _refused(built, steps, "encrypted tally", "3 ballot(s) were tallied", "give 2")


def test_deleted_ballot_with_consistent_counts(built: Built) -> None:
    steps = list(built.steps)
    del steps[ballot_steps(steps)[2]]
    t = step_index(steps, "EncryptedTally")
    raw, _, _ = steps[t].items
    steps[t] = Step("EncryptedTally", (raw, 2, 2))
    _refused(built, steps, "encrypted tally", "differs from the one recomputed")


def test_wrong_partial_decryption(built: Built) -> None:
    steps = list(built.steps)
    k = step_index(steps, "PartialDecryption")
    owner, raw = steps[k].items
    obj = json.loads(raw)
    obj["decryption_factors"][1][2] = _other_element(obj["decryption_factors"][1][2])
    steps[k] = Step("PartialDecryption", (owner, compact(obj)))
    _refused(built, steps, "partial decryptions", "trustee 1", "invalid")


def test_wrong_stored_encrypted_tally(built: Built) -> None:
    steps = list(built.steps)
    k = step_index(steps, "EncryptedTally")
    raw, n, w = steps[k].items
    obj = json.loads(raw)
    # multiply one ciphertext by an encryption of 0: decrypts the same, but is not the product
    c = Ciphertext(int(obj[0][1]["alpha"]), int(obj[0][1]["beta"]))
    y = built.election.public_key
    r = 12345
    obj[0][1] = {
        "alpha": to_str(TEST_256.mul(c.alpha, TEST_256.g_pow(r))),
        "beta": to_str(TEST_256.mul(c.beta, TEST_256.pow(y, r))),
    }
    steps[k] = Step("EncryptedTally", (compact(obj), n, w))
    _refused(built, steps, "encrypted tally", "question 1, ciphertext 2")


def test_wrong_result(built: Built) -> None:
    steps = list(built.steps)
    k = step_index(steps, "Result")
    obj = json.loads(steps[k].items[0])
    obj["result"][0][0] += 1
    obj["result"][0][1] -= 1  # same total: only the decryption can tell
    steps[k] = Step("Result", (compact(obj),))
    _refused(built, steps, "result", "question 1, answer 1", "decryption")


def test_wrong_num_tallied(built: Built) -> None:
    steps = list(built.steps)
    k = step_index(steps, "EncryptedTally")
    raw, n, w = steps[k].items
    steps[k] = Step("EncryptedTally", (raw, n + 1, w))
    _refused(built, steps, "encrypted tally", "says 4 ballot(s)")


def test_event_after_result(built: Built) -> None:
    steps = [*built.steps, built.steps[ballot_steps(built.steps)[0]]]
    _verify_fails_at_sequence(built, steps)


def _verify_fails_at_sequence(built: Built, steps: list[Step]) -> None:
    write_steps(built.path, steps)
    report = _verify(built.path)
    failure = report.first_failure
    assert failure is not None and "life cycle" in failure.name
    assert "after the Result" in failure.detail


def test_ballot_from_unlisted_credential(tmp_path: Path) -> None:
    built = build(tmp_path, VOTES)
    (tmp_path / "other").mkdir()
    other = build(tmp_path / "other", VOTES[:1])
    steps = list(built.steps)
    steps.insert(ballot_steps(steps)[-1] + 1, other.steps[1])
    write_steps(built.path, steps)
    report = _verify(built.path)
    failure = report.first_failure
    assert failure is not None and "ballot #4" in failure.detail
    assert "not in the public credential list" in failure.detail


def test_partial_decryption_from_unknown_trustee(built: Built) -> None:
    steps = list(built.steps)
    k = step_index(steps, "PartialDecryption")
    steps[k] = Step("PartialDecryption", (7, steps[k].items[1]))
    _refused(built, steps, "partial decryptions", "no trustee 7")


def test_result_not_canonical(built: Built) -> None:
    steps = list(built.steps)
    k = step_index(steps, "Result")
    obj = json.loads(steps[k].items[0])
    steps[k] = Step("Result", (json.dumps(obj),))  # with spaces
    _refused(built, steps, "result", "canonical")


def test_non_canonical_ballot(built: Built) -> None:
    steps = list(built.steps)
    k = ballot_steps(steps)[0]
    steps[k] = Step("Ballot", (json.dumps(json.loads(steps[k].items[0])),))  # spaces added
    _refused(built, steps, "ballots", "ballot #1", "canonical")


def test_ballot_that_is_not_json(built: Built) -> None:
    steps = list(built.steps)
    steps[ballot_steps(steps)[1]] = Step("Ballot", ('{"credential": ',))
    _refused(built, steps, "ballots", "ballot #2", "not valid JSON")


def test_credential_with_leading_zero(built: Built) -> None:
    steps = list(built.steps)
    k = ballot_steps(steps)[0]
    obj = json.loads(steps[k].items[0])
    obj["credential"] = "0" + obj["credential"]
    steps[k] = Step("Ballot", (compact(obj),))
    _refused(built, steps, "ballots", "ballot #1", "not in the public credential list")


def test_garbage_partial_decryption(built: Built) -> None:
    steps = list(built.steps)
    k = step_index(steps, "PartialDecryption")
    steps[k] = Step("PartialDecryption", (1, '{"decryption_factors":[[1]]}'))
    _refused(built, steps, "partial decryptions", "trustee 1", "invalid")


def test_element_outside_the_group_in_the_result_tally(built: Built) -> None:
    steps = list(built.steps)
    k = step_index(steps, "EncryptedTally")
    raw, n, w = steps[k].items
    obj = json.loads(raw)
    obj[0][0]["alpha"] = "0"
    steps[k] = Step("EncryptedTally", (compact(obj), n, w))
    _refused(built, steps, "encrypted tally", "question 1, ciphertext 1")
