"""Ballots: creation, parsing and checking in the small test group."""

from __future__ import annotations

import json
import pickle
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from keys.credentials import generate_private_credential, public_credential
from keys.group import TEST_256
from keys.hashing import hjson
from tally.ballot import (
    check_ballot,
    check_ballot_raw,
    check_plaintext,
    create_ballot,
    parse_ballot,
)
from tally.errors import RecordError
from tally.json_format import compact

from .helpers import VALID_VOTE, small_election

ELECTION = small_election()
CREDENTIAL = generate_private_credential()
BALLOT = create_ballot(ELECTION, CREDENTIAL, VALID_VOTE)


def _check_raw(raw: str) -> None:
    check_ballot(ELECTION, parse_ballot(ELECTION, raw))


def test_created_ballot_is_valid_and_canonical() -> None:
    b = parse_ballot(ELECTION, BALLOT.raw)
    assert b == BALLOT
    check_ballot(ELECTION, b)
    assert b.tracker == hjson(BALLOT.raw)
    assert b.credential == public_credential(TEST_256, ELECTION.uuid, CREDENTIAL)
    assert compact(json.loads(BALLOT.raw)) == BALLOT.raw
    assert list(json.loads(BALLOT.raw)) == [
        "election_uuid",
        "election_hash",
        "credential",
        "answers",
        "signature",
    ]
    assert [len(row) for row in b.ciphertexts] == [3, 12, 3, 1]


def test_check_ballot_raw_for_process_pools() -> None:
    assert check_ballot_raw(ELECTION.raw, BALLOT.raw, True) is None
    assert check_ballot_raw(ELECTION.raw, BALLOT.raw) is not None  # test group refused
    bad = BALLOT.raw.replace('"challenge":"', '"challenge":"1', 1)
    message = check_ballot_raw(ELECTION.raw, bad, True)
    assert isinstance(message, str) and message
    pickle.dumps((ELECTION.raw, BALLOT.raw))


def _plaintexts() -> st.SearchStrategy[list[list[int]]]:
    q1 = st.sampled_from([[1, 0, 0], [0, 1, 0], [0, 0, 1]])
    q2 = st.lists(st.integers(0, 1), min_size=12, max_size=12).filter(lambda r: sum(r) <= 10)
    q3 = st.sampled_from([[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 0], [1, 0, 1], [0, 1, 1]])
    q4 = st.lists(st.integers(0, 255), min_size=3, max_size=3)
    return st.tuples(q1, q2, q3, q4).map(list)


@settings(max_examples=15, deadline=None)
@given(_plaintexts())
def test_every_valid_plaintext_gives_a_valid_ballot(plaintext: list[list[int]]) -> None:
    b = create_ballot(ELECTION, CREDENTIAL, plaintext)
    _check_raw(b.raw)


@pytest.mark.parametrize(
    "plaintext",
    [
        [[1, 1, 0], [0] * 12, [1, 0, 0], [0, 0, 0]],  # blank and a choice
        [[0, 0, 0], [0] * 12, [1, 0, 0], [0, 0, 0]],  # not blank, nothing chosen (min 1)
        [[0, 1, 0], [1] * 11 + [0], [1, 0, 0], [0, 0, 0]],  # 11 of 12 > max 10
        [[0, 1, 0], [0] * 12, [0, 0, 0], [0, 0, 0]],  # below min
        [[0, 1, 0], [0] * 12, [1, 1, 1], [0, 0, 0]],  # above max
        [[0, 1, 0], [0] * 12, [2, 0, 0], [0, 0, 0]],  # not 0 or 1
        [[0, 1, 0], [0] * 12, [1, 0, 0], [0, 0, 256]],  # does not fit bits_per_int
        [[0, 1, 0], [0] * 12, [1, 0, 0], [0, 0]],  # wrong length
        [[0, 1], [0] * 12, [1, 0, 0], [0, 0, 0]],  # blank slot missing
        [[0, 1, 0], [0] * 12, [1, 0, 0]],  # a question missing
        [[0, True, 0], [0] * 12, [1, 0, 0], [0, 0, 0]],  # not an int
    ],
)
def test_invalid_plaintexts_are_refused(plaintext: list[list[Any]]) -> None:
    with pytest.raises(ValueError):
        check_plaintext(ELECTION, plaintext)
    with pytest.raises(ValueError):
        create_ballot(ELECTION, CREDENTIAL, plaintext)


def test_bad_private_credential_is_refused() -> None:
    with pytest.raises(ValueError):
        create_ballot(ELECTION, "not-a-credential", VALID_VOTE)


def _numbers(obj: Any, path: tuple[Any, ...] = ()) -> list[tuple[tuple[Any, ...], str]]:
    """Paths of every number-string in the ballot JSON."""
    out: list[tuple[tuple[Any, ...], str]] = []
    if isinstance(obj, dict):
        for k, v in obj.items():
            out += _numbers(v, (*path, k))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            out += _numbers(v, (*path, i))
    elif (
        isinstance(obj, str) and obj.isdigit() and path[0] in ("credential", "answers", "signature")
    ):
        out.append((path, obj))
    return out


NUMBER_PATHS = _numbers(json.loads(BALLOT.raw))


def _set(raw: str, path: tuple[Any, ...], value: Any) -> str:
    obj = json.loads(raw)
    target = obj
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return compact(obj)


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(NUMBER_PATHS), st.integers(min_value=1, max_value=10**6))
def test_changing_any_number_invalidates_the_ballot(
    item: tuple[tuple[Any, ...], str], delta: int
) -> None:
    path, text = item
    changed = _set(BALLOT.raw, path, str(int(text) + delta))
    with pytest.raises(RecordError):
        _check_raw(changed)


