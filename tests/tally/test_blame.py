"""tally.blame: the wrong partial decryption (valid Belenios 2.0 proof) is found and named.

The small test group; trustees are the server's Single key (trustee 1) and a Pedersen 2 of 3
(trustees 2, 3, 4), or 2 of 5, or 2 of 2, as in a session.
"""

from __future__ import annotations

import functools
from typing import Any

import pytest
from gmpy2 import mpz
from hypothesis import given, settings
from hypothesis import strategies as st

from keys.elgamal import Ciphertext, encrypt_element, encrypt_exponent
from keys.embedding import group_encode, is_encoding
from keys.group import TEST_256, Group
from keys.trustee_key import generate_trustee_key
from tally.blame import VerdictKind, judge
from tally.decryption import PartialDecryption, check_partial_decryption, compute_partial_decryption
from tally.election import Election, generate_uuid, make_election
from tally.errors import RecordError
from tally.result import compute_result
from tally.trustees import PedersenTrustees, SingleTrustee, Trustees, combined_public_key
from tests.security.forgery import forge_partial_decryption
from tests.trustees.ceremony import run_ceremony

MOTION: dict[str, Any] = {
    "description": "t",
    "name": "t",
    "questions": [{"question": "Q", "answers": ["赞成", "反对", "弃权"], "min": 1, "max": 1}],
}
WRITE_IN: dict[str, Any] = {
    "description": "t",
    "name": "t",
    "questions": [
        {"question": "Q1", "answers": ["yes", "no"], "min": 0, "max": 1},
        {"type": "NonHomomorphic", "value": {"question": "Q2", "answers": ["x", "y", "z"]}},
    ],
}
COUNTS = (3, 1, 0)
BALLOTS = ((1, 0, 2), (0, 0, 0), (2, 2, 1), (0, 1, 0))


@functools.cache
def _setup(n: int, k: int, template: str) -> tuple[Election, Trustees, tuple[mpz, ...]]:
    group = TEST_256
    x, tpk = generate_trustee_key(group)
    c = run_ceremony(group, n, k)
    trustees = Trustees((SingleTrustee(tpk), PedersenTrustees(c.params)))
    y = combined_public_key(group, trustees)
    t = MOTION if template == "motion" else WRITE_IN
    election = make_election(t, uuid=generate_uuid(), group=group, public_key=y)
    return election, trustees, (x, *c.private_keys(group))


def _tally(election: Election, extra: list[mpz] | None = None) -> list[list[Ciphertext]]:
    group, y = election.group, election.public_key
    if len(election.questions) == 1:
        return [[encrypt_exponent(group, y, m, group.random_exponent()) for m in COUNTS]]
    plain = [group_encode(group, b) for b in BALLOTS] + (extra or [])
    return [
        [encrypt_exponent(group, y, m, group.random_exponent()) for m in (2, 2)],
        [encrypt_element(group, y, p, group.random_exponent()) for p in plain],
    ]


def _partials(
    election: Election,
    keys: tuple[mpz, ...],
    tally: list[list[Ciphertext]],
    who: set[int],
    liars: dict[int, Any] | None = None,
) -> dict[int, PartialDecryption]:
    group, fp = election.group, election.fingerprint
    out = {}
    for owner in sorted(who):
        x = keys[owner - 1]
        if liars and owner in liars:
            out[owner] = forge_partial_decryption(group, fp, x, tally, liars[owner])
        else:
            out[owner] = compute_partial_decryption(group, fp, x, tally)
    return out


def _everywhere(_i: int, _j: int) -> bool:
    return True


def test_the_forgery_has_a_valid_belenios_proof_and_a_wrong_factor(group: Group) -> None:
    election, trustees, keys = _setup(3, 2, "motion")
    tally = _tally(election)
    forged = _partials(election, keys, tally, {4}, {4: _everywhere})[4]
    honest = compute_partial_decryption(group, election.fingerprint, keys[3], tally)
    public = group.g_pow(keys[3])
    check_partial_decryption(group, election.fingerprint, public, tally, forged)  # passes
    assert forged.decryption_factors != honest.decryption_factors
    # combined with the server and one honest scrutineer, the tally does not decrypt
    pds = _partials(election, keys, tally, {1, 2}) | {4: forged}
    with pytest.raises(RecordError, match="does not give a count"):
        compute_result(election, trustees, tally, pds, total_weight=4)


