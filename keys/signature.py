"""Ballot signatures (spec §4.14): a Schnorr proof of knowledge of the credential secret.

``challenge = SHA256("sig|H|A") mod q`` with ``A = g^w`` and ``H`` the Base64 hash of the
ballot without its signature; ``response = w - secret * challenge mod q``. Verification
recomputes ``A = g^response * credential^challenge``.
"""

from __future__ import annotations

from collections.abc import Callable

import gmpy2
from gmpy2 import mpz

from keys.group import Group, to_str
from keys.hashing import hash_to_zq
from keys.proof import Proof


def signature_hash(group: Group, ballot_hash: str, commitment: mpz) -> mpz:
    return hash_to_zq(f"sig|{ballot_hash}|{to_str(commitment)}", group.q)


def sign(group: Group, secret: mpz, ballot_hash: str) -> Proof:
    """Sign ``ballot_hash`` with the credential secret exponent."""
    w = group.random_exponent()
    challenge = signature_hash(group, ballot_hash, group.g_pow(w))
    return Proof(challenge, (w - secret * challenge) % group.q)


def verify_signature(
    group: Group,
    credential: mpz,
    ballot_hash: str,
    proof: Proof,
    *,
    g_pow: Callable[[mpz], mpz] | None = None,
) -> bool:
    """Check the signature proof against the public credential (a group member)."""
    q, p = group.q, group.p
    if not (0 <= proof.challenge < q and 0 <= proof.response < q):
        return False
    g_s = g_pow(proof.response) if g_pow is not None else group.g_pow(proof.response)
    commitment = gmpy2.f_mod(g_s * gmpy2.powmod(credential, proof.challenge, p), p)
    return bool(signature_hash(group, ballot_hash, commitment) == proof.challenge)
