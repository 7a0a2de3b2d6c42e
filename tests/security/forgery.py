"""The dishonest scrutineer's forgery (issue 15): a wrong decryption factor whose Belenios 2.0
proof is valid, because ``Hdecrypt`` hashes neither the ciphertext nor the factor.

Commitments ``A = g^w1`` and ``B = alpha^w2`` (``w2 != w1``), challenge ``c = H(A, B)``, response
``r = w1 - x c``; the factor ``f = alpha^(x + (w2 - w1) / c)`` makes both verification
equations hold: ``g^r y^c = A`` and ``alpha^r f^c = B``. Only a trustee that knows its key ``x``
can do it; the error ``alpha^((w2 - w1) / c)`` is pseudo-random (fixed after the hash).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import gmpy2
from gmpy2 import mpz

from keys.elgamal import Ciphertext
from keys.group import Group, to_str
from keys.pki import hash_to_q
from keys.proof import Proof
from tally.decryption import PartialDecryption, compute_partial_decryption


def forge_partial_decryption(
    group: Group,
    fingerprint: str,
    x: mpz,
    tally: Sequence[Sequence[Ciphertext]],
    wrong: Callable[[int, int], bool] = lambda _i, _j: True,
) -> PartialDecryption:
    """The partial decryption of trustee key ``x`` with a wrong factor at every ciphertext
    ``(i, j)`` where ``wrong(i, j)`` (the others honest), every proof valid."""
    honest = compute_partial_decryption(group, fingerprint, x, tally)
    prefix = "decrypt|" + fingerprint + "|" + to_str(group.g_pow(x)) + "|"
    factors: list[tuple[mpz, ...]] = []
    proofs: list[tuple[Proof, ...]] = []
    for i, row in enumerate(tally):
        frow, prow = [], []
        for j, c in enumerate(row):
            if not wrong(i, j):
                frow.append(honest.decryption_factors[i][j])
                prow.append(honest.decryption_proofs[i][j])
                continue
            w1, w2 = group.random_exponent(), group.random_exponent()
            challenge = hash_to_q(group, prefix, [group.g_pow(w1), group.pow(c.alpha, w2)])
            shift = (w2 - w1) * gmpy2.invert(challenge, group.q) % group.q
            frow.append(group.pow(c.alpha, (x + shift) % group.q))
            prow.append(Proof(challenge, (w1 - x * challenge) % group.q))
        factors.append(tuple(frow))
        proofs.append(tuple(prow))
    return PartialDecryption(tuple(factors), tuple(proofs))
