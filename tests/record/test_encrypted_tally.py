"""last(B), tallied order and the homomorphic tally, against plaintext sums."""

from __future__ import annotations

import random

import pytest
from gmpy2 import mpz
from hypothesis import given, settings
from hypothesis import strategies as st

from keys.elgamal import Ciphertext, encrypt_exponent
from keys.group import TEST_256
from tally.encrypted_tally import (
    TallyInput,
    last_ballots,
    parse_encrypted_tally,
    serialize_encrypted_tally,
    tallied_order,
    tally_choices,
)
from tally.errors import RecordError

G = TEST_256
X = mpz(123456789)
Y = G.g_pow(X)


def _decrypt_small(c: Ciphertext, bound: int = 200) -> int:
    m = G.div(c.beta, G.pow(c.alpha, X))
    for k in range(bound + 1):
        if G.g_pow(k) == m:
            return k
    raise AssertionError("not a small number")


@given(st.lists(st.tuples(st.integers(0, 4), st.integers(0, 100)), max_size=20))
def test_last_ballots_keeps_the_last_per_credential(items: list[tuple[int, int]]) -> None:
    kept = last_ballots(items, lambda x: x[0])
    assert len(kept) == len({c for c, _ in items})
    for cred, value in kept:
        assert [v for c, v in items if c == cred][-1] == value
    order = tallied_order(items, lambda x: str(x[0]))
    assert sorted(order) == sorted(kept)
    assert [str(c) for c, _ in order] == sorted((str(c) for c, _ in order), reverse=True)


@settings(max_examples=15, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(1, 3), st.lists(st.integers(0, 1), min_size=3, max_size=3)),
        max_size=6,
    )
)
def test_tally_decrypts_to_weighted_sums(ballots: list[tuple[int, list[int]]]) -> None:
    rng = random.Random(1)
    inputs = [
        TallyInput(
            w, (tuple(encrypt_exponent(G, Y, m, mpz(rng.randrange(1, 10**9))) for m in row),)
        )
        for w, row in ballots
    ]
    tally = tally_choices(G, [True], [3], inputs)
    for j in range(3):
        assert _decrypt_small(tally[0][j]) == sum(w * row[j] for w, row in ballots)
    again = parse_encrypted_tally(G, serialize_encrypted_tally(tally))
    assert again == tally


def test_non_homomorphic_column_is_sorted_and_needs_weight_one() -> None:
    cts = [encrypt_exponent(G, Y, 1, mpz(r)) for r in (5, 3, 9)]
    inputs = [TallyInput(1, ((c,),)) for c in cts]
    tally = tally_choices(G, [False], [1], inputs)
    assert list(tally[0]) == sorted(cts, key=lambda c: (c.alpha, c.beta))
    with pytest.raises(RecordError, match="weight"):
        tally_choices(G, [False], [1], [TallyInput(2, ((cts[0],),))])


def test_wrong_number_of_choices_is_refused() -> None:
    c = encrypt_exponent(G, Y, 1, mpz(7))
    with pytest.raises(RecordError, match="expected 3"):
        tally_choices(G, [True], [3], [TallyInput(1, ((c, c),))])


def test_parse_refuses_elements_outside_the_group() -> None:
    with pytest.raises(RecordError):
        parse_encrypted_tally(G, '[[{"alpha":"0","beta":"1"}]]')
    with pytest.raises(RecordError):
        parse_encrypted_tally(G, '{"alpha":"1"}')
