"""Reference §2: quorum and majority arithmetic, with its test vectors."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tally.rules.quorum import has_quorum, is_majority, majority_minimum, quorum_minimum


@pytest.mark.parametrize(
    ("total", "quorum", "majority"),
    [(120, 80, 61), (45, 30, 23), (51, 34, 26), (200, 134, 101)],
)
def test_reference_vectors(total: int, quorum: int, majority: int) -> None:
    assert quorum_minimum(total) == quorum
    assert majority_minimum(total) == majority
    assert has_quorum(total, quorum) and not has_quorum(total, quorum - 1)
    assert is_majority(majority, total) and not is_majority(majority - 1, total)


def test_handbook_example_seated_not_quota() -> None:
    # quota 125, seated 120: the quorum is 80 (of the seated).
    assert quorum_minimum(120) == 80


@given(st.integers(min_value=1, max_value=10**6))
def test_exactly_two_thirds_present_is_a_quorum(k: int) -> None:
    assert has_quorum(3 * k, 2 * k)
    assert not has_quorum(3 * k, 2 * k - 1)


@given(st.integers(min_value=1, max_value=10**6))
def test_exactly_half_is_never_a_majority(k: int) -> None:
    assert not is_majority(k, 2 * k)
    assert is_majority(k + 1, 2 * k)


@given(st.integers(min_value=1, max_value=10**6))
def test_minimums_are_the_smallest(total: int) -> None:
    q, m = quorum_minimum(total), majority_minimum(total)
    assert has_quorum(total, q) and not has_quorum(total, q - 1)
    assert is_majority(m, total) and not is_majority(m - 1, total)
