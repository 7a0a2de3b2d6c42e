"""Proofs for questions that allow a blank vote (spec §4.13).

``(alpha0, beta0)`` encrypts m0 (1 for a blank vote) and ``(alphaS, betaS)``, the product of
the other choices, encrypts mS. ``blank_proof`` = (pi0, piS) proves ``m0 = 0 or mS = 0``
(hash prefix ``bproof0``); ``overall_proof`` = (pi0, pi1..pik) proves
``m0 = 1 or mS in [min..max]`` (hash prefix ``bproof1``).
"""

from __future__ import annotations

from collections.abc import Sequence

import gmpy2
from gmpy2 import mpz

from keys.elgamal import Ciphertext
from keys.group import Group
from keys.hashing import hash_to_zq
from keys.iproof import commitments_string
from keys.powers import Powers, powers
from keys.proof import Proof


def _hash(group: Group, tag: str, prefix: str, commitments: Sequence[mpz]) -> mpz:
    return hash_to_zq(f"{tag}|{prefix}|{commitments_string(commitments)}", group.q)


def prove_blank(
    group: Group,
    y: mpz,
    prefix: str,
    min_: int,
    max_: int,
    m0: int,
    r0: mpz,
    m_sum: int,
    r_sum: mpz,
    *,
    pw: Powers | None = None,
) -> tuple[tuple[Proof, ...], tuple[Proof, Proof]]:
    """``(overall_proof, blank_proof)`` for a blank-allowed answer (spec §4.13.1, §4.13.2).

    ``prefix`` is S: the fingerprint, credential and all choices of the answer.
    """
    pw = pw or powers(group, y)
    q, p = group.q, group.p

    def fake(r: mpz, m: int, mj: int) -> tuple[Proof, mpz, mpz]:
        # Simulated disjunct for ciphertext (g^r, y^r g^m) claiming value mj.
        challenge, response = group.random_exponent(), group.random_exponent()
        e = (response + r * challenge) % q
        a, y_e = pw.gy_pow(e)
        b = gmpy2.f_mod(y_e * pw.g_pow(((m - mj) * challenge) % q), p)
        return Proof(challenge, response), a, b

    k = max_ - min_ + 1
    if m0 == 0:
        if not min_ <= m_sum <= max_:
            raise ValueError("the number of choices is outside [min, max]")
        # blank_proof: first disjunct (m0 = 0) true, second (mS = 0) simulated.
        pi_s, a_s, b_s = fake(r_sum, m_sum, 0)
        w = group.random_exponent()
        a0, b0 = pw.gy_pow(w)
        c0 = (_hash(group, "bproof0", prefix, [a0, b0, a_s, b_s]) - pi_s.challenge) % q
        blank = (Proof(c0, (w - r0 * c0) % q), pi_s)
        # overall_proof: pi0 (m0 = 1) simulated, pi_i for mS = min+i-1 true.
        commitments: list[mpz] = [mpz(0)] * (2 * (k + 1))
        proofs: list[Proof | None] = [None] * (k + 1)
        proofs[0], commitments[0], commitments[1] = fake(r0, 0, 1)
        assert proofs[0] is not None
        total = proofs[0].challenge
        true_index = m_sum - min_ + 1
        for i in range(1, k + 1):
            if i == true_index:
                continue
            proofs[i], commitments[2 * i], commitments[2 * i + 1] = fake(r_sum, m_sum, min_ + i - 1)
            total += proofs[i].challenge  # type: ignore[union-attr]
        w = group.random_exponent()
        commitments[2 * true_index], commitments[2 * true_index + 1] = pw.gy_pow(w)
        c = (_hash(group, "bproof1", prefix, commitments) - total) % q
        proofs[true_index] = Proof(c, (w - r_sum * c) % q)
    elif m0 == 1:
        if m_sum != 0:
            raise ValueError("a blank vote must select no choice")
        # blank_proof: first disjunct (m0 = 0) simulated, second (mS = 0) true.
        pi0, a0, b0 = fake(r0, 1, 0)
        w = group.random_exponent()
        a_s, b_s = pw.gy_pow(w)
        c_s = (_hash(group, "bproof0", prefix, [a0, b0, a_s, b_s]) - pi0.challenge) % q
        blank = (pi0, Proof(c_s, (w - r_sum * c_s) % q))
        # overall_proof: pi0 (m0 = 1) true, every pi_i simulated.
        commitments = [mpz(0)] * (2 * (k + 1))
        proofs = [None] * (k + 1)
        total = mpz(0)
        for i in range(1, k + 1):
            proofs[i], commitments[2 * i], commitments[2 * i + 1] = fake(r_sum, 0, min_ + i - 1)
            total += proofs[i].challenge  # type: ignore[union-attr]
        w = group.random_exponent()
        commitments[0], commitments[1] = pw.gy_pow(w)
        c = (_hash(group, "bproof1", prefix, commitments) - total) % q
        proofs[0] = Proof(c, (w - r0 * c) % q)
    else:
        raise ValueError("the blank indicator must be 0 or 1")
    return tuple(x for x in proofs if x is not None), blank


def _commit(pw: Powers, c: Ciphertext, proof: Proof, m: int) -> tuple[mpz, mpz] | None:
    """``(g^s alpha^c, y^s (beta/g^m)^c)`` or None when the numbers are out of range."""
    group = pw.group
    q, p = group.q, group.p
    ch, resp = proof.challenge, proof.response
    if not (0 <= ch < q and 0 <= resp < q):
        return None
    g_s, y_s = pw.gy_pow(resp)
    a = gmpy2.f_mod(g_s * gmpy2.powmod(c.alpha, ch, p), p)
    beta = gmpy2.f_mod(c.beta * pw.g_inv_pow(m), p) if m else c.beta
    return a, gmpy2.f_mod(y_s * gmpy2.powmod(beta, ch, p), p)


def verify_blank_proof(
    group: Group,
    y: mpz,
    prefix: str,
    c0: Ciphertext,
    c_sum: Ciphertext,
    blank_proof: Sequence[Proof],
    *,
    pw: Powers | None = None,
) -> bool:
    """Check ``blank_proof`` (m0 = 0 or mS = 0), spec §4.13.3."""
    if len(blank_proof) != 2:
        return False
    pw = pw or powers(group, y)
    first = _commit(pw, c0, blank_proof[0], 0)
    second = _commit(pw, c_sum, blank_proof[1], 0)
    if first is None or second is None:
        return False
    h = _hash(group, "bproof0", prefix, [*first, *second])
    return bool(h == (blank_proof[0].challenge + blank_proof[1].challenge) % group.q)


def verify_overall_proof(
    group: Group,
    y: mpz,
    prefix: str,
    min_: int,
    max_: int,
    c0: Ciphertext,
    c_sum: Ciphertext,
    overall_proof: Sequence[Proof],
    *,
    pw: Powers | None = None,
) -> bool:
    """Check ``overall_proof`` (m0 = 1 or mS in [min..max]) of a blank-allowed answer."""
    k = max_ - min_ + 1
    if k < 1 or len(overall_proof) != k + 1:
        return False
    pw = pw or powers(group, y)
    commitments: list[mpz] = []
    total = mpz(0)
    for i, proof in enumerate(overall_proof):
        pair = _commit(pw, c0, proof, 1) if i == 0 else _commit(pw, c_sum, proof, min_ + i - 1)
        if pair is None:
            return False
        commitments.extend(pair)
        total += proof.challenge
    return bool(_hash(group, "bproof1", prefix, commitments) == total % group.q)
