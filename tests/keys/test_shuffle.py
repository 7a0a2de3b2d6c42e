"""keys.shuffle and keys.multiexp in the small test group."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import gmpy2
import pytest
from gmpy2 import mpz
from hypothesis import given, settings
from hypothesis import strategies as st

from keys.elgamal import Ciphertext, encrypt_element
from keys.group import TEST_256, Group, GroupError
from keys.multiexp import FixedBase, multi_exp, split_evenly
from keys.shuffle import (
    ShuffleError,
    ShuffleProof,
    check_shuffle_proof,
    check_shuffle_proof_exact,
    gen_permutation,
    gen_shuffle,
    gen_shuffle_proof,
    get_generator,
    get_generators,
    get_nizkp_challenge,
    get_nizkp_challenges,
    shuffle_proof_error,
)

G = TEST_256
FP = "fingerprint"


def _setup(n: int, group: Group = G) -> tuple[mpz, mpz, list[Ciphertext]]:
    x = group.random_exponent()
    y = group.g_pow(x)
    e = [encrypt_element(group, y, group.g_pow(i + 5), group.random_exponent()) for i in range(n)]
    return x, y, e


def _decrypt(group: Group, x: mpz, cs: list[Ciphertext] | tuple[Ciphertext, ...]) -> list[int]:
    return sorted(int(group.div(c.beta, group.pow(c.alpha, x))) for c in cs)


@settings(max_examples=15, deadline=None)
@given(st.integers(min_value=0, max_value=9))
def test_shuffle_is_a_reencrypted_permutation_with_a_valid_proof(n: int) -> None:
    x, y, e = _setup(n)
    e2, r2, psi = gen_shuffle(G, y, e)
    assert sorted(psi) == list(range(n))
    for i in range(n):
        src = e[psi[i]]
        assert e2[i].alpha == G.mul(src.alpha, G.g_pow(r2[psi[i]]))
    assert _decrypt(G, x, e2) == _decrypt(G, x, e)
    proof = gen_shuffle_proof(G, FP, y, e, e2, r2, psi)
    assert check_shuffle_proof(G, FP, y, e, e2, proof)
    assert check_shuffle_proof_exact(G, FP, y, e, e2, proof)


def test_tampered_shuffles_are_refused() -> None:
    _, y, e = _setup(6)
    e2, r2, psi = gen_shuffle(G, y, e)
    proof = gen_shuffle_proof(G, FP, y, e, e2, r2, psi)
    swapped = list(e2)
    swapped[0], swapped[3] = swapped[3], swapped[0]
    dropped = e2[:-1]
    duplicated = (*e2[:-1], e2[0])
    bumped = (Ciphertext(e2[2].alpha, G.mul(e2[2].beta, G.g)), *e2[1:])
    for bad in (swapped, duplicated, bumped):
        assert not check_shuffle_proof(G, FP, y, e, bad, proof)
        assert not check_shuffle_proof_exact(G, FP, y, e, bad, proof)
    assert "6 input" in (shuffle_proof_error(G, FP, y, e, dropped, proof) or "")
    assert not check_shuffle_proof(G, FP, y, e[1:] + e[:1], e2, proof)
    assert not check_shuffle_proof(G, FP, G.g_pow(3), e, e2, proof)
    assert not check_shuffle_proof(G, FP + "!", y, e, e2, proof)


@pytest.mark.parametrize("field", ["t1", "t2", "t3", "t41", "t42", "s1", "s2", "s3", "s4"])
def test_each_changed_proof_value_is_refused(field: str) -> None:
    _, y, e = _setup(4)
    e2, r2, psi = gen_shuffle(G, y, e)
    proof = gen_shuffle_proof(G, FP, y, e, e2, r2, psi)
    data = proof.__dict__.copy()
    value = data[field]
    data[field] = G.mul(value, G.g) if field.startswith("t") else (value + 1) % G.q
    bad = ShuffleProof(**data)
    assert not check_shuffle_proof(G, FP, y, e, e2, bad)
    assert not check_shuffle_proof_exact(G, FP, y, e, e2, bad)


@pytest.mark.parametrize("field", ["t_hat", "s_hat", "s_prime", "c", "c_hat"])
@pytest.mark.parametrize("index", [0, 3])
def test_each_changed_proof_array_item_is_refused(field: str, index: int) -> None:
    _, y, e = _setup(4)
    e2, r2, psi = gen_shuffle(G, y, e)
    proof = gen_shuffle_proof(G, FP, y, e, e2, r2, psi)
    data = proof.__dict__.copy()
    items = list(data[field])
    if field.startswith("s"):
        items[index] = (items[index] + 1) % G.q
    else:
        items[index] = G.mul(items[index], G.g)
    data[field] = tuple(items)
    bad = ShuffleProof(**data)
    assert not check_shuffle_proof(G, FP, y, e, e2, bad)
    assert not check_shuffle_proof_exact(G, FP, y, e, e2, bad)


def test_a_forged_proof_for_a_substituted_ciphertext_is_refused() -> None:
    # The shuffler replaces one ballot by its own and proves with the wrong randomness.
    _, y, e = _setup(5)
    e2, r2, psi = gen_shuffle(G, y, e)
    forged = list(e2)
    forged[1] = encrypt_element(G, y, G.g_pow(99), G.random_exponent())
    proof = gen_shuffle_proof(G, FP, y, e, forged, r2, psi)
    assert not check_shuffle_proof(G, FP, y, e, forged, proof)
    assert not check_shuffle_proof_exact(G, FP, y, e, forged, proof)


def test_executor_gives_the_same_verdicts() -> None:
    _, y, e = _setup(9)
    with ThreadPoolExecutor(2) as pool:
        e2, r2, psi = gen_shuffle(G, y, e, executor=pool)
        proof = gen_shuffle_proof(G, FP, y, e, e2, r2, psi, executor=pool)
        assert check_shuffle_proof(G, FP, y, e, e2, proof, executor=pool)
        bad = (e2[1], e2[0], *e2[2:])
        assert not check_shuffle_proof(G, FP, y, e, bad, proof, executor=pool)
    assert check_shuffle_proof_exact(G, FP, y, e, e2, proof)


def test_proof_json_round_trip_and_strict_parsing() -> None:
    _, y, e = _setup(3)
    e2, r2, psi = gen_shuffle(G, y, e)
    proof = gen_shuffle_proof(G, FP, y, e, e2, r2, psi)
    obj = proof.to_json()
    assert ShuffleProof.from_json(G, json.loads(json.dumps(obj))) == proof
    assert len(obj) == 4 and len(obj[0]) == 5 and len(obj[0][3]) == 2 and len(obj[1]) == 6
    bad_shapes = [
        obj[:3],
        [obj[0][:4], *obj[1:]],
        [obj[0], obj[1], obj[2][:2], obj[3]],
        [obj[0], [*obj[1][:4], obj[1][4], obj[1][5][:1]], obj[2], obj[3]],
        [[*obj[0][:3], obj[0][3][0], obj[0][4]], *obj[1:]],
    ]
    for bad in bad_shapes:
        with pytest.raises(GroupError):
            ShuffleProof.from_json(G, bad)
    not_member = json.loads(json.dumps(obj))
    not_member[2][0] = str(G.p - 1)  # -1 is not a quadratic residue for this safe prime
    with pytest.raises(GroupError, match="not an element"):
        ShuffleProof.from_json(G, not_member)
    too_big = json.loads(json.dumps(obj))
    too_big[1][0] = str(G.q)
    with pytest.raises(GroupError, match="below the group order"):
        ShuffleProof.from_json(G, too_big)
    leading_zero = json.loads(json.dumps(obj))
    leading_zero[1][1] = "0" + leading_zero[1][1]
    with pytest.raises(GroupError, match="canonical"):
        ShuffleProof.from_json(G, leading_zero)


def test_generators_follow_table_8() -> None:
    h, hh = get_generators(G, 5)
    assert h == get_generator(G, -1)
    assert hh == tuple(get_generator(G, i) for i in range(5))
    digest = int("0" + __import__("hashlib").sha256(b"ggen|2").hexdigest(), 16)
    assert hh[2] == gmpy2.powmod(digest, G.cofactor, G.p)
    assert len({h, *hh}) == 6 and all(G.is_element(x) for x in (h, *hh))
    # A tiny group where generators must collide: the avoid set refuses it.
    tiny = Group(name="tiny", p=mpz(23), q=mpz(11), g=mpz(4))
    with pytest.raises(ShuffleError):
        get_generators(tiny, 12)


def test_challenges_follow_tables_11_and_13() -> None:
    import hashlib

    def hx(s: str) -> str:
        return hashlib.sha256(s.encode()).hexdigest()

    u = get_nizkp_challenges(G, 3, "abc")
    assert u[2] == int(hx(hx("abc") + hx("2")), 16) % G.q
    assert get_nizkp_challenge(G, "abc") == int(hx("abc"), 16) % G.q


def test_permutations_are_permutations() -> None:
    for n in (0, 1, 2, 7):
        assert sorted(gen_permutation(n)) == list(range(n))
    assert len({gen_permutation(6) for _ in range(60)}) > 20


@settings(max_examples=30, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(1, int(G.p) - 1), st.integers(0, 2**300)), min_size=0, max_size=40
    )
)
def test_multi_exp_matches_powmod_products(pairs: list[tuple[int, int]]) -> None:
    expected = mpz(1)
    for b, x in pairs:
        expected = expected * gmpy2.powmod(b, x, G.p) % G.p
    assert multi_exp(G.p, [mpz(b) for b, _ in pairs], [x for _, x in pairs]) == expected


@settings(max_examples=30, deadline=None)
@given(st.integers(0, int(G.q) - 1), st.sampled_from([3, 4, 6, 8]))
def test_fixed_base_matches_powmod(x: int, window: int) -> None:
    fb = FixedBase(G.p, G.g, int(G.q.bit_length()), window)
    assert fb.pow(x) == G.g_pow(x)
    assert fb.pow(int(G.q) * 5 + x) == G.g_pow(int(G.q) * 5 + x)


def test_split_evenly() -> None:
    assert split_evenly(0, 2) == []
    assert split_evenly(5, 2) == [range(0, 3), range(3, 5)]
    assert split_evenly(1, 4) == [range(0, 1)]


def test_commitment_helpers_follow_tables_9_and_12() -> None:
    from keys.shuffle import gen_commitment_chain, gen_permutation_commitment

    _, hh = get_generators(G, 4)
    psi = (2, 0, 3, 1)
    c, r = gen_permutation_commitment(G, psi, hh)
    for i in range(4):
        assert c[psi[i]] == G.mul(G.g_pow(r[psi[i]]), hh[i])
    u = (mpz(3), mpz(5), mpz(7))
    chain, rs = gen_commitment_chain(G, G.g_pow(11), u)
    prev = G.g_pow(11)
    for ci, ri, ui in zip(chain, rs, u, strict=True):
        assert ci == G.mul(G.g_pow(ri), G.pow(prev, ui))
        prev = ci
