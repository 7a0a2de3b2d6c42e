"""Shuffles of non-homomorphic ciphertexts in the record (spec §3.4, §4.17).

- ``nh_ciphertexts(election, tally)`` takes the rows of the non-homomorphic questions out of
  an encrypted tally, ``merge_nh`` puts shuffled rows back in their places.
- A :class:`Shuffle` (the ``shuffle`` structure: ``{"ciphertexts":[[…]…],"proofs":[…]}``) is
  made by one trustee with :func:`shuffle_ciphertexts` and checked with :func:`check_shuffle`;
  it is stored as the payload of an ``owned_shuffle`` (:func:`owned_shuffle`) in a ``Shuffle``
  event. Shuffles are chained: each one shuffles the output of the previous one
  (:func:`check_shuffle_chain`).

Shuffles are serialized exactly as belenios-tool 2.0 writes them, and hashes are always taken
over the raw text that is stored.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field

from keys.elgamal import Ciphertext
from keys.group import Group, GroupError
from keys.hashing import sha256_hex
from keys.shuffle import (
    ShuffleError,
    ShuffleProof,
    gen_shuffle,
    gen_shuffle_proof,
    shuffle_proof_error,
)
from tally.election import Election, NonHomomorphicQuestion
from tally.errors import RecordError
from tally.events import Owned, load_json
from tally.json_format import compact
from tally.progress import progress

NhCiphertexts = tuple[tuple[Ciphertext, ...], ...]


@dataclass(frozen=True)
class Shuffle:
    """One trustee's shuffle of every non-homomorphic question (one row and proof each)."""

    ciphertexts: NhCiphertexts
    proofs: tuple[ShuffleProof, ...]
    raw: str = field(repr=False)

    @property
    def hash(self) -> str:
        """SHA-256 (hex) of the raw text: the ``payload`` of its ``owned_shuffle``."""
        return sha256_hex(self.raw)


def serialize_shuffle(ciphertexts: NhCiphertexts, proofs: Sequence[ShuffleProof]) -> str:
    """The ``shuffle`` structure as Belenios writes it (compact JSON, this field order)."""
    return compact(
        {
            "ciphertexts": [[c.to_json() for c in row] for row in ciphertexts],
            "proofs": [p.to_json() for p in proofs],
        }
    )


def parse_shuffle(group: Group, raw: str) -> Shuffle:
    """Parse a ``shuffle`` payload strictly, or raise :class:`RecordError`.

    Exactly the fields ``ciphertexts`` and ``proofs``, one proof per row, canonical numbers,
    every element in the group and every response below q.
    """
    obj = load_json(raw, "shuffle")
    if not isinstance(obj, dict) or set(obj) != {"ciphertexts", "proofs"}:
        raise RecordError("a shuffle must be an object with exactly ciphertexts and proofs")
    rows, proofs = obj["ciphertexts"], obj["proofs"]
    if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
        raise RecordError("the ciphertexts of a shuffle must be an array of arrays")
    if not isinstance(proofs, list) or len(proofs) != len(rows):
        raise RecordError(
            "a shuffle must have one proof for each non-homomorphic question it shuffles"
        )
    try:
        cts = tuple(
            tuple(
                Ciphertext.from_json(group, c, f"shuffle ciphertext [{i}][{j}]")
                for j, c in enumerate(row)
            )
            for i, row in enumerate(rows)
        )
        prs = tuple(
            ShuffleProof.from_json(group, p, f"shuffle proof [{i}]") for i, p in enumerate(proofs)
        )
    except GroupError as exc:
        raise RecordError(str(exc)) from None
    return Shuffle(cts, prs, raw)


def owned_shuffle(owner: int, shuffle: Shuffle) -> Owned:
    """The ``owned_shuffle`` linking a shuffle to the trustee (1-based id) who made it."""
    if owner < 1:
        raise ValueError("trustee ids start at 1")
    return Owned(owner, shuffle.hash)


# -- non-homomorphic rows of an encrypted tally ------------------------------------------------


def _nh_indices(election: Election) -> list[int]:
    return [i for i, q in enumerate(election.questions) if isinstance(q, NonHomomorphicQuestion)]


def nh_ciphertexts(
    election: Election, encrypted_tally: Sequence[Sequence[Ciphertext]]
) -> NhCiphertexts:
    """``nh_ciphertexts(a) = [a_i1, …, a_in]`` for the non-homomorphic questions i1 < … < in."""
    if len(encrypted_tally) != len(election.questions):
        raise RecordError(
            f"the encrypted tally has {len(encrypted_tally)} rows for "
            f"{len(election.questions)} questions"
        )
    return tuple(tuple(encrypted_tally[i]) for i in _nh_indices(election))


def merge_nh(
    election: Election,
    encrypted_tally: Sequence[Sequence[Ciphertext]],
    shuffled: Sequence[Sequence[Ciphertext]],
) -> tuple[tuple[Ciphertext, ...], ...]:
    """The tally ``a'`` with ``nh_ciphertexts(a') = shuffled`` and the other rows of ``a``."""
    indices = _nh_indices(election)
    if len(shuffled) != len(indices):
        raise RecordError(
            f"{len(shuffled)} shuffled rows for {len(indices)} non-homomorphic questions"
        )
    if len(encrypted_tally) != len(election.questions):
        raise RecordError("the encrypted tally does not have one row per question")
    rows = [tuple(r) for r in encrypted_tally]
    for i, row in zip(indices, shuffled, strict=True):
        rows[i] = tuple(row)
    return tuple(rows)


