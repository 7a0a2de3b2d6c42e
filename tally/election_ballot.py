"""The 人大 election ballot as a non-homomorphic answer vector (docs/ballots.md).

One personnel election (one post, ``seats`` places) is one non-homomorphic question in the
RFC-3526-2048 group, whose embedding packs a vector of integers of 8 bits each (at most
:data:`MAX_INTS` of them) into one ciphertext. The vector is, in this order:

1. one integer per listed candidate, in ballot order: 1 = 赞成, 2 = 反对, 3 = 弃权, and
   0 = no mark (未标记; a valid choice only if the session's 选举办法 allows it);
2. ``seats`` write-in slots (另选他人). A slot holds the roster number (1 … ``roster_max``)
   of the person written in, or 0 for an empty slot, written in base 256 over
   ``ints_per_write_in`` integers, most significant first (1 integer while
   ``roster_max`` ≤ 255, 2 up to 65,535, 3 up to 16,777,215).

The layout is published in the election itself: the question's ``extra`` field holds
``{"method":"RendaElection","version":1,"seats":S,"roster_max":M,"unmarked":B}``, its
first answers are the candidates' names, and the remaining answers label the write-in
integers (see :func:`write_in_labels`).

:func:`decode_ballot` is total: every vector of the right length decodes, and whatever the
encoding cannot mean (an unknown mark code, a roster number above ``roster_max``, a mark 0 where
unmarked is not allowed) is listed in ``problems``, so that the rules engine counts that ballot
as void (作废) instead of dropping it. Legal checks (more choices than seats, a write-in without
a 反对, eligibility) belong to the rules engine, not to the encoding.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

BITS_PER_INT = 8
# RFC-3526-2048: p has 2048 bits and padding is 8 bits, so 8 * n + 8 <= 2047 bits.
MAX_INTS = 254
METHOD = "RendaElection"
VERSION = 1


class Mark(IntEnum):
    """The choice for one listed candidate, as stored in the answer vector."""

    UNMARKED = 0  # 未标记
    FOR = 1  # 赞成
    AGAINST = 2  # 反对
    ABSTAIN = 3  # 弃权


MARK_NAMES = {
    Mark.UNMARKED: "未标记",
    Mark.FOR: "赞成",
    Mark.AGAINST: "反对",
    Mark.ABSTAIN: "弃权",
}


@dataclass(frozen=True)
class ElectionLayout:
    """How one election's ballot is laid out in the answer vector."""

    candidates: tuple[str, ...]
    seats: int
    roster_max: int
    allow_unmarked: bool = False

    def __post_init__(self) -> None:
        if self.seats < 1:
            raise ValueError("an election has at least one seat")
        if self.roster_max < 1:
            raise ValueError("the roster has at least one person")
        if not self.candidates:
            raise ValueError("an election lists at least one candidate")
        if self.length > MAX_INTS:
            raise ValueError(
                f"this ballot needs {self.length} integers ({len(self.candidates)} candidates, "
                f"{self.seats} write-in slots of {self.ints_per_write_in}); one ciphertext of "
                f"RFC-3526-2048 holds at most {MAX_INTS}"
            )

    @property
    def ints_per_write_in(self) -> int:
        """Base-256 digits needed for roster numbers up to ``roster_max``."""
        return max(1, (self.roster_max.bit_length() + BITS_PER_INT - 1) // BITS_PER_INT)

    @property
    def length(self) -> int:
        """Number of integers in the answer vector (= answers of the question)."""
        return len(self.candidates) + self.seats * self.ints_per_write_in


@dataclass(frozen=True)
class ElectionBallot:
    """What a deputy cast: one mark per candidate and ``seats`` write-ins (None = empty)."""

    marks: tuple[Mark, ...]
    write_ins: tuple[int | None, ...]


@dataclass(frozen=True)
class DecodedBallot:
    """A decrypted ballot read back; ``problems`` non-empty means it cannot be counted as cast.

    ``marks`` holds the raw codes (0-255) so that nothing is lost; ``write_ins`` the raw slot
    values (None for an empty slot).
    """

    marks: tuple[int, ...]
    write_ins: tuple[int | None, ...]
    problems: tuple[str, ...]

    @property
    def well_formed(self) -> bool:
        return not self.problems

    def ballot(self) -> ElectionBallot:
        """The ballot as cast; only for a well-formed one."""
        if self.problems:
            raise ValueError("a malformed ballot has no meaning: " + "; ".join(self.problems))
        return ElectionBallot(tuple(Mark(m) for m in self.marks), self.write_ins)


def write_in_labels(layout: ElectionLayout) -> list[str]:
    """Answer labels of the write-in integers: ``另选他人 s`` or ``另选他人 s (d/k)``."""
    k = layout.ints_per_write_in
    labels = []
    for s in range(1, layout.seats + 1):
        if k == 1:
            labels.append(f"另选他人 {s}")
        else:
            labels.extend(f"另选他人 {s} ({d}/{k})" for d in range(1, k + 1))
    return labels


def question_json(layout: ElectionLayout, title: str) -> dict[str, Any]:
    """The non-homomorphic question of an election template for this layout."""
    return {
        "type": "NonHomomorphic",
        "value": {"answers": [*layout.candidates, *write_in_labels(layout)], "question": title},
        "extra": {
            "method": METHOD,
            "version": VERSION,
            "seats": layout.seats,
            "roster_max": layout.roster_max,
            "unmarked": layout.allow_unmarked,
        },
    }


def layout_from_question(answers: Sequence[str], extra: Any) -> ElectionLayout:
    """Read the layout back from a question's answers and ``extra`` (ValueError if not ours)."""
    if not isinstance(extra, Mapping) or extra.get("method") != METHOD:
        raise ValueError(f"the question is not a {METHOD} election ballot")
    if set(extra) != {"method", "version", "seats", "roster_max", "unmarked"}:
        raise ValueError("the election ballot description has missing or unknown fields")
    if extra["version"] != VERSION:
        raise ValueError(f"unsupported election ballot version {extra['version']!r}")
    seats, roster_max, unmarked = extra["seats"], extra["roster_max"], extra["unmarked"]
    if not (isinstance(seats, int) and not isinstance(seats, bool) and seats >= 1):
        raise ValueError("seats must be a positive integer")
    if not (isinstance(roster_max, int) and not isinstance(roster_max, bool) and roster_max >= 1):
        raise ValueError("roster_max must be a positive integer")
    if not isinstance(unmarked, bool):
        raise ValueError("unmarked must be true or false")
    probe = ElectionLayout(("x",), seats, roster_max, unmarked)
    count = len(answers) - seats * probe.ints_per_write_in
    if count < 1:
        raise ValueError("the question has too few answers for its write-in slots")
    layout = ElectionLayout(tuple(answers[:count]), seats, roster_max, unmarked)
    if list(answers[count:]) != write_in_labels(layout):
        raise ValueError("the write-in answers of the question are not labelled as expected")
    return layout


def encode_ballot(layout: ElectionLayout, ballot: ElectionBallot) -> list[int]:
    """The answer vector of ``ballot`` (ValueError only for what the layout cannot hold).

    Ballots that break the law (too many choices, a write-in with 弃权, …) are encoded as
    they are: they are cast and the rules engine counts them as void.
    """
    if len(ballot.marks) != len(layout.candidates):
        raise ValueError(f"{len(ballot.marks)} marks for {len(layout.candidates)} candidates")
    if len(ballot.write_ins) != layout.seats:
        raise ValueError(f"{len(ballot.write_ins)} write-in slots, expected {layout.seats}")
    out = [int(Mark(m)) for m in ballot.marks]
    k = layout.ints_per_write_in
    for number in ballot.write_ins:
        value = 0 if number is None else number
        if number is not None and not 1 <= number <= layout.roster_max:
            raise ValueError(f"roster number {number} is not between 1 and {layout.roster_max}")
        out.extend((value >> (BITS_PER_INT * (k - 1 - d))) & 0xFF for d in range(k))
    return out


def decode_ballot(layout: ElectionLayout, values: Sequence[int]) -> DecodedBallot:
    """Read a decrypted answer vector; never fails on a vector of the right length."""
    if len(values) != layout.length:
        raise ValueError(f"{len(values)} integers, expected {layout.length} for this ballot")
    problems: list[str] = []
    if any(not 0 <= v <= 0xFF for v in values):
        problems.append("an integer of the ballot is outside 0-255")
    c = len(layout.candidates)
    marks = tuple(int(v) for v in values[:c])
    for i, m in enumerate(marks):
        if m not in (0, 1, 2, 3):
            problems.append(f"candidate {i + 1} has the unknown mark code {m}")
        elif m == Mark.UNMARKED and not layout.allow_unmarked:
            problems.append(f"candidate {i + 1} is not marked and the rules require a mark")
    k = layout.ints_per_write_in
    write_ins: list[int | None] = []
    for s in range(layout.seats):
        value = 0
        for v in values[c + s * k : c + (s + 1) * k]:
            value = (value << BITS_PER_INT) | (int(v) & 0xFF)
        if value == 0:
            write_ins.append(None)
        else:
            write_ins.append(value)
            if value > layout.roster_max:
                problems.append(
                    f"write-in {s + 1} holds {value}, not a roster number (1-{layout.roster_max})"
                )
    return DecodedBallot(marks, tuple(write_ins), tuple(problems))


def layout_of_question(question: Any) -> ElectionLayout | None:
    """The layout of a parsed non-homomorphic question, or None if it is not an election ballot.

    ``question`` has ``answers`` and ``extra`` (``tally.election.NonHomomorphicQuestion``).
    """
    extra = getattr(question, "extra", None)
    if not isinstance(extra, Mapping) or extra.get("method") != METHOD:
        return None
    return layout_from_question(tuple(getattr(question, "answers", ())), extra)


def random_ballot(
    layout: ElectionLayout, rng: random.Random, *, overvote_rate: float = 0.05
) -> ElectionBallot:
    """A random ballot for simulations: lawful, except an overvote now and then.

    Lawful means at most ``seats`` choices (赞成 plus write-ins), each write-in paired with a
    反对 for a listed candidate, no write-in when any candidate got 弃权, and a mark for every
    candidate unless the layout allows none.
    """
    c = len(layout.candidates)
    allowed = [Mark.FOR, Mark.AGAINST, Mark.ABSTAIN]
    if layout.allow_unmarked:
        allowed.append(Mark.UNMARKED)
    marks = [rng.choice(allowed) for _ in range(c)]
    overvote = rng.random() < overvote_rate
    fors = [i for i, m in enumerate(marks) if m == Mark.FOR]
    if not overvote:
        for i in fors[layout.seats :]:
            marks[i] = Mark.AGAINST
    approvals = sum(1 for m in marks if m == Mark.FOR)
    write_ins: list[int | None] = [None] * layout.seats
    if Mark.ABSTAIN not in marks:
        against = sum(1 for m in marks if m == Mark.AGAINST)
        room = layout.seats - approvals if not overvote else layout.seats
        count = rng.randint(0, max(0, min(room, against, layout.seats)))
        for slot in range(count):
            write_ins[slot] = rng.randint(1, layout.roster_max)
    return ElectionBallot(tuple(marks), tuple(write_ins))
