"""Result computation and checking (spec §4.19)."""

from __future__ import annotations

from typing import Any

import pytest
from gmpy2 import mpz
from hypothesis import given, settings
from hypothesis import strategies as st

from keys.elgamal import Ciphertext, encrypt_element, encrypt_exponent
from keys.embedding import group_encode
from keys.group import TEST_256, Group
from keys.trustee_key import generate_trustee_key
from tally.decryption import compute_partial_decryption
from tally.election import Election, generate_uuid, make_election
from tally.errors import RecordError
from tally.result import (
    Result,
    check_result,
    compute_result,
    discrete_log,
    parse_result,
)
from tally.trustees import PedersenTrustees, SingleTrustee, Trustees, combined_public_key
from tests.trustees.ceremony import run_ceremony

TEMPLATE: dict[str, Any] = {
    "description": "test",
    "name": "test",
    "questions": [
        {"question": "Q1", "answers": ["yes", "no"], "min": 0, "max": 1, "blank": True},
        {"question": "Q2", "answers": ["a", "b", "c"], "min": 1, "max": 2},
        {"type": "NonHomomorphic", "value": {"question": "Q3", "answers": ["x", "y"]}},
    ],
}


def _election(group: Group) -> tuple[Election, Trustees, list[mpz]]:
    x, tpk = generate_trustee_key(group)
    c = run_ceremony(group, 3, 2)
    trustees = Trustees((SingleTrustee(tpk), PedersenTrustees(c.params)))
    y = combined_public_key(group, trustees)
    election = make_election(TEMPLATE, uuid=generate_uuid(), group=group, public_key=y)
    return election, trustees, [x, *c.private_keys(group)]


def _enc(group: Group, y: mpz, m: int) -> Ciphertext:
    return encrypt_exponent(group, y, m, group.random_exponent())


def test_discrete_log(group: Group) -> None:
    for k in (0, 1, 2, 99, 100, 1000):
        assert discrete_log(group, group.g_pow(k), 1000) == k
    assert discrete_log(group, group.g_pow(1001), 1000) is None
    assert discrete_log(group, group.g_pow(5), 4) is None
    assert discrete_log(group, group.g_pow(123456), 200000) == 123456


def test_compute_and_check_result(group: Group) -> None:
    election, trustees, keys = _election(group)
    y = election.public_key
    ballots = [(1, 0), (2, 1)]
    tally = [
        [_enc(group, y, m) for m in (2, 1, 0)],
        [_enc(group, y, m) for m in (1, 3, 0)],
        [
            encrypt_element(group, y, group_encode(group, b), group.random_exponent())
            for b in ballots
        ],
    ]
    pds = {
        o: compute_partial_decryption(group, election.fingerprint, keys[o - 1], tally)
        for o in (1, 3, 4)
    }
    result = compute_result(election, trustees, tally, pds, total_weight=3)
    assert result.result == ((2, 1, 0), (1, 3, 0), ((1, 0), (2, 1)))
    assert result.serialize() == '{"result":[[2,1,0],[1,3,0],[[1,0],[2,1]]]}'
    assert parse_result(election, result.serialize()) == result
    check_result(election, trustees, tally, pds, result)
    # a different subset gives the same result
    pds2 = {
        o: compute_partial_decryption(group, election.fingerprint, keys[o - 1], tally)
        for o in (1, 2, 3)
    }
    check_result(election, trustees, tally, pds2, result)
    # bounded by the total weight
    with pytest.raises(RecordError, match="not between 0 and 2"):
        compute_result(election, trustees, tally, pds, total_weight=2)
    # tampered result
    bad = Result(((2, 1, 0), (1, 2, 0), result.result[2]), result.homomorphic)
    with pytest.raises(RecordError, match="question 2, answer 2"):
        check_result(election, trustees, tally, pds, bad)
    bad = Result((result.result[0], result.result[1], ((1, 0), (1, 1))), result.homomorphic)
    with pytest.raises(RecordError, match="question 3, ballot 2"):
        check_result(election, trustees, tally, pds, bad)
    # a missing Single decryption
    with pytest.raises(RecordError, match="missing"):
        compute_result(election, trustees, tally, {3: pds[3], 4: pds[4]})


@pytest.mark.parametrize(
    "raw",
    [
        '{"result":[[1,2,3]]}',
        '{"result":[[-1,0,0],[0,0,0],[]]}',
        '{"result":[[1,0,0],[0,0,0],[1]]}',
        "[]",
    ],
)
def test_bad_result_refused(group: Group, raw: str) -> None:
    election, _, _ = _election(group)
    with pytest.raises(RecordError):
        parse_result(election, raw)


def test_big_counts_written_as_strings(group: Group) -> None:
    r = Result(((1073741823, 1073741824),), (True,))
    assert r.serialize() == '{"result":[[1073741823,"1073741824"]]}'


@given(bound=st.integers(0, 5000), data=st.data())
@settings(max_examples=30, deadline=None)
def test_discrete_log_property(bound: int, data: st.DataObject) -> None:
    group = TEST_256
    k = data.draw(st.integers(0, bound + 3))
    assert discrete_log(group, group.g_pow(k), bound) == (k if k <= bound else None)