def test_homomorphic_liar_is_named_and_the_honest_ones_tally() -> None:
    election, trustees, keys = _setup(3, 2, "motion")
    tally = _tally(election)
    pds = _partials(election, keys, tally, {1, 2, 3, 4}, {4: _everywhere})
    v = judge(election, trustees, tally, pds, total_weight=4)
    assert v.kind is VerdictKind.TALLIED and v.result is not None
    assert v.result.result == (COUNTS,)
    assert v.used == (1, 2, 3) and v.dishonest == (4,)
    # the used ones alone give the same result (what goes into the archive)
    used = {i: pds[i] for i in v.used}
    assert compute_result(election, trustees, tally, used, total_weight=4) == v.result


def test_exactly_k_with_a_liar_waits_and_names_the_suspects() -> None:
    election, trustees, keys = _setup(3, 2, "motion")
    tally = _tally(election)
    pds = _partials(election, keys, tally, {1, 2, 4}, {4: _everywhere})
    v = judge(election, trustees, tally, pds, total_weight=4)
    assert v.kind is VerdictKind.NEED_ANOTHER and v.result is None
    assert v.suspects == (2, 4) and v.dishonest == () and v.used == ()
    assert "do not decode" in v.reason
    # the honest pair tallies with nobody named
    honest = _partials(election, keys, tally, {1, 2, 3})
    ok = judge(election, trustees, tally, honest, total_weight=4)
    assert ok.tallied and ok.dishonest == () and ok.used == (1, 2, 3)


def test_a_single_wrong_factor_is_found() -> None:
    election, trustees, keys = _setup(3, 2, "motion")
    tally = _tally(election)

    def one(i: int, j: int) -> bool:
        return (i, j) == (0, 1)

    pds = _partials(election, keys, tally, {1, 2, 3, 4}, {2: one})
    v = judge(election, trustees, tally, pds, total_weight=4)
    assert v.tallied and v.dishonest == (2,) and v.used == (1, 3, 4)
    assert v.result is not None and v.result.result == (COUNTS,)


def test_two_liars_of_five_are_named() -> None:
    election, trustees, keys = _setup(5, 2, "motion")
    tally = _tally(election)
    pds = _partials(election, keys, tally, {1, 2, 3, 4, 5, 6}, {3: _everywhere, 6: _everywhere})
    v = judge(election, trustees, tally, pds, total_weight=4)
    assert v.tallied and v.dishonest == (3, 6) and v.used == (1, 2, 4, 5)


def test_two_liars_of_three_answers_cannot_be_told() -> None:
    election, trustees, keys = _setup(3, 2, "motion")
    tally = _tally(election)
    pds = _partials(election, keys, tally, {1, 2, 3, 4}, {3: _everywhere, 4: _everywhere})
    v = judge(election, trustees, tally, pds, total_weight=4)
    assert v.kind is VerdictKind.CONFLICT and v.suspects == (2, 3, 4) and v.result is None


def test_too_few_partial_decryptions_are_refused() -> None:
    election, trustees, keys = _setup(3, 2, "motion")
    tally = _tally(election)
    with pytest.raises(RecordError, match="of 2 needed"):
        judge(election, trustees, tally, _partials(election, keys, tally, {1, 2}), total_weight=4)


def test_shuffled_liar_never_turns_ballots_void() -> None:
    """A write-in (non-homomorphic) poll: a wrong factor gives ballots that do not decode; they
    are never taken as void ballots."""
    election, trustees, keys = _setup(3, 2, "writein")
    tally = _tally(election)
    pds = _partials(election, keys, tally, {1, 2, 3, 4}, {3: _everywhere})
    v = judge(election, trustees, tally, pds, total_weight=4)
    assert v.tallied and v.dishonest == (3,) and v.used == (1, 2, 4)
    assert v.result is not None and v.result.result == ((2, 2), BALLOTS)
    assert v.malformed == ()
    # with exactly k answered, the liar among them: the tally waits
    some = {i: pds[i] for i in (1, 2, 3)}
    w = judge(election, trustees, tally, some, total_weight=4)
    assert w.kind is VerdictKind.NEED_ANOTHER and w.suspects == (2, 3)
    assert "count(s) do not decode" in w.reason
    # ... also when it forged the ballots only (the write-in question's row)
    some = _partials(election, keys, tally, {1, 2, 3}, {3: lambda i, _j: i == 1})
    w = judge(election, trustees, tally, some, total_weight=4)
    assert w.kind is VerdictKind.NEED_ANOTHER and w.suspects == (2, 3)
    assert "malformed ballot or a wrong partial decryption" in w.reason


