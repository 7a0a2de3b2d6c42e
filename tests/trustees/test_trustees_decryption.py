"""The trustees structure, partial decryptions and their combination."""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Sequence

import pytest
from gmpy2 import mpz
from hypothesis import given, settings
from hypothesis import strategies as st

from keys.elgamal import Ciphertext, encrypt_exponent
from keys.group import TEST_256, Group
from keys.proof import Proof
from keys.trustee_key import generate_trustee_key
from tally.decryption import (
    PartialDecryption,
    check_partial_decryption,
    combine_factors,
    compute_partial_decryption,
    owned_partial_decryption,
    parse_owned_partial_decryption,
    parse_partial_decryption,
)
from tally.errors import RecordError
from tally.result import decrypt_with_factors, discrete_log
from tally.trustees import (
    PedersenTrustees,
    SingleTrustee,
    Trustees,
    check_trustees,
    combined_public_key,
    parse_trustees,
    serialize_trustees,
    trustee_slots,
)
from tests.trustees.ceremony import run_ceremony

FP = "fingerprint0123456789abcdefghijklmnopqrstuvw"


def _setup(group: Group, n: int, k: int) -> tuple[Trustees, list[mpz]]:
    """[Single, Pedersen k-of-n]; returns the trustees and every private key by id."""
    x, tpk = generate_trustee_key(group)
    c = run_ceremony(group, n, k)
    return Trustees((SingleTrustee(tpk), PedersenTrustees(c.params))), [x, *c.private_keys(group)]


def _tally(group: Group, y: mpz, counts: Sequence[Sequence[int]]) -> list[list[Ciphertext]]:
    return [[encrypt_exponent(group, y, m, group.random_exponent()) for m in row] for row in counts]


def _counts(
    group: Group, tally: list[list[Ciphertext]], factors: list[list[mpz]]
) -> list[list[int | None]]:
    return [
        [discrete_log(group, x, 100) for x in row]
        for row in decrypt_with_factors(group, tally, factors)
    ]


def test_trustees_round_trip_and_check(group: Group) -> None:
    trustees, keys = _setup(group, 3, 2)
    raw = serialize_trustees(trustees)
    assert raw.startswith('[["Single",{"pok":{') and '["Pedersen",{"threshold":2,' in raw
    parsed = parse_trustees(group, raw)
    assert parsed == trustees and serialize_trustees(parsed) == raw
    check_trustees(group, parsed)
    assert [s.owner for s in trustee_slots(trustees)] == [1, 2, 3, 4]
    ped = trustees.items[1]
    assert isinstance(ped, PedersenTrustees)
    pedersen_key = group.mul(
        *(group.pow(vk.public_key, 0) for vk in ped.params.verification_keys[:2])
    )
    assert combined_public_key(group, trustees) == group.mul(
        group.g_pow(keys[0]), combined_public_key(group, Trustees((ped,)))
    )
    assert pedersen_key == 1


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("[]", "at least one item"),
        ("{}", "array"),
        ('[["Triple",{}]]', "unknown kind"),
        ('[["Single"]]', "must be"),
        ('[["Single",{"pok":{"challenge":"1","response":"1"}}]]', "public_key"),
        (
            '[["Pedersen",{"threshold":"2","certs":[],"coefexps":[],"verification_keys":[]}]]',
            "integer",
        ),
        ("[[", "not valid JSON"),
    ],
)
def test_bad_trustees_refused(group: Group, raw: str, message: str) -> None:
    with pytest.raises(RecordError, match=message):
        parse_trustees(group, raw)


def test_check_trustees_names_the_item(group: Group) -> None:
    trustees, _ = _setup(group, 3, 2)
    single = trustees.items[0]
    assert isinstance(single, SingleTrustee)
    bad_key = dataclasses.replace(single.key, pok=Proof(single.key.pok.challenge, 7))
    with pytest.raises(RecordError, match=r"item 1 \(Single\)"):
        check_trustees(group, Trustees((SingleTrustee(bad_key), trustees.items[1])))
    ped = trustees.items[1]
    assert isinstance(ped, PedersenTrustees)
    bad = dataclasses.replace(ped.params, threshold=1)
    with pytest.raises(RecordError, match=r"item 2 \(Pedersen\): threshold is 1"):
        check_trustees(group, Trustees((single, PedersenTrustees(bad))))


def test_partial_decryption_round_trip_and_proofs(group: Group) -> None:
    x, tpk = generate_trustee_key(group)
    tally = _tally(group, tpk.public_key, [[1, 0], [2, 3, 0]])
    pd = compute_partial_decryption(group, FP, x, tally)
    check_partial_decryption(group, FP, tpk.public_key, tally, pd)
    raw = pd.serialize()
    assert raw.startswith('{"decryption_factors":[["')
    assert parse_partial_decryption(group, raw) == pd
    owned = owned_partial_decryption(3, raw)
    assert parse_owned_partial_decryption(owned.serialize()) == owned
    assert owned.serialize() == '{"owner":3,"payload":"' + owned.payload + '"}'
    with pytest.raises(RecordError, match="proof"):
        check_partial_decryption(group, FP + "x", tpk.public_key, tally, pd)
    with pytest.raises(RecordError):
        check_partial_decryption(group, FP, group.mul(tpk.public_key, group.g), tally, pd)


