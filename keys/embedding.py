"""Packing a vector of small integers into one group element (spec §4.11.2).

``group_encode([v1..vn]) = ((v1 * 2^k + v2) * 2^k + ... + vn) * 2^p + eps`` with ``k =
bits_per_int`` and ``p = padding``. Like Belenios, ``eps`` is the smallest value from 0
upwards that makes the result a member of the group. ``group_decode`` reads the n integers
back from the bits above the padding (higher bits are ignored, as Belenios does).
"""

from __future__ import annotations

from collections.abc import Sequence

from gmpy2 import mpz

from keys.group import Embedding, Group


class EmbeddingError(ValueError):
    """Values that cannot be packed into an element of the group."""


def _embedding(group: Group) -> Embedding:
    if group.embedding is None:
        raise EmbeddingError(
            f"the group {group.name} has no embedding: non-homomorphic questions need one "
            "(use RFC-3526-2048)"
        )
    return group.embedding


def max_values(group: Group) -> int:
    """How many integers fit in one element."""
    emb = _embedding(group)
    return (int(group.p).bit_length() - 1 - emb.padding) // emb.bits_per_int


def max_value(group: Group) -> int:
    """The largest integer one position of a vector may hold."""
    return (1 << _embedding(group).bits_per_int) - 1


def group_encode(group: Group, values: Sequence[int]) -> mpz:
    """The group element that encodes ``values`` (each in [0, 2^bits_per_int))."""
    emb = _embedding(group)
    limit = 1 << emb.bits_per_int
    acc = mpz(0)
    for v in values:
        if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v < limit:
            raise EmbeddingError(f"each value must be an integer in [0, {limit - 1}], not {v!r}")
        acc = (acc << emb.bits_per_int) + v
    if len(values) * emb.bits_per_int + emb.padding >= int(group.p).bit_length():
        raise EmbeddingError(f"{len(values)} values do not fit in one element of {group.name}")
    base = acc << emb.padding
    for eps in range(1 << emb.padding):
        if group.is_element(base + eps):
            return base + eps
    raise EmbeddingError("no group element found within the padding (try again never)")


def group_decode(group: Group, x: mpz, count: int) -> list[int]:
    """The ``count`` integers encoded in the element ``x`` (inverse of :func:`group_encode`)."""
    emb = _embedding(group)
    mask = (1 << emb.bits_per_int) - 1
    x = mpz(x) >> emb.padding
    out = [0] * count
    for i in range(count - 1, -1, -1):
        out[i] = int(x & mask)
        x >>= emb.bits_per_int
    return out


def is_encoding(group: Group, x: mpz, count: int) -> bool:
    """Is ``x`` exactly what :func:`group_encode` gives for some ``count`` integers (no bits
    above them, the smallest ``eps`` of the padding)? A decryption with a wrong factor gives
    a pseudo-random element, which is one with negligible probability in a real group."""
    emb = _embedding(group)
    x = mpz(x)
    if x >> (emb.padding + count * emb.bits_per_int):
        return False
    base = (x >> emb.padding) << emb.padding
    return all(not group.is_element(base + eps) for eps in range(int(x - base)))
