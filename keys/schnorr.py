"""Schnorr proofs of knowledge of a discrete logarithm: the ``proof`` of spec §4.3 with the
single base ``g``.

Four objects of the specification use one, each hashing its own text into the challenge:
trustee keys (§4.5, ``pok|...``), signed messages (§4.6.1, ``sigmsg|...``), non-homomorphic
answers (§4.11.2, ``raweg|...``) and ballot signatures (§4.14, ``sig|...``). The caller passes
that hash as ``challenge_of(commitment)``; the rest is common:

* proving knowledge of ``secret`` (``public = g^secret``): ``w`` random, ``A = g^w``,
  ``challenge = challenge_of(A)``, ``response = w - secret * challenge mod q``;
* verifying: ``challenge`` and ``response`` in ``[0, q)``, ``A = g^response *
  public^challenge``, and ``challenge_of(A) == challenge``.
"""

from __future__ import annotations

from collections.abc import Callable

from gmpy2 import mpz

from keys.group import Group
from keys.proof import Proof

ChallengeOf = Callable[[mpz], mpz]


def prove(group: Group, secret: mpz, challenge_of: ChallengeOf) -> Proof:
    w = group.random_exponent()
    challenge = challenge_of(group.g_pow(w))
    return Proof(challenge, (w - secret * challenge) % group.q)


def verify(
    group: Group,
    public: mpz,
    proof: Proof,
    challenge_of: ChallengeOf,
    *,
    g_pow: Callable[[mpz], mpz] | None = None,
) -> bool:
    """``public`` must already be a group member; ``g_pow`` may be a faster ``group.g_pow``."""
    if not (0 <= proof.challenge < group.q and 0 <= proof.response < group.q):
        return False
    g_response = (g_pow or group.g_pow)(proof.response)
    commitment = group.mul(g_response, group.pow(public, proof.challenge))
    return bool(challenge_of(commitment) == proof.challenge)
