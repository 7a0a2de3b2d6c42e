"""The election result (spec §4.19): ``{"result": [...]}``, one entry per question.

A homomorphic question's entry is its list of counts (``log_g(beta / F)``, bounded by the
total weight); a non-homomorphic question's entry is the list of decoded ballots (each a list
of integers, ``group_decode(beta / F)``), in the order of the shuffled tally.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from gmpy2 import mpz

from keys.embedding import group_decode
from keys.group import Group
from keys.pki import PKIError, dump_json, expect_list, expect_object, load_json
from tally.decryption import EncryptedTally, PartialDecryption, combine_factors
from tally.election import Election, HomomorphicQuestion, NonHomomorphicQuestion
from tally.errors import RecordError
from tally.trustees import Trustees

# Belenios writes a count as a JSON integer up to 2^30 - 1 and as a string above.
_MAX_INT31 = 1073741823
DEFAULT_LOG_BOUND = 1 << 20
_MAX_BABY_STEPS = 1 << 17  # bounds the memory of the table

HomomorphicResult = tuple[int, ...]
NonHomomorphicResult = tuple[tuple[int, ...], ...]
QuestionResult = HomomorphicResult | NonHomomorphicResult


def _is_homomorphic(question: Any) -> bool:
    return not isinstance(question, NonHomomorphicQuestion)


@dataclass(frozen=True)
class Result:
    """``result[i]`` is a tuple of counts (homomorphic) or a tuple of ballots (non-homomorphic);
    ``homomorphic[i]`` says which."""

    result: tuple[QuestionResult, ...]
    homomorphic: tuple[bool, ...]

    def to_json(self) -> dict[str, Any]:
        out: list[Any] = []
        for values, h in zip(self.result, self.homomorphic, strict=True):
            if h:
                out.append([v if v <= _MAX_INT31 else str(v) for v in values])  # type: ignore[operator]
            else:
                out.append([list(b) for b in values])  # type: ignore[arg-type]
        return {"result": out}

    def serialize(self) -> str:
        """Compact JSON, as belenios-tool writes the result."""
        return dump_json(self.to_json())


def _count(obj: Any, what: str) -> int:
    if isinstance(obj, bool):
        raise RecordError(f"{what} must be a count")
    if isinstance(obj, int) and obj >= 0:
        return obj
    if isinstance(obj, str) and obj.isascii() and obj.isdigit() and (obj == "0" or obj[0] != "0"):
        return int(obj)
    raise RecordError(f"{what} must be a non-negative integer")


def parse_result(election: Election, raw: str | bytes) -> Result:
    """Parse a result for ``election`` (one entry per question, of the question's kind)."""
    try:
        obj = expect_object(load_json(raw, "result"), "result", ("result",))
        items = expect_list(obj["result"], "result.result")
    except PKIError as exc:
        raise RecordError(str(exc)) from None
    questions = election.questions
    if len(items) != len(questions):
        raise RecordError(f"the result has {len(items)} entries for {len(questions)} questions")
    out: list[QuestionResult] = []
    kinds: list[bool] = []
    for i, (item, q) in enumerate(zip(items, questions, strict=True)):
        what = f"result of question {i + 1}"
        if not isinstance(item, list):
            raise RecordError(f"{what} must be an array")
        h = _is_homomorphic(q)
        kinds.append(h)
        if h:
            out.append(tuple(_count(v, f"{what}[{j}]") for j, v in enumerate(item)))
        else:
            ballots = []
            for j, b in enumerate(item):
                if not isinstance(b, list):
                    raise RecordError(f"{what}[{j}] must be an array of integers")
                ballots.append(tuple(_count(v, f"{what}[{j}]") for v in b))
            out.append(tuple(ballots))
    return Result(tuple(out), tuple(kinds))


# -- discrete logarithm ---------------------------------------------------------------------


@functools.lru_cache(maxsize=16)
def _baby_steps(group: Group, m: int) -> dict[mpz, int]:
    table: dict[mpz, int] = {}
    x = mpz(1)
    for j in range(m):
        table.setdefault(x, j)
        x = group.mul(x, group.g)
    return table


def discrete_log(group: Group, h: mpz, bound: int) -> int | None:
    """The ``k`` in [0, bound] with ``g^k = h`` (baby-step giant-step), or None."""
    if bound < 0:
        return None
    m = min(math.isqrt(bound) + 1, _MAX_BABY_STEPS)
    table = _baby_steps(group, m)
    giant = group.pow(group.inv(group.g), m)
    y = mpz(h)
    for i in range(bound // m + 1):
        j = table.get(y)
        if j is not None:
            k = i * m + j
            return k if k <= bound else None
        y = group.mul(y, giant)
    return None


# -- computing and checking ------------------------------------------------------------------


def decrypt_with_factors(
    group: Group, encrypted_tally: EncryptedTally, factors: Sequence[Sequence[mpz]]
) -> list[list[mpz]]:
    """``beta / F`` for every ciphertext."""
    return [
        [group.div(c.beta, f) for c, f in zip(row, frow, strict=True)]
        for row, frow in zip(encrypted_tally, factors, strict=True)
    ]


def _check_shape(election: Election, encrypted_tally: EncryptedTally) -> None:
    if len(encrypted_tally) != len(election.questions):
        raise RecordError(
            f"the encrypted tally has {len(encrypted_tally)} rows for "
            f"{len(election.questions)} questions"
        )
    group: Group = election.group
    for i, (row, q) in enumerate(zip(encrypted_tally, election.questions, strict=True)):
        if isinstance(q, HomomorphicQuestion) and len(row) != len(q.answers) + (
            1 if q.blank else 0
        ):
            raise RecordError(f"row {i + 1} of the encrypted tally does not fit question {i + 1}")
        for c in row:
            if not (group.is_element(c.alpha) and group.is_element(c.beta)):
                raise RecordError("the encrypted tally contains a number outside the group")


def _plain(
    election: Election,
    trustees: Trustees,
    encrypted_tally: EncryptedTally,
    partials: Mapping[int, PartialDecryption],
) -> list[list[mpz]]:
    _check_shape(election, encrypted_tally)
    group: Group = election.group
    factors = combine_factors(
        group,
        trustees,
        partials,
        fingerprint=election.fingerprint,
        encrypted_tally=encrypted_tally,
    )
    return decrypt_with_factors(group, encrypted_tally, factors)


def compute_result(
    election: Election,
    trustees: Trustees,
    encrypted_tally: EncryptedTally,
    partials: Mapping[int, PartialDecryption],
    *,
    total_weight: int | None = None,
) -> Result:
    """Check every partial decryption, combine them and decrypt the tally.

    ``total_weight`` (the sized_encrypted_tally's) bounds every count, as in belenios-tool;
    without it counts up to 2^20 are found."""
    bound = DEFAULT_LOG_BOUND if total_weight is None else total_weight
    plain = _plain(election, trustees, encrypted_tally, partials)
    return decode_result(election, plain, bound)


def decode_result(election: Election, plain: Sequence[Sequence[mpz]], bound: int) -> Result:
    """The result from the decrypted tally ``beta / F``: counts (discrete logs up to ``bound``)
    and decoded ballots; RecordError when a count is out of range."""
    group: Group = election.group
    out: list[QuestionResult] = []
    kinds: list[bool] = []
    for i, (row, q) in enumerate(zip(plain, election.questions, strict=True)):
        if _is_homomorphic(q):
            counts = []
            for j, x in enumerate(row):
                k = discrete_log(group, x, bound)
                if k is None:
                    raise RecordError(
                        f"count {j + 1} of question {i + 1} is not between 0 and {bound}: "
                        "the decryption does not give a count"
                    )
                counts.append(k)
            out.append(tuple(counts))
            kinds.append(True)
        else:
            n = len(q.answers)
            out.append(tuple(tuple(group_decode(group, x, n)) for x in row))
            kinds.append(False)
    return Result(tuple(out), tuple(kinds))


def check_result(
    election: Election,
    trustees: Trustees,
    encrypted_tally: EncryptedTally,
    partials: Mapping[int, PartialDecryption],
    result: Result,
) -> None:
    """Belenios's check_result: valid partial decryptions and ``g^count = beta / F`` for
    every count (decoded ballots equal for non-homomorphic questions)."""
    group: Group = election.group
    plain = _plain(election, trustees, encrypted_tally, partials)
    if len(result.result) != len(plain):
        raise RecordError("the result does not have one entry per question")
    for i, (row, q, values) in enumerate(
        zip(plain, election.questions, result.result, strict=True)
    ):
        if len(values) != len(row):
            raise RecordError(
                f"question {i + 1}: the result has {len(values)} entries, the tally {len(row)}"
            )
        if _is_homomorphic(q):
            for j, (x, v) in enumerate(zip(row, values, strict=True)):
                if not isinstance(v, int) or group.g_pow(v) != x:
                    raise RecordError(
                        f"question {i + 1}, answer {j + 1}: the published count {v} is not "
                        "what the partial decryptions give"
                    )
        else:
            n = len(q.answers)
            for j, (x, v) in enumerate(zip(row, values, strict=True)):
                if tuple(group_decode(group, x, n)) != v:
                    raise RecordError(
                        f"question {i + 1}, ballot {j + 1}: the published ballot is not what "
                        "the partial decryptions give"
                    )