def test_only_one_ballot_forged_is_found() -> None:
    election, trustees, keys = _setup(3, 2, "writein")
    tally = _tally(election)

    def third_ballot(i: int, j: int) -> bool:
        return (i, j) == (1, 2)

    pds = _partials(election, keys, tally, {1, 2, 3, 4}, {4: third_ballot})
    v = judge(election, trustees, tally, pds, total_weight=4)
    assert v.tallied and v.dishonest == (4,)
    assert v.result is not None and v.result.result == ((2, 2), BALLOTS)


def _malformed(group: Group) -> mpz:
    """A group element that is no encoding (bits above the values): a hacked tablet's."""
    x = mpz(1) << 200
    while not group.is_element(x):
        x += 1
    assert not is_encoding(group, x, 3)
    return x


def test_a_malformed_ballot_is_told_from_a_wrong_factor() -> None:
    election, trustees, keys = _setup(3, 2, "writein")
    group = election.group
    tally = _tally(election, [_malformed(group)])
    # exactly k answered and another can answer: a malformed ballot looks like a liar; wait
    pds = _partials(election, keys, tally, {1, 2, 3})
    v = judge(election, trustees, tally, pds, total_weight=5)
    assert v.kind is VerdictKind.NEED_ANOTHER and v.suspects == (2, 3)
    # k + 1 agree: the ballot is malformed (kept, void by the rules), nobody is named
    pds = _partials(election, keys, tally, {1, 2, 3, 4})
    v = judge(election, trustees, tally, pds, total_weight=5)
    assert v.tallied and v.dishonest == () and v.malformed == ((1, 4),)
    # ... and a liar is still named beside it
    pds = _partials(election, keys, tally, {1, 2, 3, 4}, {2: lambda i, j: j < 4})
    v = judge(election, trustees, tally, pds, total_weight=5)
    assert v.tallied and v.dishonest == (2,) and v.malformed == ((1, 4),)


def test_with_k_of_k_nothing_can_be_cross_checked_and_it_says_so() -> None:
    election, trustees, keys = _setup(2, 2, "writein")
    tally = _tally(election, [_malformed(election.group)])
    pds = _partials(election, keys, tally, {1, 2, 3})
    v = judge(election, trustees, tally, pds, total_weight=5)
    assert v.tallied and v.malformed == ((1, 4),) and "not cross-checked" in v.reason


def test_is_encoding(group: Group) -> None:
    for values in ([0, 0, 0], [255, 1, 7], [3]):
        assert is_encoding(group, group_encode(group, values), len(values))
    x = group_encode(group, [1, 2])
    assert not is_encoding(group, x, 1)  # bits above the one value
    # not the smallest eps of the padding
    base = (x >> 8) << 8
    later = next(base + e for e in range(int(x - base) + 1, 256) if group.is_element(base + e))
    assert not is_encoding(group, later, 2)


@settings(max_examples=25)
@given(
    kind=st.sampled_from(["motion", "writein"]),
    liar=st.sampled_from([None, 2, 3, 4]),
    absent=st.sampled_from([None, 2, 3, 4]),
    data=st.data(),
)
def test_property_the_liar_alone_is_named(
    kind: str, liar: int | None, absent: int | None, data: st.DataObject
) -> None:
    """Any answered set of the 2 of 3 with at most one liar: never an honest one named; the
    result is the honest one whenever a verdict is given; a liar is always found among k + 1."""
    election, trustees, keys = _setup(3, 2, kind)
    tally = _tally(election)
    positions = [(i, j) for i, row in enumerate(tally) for j in range(len(row))]
    forged = set(data.draw(st.lists(st.sampled_from(positions), min_size=1, max_size=3)))
    who = {1, 2, 3, 4} - ({absent} if absent is not None else set())
    liars = {liar: lambda i, j: (i, j) in forged} if liar in who else None
    v = judge(
        election, trustees, tally, _partials(election, keys, tally, who, liars), total_weight=4
    )
    assert set(v.dishonest) <= ({liar} if liar is not None else set())
    if v.tallied:
        assert v.result is not None
        expected = (COUNTS,) if kind == "motion" else ((2, 2), BALLOTS)
        assert v.result.result == expected
        assert liar not in v.used
    if liars and absent is None:
        assert v.tallied and v.dishonest == (liar,)
    if liars and absent is not None:
        assert v.kind is VerdictKind.NEED_ANOTHER and liar in v.suspects
    if not liars:
        assert v.tallied and v.dishonest == ()
