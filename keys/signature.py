"""Ballot signatures (spec §4.14): a Schnorr proof of knowledge of the credential secret.

``challenge = SHA256("sig|H|A") mod q`` with ``A = g^w`` and ``H`` the Base64 hash of the
ballot without its signature; ``response = w - secret * challenge mod q``. Verification
recomputes ``A = g^response * credential^challenge``.
"""

from __future__ import annotations

from collections.abc import Callable

from gmpy2 import mpz

from keys import schnorr
from keys.group import Group, to_str
from keys.hashing import hash_to_zq
from keys.proof import Proof


def signature_hash(group: Group, ballot_hash: str, commitment: mpz) -> mpz:
    return hash_to_zq(f"sig|{ballot_hash}|{to_str(commitment)}", group.q)


def sign(group: Group, secret: mpz, ballot_hash: str) -> Proof:
    """Sign ``ballot_hash`` with the credential secret exponent."""
    return schnorr.prove(group, secret, lambda a: signature_hash(group, ballot_hash, a))


def verify_signature(
    group: Group,
    credential: mpz,
    ballot_hash: str,
    proof: Proof,
    *,
    g_pow: Callable[[mpz], mpz] | None = None,
) -> bool:
    """Check the signature proof against the public credential (a group member)."""
    return schnorr.verify(
        group, credential, proof, lambda a: signature_hash(group, ballot_hash, a), g_pow=g_pow
    )
