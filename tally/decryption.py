"""Partial decryptions and their combination (spec §4.18, §4.19).

A trustee with private key ``x`` publishes ``alpha^x`` for every ciphertext of the encrypted
tally, each with a proof ``Hdecrypt(X, A, B) = SHA256("decrypt|" + fingerprint + "|" + X +
"|" + A + "," + B) mod q`` (fingerprint: the election's H_JSON). The server combines the
factors of every trustees item: Single items as they are, Pedersen items with Lagrange
coefficients over the first ``threshold`` trustees (by id) that supplied one — as
belenios-tool 2.0 does; any other subset of that size gives the same factors.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import gmpy2
from gmpy2 import mpz

from keys.elgamal import Ciphertext
from keys.group import Group, GroupError, to_str
from keys.hashing import sha256_hex
from keys.pki import PKIError, dump_json, expect_list, expect_object, hash_to_q, load_json
from keys.powers import powers
from keys.proof import Proof
from tally.errors import RecordError
from tally.progress import progress
from tally.trustees import PedersenTrustees, SingleTrustee, Trustees, trustee_slots

EncryptedTally = Sequence[Sequence[Ciphertext]]
Factors = list[list[mpz]]

# From this many ciphertexts on, powers of g and of the trustee key use fixed-base tables.
_TABLES_FROM = 16


def _fixed_base(
    group: Group, key: mpz, count: int
) -> tuple[Callable[[mpz], mpz], Callable[[mpz], mpz]]:
    """``(e -> g^e, e -> key^e)``, with cached comb tables when there are many ciphertexts."""
    if count >= _TABLES_FROM:
        tables = powers(group, key)
        return tables.g_pow, tables.y_pow
    return group.g_pow, lambda e: group.pow(key, e)


@dataclass(frozen=True)
class PartialDecryption:
    decryption_factors: tuple[tuple[mpz, ...], ...]
    decryption_proofs: tuple[tuple[Proof, ...], ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "decryption_factors": [[to_str(f) for f in row] for row in self.decryption_factors],
            "decryption_proofs": [[p.to_json() for p in row] for row in self.decryption_proofs],
        }

    def serialize(self) -> str:
        """Compact JSON, as belenios-tool writes a partial_decryption."""
        return dump_json(self.to_json())


@dataclass(frozen=True)
class OwnedPartialDecryption:
    """Payload of a PartialDecryption event: the trustee id and the hash of the decryption."""

    owner: int
    payload: str

    def serialize(self) -> str:
        return dump_json({"owner": self.owner, "payload": self.payload})


def owned_partial_decryption(owner: int, partial_raw: str) -> OwnedPartialDecryption:
    """Link the raw partial decryption text to the trustee id ``owner``."""
    if owner < 1:
        raise RecordError("a trustee id (owner) starts at 1")
    return OwnedPartialDecryption(owner, sha256_hex(partial_raw))


def parse_owned_partial_decryption(raw: str | bytes) -> OwnedPartialDecryption:
    try:
        o = expect_object(
            load_json(raw, "owned partial decryption"),
            "owned partial decryption",
            ("owner", "payload"),
        )
    except PKIError as exc:
        raise RecordError(str(exc)) from None
    owner, payload = o["owner"], o["payload"]
    if not isinstance(owner, int) or isinstance(owner, bool) or owner < 1:
        raise RecordError("owned partial decryption: owner must be a positive integer")
    if (
        not isinstance(payload, str)
        or len(payload) != 64
        or any(c not in "0123456789abcdef" for c in payload)
    ):
        raise RecordError("owned partial decryption: payload must be a lower-case SHA-256 hash")
    return OwnedPartialDecryption(owner, payload)


def parse_partial_decryption(group: Group, raw: str | bytes) -> PartialDecryption:
    """Structure, canonical numbers, factors in the group, proofs below q."""
    what = "partial decryption"
    try:
        o = expect_object(load_json(raw, what), what, ("decryption_factors", "decryption_proofs"))
        fs = expect_list(o["decryption_factors"], f"{what}.decryption_factors")
        ps = expect_list(o["decryption_proofs"], f"{what}.decryption_proofs")
        factors = tuple(
            tuple(
                group.parse_element(f, f"{what}.decryption_factors[{i}][{j}]")
                for j, f in enumerate(expect_list(row, f"{what}.decryption_factors[{i}]"))
            )
            for i, row in enumerate(fs)
        )
        proofs = tuple(
            tuple(
                Proof.from_json(group, p, f"{what}.decryption_proofs[{i}][{j}]")
                for j, p in enumerate(expect_list(row, f"{what}.decryption_proofs[{i}]"))
            )
            for i, row in enumerate(ps)
        )
    except (PKIError, GroupError) as exc:
        raise RecordError(str(exc)) from None
    if [len(r) for r in factors] != [len(r) for r in proofs]:
        raise RecordError(f"{what}: decryption_factors and decryption_proofs differ in shape")
    return PartialDecryption(factors, proofs)


def _prefix(fingerprint: str, public_key: mpz) -> str:
    return "decrypt|" + fingerprint + "|" + to_str(public_key) + "|"


def compute_partial_decryption(
    group: Group,
    fingerprint: str,
    private_key: mpz,
    encrypted_tally: EncryptedTally,
    advance: Callable[[int], object] | None = None,
) -> PartialDecryption:
    """Decryption factors ``alpha^x`` with their proofs, for every ciphertext of the tally.

    Progress in ciphertexts: ``advance(n)`` if given, else a bar of :mod:`tally.progress`
    (on at a terminal only)."""
    if advance is None:
        total = sum(len(row) for row in encrypted_tally)
        with progress(total, "解密 (decrypting)", "ciphertext") as bar:
            return compute_partial_decryption(group, fingerprint, private_key, encrypted_tally, bar)
    x = mpz(private_key) % group.q
    prefix = _prefix(fingerprint, group.g_pow(x))
    g_pow, _ = _fixed_base(group, group.g, sum(len(row) for row in encrypted_tally))
    factors: list[tuple[mpz, ...]] = []
    proofs: list[tuple[Proof, ...]] = []
    for row in encrypted_tally:
        frow, prow = [], []
        for c in row:
            if not (group.is_element(c.alpha) and group.is_element(c.beta)):
                raise RecordError("the encrypted tally contains a number outside the group")
            w = group.random_exponent()
            challenge = hash_to_q(group, prefix, [g_pow(w), group.pow(c.alpha, w)])
            frow.append(group.pow(c.alpha, x))
            prow.append(Proof(challenge, (w - x * challenge) % group.q))
            advance(1)
        factors.append(tuple(frow))
        proofs.append(tuple(prow))
    return PartialDecryption(tuple(factors), tuple(proofs))


def partial_decryption_error(
    group: Group,
    fingerprint: str,
    public_key: mpz,
    encrypted_tally: EncryptedTally,
    pd: PartialDecryption,
) -> str | None:
    """Why ``pd`` is not a valid partial decryption for ``public_key``, or None if it is."""
    shape = [len(row) for row in encrypted_tally]
    if [len(r) for r in pd.decryption_factors] != shape or [
        len(r) for r in pd.decryption_proofs
    ] != shape:
        return f"its shape {[len(r) for r in pd.decryption_factors]} is not the tally's {shape}"
    prefix = _prefix(fingerprint, public_key)
    g_pow, key_pow = _fixed_base(group, public_key, sum(shape))
    for i, row in enumerate(encrypted_tally):
        for j, c in enumerate(row):
            f, p = pd.decryption_factors[i][j], pd.decryption_proofs[i][j]
            if not group.is_element(f):
                return f"factor [{i}][{j}] is not in the group"
            if not (0 <= p.challenge < group.q and 0 <= p.response < group.q):
                return f"proof [{i}][{j}] has a number outside [0, q)"
            a = group.mul(g_pow(p.response), key_pow(p.challenge))
            b = group.mul(group.pow(c.alpha, p.response), group.pow(f, p.challenge))
            if hash_to_q(group, prefix, [a, b]) != p.challenge:
                return f"proof [{i}][{j}] is invalid"
    return None


def check_partial_decryption(
    group: Group,
    fingerprint: str,
    public_key: mpz,
    encrypted_tally: EncryptedTally,
    pd: PartialDecryption,
) -> None:
    """Raise RecordError unless every factor of ``pd`` is proven correct for ``public_key``."""
    err = partial_decryption_error(group, fingerprint, public_key, encrypted_tally, pd)
    if err is not None:
        raise RecordError(f"invalid partial decryption: {err}")


def lagrange(group: Group, indexes: Sequence[int], j: int) -> mpz:
    """``prod_{k in indexes, k != j} k / (k - j) mod q``."""
    acc = mpz(1)
    for k in indexes:
        if k != j:
            acc = acc * k * gmpy2.invert(mpz(k - j) % group.q, group.q) % group.q
    return acc


def combine_factors(
    group: Group,
    trustees: Trustees,
    partials: Mapping[int, PartialDecryption],
    *,
    fingerprint: str | None = None,
    encrypted_tally: EncryptedTally | None = None,
) -> Factors:
    """The synthetic factor ``F[i][j]`` of every ciphertext (spec §4.19).

    ``partials`` maps trustee ids (1-based, belenios-tool's numbering) to decryptions. When
    ``fingerprint`` and ``encrypted_tally`` are given, every supplied decryption is checked
    first, as belenios-tool does (also those a Pedersen item does not need)."""
    slots = trustee_slots(trustees)
    unknown = sorted(k for k in partials if not 1 <= k <= len(slots))
    if unknown:
        raise RecordError(f"partial decryption from unknown trustee id(s) {unknown}")
    if not partials:
        raise RecordError("no partial decryptions")
    if fingerprint is not None and encrypted_tally is not None:
        for owner in sorted(partials):
            err = partial_decryption_error(
                group,
                fingerprint,
                slots[owner - 1].key.public_key,
                encrypted_tally,
                partials[owner],
            )
            if err is not None:
                raise RecordError(f"invalid partial decryption from trustee {owner}: {err}")
    shape = [len(r) for r in next(iter(partials.values())).decryption_factors]
    for owner, pd in partials.items():
        if [len(r) for r in pd.decryption_factors] != shape:
            raise RecordError(f"partial decryption from trustee {owner} has another shape")
    result: Factors = [[mpz(1)] * n for n in shape]

    def absorb(pd: PartialDecryption, exponent: mpz | int) -> None:
        for i, row in enumerate(pd.decryption_factors):
            for j, f in enumerate(row):
                result[i][j] = group.mul(result[i][j], group.pow(f, exponent))

    first = 1
    for n, item in enumerate(trustees.items, start=1):
        if isinstance(item, SingleTrustee):
            if first not in partials:
                raise RecordError(
                    f"the partial decryption of trustee {first} (item {n}, Single) is missing"
                )
            absorb(partials[first], 1)
            first += 1
        else:
            assert isinstance(item, PedersenTrustees)
            if not 1 <= item.threshold <= item.size:
                raise RecordError(f"trustees item {n} (Pedersen) has an invalid threshold")
            ids = [z for z in range(1, item.size + 1) if first + z - 1 in partials]
            if len(ids) < item.threshold:
                raise RecordError(
                    f"not enough partial decryptions for item {n} (Pedersen): {len(ids)} of "
                    f"trustees {first}..{first + item.size - 1}, {item.threshold} needed"
                )
            chosen = ids[: item.threshold]
            for z in chosen:
                absorb(partials[first + z - 1], lagrange(group, chosen, z))
            first += item.size
    return result
