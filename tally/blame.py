"""Which partial decryptions make the result, and who sent a wrong one (issue 15).

Belenios 2.0's decryption proof (spec §4.18, :mod:`tally.decryption`) hashes the election's
fingerprint and the trustee's public key, but neither the ciphertext nor the factor. A trustee
who knows its key can therefore publish a wrong factor with a valid proof: commitments
``A = g^w``, ``B`` chosen freely, ``c = H(A, B)``, ``r = w - x c``, and the factor that makes
``B = alpha^r f^c`` hold, ``f = alpha^x (B / alpha^w)^(1/c)``. The error ``(B / alpha^w)^(1/c)``
is fixed only after the challenge: pseudo-random, never one the forger chooses (unless it
grinds the hash about ``q`` times). Every proof check passes, belenios-tool's included; only
the decryption shows it.

:func:`judge` decides from partial decryptions whose proofs were already checked:

* every *choice* of ``threshold`` answered trustees of each Pedersen item (with every Single
  item) gives a decryption ``beta / F``. All honest choices give the same one, and it
  *decodes*: each homomorphic count is a discrete log within the total weight (the ballots'
  proofs bound it), each non-homomorphic plaintext is an exact encoding
  (:func:`keys.embedding.is_encoding`);
* a choice holding a wrong factor differs from the honest decryption wherever the factor is
  wrong, and decodes there with negligible probability (the error is pseudo-random);
* so, where choices disagree (the *disputed* ciphertexts), the one class of choices that
  decodes at every disputed ciphertext is the honest one. Its trustees are ``used`` (they alone
  go into the archive), and every other answered trustee is ``dishonest``: its factor
  contradicts a decryption that decodes.

When that cannot be told, the verdict waits and names the ``suspects``: one more partial
decryption decides. That is the case when exactly ``threshold`` trustees answered and the
decryption does not decode, and when no class, or more than one, decodes where they disagree.
A non-homomorphic plaintext that does not decode while the choices agree is a *malformed
ballot*: a Belenios 2.0 ballot's proof does not bound a non-homomorphic plaintext. It stays in
the result, void by the rules, and is listed (``malformed``). The exception is when only
``threshold`` trustees answered and another one still can: then a malformed ballot and a wrong
factor look the same, and the verdict waits for that other one.
"""

from __future__ import annotations

import enum
import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from gmpy2 import mpz

from keys.embedding import is_encoding
from tally.decryption import (
    EncryptedTally,
    PartialDecryption,
    combine_factors,
    parse_partial_decryption,
)
from tally.election import Election, NonHomomorphicQuestion, parse_election
from tally.encrypted_tally import parse_encrypted_tally
from tally.errors import RecordError
from tally.result import Result, decode_result, decrypt_with_factors, discrete_log
from tally.trustees import PedersenTrustees, Trustees, parse_trustees

Position = tuple[int, int]  # (row, column) of a ciphertext of the encrypted tally
Plain = tuple[tuple[mpz, ...], ...]

# Choices tried at most (n choose k); 8 scrutineers with threshold 4 make 70.
MAX_CHOICES = 256


class VerdictKind(enum.Enum):
    TALLIED = "tallied"  # the result, from the used partial decryptions
    NEED_ANOTHER = "need_another"  # exactly threshold answered and it does not decode
    CONFLICT = "conflict"  # several answered, no single class of choices decodes


@dataclass(frozen=True)
class Verdict:
    kind: VerdictKind
    result: Result | None  # with TALLIED only
    used: tuple[int, ...]  # trustee ids whose partial decryptions make the result
    dishonest: tuple[int, ...]  # trustee ids whose factors contradict the decoding result
    suspects: tuple[int, ...]  # when waiting: at least one of these is wrong
    malformed: tuple[Position, ...]  # tallied: non-homomorphic plaintexts that do not decode
    reason: str

    @property
    def tallied(self) -> bool:
        return self.kind is VerdictKind.TALLIED


@dataclass(frozen=True)
class _Item:
    ids: tuple[int, ...]  # trustee ids (1-based, belenios-tool's numbering)
    threshold: int
    pedersen: bool


def _items(trustees: Trustees) -> list[_Item]:
    out: list[_Item] = []
    first = 1
    for item in trustees.items:
        if isinstance(item, PedersenTrustees):
            out.append(_Item(tuple(range(first, first + item.size)), item.threshold, True))
            first += item.size
        else:
            out.append(_Item((first,), 1, False))
            first += 1
    return out


def _choices(items: Sequence[_Item], have: set[int]) -> list[tuple[int, ...]]:
    per_item: list[list[tuple[int, ...]]] = []
    for n, item in enumerate(items, start=1):
        answered = [i for i in item.ids if i in have]
        if len(answered) < item.threshold:
            raise RecordError(
                f"trustees item {n}: {len(answered)} partial decryptions of {item.threshold} needed"
            )
        per_item.append(
            list(itertools.islice(itertools.combinations(answered, item.threshold), MAX_CHOICES))
        )
    out = []
    for combo in itertools.islice(itertools.product(*per_item), MAX_CHOICES):
        out.append(tuple(i for part in combo for i in part))
    return out