# -- making and checking shuffles ------------------------------------------------------------


def shuffle_ciphertexts(
    election: Election,
    ciphertexts: Sequence[Sequence[Ciphertext]],
    *,
    executor: Executor | None = None,
    advance: Callable[[int], object] | None = None,
) -> Shuffle:
    """One trustee's shuffle of the non-homomorphic rows ``ciphertexts`` (GenShuffle + proof).

    Progress is counted in ciphertexts (:func:`shuffle_size` in all): ``advance(n)`` if given
    (the server logs it), else a bar of :mod:`tally.progress` (on at a terminal only).
    """
    if advance is None:
        with progress(shuffle_size(ciphertexts), "混洗 (shuffling)", "ciphertext") as bar:
            return shuffle_ciphertexts(election, ciphertexts, executor=executor, advance=bar)
    group, y = election.group, election.public_key
    rows: list[tuple[Ciphertext, ...]] = []
    proofs: list[ShuffleProof] = []
    done = 0  # ciphertexts told to advance so far
    offset = 0  # ciphertexts of the rows before this one
    for row in ciphertexts:
        e = tuple(row)

        def share(f: float, n: int = len(e), base: int = offset) -> None:
            nonlocal done
            # the re-encryption is a tenth of a row's work, its proof the rest
            target = base + round(n * (0.1 + 0.9 * f))
            if target > done:
                advance(target - done)
                done = target

        e2, r2, psi = gen_shuffle(group, y, e, executor=executor)
        share(0.0)
        proofs.append(
            gen_shuffle_proof(
                group, election.fingerprint, y, e, e2, r2, psi, executor=executor, progress=share
            )
        )
        rows.append(e2)
        offset += len(e)
    cts = tuple(rows)
    return Shuffle(cts, tuple(proofs), serialize_shuffle(cts, proofs))


def shuffle_size(ciphertexts: Sequence[Sequence[Ciphertext]]) -> int:
    """The ciphertexts a shuffle of these rows re-encrypts (its progress's total)."""
    return sum(len(row) for row in ciphertexts)


def check_shuffle(
    election: Election,
    ciphertexts_in: Sequence[Sequence[Ciphertext]],
    shuffle: Shuffle,
    *,
    executor: Executor | None = None,
) -> None:
    """Check that ``shuffle`` is a proven shuffle of ``ciphertexts_in``, or raise RecordError."""
    if len(shuffle.ciphertexts) != len(ciphertexts_in):
        raise RecordError(
            f"the shuffle has {len(shuffle.ciphertexts)} rows of ciphertexts, "
            f"expected {len(ciphertexts_in)} (one per non-homomorphic question)"
        )
    if len(shuffle.proofs) != len(ciphertexts_in):
        raise RecordError("the shuffle does not have one proof per non-homomorphic question")
    nh = [q for q in election.questions if isinstance(q, NonHomomorphicQuestion)]
    for k, (e, e2, proof) in enumerate(
        zip(ciphertexts_in, shuffle.ciphertexts, shuffle.proofs, strict=True)
    ):
        label = f"question {_question_number(election, k)}"
        if k < len(nh):
            label += f" ({nh[k].question!r})"
        if len(e2) != len(e):
            raise RecordError(
                f"the shuffle of {label} has {len(e2)} ciphertexts where {len(e)} went in: "
                "a ciphertext was dropped or added"
            )
        try:
            problem = shuffle_proof_error(
                election.group,
                election.fingerprint,
                election.public_key,
                tuple(e),
                e2,
                proof,
                executor=executor,
            )
        except ShuffleError as exc:
            raise RecordError(f"the shuffle of {label} cannot be checked: {exc}") from None
        if problem is not None:
            raise RecordError(f"the shuffle of {label} is not valid: {problem}")


def _question_number(election: Election, k: int) -> int:
    indices = _nh_indices(election)
    return indices[k] + 1 if k < len(indices) else k + 1


def check_shuffle_chain(
    election: Election,
    encrypted_tally: Sequence[Sequence[Ciphertext]],
    shuffles: Sequence[tuple[int, Shuffle]],
    *,
    executor: Executor | None = None,
) -> NhCiphertexts:
    """Check the shuffles ``(owner, shuffle)`` in record order; return the last output.

    The first shuffles ``nh_ciphertexts(encrypted_tally)``; each next one shuffles the output
    of the one before, as belenios-tool checks them.
    """
    current = nh_ciphertexts(election, encrypted_tally)
    for number, (owner, shuffle) in enumerate(shuffles, start=1):
        try:
            check_shuffle(election, current, shuffle, executor=executor)
        except RecordError as exc:
            raise RecordError(f"shuffle #{number} (by trustee {owner}): {exc}") from None
        current = shuffle.ciphertexts
    return current


def shuffled_tally(
    election: Election,
    encrypted_tally: Sequence[Sequence[Ciphertext]],
    shuffles: Sequence[Shuffle],
) -> tuple[tuple[Ciphertext, ...], ...]:
    """The tally the trustees decrypt: the last shuffle's rows merged into the tally.

    With no shuffle (an election without non-homomorphic questions) it is the tally itself.
    """
    if not shuffles:
        if election.has_nh_questions:
            raise RecordError("the election has non-homomorphic questions and no shuffle")
        return tuple(tuple(r) for r in encrypted_tally)
    return merge_nh(election, encrypted_tally, shuffles[-1].ciphertexts)
