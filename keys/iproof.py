"""Proofs of interval membership (spec §4.12): ``iprove`` and its verification.

Given a ciphertext ``(alpha, beta) = (g^r, y^r g^m)`` with ``m = ms[i]``, the proof is one
(challenge, response) pair per candidate value ``ms[j]``; all but the true one are simulated.
The commitments are::

    A_j = g^response_j * alpha^challenge_j
    B_j = y^response_j * (beta / g^ms[j])^challenge_j

and the challenges must add up, modulo q, to
``H_iprove = SHA256("prove|S|alpha,beta|A_0,B_0,...,A_k,B_k") mod q``.
Belenios uses it with ``ms = [0, 1]`` for each choice and ``ms = [min..max]`` for the sum.
"""

from __future__ import annotations

from collections.abc import Sequence

import gmpy2
from gmpy2 import mpz

from keys.elgamal import Ciphertext
from keys.group import Group, to_str
from keys.hashing import hash_to_zq
from keys.powers import Powers, powers
from keys.proof import Proof


def commitments_string(items: Sequence[mpz]) -> str:
    """Numbers in base 10 separated by commas (Belenios's ``map_and_concat_with_commas``)."""
    return ",".join(to_str(x) for x in items)


def iprove_hash(group: Group, prefix: str, c: Ciphertext, commitments: Sequence[mpz]) -> mpz:
    text = f"prove|{prefix}|{to_str(c.alpha)},{to_str(c.beta)}|{commitments_string(commitments)}"
    return hash_to_zq(text, group.q)


def iprove(
    group: Group,
    y: mpz,
    prefix: str,
    c: Ciphertext,
    r: mpz,
    index: int,
    ms: Sequence[int],
    *,
    pw: Powers | None = None,
) -> tuple[Proof, ...]:
    """Prove that ``c`` encrypts ``ms[index]`` with randomness ``r`` (spec §4.12)."""
    if not 0 <= index < len(ms):
        raise ValueError("iprove: the true index is outside the list of values")
    pw = pw or powers(group, y)
    q, p = group.q, group.p
    m = ms[index]
    proofs: list[Proof | None] = [None] * len(ms)
    commitments: list[mpz] = [mpz(0)] * (2 * len(ms))
    total = mpz(0)
    for j, mj in enumerate(ms):
        if j == index:
            continue
        challenge = group.random_exponent()
        response = group.random_exponent()
        proofs[j] = Proof(challenge, response)
        # A_j = g^(s + r c); B_j = y^s (beta g^-mj)^c = y^(s + r c) g^((m - mj) c)
        e = (response + r * challenge) % q
        a_j, y_e = pw.gy_pow(e)
        commitments[2 * j] = a_j
        commitments[2 * j + 1] = gmpy2.f_mod(y_e * pw.g_pow(((m - mj) * challenge) % q), p)
        total += challenge
    w = group.random_exponent()
    commitments[2 * index], commitments[2 * index + 1] = pw.gy_pow(w)
    challenge = (iprove_hash(group, prefix, c, commitments) - total) % q
    proofs[index] = Proof(challenge, (w - r * challenge) % q)
    return tuple(p_ for p_ in proofs if p_ is not None)


def iverify(
    group: Group,
    y: mpz,
    prefix: str,
    c: Ciphertext,
    proofs: Sequence[Proof],
    ms: Sequence[int],
    *,
    pw: Powers | None = None,
) -> bool:
    """Check an interval-membership proof. Elements of ``c`` must already be group members."""
    if len(proofs) != len(ms):
        return False
    pw = pw or powers(group, y)
    q, p = group.q, group.p
    commitments: list[mpz] = []
    total = mpz(0)
    for proof, mj in zip(proofs, ms, strict=True):
        ch, resp = proof.challenge, proof.response
        if not (0 <= ch < q and 0 <= resp < q):
            return False
        g_s, y_s = pw.gy_pow(resp)
        commitments.append(gmpy2.f_mod(g_s * gmpy2.powmod(c.alpha, ch, p), p))
        beta = gmpy2.f_mod(c.beta * pw.g_inv_pow(mj), p) if mj else c.beta
        commitments.append(gmpy2.f_mod(y_s * gmpy2.powmod(beta, ch, p), p))
        total += ch
    return bool(iprove_hash(group, prefix, c, commitments) == total % q)
