"""Fast products of powers modulo ``p``: multi-exponentiation and fixed-base tables.

Pure arithmetic helpers for the shuffle prover and verifier (spec §6). Every function gives
exactly ``prod(b_i ** e_i) mod p``; only the amount of work differs from a loop of
``powmod`` calls. Exponents must be non-negative.

- :func:`multi_exp`: Pippenger's bucket method for many bases (each multiplication of a
  bucket is shared by all exponents' digits), or Shamir's simultaneous method for a few.
- :class:`FixedBase`: a table of ``base ** (d * 2**(w*k))`` so that each exponentiation of
  the same base (``g``, the election key) costs one multiplication per window, no squaring.
- :func:`split_evenly`: cut index ranges for a process pool; the callers keep a serial path.
"""

from __future__ import annotations

from collections.abc import Sequence

import gmpy2
from gmpy2 import mpz


def _pippenger_window(count: int) -> int:
    if count < 32:
        return 4
    if count < 200:
        return 6
    if count < 2000:
        return 8
    return 10


def multi_exp(p: mpz, bases: Sequence[mpz], exponents: Sequence[mpz | int]) -> mpz:
    """``prod(bases[i] ** exponents[i]) mod p`` for non-negative exponents."""
    if len(bases) != len(exponents):
        raise ValueError("multi_exp: as many exponents as bases are needed")
    pairs = [(mpz(b), int(e)) for b, e in zip(bases, exponents, strict=True) if e != 0]
    if any(e < 0 for _, e in pairs):
        raise ValueError("multi_exp: exponents must not be negative")
    if not pairs:
        return mpz(1)
    if len(pairs) <= 2:
        result = mpz(1)
        for b, e in pairs:
            result = (result * gmpy2.powmod(b, e, p)) % p
        return result
    if len(pairs) <= 6:
        return _simultaneous(p, pairs)
    return _pippenger(p, pairs)


def _simultaneous(p: mpz, pairs: list[tuple[mpz, int]]) -> mpz:
    """Shamir's trick: one squaring per bit, one multiplication by a precomputed subset."""
    k = len(pairs)
    table = [mpz(1)] * (1 << k)
    for mask in range(1, 1 << k):
        low = mask & -mask
        j = low.bit_length() - 1
        table[mask] = (table[mask ^ low] * pairs[j][0]) % p
    bits = max(e.bit_length() for _, e in pairs)
    result = mpz(1)
    exps = [e for _, e in pairs]
    for pos in range(bits - 1, -1, -1):
        result = (result * result) % p
        mask = 0
        for j in range(k):
            if (exps[j] >> pos) & 1:
                mask |= 1 << j
        if mask:
            result = (result * table[mask]) % p
    return result


def _pippenger(p: mpz, pairs: list[tuple[mpz, int]]) -> mpz:
    c = _pippenger_window(len(pairs))
    mask = (1 << c) - 1
    bits = max(e.bit_length() for _, e in pairs)
    windows = (bits + c - 1) // c
    result = mpz(1)
    shift_all = 1 << c
    for w in range(windows - 1, -1, -1):
        if w != windows - 1:
            result = gmpy2.powmod(result, shift_all, p)
        shift = w * c
        buckets: list[mpz | None] = [None] * (mask + 1)
        for base, e in pairs:
            d = (e >> shift) & mask
            if d:
                cur = buckets[d]
                buckets[d] = base if cur is None else (cur * base) % p
        running: mpz | None = None
        acc: mpz | None = None
        for d in range(mask, 0, -1):
            b = buckets[d]
            if b is not None:
                running = b if running is None else (running * b) % p
            if running is not None:
                acc = running if acc is None else (acc * running) % p
        if acc is not None:
            result = (result * acc) % p
    return result


class FixedBase:
    """Exponentiation of one base by many exponents below ``2**bits`` with a comb table."""

    def __init__(self, p: mpz, base: mpz, bits: int, window: int = 6) -> None:
        self.p = p
        self.window = window
        self.windows = (bits + window - 1) // window
        size = 1 << window
        table: list[list[mpz]] = []
        current = mpz(base) % p
        for _ in range(self.windows):
            row = [mpz(1), current]
            for _ in range(2, size):
                row.append((row[-1] * current) % p)
            table.append(row)
            current = (row[-1] * current) % p
        self.table = table
        self.limit = 1 << (self.windows * window)

    def pow(self, exponent: mpz | int) -> mpz:
        e = int(exponent)
        if not 0 <= e < self.limit:
            return gmpy2.powmod(self.table[0][1], e, self.p)
        mask = (1 << self.window) - 1
        result = mpz(1)
        p = self.p
        k = 0
        while e:
            d = e & mask
            if d:
                result = (result * self.table[k][d]) % p
            e >>= self.window
            k += 1
        return result


def split_evenly(n: int, parts: int) -> list[range]:
    """Cut ``range(n)`` into at most ``parts`` contiguous, non-empty ranges of near-equal size."""
    parts = max(1, min(parts, n))
    if n == 0:
        return []
    size, extra = divmod(n, parts)
    out = []
    start = 0
    for k in range(parts):
        stop = start + size + (1 if k < extra else 0)
        out.append(range(start, stop))
        start = stop
    return out
