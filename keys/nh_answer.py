"""Non-homomorphic answers (spec §4.11.2): one encrypted group element and a raweg proof.

The plaintext vector is packed into a group element (:mod:`keys.embedding`), encrypted as
``(g^r, y^r * xi)``, and ``proof`` is a Schnorr proof of knowledge of ``r``:
``challenge = SHA256("raweg|S|y,alpha,beta|A") mod q`` with ``A = g^w``,
``response = w - r * challenge mod q``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import gmpy2
from gmpy2 import mpz

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
    w = group.random_exponent()
    challenge = raweg_hash(group, prefix, y, c, group.g_pow(w))
    return c, Proof(challenge, (w - r * challenge) % group.q)


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
    q, p = group.q, group.p
    if not (0 <= proof.challenge < q and 0 <= proof.response < q):
        return False
    g_s = g_pow(proof.response) if g_pow is not None else group.g_pow(proof.response)
    commitment = gmpy2.f_mod(g_s * gmpy2.powmod(c.alpha, proof.challenge, p), p)
    return bool(raweg_hash(group, prefix, y, c, commitment) == proof.challenge)
