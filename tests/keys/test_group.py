from __future__ import annotations

import gmpy2
import pytest
from hypothesis import given
from hypothesis import strategies as st

from keys.group import BELENIOS_2048, RFC_3526_2048, TEST_256, Group, GroupError, group_by_name


@pytest.mark.parametrize("grp", [BELENIOS_2048, RFC_3526_2048, TEST_256], ids=lambda g: g.name)
def test_group_parameters_are_sound(grp: Group) -> None:
    assert gmpy2.is_prime(grp.p) and gmpy2.is_prime(grp.q)
    assert (grp.p - 1) % grp.q == 0
    assert grp.g != 1 and grp.is_element(grp.g)


def test_group_lookup_refuses_the_test_group_from_outside() -> None:
    assert group_by_name("BELENIOS-2048") is BELENIOS_2048
    with pytest.raises(GroupError):
        group_by_name("RENDA-TEST-256")
    assert group_by_name("RENDA-TEST-256", allow_test=True) is TEST_256


@pytest.mark.parametrize("text", ["", "01", "-1", " 1", "1 ", "1e3", "0x10", "１"])
def test_non_canonical_numbers_are_refused(text: str) -> None:
    with pytest.raises(GroupError):
        TEST_256.parse_exponent(text)


def test_non_strings_are_refused() -> None:
    for value in (5, None, 5.0, ["5"]):
        with pytest.raises(GroupError):
            TEST_256.parse_exponent(value)


@given(st.integers(min_value=1, max_value=int(TEST_256.q) - 1))
def test_powers_of_g_are_elements(k: int) -> None:
    x = TEST_256.g_pow(k)
    assert TEST_256.parse_element(str(x)) == x


@given(st.integers(min_value=2, max_value=int(TEST_256.p) - 1))
def test_membership_matches_order_check(x: int) -> None:
    in_subgroup = gmpy2.powmod(x, TEST_256.q, TEST_256.p) == 1
    assert TEST_256.is_element(x) == in_subgroup


def test_elements_outside_the_group_are_refused() -> None:
    for grp in (BELENIOS_2048, RFC_3526_2048):
        for bad in (0, 1 - 1, grp.p, grp.p + 1, grp.p - 1):
            with pytest.raises(GroupError):
                grp.parse_element(str(bad))
    # p-1 has order 2; a generator of Z*_p is not in the subgroup of BELENIOS-2048
    assert not BELENIOS_2048.is_element(BELENIOS_2048.p - 1)