def test_wrong_factor_refused(group: Group) -> None:
    trustees, keys = _setup(group, 3, 2)
    y = combined_public_key(group, trustees)
    tally = _tally(group, y, [[1, 2]])
    pds = {i + 1: compute_partial_decryption(group, FP, k, tally) for i, k in enumerate(keys)}
    pd = pds[3]
    f = pd.decryption_factors
    wrong = PartialDecryption(((group.mul(f[0][0], group.g), f[0][1]),), pd.decryption_proofs)
    with pytest.raises(RecordError, match=r"proof \[0\]\[0\] is invalid"):
        check_partial_decryption(group, FP, trustee_slots(trustees)[2].key.public_key, tally, wrong)
    with pytest.raises(RecordError, match="from trustee 3"):
        combine_factors(group, trustees, {**pds, 3: wrong}, fingerprint=FP, encrypted_tally=tally)
    # a correct decryption filed under another trustee's id is refused too
    with pytest.raises(RecordError, match="from trustee 2"):
        combine_factors(
            group, trustees, {1: pds[1], 2: pds[3]}, fingerprint=FP, encrypted_tally=tally
        )
    short = PartialDecryption((f[0][:1],), (pd.decryption_proofs[0][:1],))
    with pytest.raises(RecordError, match="shape"):
        check_partial_decryption(group, FP, trustee_slots(trustees)[2].key.public_key, tally, short)


@pytest.mark.parametrize(("n", "k"), [(3, 2), (5, 3)])
def test_every_subset_decrypts_the_same(group: Group, n: int, k: int) -> None:
    trustees, keys = _setup(group, n, k)
    y = combined_public_key(group, trustees)
    tally = _tally(group, y, [[3, 0, 1], [5]])
    pds = {i + 1: compute_partial_decryption(group, FP, key, tally) for i, key in enumerate(keys)}
    ids = range(2, n + 2)
    for size in range(k, n + 1):
        for subset in itertools.combinations(ids, size):
            chosen = {1: pds[1], **{z: pds[z] for z in subset}}
            factors = combine_factors(
                group, trustees, chosen, fingerprint=FP, encrypted_tally=tally
            )
            assert _counts(group, tally, factors) == [[3, 0, 1], [5]], subset
    for subset in itertools.combinations(ids, k - 1):
        with pytest.raises(RecordError, match="not enough partial decryptions"):
            combine_factors(group, trustees, {1: pds[1], **{z: pds[z] for z in subset}})
    with pytest.raises(RecordError, match=r"trustee 1 .* is missing"):
        combine_factors(group, trustees, {z: pds[z] for z in ids})
    with pytest.raises(RecordError, match="unknown trustee"):
        combine_factors(group, trustees, {**pds, n + 2: pds[1]})


@given(
    counts=st.lists(st.lists(st.integers(0, 40), min_size=1, max_size=4), min_size=1, max_size=3)
)
@settings(max_examples=10, deadline=None)
def test_single_trustees_only(counts: list[list[int]]) -> None:
    group = TEST_256
    keys = [generate_trustee_key(group) for _ in range(2)]
    trustees = Trustees(tuple(SingleTrustee(t) for _, t in keys))
    y = combined_public_key(group, trustees)
    assert y == group.g_pow(keys[0][0] + keys[1][0])
    tally = _tally(group, y, counts)
    pds = {i + 1: compute_partial_decryption(group, FP, x, tally) for i, (x, _) in enumerate(keys)}
    factors = combine_factors(group, trustees, pds, fingerprint=FP, encrypted_tally=tally)
    assert _counts(group, tally, factors) == counts


def test_many_ciphertexts(group: Group) -> None:
    """Large tallies (fixed-base tables) give the same proofs and still catch a bad factor."""
    x, tpk = generate_trustee_key(group)
    counts = [[i % 5 for i in range(20)], [1] * 7]
    tally = _tally(group, tpk.public_key, counts)
    pd = compute_partial_decryption(group, FP, x, tally)
    check_partial_decryption(group, FP, tpk.public_key, tally, pd)
    factors = [list(r) for r in pd.decryption_factors]
    assert _counts(group, tally, factors) == counts
    rows = [list(r) for r in pd.decryption_factors]
    rows[0][19] = group.mul(rows[0][19], group.g)
    bad = PartialDecryption(tuple(tuple(r) for r in rows), pd.decryption_proofs)
    with pytest.raises(RecordError, match=r"proof \[0\]\[19\] is invalid"):
        check_partial_decryption(group, FP, tpk.public_key, tally, bad)
