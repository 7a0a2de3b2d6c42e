"""Verifiable shuffles of ElGamal ciphertexts (spec §4.17 and §6, from CHVote 1.3.2).

Pure functions over a :class:`keys.group.Group` and :class:`keys.elgamal.Ciphertext`, written
to give exactly the values and hashes of Belenios 2.0 (``src/lib/v1/mixnet.ml``):

- :func:`gen_shuffle` (GenShuffle = GenPermutation + GenReEncryption),
- :func:`gen_shuffle_proof` (GenShuffleProof, with GenPermutationCommitment and
  GenCommitmentChain),
- :func:`check_shuffle_proof` (CheckShuffleProof), and the literal, slower
  :func:`check_shuffle_proof_exact` used to cross-check it in tests,
- :func:`get_generator` / :func:`get_generators` (GetGenerator with its avoid-set rules),
  :func:`get_nizkp_challenges` / :func:`get_nizkp_challenge`.

Permutations are 0-based: ``psi[i]`` is the index of the input ciphertext that lands at
output position ``i`` (``e'[i]`` is a re-encryption of ``e[psi[i]]``), as in Belenios.

Speed: :func:`check_shuffle_proof` checks the equations of Table 5 with random 128-bit
weights (batch verification in a prime-order group: a wrong proof passes with probability at
most 2**-128), so that all the work is a few multi-exponentiations instead of ~6N full
exponentiations. Both the prover and the verifier take an optional
:class:`concurrent.futures.Executor` to spread the independent work over processes; without
one they run serially in the caller.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar

import gmpy2
from gmpy2 import mpz

from keys.elgamal import Ciphertext
from keys.group import Group, GroupError, to_str
from keys.hashing import sha256_hex
from keys.multiexp import FixedBase, multi_exp, split_evenly

_BATCH_WEIGHT_BITS = 128
# Below this many ciphertexts the fixed-base tables cost more than they save.
_FIXED_BASE_MIN = 24

T = TypeVar("T")
R = TypeVar("R")


class ShuffleError(ValueError):
    """A shuffle that cannot be made or checked (e.g. mismatched sizes, a generator clash)."""


# -- the shuffle_proof structure ------------------------------------------------------------


@dataclass(frozen=True)
class ShuffleProof:
    """π = (t, s, c, ĉ) of GenShuffleProof (spec §4.17 ``shuffle_proof``)."""

    t1: mpz
    t2: mpz
    t3: mpz
    t41: mpz
    t42: mpz
    t_hat: tuple[mpz, ...]
    s1: mpz
    s2: mpz
    s3: mpz
    s4: mpz
    s_hat: tuple[mpz, ...]
    s_prime: tuple[mpz, ...]
    c: tuple[mpz, ...]
    c_hat: tuple[mpz, ...]

    def to_json(self) -> list[Any]:
        """The JSON value Belenios writes.

        ``[[t1,t2,t3,[t41,t42],[t̂…]],[s1,s2,s3,s4,[ŝ…],[s'…]],[c…],[ĉ…]]``, numbers as strings.
        """
        return [
            [
                to_str(self.t1),
                to_str(self.t2),
                to_str(self.t3),
                [to_str(self.t41), to_str(self.t42)],
                [to_str(x) for x in self.t_hat],
            ],
            [
                to_str(self.s1),
                to_str(self.s2),
                to_str(self.s3),
                to_str(self.s4),
                [to_str(x) for x in self.s_hat],
                [to_str(x) for x in self.s_prime],
            ],
            [to_str(x) for x in self.c],
            [to_str(x) for x in self.c_hat],
        ]

    @staticmethod
    def from_json(group: Group, obj: Any, what: str = "shuffle proof") -> ShuffleProof:
        """Parse strictly: exact shapes, canonical numbers, group members, exponents below q."""

        def arr(x: Any, n: int | None, name: str) -> list[Any]:
            if not isinstance(x, list) or (n is not None and len(x) != n):
                size = f"of {n} items" if n is not None else ""
                raise GroupError(f"{what}: {name} must be a JSON array {size}".rstrip())
            return x

        top = arr(obj, 4, "the proof")
        t = arr(top[0], 5, "the commitment t")
        s = arr(top[1], 6, "the response s")
        t4 = arr(t[3], 2, "t4")
        t_hat = arr(t[4], None, "t̂")
        s_hat = arr(s[4], None, "ŝ")
        s_prime = arr(s[5], None, "s'")
        c = arr(top[2], None, "the permutation commitment c")
        c_hat = arr(top[3], None, "the commitment chain ĉ")
        n = len(c)
        if not len(t_hat) == len(s_hat) == len(s_prime) == len(c_hat) == n:
            raise GroupError(f"{what}: the arrays t̂, ŝ, s', c and ĉ differ in length")

        def el(x: Any, name: str) -> mpz:
            return group.parse_element(x, f"{what}: {name}")

        def ex(x: Any, name: str) -> mpz:
            return group.parse_exponent(x, f"{what}: {name}")

        return ShuffleProof(
            t1=el(t[0], "t1"),
            t2=el(t[1], "t2"),
            t3=el(t[2], "t3"),
            t41=el(t4[0], "t4,1"),
            t42=el(t4[1], "t4,2"),
            t_hat=tuple(el(x, f"t̂[{i}]") for i, x in enumerate(t_hat)),
            s1=ex(s[0], "s1"),
            s2=ex(s[1], "s2"),
            s3=ex(s[2], "s3"),
            s4=ex(s[3], "s4"),
            s_hat=tuple(ex(x, f"ŝ[{i}]") for i, x in enumerate(s_hat)),
            s_prime=tuple(ex(x, f"s'[{i}]") for i, x in enumerate(s_prime)),
            c=tuple(el(x, f"c[{i}]") for i, x in enumerate(c)),
            c_hat=tuple(el(x, f"ĉ[{i}]") for i, x in enumerate(c_hat)),
        )


# -- generators and challenges ----------------------------------------------------------------

_GENERATOR_CACHE: dict[tuple[int, int], list[mpz]] = {}
_GENERATOR_LOCK = threading.Lock()


def get_generator(group: Group, i: int) -> mpz:
    """GetGenerator(i) without the avoid set: ``SHA256("ggen|i") ** ((p-1)/q) mod p``.

    Raises :class:`ShuffleError` when the result is 0, 1 or g (Table 8, step 4).
    """
    x = mpz(int(sha256_hex(f"ggen|{i}"), 16))
    h = gmpy2.powmod(x, group.cofactor, group.p)
    if h in (0, 1, group.g):
        raise ShuffleError(f"independent generator #{i} of {group.name} is 0, 1 or g")
    return h


def get_generators(group: Group, n: int) -> tuple[mpz, tuple[mpz, ...]]:
    """(GetSecondaryGenerator(), GetGenerators(n)) with the avoid set of Table 8.

    Generators ``-1, 0, …, n-1`` are made in that order; one equal to an earlier one with a
    different index aborts with :class:`ShuffleError`, as in Belenios. Results are cached per
    group, so the avoid-set check is done once per index.
    """
    key = (int(group.p), int(group.g))
    with _GENERATOR_LOCK:
        cached = _GENERATOR_CACHE.setdefault(key, [])
        if len(cached) < n + 1:
            seen = set(cached)
            for i in range(len(cached) - 1, n):
                h = get_generator(group, i)
                if h in seen:
                    j = cached.index(h) - 1
                    raise ShuffleError(f"independent generator #{i} collides with #{j}")
                seen.add(h)
                cached.append(h)
        return cached[0], tuple(cached[1 : n + 1])


def get_nizkp_challenges(group: Group, n: int, s: str) -> tuple[mpz, ...]:
    """GetNIZKPChallenges(n, S) of Table 11."""
    h = sha256_hex(s)
    return tuple(mpz(int(sha256_hex(h + sha256_hex(str(i))), 16)) % group.q for i in range(n))


def get_nizkp_challenge(group: Group, s: str) -> mpz:
    """GetNIZKPChallenge(S) of Table 13."""
    return mpz(int(sha256_hex(s), 16)) % group.q


def str_ciphertexts(e: Sequence[Ciphertext]) -> str:
    """⟦e⟧ of Table 10: ``alpha,beta,`` for each ciphertext, in base 10."""
    return "".join(f"{to_str(x.alpha)},{to_str(x.beta)}," for x in e)


def str_elements(c: Sequence[mpz]) -> str:
    """⟦c⟧ of Table 10: ``c,`` for each element, in base 10."""
    return "".join(f"{to_str(x)}," for x in c)


# -- GenShuffle ------------------------------------------------------------------------------


def gen_permutation(n: int) -> tuple[int, ...]:
    """GenPermutation(n) of Table 2 (0-based): a uniformly random permutation of range(n)."""
    tmp = list(range(n))
    psi = [0] * n
    for i in range(n):
        k = i + secrets.randbelow(n - i)
        psi[i] = tmp[k]
        tmp[k] = tmp[i]
    return tuple(psi)


def reencrypt_with(group: Group, y: mpz, e: Ciphertext, r: mpz) -> Ciphertext:
    """``(alpha * g**r, beta * y**r)``."""
    return Ciphertext(group.mul(e.alpha, group.g_pow(r)), group.mul(e.beta, group.pow(y, r)))


def gen_reencryption(group: Group, y: mpz, e: Ciphertext) -> tuple[Ciphertext, mpz]:
    """GenReEncryption(e, y) of Table 3."""
    r = group.random_exponent()
    return reencrypt_with(group, y, e, r), r


def _powmod_of(base: mpz, p: mpz, e: mpz) -> mpz:
    return gmpy2.powmod(base, e, p)


def _reencrypt_slice(
    p: mpz, g: mpz, y: mpz, bits: int, items: Sequence[tuple[Ciphertext, mpz]]
) -> list[Ciphertext]:
    gp: Callable[[mpz], mpz]
    yp: Callable[[mpz], mpz]
    if len(items) >= _FIXED_BASE_MIN:
        gp, yp = FixedBase(p, g, bits).pow, FixedBase(p, y, bits).pow
    else:
        gp, yp = partial(_powmod_of, g, p), partial(_powmod_of, y, p)
    return [Ciphertext((c.alpha * gp(r)) % p, (c.beta * yp(r)) % p) for c, r in items]


def gen_shuffle(
    group: Group,
    y: mpz,
    e: Sequence[Ciphertext],
    *,
    executor: Executor | None = None,
    parts: int = 2,
) -> tuple[tuple[Ciphertext, ...], tuple[mpz, ...], tuple[int, ...]]:
    """GenShuffle(e, y) of Table 1: (e', r', ψ) with ``e'[i] = ReEnc(e[ψ[i]], r'[ψ[i]])``."""
    n = len(e)
    psi = gen_permutation(n)
    r = tuple(group.random_exponent() for _ in range(n))
    bits = int(group.q.bit_length())
    items = list(zip(e, r, strict=True))
    reenc = _map_slices(executor, parts, _reencrypt_slice, items, group.p, group.g, y, bits)
    return tuple(reenc[psi[i]] for i in range(n)), r, psi


# -- GenShuffleProof -------------------------------------------------------------------------


def gen_permutation_commitment(
    group: Group, psi: Sequence[int], hh: Sequence[mpz], g_pow: Callable[[mpz], mpz] | None = None
) -> tuple[tuple[mpz, ...], tuple[mpz, ...]]:
    """GenPermutationCommitment(ψ, h) of Table 9: ``c[ψ[i]] = g**r[ψ[i]] * h[i]``."""
    n = len(psi)
    gp = g_pow or group.g_pow
    c = [mpz(1)] * n
    r = [mpz(0)] * n
    for i in range(n):
        ri = group.random_exponent()
        r[psi[i]] = ri
        c[psi[i]] = group.mul(gp(ri), hh[i])
    return tuple(c), tuple(r)


def gen_commitment_chain(
    group: Group, c0: mpz, u: Sequence[mpz], g_pow: Callable[[mpz], mpz] | None = None
) -> tuple[tuple[mpz, ...], tuple[mpz, ...]]:
    """GenCommitmentChain(c0, u) of Table 12: ``c[i] = g**r[i] * c[i-1]**u[i]``."""
    gp = g_pow or group.g_pow
    c: list[mpz] = []
    r: list[mpz] = []
    prev = c0
    for ui in u:
        ri = group.random_exponent()
        prev = group.mul(gp(ri), group.pow(prev, ui))
        c.append(prev)
        r.append(ri)
    return tuple(c), tuple(r)


def _multi_exp_job(p: mpz, bases: Sequence[mpz], exps: Sequence[mpz]) -> mpz:
    return multi_exp(p, bases, exps)


def _g_pow_slice(p: mpz, g: mpz, bits: int, exps: Sequence[mpz]) -> list[mpz]:
    if len(exps) >= _FIXED_BASE_MIN:
        fixed = FixedBase(p, g, bits)
        return [fixed.pow(x) for x in exps]
    return [gmpy2.powmod(g, x, p) for x in exps]


def _pow_slice(p: mpz, pairs: Sequence[tuple[mpz, mpz]]) -> list[mpz]:
    return [gmpy2.powmod(b, x, p) for b, x in pairs]


def _map_slices(
    executor: Executor | None,
    parts: int,
    fn: Callable[..., list[R]],
    items: Sequence[Any],
    *args: Any,
) -> list[R]:
    """``fn(*args, items)`` computed on slices of ``items`` in the pool; results concatenated."""
    ranges = split_evenly(len(items), parts if executor is not None else 1)
    if executor is None or len(ranges) <= 1:
        return fn(*args, items) if items else []
    futures = [executor.submit(fn, *args, items[r.start : r.stop]) for r in ranges]
    out: list[R] = []
    for f in futures:
        out.extend(f.result())
    return out


def _no_progress(_share: float) -> None:
    return None


def gen_shuffle_proof(
    group: Group,
    fingerprint: str,
    y: mpz,
    e: Sequence[Ciphertext],
    e2: Sequence[Ciphertext],
    r2: Sequence[mpz],
    psi: Sequence[int],
    *,
    executor: Executor | None = None,
    parts: int = 2,
    progress: Callable[[float], object] | None = None,
) -> ShuffleProof:
    """GenShuffleProof(e, e', r', ψ, pk, φ) of Table 4, as Belenios 2.0 computes it.

    All random exponents are drawn first, so that their powers of g (the bulk of the work)
    are computed at once, in the pool when there is one; the commitment chain, which is
    sequential, runs while the pool computes the multi-exponentiations t3 and t4.
    ``progress(f)`` is told the share ``f`` (0 to 1) of the work done, now and then.
    """
    tell = progress or _no_progress
    n = len(e)
    if not len(e2) == len(r2) == len(psi) == n:
        raise ShuffleError("gen_shuffle_proof: e, e', r' and ψ must have the same length")
    p, q, g = group.p, group.q, group.g
    h, hh = get_generators(group, n)
    bits = int(q.bit_length())
    rnd = group.random_exponent
    r = [rnd() for _ in range(n)]  # GenPermutationCommitment: r[ψ[i]] for h[i]
    r_hat = [rnd() for _ in range(n)]  # GenCommitmentChain
    w1, w2, w3, w4 = (rnd() for _ in range(4))
    w_hat = [rnd() for _ in range(n)]
    w2s = [rnd() for _ in range(n)]
    g_pows = _map_slices(
        executor, parts, _g_pow_slice, [*r, *r_hat, *w_hat, w1, w2, w3, w4], p, g, bits
    )
    g_r, g_r_hat, g_w_hat = g_pows[:n], g_pows[n : 2 * n], g_pows[2 * n : 3 * n]
    g_w1, g_w2, g_w3, g_w4 = g_pows[3 * n :]
    tell(0.15)
    c = [mpz(1)] * n
    for i in range(n):
        c[psi[i]] = (g_r[psi[i]] * hh[i]) % p
    str1 = str_ciphertexts(e) + str_ciphertexts(e2) + str_elements(c)
    u = get_nizkp_challenges(group, n, f"shuffle-challenges|{fingerprint}|{str1}")
    u2 = tuple(u[psi[i]] for i in range(n))
    betas2 = tuple(x.beta for x in e2)
    alphas2 = tuple(x.alpha for x in e2)
    if executor is not None:
        f3 = executor.submit(_multi_exp_job, p, hh, w2s)
        f41 = executor.submit(_multi_exp_job, p, betas2, w2s)
        f42 = executor.submit(_multi_exp_job, p, alphas2, w2s)
    c_hat: list[mpz] = []
    prev = h
    step = max(1, n // 20)
    for i in range(n):
        prev = (g_r_hat[i] * gmpy2.powmod(prev, u2[i], p)) % p
        c_hat.append(prev)
        if (i + 1) % step == 0:
            tell(0.15 + 0.45 * (i + 1) / n)
    c_hat_prev = [h, *c_hat[:-1]] if n else []
    powers = _map_slices(executor, parts, _pow_slice, list(zip(c_hat_prev, w2s, strict=True)), p)
    tell(0.8)
    if executor is not None:
        m3, m41, m42 = f3.result(), f41.result(), f42.result()
    else:
        m3 = multi_exp(p, hh, w2s)
        m41 = multi_exp(p, betas2, w2s)
        m42 = multi_exp(p, alphas2, w2s)
    t1, t2 = g_w1, g_w2
    t3 = (g_w3 * m3) % p
    t41 = group.mul(group.inv(group.pow(y, w4)), m41)
    t42 = group.mul(group.inv(g_w4), m42)
    t_hat = tuple((g_w_hat[i] * powers[i]) % p for i in range(n))
    str2 = str_elements((t1, t2, t3, t41, t42)) + str_elements(t_hat)
    str3 = str1 + str_elements(c_hat) + to_str(y)
    ch = get_nizkp_challenge(group, f"shuffle-challenge|{fingerprint}|{str2}{str3}")
    r_bar = sum(r, mpz(0)) % q
    s1 = (w1 + ch * r_bar) % q
    v = [mpz(1)] * n
    for i in range(n - 2, -1, -1):
        v[i] = (u2[i + 1] * v[i + 1]) % q
    r_hat_sum = sum((r_hat[i] * v[i] for i in range(n)), mpz(0)) % q
    s2 = (w2 + ch * r_hat_sum) % q
    r_tilde = sum((r[i] * u[i] for i in range(n)), mpz(0)) % q
    s3 = (w3 + ch * r_tilde) % q
    r_prime = sum((r2[i] * u[i] for i in range(n)), mpz(0)) % q
    s4 = (w4 + ch * r_prime) % q
    s_hat = tuple((w_hat[i] + ch * r_hat[i]) % q for i in range(n))
    s_prime = tuple((w2s[i] + ch * u2[i]) % q for i in range(n))
    tell(1.0)
    return ShuffleProof(
        t1, t2, t3, t41, t42, t_hat, s1, s2, s3, s4, s_hat, s_prime, tuple(c), tuple(c_hat)
    )


# -- CheckShuffleProof -----------------------------------------------------------------------


def _shape_error(
    group: Group, e: Sequence[Ciphertext], e2: Sequence[Ciphertext], proof: ShuffleProof
) -> str | None:
    n = len(e)
    if len(e2) != n:
        return f"the shuffle has {len(e2)} ciphertexts for {n} input ciphertexts"
    sizes = {len(proof.c), len(proof.c_hat), len(proof.t_hat), len(proof.s_hat)}
    if sizes != {n} or len(proof.s_prime) != n:
        return f"the shuffle proof does not have {n} items in each of its arrays"
    for name, xs in (
        ("commitment", (proof.t1, proof.t2, proof.t3, proof.t41, proof.t42)),
        ("t̂", proof.t_hat),
        ("c", proof.c),
        ("ĉ", proof.c_hat),
        ("input ciphertext", [x for ct in e for x in (ct.alpha, ct.beta)]),
        ("shuffled ciphertext", [x for ct in e2 for x in (ct.alpha, ct.beta)]),
    ):
        if not all(group.is_element(x) for x in xs):
            return f"a {name} value of the shuffle is not an element of the group"
    for s in (proof.s1, proof.s2, proof.s3, proof.s4, *proof.s_hat, *proof.s_prime):
        if not 0 <= s < group.q:
            return "a response of the shuffle proof is not an exponent below q"
    return None


def _challenges(
    group: Group,
    fingerprint: str,
    y: mpz,
    e: Sequence[Ciphertext],
    e2: Sequence[Ciphertext],
    proof: ShuffleProof,
) -> tuple[tuple[mpz, ...], mpz]:
    str1 = str_ciphertexts(e) + str_ciphertexts(e2) + str_elements(proof.c)
    u = get_nizkp_challenges(group, len(e), f"shuffle-challenges|{fingerprint}|{str1}")
    str2 = str_elements((proof.t1, proof.t2, proof.t3, proof.t41, proof.t42))
    str2 += str_elements(proof.t_hat)
    str3 = str1 + str_elements(proof.c_hat) + to_str(y)
    c = get_nizkp_challenge(group, f"shuffle-challenge|{fingerprint}|{str2}{str3}")
    return u, c


_BatchRow = tuple[mpz, Ciphertext, Ciphertext, mpz, mpz, mpz, mpz, mpz, mpz, int]


def _batch_chunk(p: mpz, weights: tuple[int, int, int], rows: Sequence[_BatchRow]) -> list[mpz]:
    """Partial products of the batched Table 5 equations over some indices ``i``.

    Each row is ``(h_i, e_i, e'_i, c_i, ĉ_{i-1}, ĉ_i, t̂_i, u_i, s'_i, z_i)``. Returns
    ``[prod B_i**s'_i, X, T]`` where ``B_i = h_i**w3 β'_i**w41 α'_i**w42 ĉ_{i-1}**z_i``,
    ``X = prod c_i**(w3 u_i) β_i**(w41 u_i) α_i**(w42 u_i) ĉ_i**z_i`` and ``T = prod t̂_i**z_i``.
    """
    w3, w41, w42 = weights
    bs: list[mpz] = []
    s_primes: list[mpz] = []
    x_bases: list[mpz] = []
    x_exps: list[int] = []
    t_bases: list[mpz] = []
    zs: list[int] = []
    for h_i, e_i, e2_i, c_i, prev_i, c_hat_i, t_hat_i, u_i, s_i, z_i in rows:
        bs.append(multi_exp(p, (h_i, e2_i.beta, e2_i.alpha, prev_i), (w3, w41, w42, z_i)))
        s_primes.append(s_i)
        ui = int(u_i)
        x_bases += (c_i, e_i.beta, e_i.alpha, c_hat_i)
        x_exps += (w3 * ui, w41 * ui, w42 * ui, z_i)
        t_bases.append(t_hat_i)
        zs.append(z_i)
    return [multi_exp(p, bs, s_primes), multi_exp(p, x_bases, x_exps), multi_exp(p, t_bases, zs)]


def shuffle_proof_error(
    group: Group,
    fingerprint: str,
    y: mpz,
    e: Sequence[Ciphertext],
    e2: Sequence[Ciphertext],
    proof: ShuffleProof,
    *,
    executor: Executor | None = None,
    parts: int = 2,
) -> str | None:
    """CheckShuffleProof(π, e, e', pk, φ): ``None`` if the proof holds, else what is wrong."""
    problem = _shape_error(group, e, e2, proof)
    if problem is not None:
        return problem
    n = len(e)
    p, q, g = group.p, group.q, group.g
    h, hh = get_generators(group, n)
    u, ch = _challenges(group, fingerprint, y, e, e2, proof)
    neg_c = q - ch if ch else mpz(0)
    # Table 5, steps 11, 13-14, 17-18: cheap, checked one by one.
    c_bar = group.div(_prod(p, proof.c), _prod(p, hh))
    u_prod = mpz(1)
    for ui in u:
        u_prod = (u_prod * ui) % q
    c_hat_n = proof.c_hat[-1] if n else h
    c_hat_ = group.div(c_hat_n, group.pow(h, u_prod))
    if proof.t1 != group.mul(group.pow(c_bar, neg_c), group.g_pow(proof.s1)):
        return "the proof does not hold for these ciphertexts (its equation t1 fails)"
    if proof.t2 != group.mul(group.pow(c_hat_, neg_c), group.g_pow(proof.s2)):
        return "the proof does not hold for these ciphertexts (its equation t2 fails)"
    # Steps 15-16, 19-21 batched with random weights.
    rnd = secrets.randbits
    w3, w41, w42 = (rnd(_BATCH_WEIGHT_BITS) for _ in range(3))
    z = tuple(rnd(_BATCH_WEIGHT_BITS) for _ in range(n))
    c_hat_prev = (h, *proof.c_hat[:-1]) if n else ()
    rows: list[_BatchRow] = [
        (hh[i], e[i], e2[i], c, prev, c_hat, t_hat, u[i], s_p, z[i])
        for i, (c, prev, c_hat, t_hat, s_p) in enumerate(
            zip(proof.c, c_hat_prev, proof.c_hat, proof.t_hat, proof.s_prime, strict=True)
        )
    ]
    weights = (w3, w41, w42)
    ranges = split_evenly(n, parts if executor is not None else 1)
    if executor is None or len(ranges) <= 1:
        partials = [_batch_chunk(p, weights, rows)] if n else []
    else:
        futures = [
            executor.submit(_batch_chunk, p, weights, rows[r.start : r.stop]) for r in ranges
        ]
        partials = [f.result() for f in futures]
    b_prod, x, t = mpz(1), mpz(1), mpz(1)
    for bp, xp, tp in partials:
        b_prod, x, t = group.mul(b_prod, bp), group.mul(x, xp), group.mul(t, tp)
    a_exp = (
        w3 * proof.s3
        - w42 * proof.s4
        + sum((zi * si for zi, si in zip(z, proof.s_hat, strict=True)), 0)
    ) % q
    b_exp = (-w41 * proof.s4) % q
    left = group.mul(multi_exp(p, (g, y), (a_exp, b_exp)), b_prod)
    right = group.mul(
        group.mul(group.pow(x, ch), t),
        multi_exp(p, (proof.t3, proof.t41, proof.t42), (w3, w41, w42)),
    )
    if left != right:
        return "the proof does not hold for these ciphertexts (its equations t3, t4 or t̂ fail)"
    return None


def check_shuffle_proof(
    group: Group,
    fingerprint: str,
    y: mpz,
    e: Sequence[Ciphertext],
    e2: Sequence[Ciphertext],
    proof: ShuffleProof,
    *,
    executor: Executor | None = None,
    parts: int = 2,
) -> bool:
    """CheckShuffleProof(π, e, e', pk, φ) of Table 5 (batched; see the module docstring)."""
    err = shuffle_proof_error(group, fingerprint, y, e, e2, proof, executor=executor, parts=parts)
    return err is None


def check_shuffle_proof_exact(
    group: Group,
    fingerprint: str,
    y: mpz,
    e: Sequence[Ciphertext],
    e2: Sequence[Ciphertext],
    proof: ShuffleProof,
) -> bool:
    """Table 5 computed literally, equation by equation (slow; reference for tests)."""
    if _shape_error(group, e, e2, proof) is not None:
        return False
    n = len(e)
    p, q = group.p, group.q
    h, hh = get_generators(group, n)
    u, c = _challenges(group, fingerprint, y, e, e2, proof)

    def inv_pow(x: mpz, k: mpz) -> mpz:
        return group.inv(group.pow(x, k))

    c_bar = group.div(_prod(p, proof.c), _prod(p, hh))
    u_prod = mpz(1)
    for ui in u:
        u_prod = (u_prod * ui) % q
    c_hat_ = group.div(proof.c_hat[-1] if n else h, group.pow(h, u_prod))
    c_tilde = _prod(p, [group.pow(proof.c[i], u[i]) for i in range(n)])
    a2 = _prod(p, [group.pow(e[i].beta, u[i]) for i in range(n)])
    b2 = _prod(p, [group.pow(e[i].alpha, u[i]) for i in range(n)])
    t1 = group.mul(inv_pow(c_bar, c), group.g_pow(proof.s1))
    t2 = group.mul(inv_pow(c_hat_, c), group.g_pow(proof.s2))
    t3 = group.mul(
        group.mul(inv_pow(c_tilde, c), group.g_pow(proof.s3)),
        _prod(p, [group.pow(hh[i], proof.s_prime[i]) for i in range(n)]),
    )
    t41 = group.mul(
        group.inv(group.mul(group.pow(a2, c), group.pow(y, proof.s4))),
        _prod(p, [group.pow(e2[i].beta, proof.s_prime[i]) for i in range(n)]),
    )
    t42 = group.mul(
        group.inv(group.mul(group.pow(b2, c), group.g_pow(proof.s4))),
        _prod(p, [group.pow(e2[i].alpha, proof.s_prime[i]) for i in range(n)]),
    )
    if (t1, t2, t3, t41, t42) != (proof.t1, proof.t2, proof.t3, proof.t41, proof.t42):
        return False
    for i in range(n):
        prev = h if i == 0 else proof.c_hat[i - 1]
        ti = group.mul(
            group.mul(inv_pow(proof.c_hat[i], c), group.g_pow(proof.s_hat[i])),
            group.pow(prev, proof.s_prime[i]),
        )
        if ti != proof.t_hat[i]:
            return False
    return True


def _prod(p: mpz, xs: Sequence[mpz]) -> mpz:
    result = mpz(1)
    for x in xs:
        result = gmpy2.f_mod(result * x, p)
    return result
