"""The encrypted tally of spec §4.16: last(B), weights, products of ciphertexts.

``B̂ = last(B)`` keeps, for each credential, only its last ballot. The order of the tallied
ballots does not change a homomorphic product; for a non-homomorphic question belenios-tool
sorts the column of ciphertexts by (alpha, beta) as numbers, which fixes the order a shuffle
proof binds. We do the same, so our stored tallies are byte-identical to
``belenios-tool election compute-encrypted-tally``.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from gmpy2 import mpz

from keys.elgamal import Ciphertext
from keys.group import Group, GroupError, to_str
from tally.errors import RecordError
from tally.events import load_json

EncryptedTally = tuple[tuple[Ciphertext, ...], ...]

T = TypeVar("T")


def last_ballots(items: Sequence[T], credential: Callable[[T], Hashable]) -> list[T]:
    """``last(B)`` of spec §4.15, keeping the position of each credential's last ballot."""
    last: dict[Hashable, int] = {}
    for index, item in enumerate(items):
        last[credential(item)] = index
    return [items[i] for i in sorted(last.values())]


def tallied_order(items: Sequence[T], credential: Callable[[T], str]) -> list[T]:
    """``last(B)`` ordered as belenios-tool tallies it: credential strings, descending."""
    chosen: dict[str, T] = {}
    for item in items:
        chosen[credential(item)] = item
    return [chosen[c] for c in sorted(chosen, reverse=True)]


@dataclass(frozen=True)
class TallyInput:
    """One tallied ballot reduced to what the tally needs.

    ``choices[i]`` is the list of ciphertexts of question ``i`` (one per answer) for a
    homomorphic question, or a one-element list holding the answer's single ciphertext for
    a non-homomorphic one.
    """

    weight: int
    choices: tuple[tuple[Ciphertext, ...], ...]


def tally_choices(
    group: Group,
    homomorphic: Sequence[bool],
    sizes: Sequence[int],
    inputs: Sequence[TallyInput],
) -> EncryptedTally:
    """Compute the encrypted tally from tallied ballots already in tallied order.

    ``homomorphic[i]`` says whether question ``i`` is homomorphic, ``sizes[i]`` is its number
    of ciphertexts per ballot (answers, plus one with blank; 1 for non-homomorphic).
    """
    p = group.p
    rows: list[tuple[Ciphertext, ...]] = []
    for i, (is_h, size) in enumerate(zip(homomorphic, sizes, strict=True)):
        if is_h:
            alphas = [mpz(1)] * size
            betas = [mpz(1)] * size
            for ballot in inputs:
                cts = ballot.choices[i]
                if len(cts) != size:
                    raise RecordError(
                        f"a ballot has {len(cts)} ciphertexts for question {i + 1}, expected {size}"
                    )
                w = ballot.weight
                for j, c in enumerate(cts):
                    if w == 1:
                        alphas[j] = alphas[j] * c.alpha % p
                        betas[j] = betas[j] * c.beta % p
                    else:
                        alphas[j] = alphas[j] * pow(c.alpha, w, p) % p
                        betas[j] = betas[j] * pow(c.beta, w, p) % p
            rows.append(tuple(Ciphertext(a, b) for a, b in zip(alphas, betas, strict=True)))
        else:
            column = []
            for ballot in inputs:
                if ballot.weight != 1:
                    raise RecordError(
                        f"question {i + 1} is non-homomorphic and a tallied ballot has "
                        f"weight {ballot.weight}: only weight 1 is allowed there"
                    )
                cts = ballot.choices[i]
                if len(cts) != 1:
                    raise RecordError(
                        f"a ballot has {len(cts)} ciphertexts for the "
                        f"non-homomorphic question {i + 1}, expected 1"
                    )
                column.append(cts[0])
            column.sort(key=lambda c: (c.alpha, c.beta))
            rows.append(tuple(column))
    return tuple(rows)


def _answer_choices(answer: Any) -> tuple[Ciphertext, ...]:
    choices = answer.choices if hasattr(answer, "choices") else answer["choices"]
    if isinstance(choices, Ciphertext):
        return (choices,)
    return tuple(choices)


def _is_homomorphic(question: Any) -> bool:
    return not type(question).__name__.startswith("NonHomomorphic")


def question_sizes(election: Any) -> tuple[list[bool], list[int]]:
    """(homomorphic?, ciphertexts per ballot) for each question of an ``Election``."""
    kinds: list[bool] = []
    sizes: list[int] = []
    for q in election.questions:
        h = _is_homomorphic(q)
        kinds.append(h)
        if h:
            sizes.append(len(q.answers) + (1 if getattr(q, "blank", False) else 0))
        else:
            sizes.append(1)
    return kinds, sizes


def compute_encrypted_tally(
    election: Any, ballots: Sequence[Any], weights: Sequence[int]
) -> EncryptedTally:
    """The encrypted tally of ``ballots`` (already ``last(B)``, in tallied order) with their
    ``weights``, for a ``tally.election.Election``."""
    kinds, sizes = question_sizes(election)
    inputs = [
        TallyInput(w, tuple(_answer_choices(a) for a in b.answers))
        for b, w in zip(ballots, weights, strict=True)
    ]
    return tally_choices(election.group, kinds, sizes, inputs)


# -- JSON ---------------------------------------------------------------------------------------


def serialize_encrypted_tally(tally: EncryptedTally) -> str:
    """Belenios's compact serialization: ``[[{"alpha":"…","beta":"…"},…],…]``."""
    return (
        "["
        + ",".join(
            "["
            + ",".join(f'{{"alpha":"{to_str(c.alpha)}","beta":"{to_str(c.beta)}"}}' for c in row)
            + "]"
            for row in tally
        )
        + "]"
    )


def parse_encrypted_tally(group: Group, raw: str, *, check_members: bool = True) -> EncryptedTally:
    """Parse an encrypted tally (shape ciphertext**). Elements are checked to be in the group
    unless ``check_members`` is False (when the caller compares with a recomputed tally)."""
    obj = load_json(raw, "encrypted tally")
    if not isinstance(obj, list) or not all(isinstance(row, list) for row in obj):
        raise RecordError("the encrypted tally must be an array of arrays of ciphertexts")
    rows = []
    try:
        for i, row in enumerate(obj):
            cts = []
            for j, c in enumerate(row):
                what = f"encrypted tally [{i}][{j}]"
                if check_members:
                    cts.append(Ciphertext.from_json(group, c, what))
                else:
                    if not isinstance(c, dict) or set(c) != {"alpha", "beta"}:
                        raise RecordError(f"{what} must be an object with alpha and beta")
                    from keys.group import parse_natural

                    cts.append(
                        Ciphertext(parse_natural(c["alpha"], what), parse_natural(c["beta"], what))
                    )
            rows.append(tuple(cts))
    except GroupError as exc:
        raise RecordError(str(exc)) from None
    return tuple(rows)
