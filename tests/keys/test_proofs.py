"""The zero-knowledge proofs of ballots, in the small test group."""

from __future__ import annotations

import pytest
from gmpy2 import mpz
from hypothesis import given, settings
from hypothesis import strategies as st

from keys.blank_proof import prove_blank, verify_blank_proof, verify_overall_proof
from keys.elgamal import Ciphertext, encrypt_exponent, product
from keys.group import TEST_256
from keys.iproof import iprove, iverify
from keys.nh_answer import create_nh_answer, verify_nh_answer
from keys.proof import Proof
from keys.signature import sign, verify_signature

G = TEST_256
X = mpz(987654321987654321)
Y = G.g_pow(X)
S0 = "fingerprint|12345"

exponents = st.integers(min_value=0, max_value=int(G.q) - 1).map(mpz)


def _tamper(proofs: tuple[Proof, ...], index: int, what: str, delta: int) -> tuple[Proof, ...]:
    out = list(proofs)
    p = out[index]
    if what == "challenge":
        out[index] = Proof((p.challenge + delta) % G.q, p.response)
    else:
        out[index] = Proof(p.challenge, (p.response + delta) % G.q)
    return tuple(out)


@settings(max_examples=40, deadline=None)
@given(
    st.integers(min_value=0, max_value=4),
    st.integers(min_value=0, max_value=4),
    exponents,
    st.integers(min_value=1, max_value=1000),
    st.sampled_from(["challenge", "response"]),
)
def test_interval_proof_verifies_and_tampering_fails(
    low: int, span: int, r: mpz, delta: int, what: str
) -> None:
    ms = list(range(low, low + span + 1))
    for index, m in enumerate(ms):
        c = encrypt_exponent(G, Y, m, r)
        proofs = iprove(G, Y, S0, c, r, index, ms)
        assert iverify(G, Y, S0, c, proofs, ms)
        assert not iverify(G, Y, S0 + "x", c, proofs, ms)
        assert not iverify(G, Y, S0, c, _tamper(proofs, index, what, delta), ms)
        other = Ciphertext(c.alpha, G.mul(c.beta, G.g))
        assert not iverify(G, Y, S0, other, proofs, ms)
        assert not iverify(G, Y, S0, c, proofs[:-1], ms)


def test_interval_proof_of_a_value_outside_the_range_fails() -> None:
    r = G.random_exponent()
    c = encrypt_exponent(G, Y, 2, r)
    # A prover that lies about the index produces a proof that does not verify.
    proofs = iprove(G, Y, S0, c, r, 1, [0, 1])
    assert not iverify(G, Y, S0, c, proofs, [0, 1])


@settings(max_examples=25, deadline=None)
@given(
    st.integers(min_value=0, max_value=3),
    st.integers(min_value=0, max_value=3),
    st.integers(min_value=0, max_value=4),
    st.booleans(),
    st.integers(min_value=1, max_value=1000),
)
def test_blank_proofs(low: int, span: int, n: int, blank: bool, delta: int) -> None:
    high = low + span
    m_sum = 0 if blank else min(max(low, n), high)
    m0 = 1 if blank else 0
    r0, r_sum = G.random_exponent(), G.random_exponent()
    c0 = encrypt_exponent(G, Y, m0, r0)
    c_sum = encrypt_exponent(G, Y, m_sum, r_sum)
    overall, bproof = prove_blank(G, Y, S0, low, high, m0, r0, m_sum, r_sum)
    assert len(overall) == high - low + 2
    assert verify_blank_proof(G, Y, S0, c0, c_sum, bproof)
    assert verify_overall_proof(G, Y, S0, low, high, c0, c_sum, overall)
    assert not verify_blank_proof(G, Y, S0 + "|", c0, c_sum, bproof)
    assert not verify_overall_proof(G, Y, S0, low, high + 1, c0, c_sum, overall)
    for i in range(len(overall)):
        assert not verify_overall_proof(
            G, Y, S0, low, high, c0, c_sum, _tamper(overall, i, "challenge", delta)
        )
    for i in range(2):
        assert not verify_blank_proof(G, Y, S0, c0, c_sum, _tamper(bproof, i, "response", delta))
    swapped = (c_sum, c0)
    if m0 != m_sum:
        assert not verify_blank_proof(G, Y, S0, *swapped, bproof)


def test_blank_proof_refuses_invalid_statements() -> None:
    r = G.random_exponent()
    with pytest.raises(ValueError):
        prove_blank(G, Y, S0, 1, 1, 1, r, 1, r)  # blank and a choice
    with pytest.raises(ValueError):
        prove_blank(G, Y, S0, 1, 1, 0, r, 0, r)  # not blank and too few choices


def test_product_of_choices_is_the_sum() -> None:
    rs = [G.random_exponent() for _ in range(3)]
    cs = [encrypt_exponent(G, Y, m, r) for m, r in zip([1, 0, 1], rs, strict=True)]
    total = product(G, cs)
    assert total == encrypt_exponent(G, Y, 2, sum(rs) % G.q)


@given(exponents, st.text(max_size=20))
def test_signature(secret: mpz, h: str) -> None:
    cred = G.g_pow(secret)
    proof = sign(G, secret, h)
    assert verify_signature(G, cred, h, proof)
    assert not verify_signature(G, cred, h + "x", proof)
    assert not verify_signature(G, G.mul(cred, G.g), h, proof)
    assert not verify_signature(G, cred, h, Proof(proof.challenge, (proof.response + 1) % G.q))


@given(st.lists(st.integers(min_value=0, max_value=255), min_size=1, max_size=5))
def test_nh_answer(values: list[int]) -> None:
    c, proof = create_nh_answer(G, Y, S0, values)
    assert verify_nh_answer(G, Y, S0, c, proof)
    assert not verify_nh_answer(G, Y, S0 + "x", c, proof)
    assert not verify_nh_answer(G, Y, S0, Ciphertext(c.alpha, G.mul(c.beta, G.g)), proof)
    assert not verify_nh_answer(G, Y, S0, c, Proof((proof.challenge + 1) % G.q, proof.response))
    # Decrypting with the key gives back the encoded vector.
    from keys.embedding import group_decode

    xi = G.div(c.beta, G.pow(c.alpha, X))
    assert group_decode(G, xi, len(values)) == values
