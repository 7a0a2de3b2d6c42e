"""Cached fixed-base power tables for the two bases every ballot proof uses: g and y.

Checking a ballot raises ``g`` and the election key ``y`` to many 256-bit exponents. A comb
table (:class:`keys.multiexp.FixedBase`) turns each such power into about q_bits/6
multiplications instead of a full square-and-multiply; the tables are built once per
(group, key) and per process, then reused for every ballot.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import gmpy2
from gmpy2 import mpz

from keys.group import Group
from keys.multiexp import FixedBase


@dataclass(frozen=True)
class Powers:
    """``g ** e`` and ``y ** e`` mod p for exponents in [0, q), computed from tables."""

    group: Group
    y: mpz
    _g: FixedBase
    _y: FixedBase

    def g_pow(self, e: mpz | int) -> mpz:
        return self._g.pow(e)

    def y_pow(self, e: mpz | int) -> mpz:
        return self._y.pow(e)

    def gy_pow(self, e: mpz | int) -> tuple[mpz, mpz]:
        return self._g.pow(e), self._y.pow(e)

    def mul(self, a: mpz, b: mpz) -> mpz:
        return gmpy2.f_mod(a * b, self.group.p)

    def g_inv_pow(self, m: int) -> mpz:
        """``g ** -m`` for a small natural ``m`` (cached)."""
        return _g_inv_pow(self.group.p, self.group.g, m)


@lru_cache(maxsize=8)
def _tables(p: mpz, base: mpz, bits: int) -> FixedBase:
    return FixedBase(p, base, bits)


@lru_cache(maxsize=4096)
def _g_inv_pow(p: mpz, g: mpz, m: int) -> mpz:
    return gmpy2.invert(gmpy2.powmod(g, m, p), p)


def powers(group: Group, y: mpz) -> Powers:
    """The (cached) tables for ``group.g`` and ``y``."""
    bits = int(group.q).bit_length()
    return Powers(group, mpz(y), _tables(group.p, group.g, bits), _tables(group.p, mpz(y), bits))
