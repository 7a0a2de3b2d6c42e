"""Non-homomorphic answers (spec §4.11.2): one encrypted group element and a raweg proof.

The plaintext vector is packed into a group element (:mod:`keys.embedding`), encrypted as
``(g^r, y^r * xi)``, and ``proof`` is a Schnorr proof of knowledge of ``r``:
``challenge = SHA256("raweg|S|y,alpha,beta|A") mod q`` with ``A = g^w``,
``response = w - r * challenge mod q``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from gmpy2 import mpz

from keys import schnorr
from keys.elgamal import Ciphertext, encrypt_element
from keys.embedding import group_encode
from keys.group import Group, to_str
from keys.hashing import hash_to_zq
from keys.proof import Proof


def raweg_hash(group: Group, prefix: str, y: mpz, c: Ciphertext, commitment: mpz) -> mpz:
    text = f"raweg|{prefix}|{to_str(y)},{to_str(c.alpha)},{to_str(c.beta)}|{to_str(commitment)}"
    return hash_to_zq(text, group.q)


def create_nh_answer(
    group: Group, y: mpz, prefix: str, values: Sequence[int]
) -> tuple[Ciphertext, Proof]:
    """Encrypt the vector ``values`` and prove knowledge of the randomness."""
    xi = group_encode(group, values)
    r = group.random_exponent()
    c = encrypt_element(group, y, xi, r)
    return c, schnorr.prove(group, r, lambda a: raweg_hash(group, prefix, y, c, a))


def verify_nh_answer(
    group: Group,
    y: mpz,
    prefix: str,
    c: Ciphertext,
    proof: Proof,
    *,
    g_pow: Callable[[mpz], mpz] | None = None,
) -> bool:
    """Check the raweg proof. The elements of ``c`` must already be group members."""
    return schnorr.verify(
        group, c.alpha, proof, lambda a: raweg_hash(group, prefix, y, c, a), g_pow=g_pow
    )