def _decrypt(
    election: Election,
    trustees: Trustees,
    encrypted_tally: EncryptedTally,
    partials: Mapping[int, PartialDecryption],
    choice: tuple[int, ...],
) -> Plain:
    group = election.group
    factors = combine_factors(group, trustees, {i: partials[i] for i in choice})
    return tuple(tuple(row) for row in decrypt_with_factors(group, encrypted_tally, factors))


def judge(
    election: Election,
    trustees: Trustees,
    encrypted_tally: EncryptedTally,
    partials: Mapping[int, PartialDecryption],
    *,
    total_weight: int,
) -> Verdict:
    """The verdict on ``partials`` (trustee id -> partial decryption, proofs already checked;
    every Single item's and at least ``threshold`` of every Pedersen item's). ``total_weight``
    bounds every count. RecordError when too few partial decryptions are given."""
    group = election.group
    items = _items(trustees)
    have = set(partials)
    choices = _choices(items, have)
    answered = tuple(sorted(i for item in items for i in item.ids if i in have))
    checked = tuple(sorted(i for item in items if item.pedersen for i in item.ids if i in have))
    classes: dict[Plain, list[tuple[int, ...]]] = {}
    for choice in choices:
        classes.setdefault(
            _decrypt(election, trustees, encrypted_tally, partials, choice), []
        ).append(choice)
    plains = list(classes)
    positions = [(i, j) for i, row in enumerate(plains[0]) for j in range(len(row))]
    nh = {i for i, q in enumerate(election.questions) if isinstance(q, NonHomomorphicQuestion)}
    memo: dict[tuple[Position, mpz], bool] = {}

    def decodes(p: Position, x: mpz) -> bool:
        key = (p, x)
        if key not in memo:
            q = election.questions[p[0]]
            if p[0] in nh:
                memo[key] = is_encoding(group, x, len(q.answers))
            else:
                memo[key] = discrete_log(group, x, total_weight) is not None
        return memo[key]

    disputed = [p for p in positions if len({v[p[0]][p[1]] for v in plains}) > 1]
    plausible = [v for v in plains if all(decodes(p, v[p[0]][p[1]]) for p in disputed)]

    def wait(kind: VerdictKind, suspects: Sequence[int], reason: str) -> Verdict:
        return Verdict(kind, None, (), (), tuple(sorted(suspects)), (), reason)

    if len(plausible) != 1:
        what = "no" if not plausible else f"{len(plausible)} different"
        return wait(
            VerdictKind.CONFLICT,
            checked,
            f"the partial decryptions disagree on {len(disputed)} ciphertext(s) and {what} "
            "combination of them decodes there",
        )
    plain = plausible[0]
    used = tuple(sorted({i for choice in classes[plain] for i in choice}))
    dishonest = tuple(i for i in answered if i not in used)
    bad = [p for p in positions if not decodes(p, plain[p[0]][p[1]])]
    suspects = [i for i in used if i in checked]
    if any(p[0] not in nh for p in bad):
        kind = VerdictKind.NEED_ANOTHER if len(choices) == 1 else VerdictKind.CONFLICT
        return wait(
            kind,
            suspects,
            f"{sum(1 for p in bad if p[0] not in nh)} count(s) do not decode: a partial "
            "decryption is wrong",
        )
    cross_checked = all(
        len(set(used) & set(item.ids)) > item.threshold for item in items if item.pedersen
    )
    another_can = any(
        len(set(answered) & set(item.ids)) < len(item.ids) for item in items if item.pedersen
    )
    if bad and not cross_checked and another_can:
        return wait(
            VerdictKind.NEED_ANOTHER,
            suspects,
            f"{len(bad)} ballot(s) do not decode: a malformed ballot or a wrong partial "
            "decryption, which only one more partial decryption can tell apart",
        )
    result = decode_result(election, [list(row) for row in plain], total_weight)
    reason = "the partial decryptions agree"
    if dishonest:
        reason = (
            f"{len(dishonest)} partial decryption(s) contradict the result that the others "
            "give and that decodes"
        )
    if bad:
        reason += f"; {len(bad)} ballot(s) do not decode to a ballot (void)" + (
            "" if cross_checked else ", not cross-checked: no other trustee can answer"
        )
    return Verdict(VerdictKind.TALLIED, result, used, dishonest, (), tuple(bad), reason)


def judge_raw(
    election_raw: str,
    allow_test: bool,
    trustees_raw: str,
    encrypted_tally_raw: str,
    partials: Mapping[int, str],
    total_weight: int,
) -> Verdict:
    """:func:`judge` on raw Belenios text (the server's process pool runs it)."""
    election = parse_election(election_raw, allow_test_group=allow_test)
    group = election.group
    return judge(
        election,
        parse_trustees(group, trustees_raw),
        parse_encrypted_tally(group, encrypted_tally_raw),
        {k: parse_partial_decryption(group, v) for k, v in partials.items()},
        total_weight=total_weight,
    )
