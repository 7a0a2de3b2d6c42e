from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from keys.embedding import EmbeddingError, group_decode, group_encode, max_value
from keys.group import BELENIOS_2048, RFC_3526_2048, TEST_256


@given(st.lists(st.integers(min_value=0, max_value=255), min_size=0, max_size=29))
def test_round_trip_in_test_group(values: list[int]) -> None:
    x = group_encode(TEST_256, values)
    assert TEST_256.is_element(x)
    assert group_decode(TEST_256, x, len(values)) == values
    # epsilon is the smallest value that gives a group member, within the padding.
    base = x >> 8 << 8
    assert all(not TEST_256.is_element(base + e) for e in range(int(x - base)))


def test_round_trip_in_rfc_group() -> None:
    values = [1, 2, 3, 0, 255, 17]
    x = group_encode(RFC_3526_2048, values)
    assert RFC_3526_2048.is_element(x)
    assert group_decode(RFC_3526_2048, x, 6) == values
    assert max_value(RFC_3526_2048) == 255


def test_all_zero_vector_encodes_to_one() -> None:
    assert group_encode(TEST_256, [0, 0, 0]) == 1


@pytest.mark.parametrize("values", [[256], [-1], [True], [1.0], [0] * 40])
def test_bad_values_are_refused(values: list[object]) -> None:
    with pytest.raises(EmbeddingError):
        group_encode(TEST_256, values)  # type: ignore[arg-type]


def test_group_without_embedding_is_refused() -> None:
    with pytest.raises(EmbeddingError):
        group_encode(BELENIOS_2048, [1])
