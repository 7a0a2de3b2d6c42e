"""Damaged records never crash the parsers and checkers: they raise RecordError or pass."""

from __future__ import annotations

from functools import lru_cache

from gmpy2 import mpz
from hypothesis import given, settings
from hypothesis import strategies as st

from keys.elgamal import Ciphertext, encrypt_exponent
from keys.group import TEST_256
from keys.trustee_key import generate_trustee_key
from tally.decryption import (
    check_partial_decryption,
    compute_partial_decryption,
    parse_partial_decryption,
)
from tally.errors import RecordError
from tally.trustees import (
    PedersenTrustees,
    SingleTrustee,
    Trustees,
    check_trustees,
    parse_trustees,
    serialize_trustees,
)
from tests.trustees.ceremony import run_ceremony

G = TEST_256
FP = "fp"


@lru_cache(maxsize=1)
def _sample() -> tuple[str, str, mpz, list[list[Ciphertext]]]:
    x, tpk = generate_trustee_key(G)
    c = run_ceremony(G, 3, 2)
    raw = serialize_trustees(Trustees((SingleTrustee(tpk), PedersenTrustees(c.params))))
    tally = [[encrypt_exponent(G, tpk.public_key, 1, 5), encrypt_exponent(G, tpk.public_key, 0, 7)]]
    pd = compute_partial_decryption(G, FP, x, tally)
    return raw, pd.serialize(), tpk.public_key, tally


def _damage(text: str, pos: int, char: str, delete: bool) -> str:
    pos %= len(text)
    return text[:pos] + ("" if delete else char) + text[pos + 1 :]


@given(pos=st.integers(0, 10**6), char=st.characters(max_codepoint=127), delete=st.booleans())
@settings(max_examples=60, deadline=None)
def test_damaged_trustees(pos: int, char: str, delete: bool) -> None:
    raw = _sample()[0]
    damaged = _damage(raw, pos, char, delete)
    try:
        trustees = parse_trustees(G, damaged)
        check_trustees(G, trustees)
    except RecordError:
        return
    # accepted: it must then be the same trustees, written the same way
    assert serialize_trustees(trustees) == raw


@given(pos=st.integers(0, 10**6), char=st.characters(max_codepoint=127), delete=st.booleans())
@settings(max_examples=60, deadline=None)
def test_damaged_partial_decryption(pos: int, char: str, delete: bool) -> None:
    _, raw, key, tally = _sample()
    damaged = _damage(raw, pos, char, delete)
    try:
        pd = parse_partial_decryption(G, damaged)
        check_partial_decryption(G, FP, key, tally, pd)
    except RecordError:
        return
    assert pd.serialize() == raw