@settings(max_examples=30, deadline=None)
@given(st.sampled_from(NUMBER_PATHS))
def test_non_canonical_numbers_are_refused(item: tuple[tuple[Any, ...], str]) -> None:
    path, text = item
    for bad in ("0" + text, text + " ", "+" + text, int(text)):
        with pytest.raises(RecordError):
            parse_ballot(ELECTION, _set(BALLOT.raw, path, bad))


def test_elements_outside_the_group_are_refused() -> None:
    p = TEST_256.p
    non_member = next(x for x in range(2, 100) if not TEST_256.is_element(x))
    for value in (str(non_member), "0", str(p), str(p + 1)):
        for path in (("credential",), ("answers", 0, "choices", 0, "alpha")):
            with pytest.raises(RecordError, match=r"group|not"):
                parse_ballot(ELECTION, _set(BALLOT.raw, path, value))
    for path in (("answers", 0, "overall_proof", 0, "challenge"),):
        with pytest.raises(RecordError):
            parse_ballot(ELECTION, _set(BALLOT.raw, path, str(TEST_256.q)))


def _edit(fn: Any) -> str:
    obj = json.loads(BALLOT.raw)
    fn(obj)
    return compact(obj)


@pytest.mark.parametrize(
    "edit",
    [
        lambda o: o["answers"].pop(),
        lambda o: o["answers"].append(o["answers"][0]),
        lambda o: o["answers"][1]["choices"].pop(),
        lambda o: o["answers"][1]["individual_proofs"].pop(),
        lambda o: o["answers"][1]["individual_proofs"][0].pop(),
        lambda o: o["answers"][1]["overall_proof"].pop(),
        lambda o: o["answers"][0]["blank_proof"].pop(),
        lambda o: o["answers"][0].pop("blank_proof"),
        lambda o: o["answers"][2].update(blank_proof=o["answers"][0]["blank_proof"]),
        lambda o: o["answers"].reverse(),
        lambda o: o.pop("signature"),
        lambda o: o.update(extra=1),
        lambda o: o["answers"][3].update(choices=[o["answers"][3]["choices"]]),
        lambda o: o["signature"].update(hash=5),
        lambda o: o.update(election_uuid=None),
        lambda o: o["answers"][0]["choices"][0].update(gamma="1"),
    ],
)
def test_wrong_shapes_are_refused(edit: Any) -> None:
    with pytest.raises(RecordError):
        parse_ballot(ELECTION, _edit(edit))


def test_field_order_is_enforced() -> None:
    obj = json.loads(BALLOT.raw)
    reordered = {k: obj[k] for k in ["election_hash", "election_uuid", *list(obj)[2:]]}
    with pytest.raises(RecordError, match="order"):
        parse_ballot(ELECTION, compact(reordered))


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "{",
        "[]",
        "null",
        '{"a":1}',
        BALLOT.raw + " ",
        BALLOT.raw.replace(":", ": ", 1),
        "x" * 10**7,
    ],
)
def test_bad_json_is_refused(raw: str) -> None:
    with pytest.raises(RecordError):
        parse_ballot(ELECTION, raw)


def test_ballot_for_another_election_is_refused() -> None:
    other = small_election({**json.loads(ELECTION.raw), "name": "other"})
    b = parse_ballot(other, BALLOT.raw)
    with pytest.raises(RecordError, match="election_hash"):
        check_ballot(other, b)
    obj = json.loads(BALLOT.raw)
    obj["election_uuid"] = "AnotherUuid12345"
    with pytest.raises(RecordError, match="uuid"):
        check_ballot(ELECTION, parse_ballot(ELECTION, compact(obj)))


def test_replaced_signature_is_refused() -> None:
    other = create_ballot(ELECTION, generate_private_credential(), VALID_VOTE)
    obj = json.loads(BALLOT.raw)
    obj["signature"] = json.loads(other.raw)["signature"]
    with pytest.raises(RecordError, match="signature"):
        _check_raw(compact(obj))
    # Same ballot, credential of someone else: signature no longer verifies.
    obj = json.loads(BALLOT.raw)
    obj["credential"] = json.loads(other.raw)["credential"]
    with pytest.raises(RecordError):
        _check_raw(compact(obj))


def test_answers_cannot_be_swapped_between_ballots() -> None:
    # Proofs are bound to the credential: copying an answer into another ballot fails.
    other = create_ballot(ELECTION, generate_private_credential(), VALID_VOTE)
    obj = json.loads(BALLOT.raw)
    obj["answers"][2] = json.loads(other.raw)["answers"][2]
    with pytest.raises(RecordError):
        _check_raw(compact(obj))


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_random_damage_gives_a_record_error_never_a_crash(data: st.DataObject) -> None:
    raw = BALLOT.raw
    pos = data.draw(st.integers(0, len(raw) - 1))
    kind = data.draw(st.sampled_from(["delete", "replace", "insert"]))
    char = data.draw(st.sampled_from(list('0123456789{}[]",:\\ ae')))
    if kind == "delete":
        damaged = raw[:pos] + raw[pos + 1 :]
    elif kind == "replace":
        damaged = raw[:pos] + char + raw[pos + 1 :]
    else:
        damaged = raw[:pos] + char + raw[pos:]
    if damaged == raw:
        return
    with pytest.raises(RecordError):
        _check_raw(damaged)


def test_check_ballot_raw_runs_in_a_process_pool() -> None:
    from concurrent.futures import ProcessPoolExecutor

    bad = BALLOT.raw.replace('"response":"', '"response":"9', 1)
    with ProcessPoolExecutor(max_workers=1) as pool:
        results = list(
            pool.map(check_ballot_raw, [ELECTION.raw] * 2, [BALLOT.raw, bad], [True, True])
        )
    assert results[0] is None
    assert isinstance(results[1], str)
