"""Single trustee keys and their proof of knowledge (spec §4.5)."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from keys.group import TEST_256, Group
from keys.proof import Proof
from keys.trustee_key import (
    TrusteeKeyError,
    TrusteePublicKey,
    check_trustee_public_key,
    generate_trustee_key,
    key_id,
    prove_trustee_key,
)


def test_generate_and_check(group: Group) -> None:
    x, tpk = generate_trustee_key(group)
    assert 0 <= x < group.q and tpk.public_key == group.g_pow(x)
    check_trustee_public_key(group, tpk)
    assert TrusteePublicKey.parse(group, tpk.serialize()) == tpk
    assert tpk.serialize().startswith('{"pok":{"challenge":"')


def test_pok_hashes_group_name(group: Group) -> None:
    _, tpk = generate_trustee_key(group)
    c, r = tpk.pok.challenge, tpk.pok.response
    a = group.mul(group.g_pow(r), group.pow(tpk.public_key, c))
    text = f"pok|{group.name}|{tpk.public_key}|{a}"
    assert int(hashlib.sha256(text.encode()).hexdigest(), 16) % group.q == c


@given(delta=st.integers(min_value=1, max_value=10**6))
@settings(max_examples=20, deadline=None)
def test_wrong_proof_refused(delta: int) -> None:
    group = TEST_256
    x, tpk = generate_trustee_key(group)
    for bad in (
        TrusteePublicKey(
            tpk.public_key, Proof((tpk.pok.challenge + delta) % group.q, tpk.pok.response)
        ),
        TrusteePublicKey(
            tpk.public_key, Proof(tpk.pok.challenge, (tpk.pok.response + delta) % group.q)
        ),
        TrusteePublicKey(group.g_pow(x + delta), tpk.pok),
    ):
        with pytest.raises(TrusteeKeyError, match="proof of knowledge"):
            check_trustee_public_key(group, bad)


def test_name_field_kept_and_optional(group: Group) -> None:
    x = group.random_exponent()
    tpk = prove_trustee_key(group, x)
    named = TrusteePublicKey(tpk.public_key, tpk.pok, "Zhang San")
    assert named.serialize().endswith(',"name":"Zhang San"}')
    assert TrusteePublicKey.parse(group, named.serialize()) == named
    check_trustee_public_key(group, named)
    assert (len(key_id(tpk)) == 8 and key_id(tpk).isupper()) or key_id(tpk).isdigit()


@pytest.mark.parametrize(
    "text",
    [
        "[]",
        '{"public_key":"4"}',
        '{"pok":{"challenge":"1","response":"1"},"public_key":"4","extra":1}',
        '{"pok":{"challenge":"1","response":"1"},"public_key":"04"}',
        '{"pok":{"challenge":"1","response":"1"},"public_key":"0"}',
        '{"pok":{"challenge":"1","response":"1"},"public_key":4}',
    ],
)
def test_malformed_refused(group: Group, text: str) -> None:
    with pytest.raises(TrusteeKeyError):
        TrusteePublicKey.parse(group, text)
