from __future__ import annotations

import pytest
from gmpy2 import mpz
from hypothesis import given
from hypothesis import strategies as st

from keys.group import TEST_256
from tally.credentials import (
    PublicCredential,
    parse_public_credentials,
    serialize_public_credentials,
    strip_ids,
    total_weight,
)
from tally.errors import RecordError
from tally.json_format import compact

G = TEST_256


@given(st.lists(st.integers(1, 10**6), min_size=1, max_size=8, unique=True))
def test_serialized_sorted_by_numeric_value_and_round_trips(exps: list[int]) -> None:
    creds = [PublicCredential(G.g_pow(e)) for e in exps]
    raw = serialize_public_credentials(creds)
    parsed = parse_public_credentials(G, raw)
    assert [c.key for c in parsed] == sorted(c.key for c in creds)
    assert "," not in "".join(compact(x.to_str(False)) for x in parsed)
    assert serialize_public_credentials(list(parsed)) == raw


def test_weights_written_only_when_needed() -> None:
    a, b = G.g_pow(5), G.g_pow(7)
    plain = serialize_public_credentials([PublicCredential(a), PublicCredential(b)])
    assert "," not in plain.replace('","', "")
    weighted = serialize_public_credentials([PublicCredential(a, 2), PublicCredential(b)])
    parsed = parse_public_credentials(G, weighted)
    assert sorted(c.weight for c in parsed) == [1, 2]
    assert total_weight(parsed) == 3
    forced = serialize_public_credentials(
        [PublicCredential(a), PublicCredential(b)], with_weights=True
    )
    assert forced.count(",1") == 2


def test_numeric_not_lexicographic_order() -> None:
    small = next(x for x in range(2, 1000) if G.is_element(x))
    big = G.g_pow(12345)
    raw = serialize_public_credentials([PublicCredential(big), PublicCredential(mpz(small))])
    assert raw == compact([str(small), str(big)])


@pytest.mark.parametrize(
    "items",
    [
        ["x"],
        ["0"],
        [str(G.p)],
        ["07"],
        [5],
        ["{g},1,id"],
        ["{g},-1"],
        ["{g},01"],
        ["{g},"],
        ["{g}", "{g}"],
        ["{g}", "{g},2"],
    ],
)
def test_bad_lists_are_refused(items: list[object]) -> None:
    raw = compact([i.replace("{g}", str(G.g)) if isinstance(i, str) else i for i in items])
    with pytest.raises(RecordError):
        parse_public_credentials(G, raw)


@pytest.mark.parametrize("raw", ["{}", "", '"a"', "[1"])
def test_non_lists_are_refused(raw: str) -> None:
    with pytest.raises(RecordError):
        parse_public_credentials(G, raw)


def test_strip_ids_as_archive_init() -> None:
    raw = compact(["11,,voter1", "12,3,voter2", "13", "14,2"])
    assert strip_ids(raw) == compact(["11", "12,3", "13", "14,2"])
    with pytest.raises(RecordError):
        strip_ids(compact(["1,2,3,4"]))
