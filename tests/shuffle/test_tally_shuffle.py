"""tally.shuffle: the shuffle structure, nh rows, chains of shuffles (test group)."""

from __future__ import annotations

import json

import pytest

from keys.elgamal import Ciphertext, encrypt_element, encrypt_exponent
from keys.group import TEST_256
from keys.hashing import sha256_hex
from tally.election import Election, generate_uuid, make_election
from tally.errors import RecordError
from tally.shuffle import (
    Shuffle,
    check_shuffle,
    check_shuffle_chain,
    merge_nh,
    nh_ciphertexts,
    owned_shuffle,
    parse_shuffle,
    serialize_shuffle,
    shuffle_ciphertexts,
    shuffled_tally,
)

G = TEST_256
TEMPLATE = {
    "description": "d",
    "name": "n",
    "questions": [
        {"type": "NonHomomorphic", "value": {"answers": ["a", "b"], "question": "NH1"}},
        {"answers": ["A", "B"], "min": 0, "max": 1, "question": "H"},
        {"type": "NonHomomorphic", "value": {"answers": ["c"], "question": "NH2"}},
    ],
}


def _election() -> tuple[Election, object]:
    x = G.random_exponent()
    return make_election(TEMPLATE, uuid=generate_uuid(), group=G, public_key=G.g_pow(x)), x


def _tally(election: Election, n: int) -> tuple[tuple[Ciphertext, ...], ...]:
    y = election.public_key

    def nh(k: int) -> tuple[Ciphertext, ...]:
        return tuple(encrypt_element(G, y, G.g_pow(k + i), G.random_exponent()) for i in range(n))

    h = tuple(encrypt_exponent(G, y, 1, G.random_exponent()) for _ in range(2))
    return (nh(10), h, nh(50))


def test_nh_rows_and_merge() -> None:
    election, _ = _election()
    tally = _tally(election, 3)
    rows = nh_ciphertexts(election, tally)
    assert rows == (tally[0], tally[2])
    swapped = (tally[2], tally[0])
    merged = merge_nh(election, tally, swapped)
    assert merged == (tally[2], tally[1], tally[0])
    with pytest.raises(RecordError):
        merge_nh(election, tally, swapped[:1])
    with pytest.raises(RecordError):
        nh_ciphertexts(election, tally[:2])


def test_shuffle_round_trip_and_chain() -> None:
    election, x = _election()
    tally = _tally(election, 4)
    first = shuffle_ciphertexts(election, nh_ciphertexts(election, tally))
    assert parse_shuffle(G, first.raw) == first
    assert first.raw == serialize_shuffle(first.ciphertexts, first.proofs)
    assert list(json.loads(first.raw)) == ["ciphertexts", "proofs"]
    assert owned_shuffle(2, first).serialize() == (
        f'{{"owner":2,"payload":"{sha256_hex(first.raw)}"}}'
    )
    second = shuffle_ciphertexts(election, first.ciphertexts)
    out = check_shuffle_chain(election, tally, [(1, first), (2, second)])
    assert out == second.ciphertexts
    final = shuffled_tally(election, tally, [first, second])
    assert final[1] == tally[1]

    def plain(row: tuple[Ciphertext, ...]) -> list[int]:
        return sorted(int(G.div(c.beta, G.pow(c.alpha, x))) for c in row)  # type: ignore[arg-type]

    assert plain(final[0]) == plain(tally[0]) and plain(final[2]) == plain(tally[2])
    # Out of order: the second shuffle does not apply to the tally itself.
    with pytest.raises(RecordError, match=r"shuffle #1 \(by trustee 2\)"):
        check_shuffle_chain(election, tally, [(2, second)])


def _mutate(shuffle: Shuffle, row: int, cts: tuple[Ciphertext, ...]) -> Shuffle:
    rows = list(shuffle.ciphertexts)
    rows[row] = cts
    return Shuffle(tuple(rows), shuffle.proofs, serialize_shuffle(tuple(rows), shuffle.proofs))


def test_tampered_shuffles_are_refused_with_plain_messages() -> None:
    election, _ = _election()
    tally = _tally(election, 4)
    nh = nh_ciphertexts(election, tally)
    good = shuffle_ciphertexts(election, nh)
    check_shuffle(election, nh, good)
    row = good.ciphertexts[1]
    cases = {
        "swapped": (row[1], row[0], *row[2:]),
        "dropped": row[:-1],
        "duplicated": (*row[:-1], row[0]),
    }
    for name, cts in cases.items():
        bad = _mutate(good, 1, cts)
        with pytest.raises(RecordError) as info:
            check_shuffle(election, nh, bad)
        msg = str(info.value)
        assert "question 3" in msg, name
        if name == "dropped":
            assert "dropped or added" in msg
        else:
            assert "not valid" in msg
    # A wrong proof: the proof of question 1 used for question 3.
    wrong = Shuffle(good.ciphertexts, (good.proofs[0], good.proofs[0]), good.raw)
    with pytest.raises(RecordError, match="question 3"):
        check_shuffle(election, nh, wrong)
    with pytest.raises(RecordError, match="rows"):
        check_shuffle(election, nh, Shuffle(good.ciphertexts[:1], good.proofs[:1], good.raw))


def test_strict_parsing() -> None:
    election, _ = _election()
    good = shuffle_ciphertexts(election, nh_ciphertexts(election, _tally(election, 2)))
    obj = json.loads(good.raw)
    bad_texts = [
        "[]",
        "not json",
        json.dumps({**obj, "extra": 1}),
        json.dumps({"ciphertexts": obj["ciphertexts"], "proofs": obj["proofs"][:1]}),
        json.dumps({"ciphertexts": [[{"alpha": "1"}]], "proofs": [obj["proofs"][0]]}),
        good.raw.replace('"alpha":"', '"alpha":"0', 1),
    ]
    for text in bad_texts:
        with pytest.raises(RecordError):
            parse_shuffle(G, text)
    with pytest.raises(ValueError):
        owned_shuffle(0, good)
    # Field order is free when reading (the hash is over the raw text anyway).
    reordered = json.dumps({"proofs": obj["proofs"], "ciphertexts": obj["ciphertexts"]})
    assert parse_shuffle(G, reordered).ciphertexts == good.ciphertexts
