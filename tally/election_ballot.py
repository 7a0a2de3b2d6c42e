"""The 人大 election ballot as a non-homomorphic answer vector (docs/ballots.md).

One personnel election (one post, ``seats`` places) is one non-homomorphic question in the
RFC-3526-2048 group, whose embedding packs a vector of integers of 8 bits each (at most
:data:`MAX_INTS` of them) into one ciphertext. The vector is, in this order:

1. one integer per listed candidate, in ballot order: 1 = 赞成, 2 = 反对, 3 = 弃权, and
   0 = no mark (未标记; a valid choice only if the session's 选举办法 allows it);
2. ``seats`` write-in slots (另选他人). A slot holds the roster number (1 … ``roster_max``)
   of the person written in, or 0 for an empty slot, written in base 256 over
   ``ints_per_write_in`` integers, most significant first (1 integer while
   ``roster_max`` ≤ 255, 2 up to 65,535, 3 up to 16,777,215). In version 2 (``name_chars``
   > 0, for posts where "其他任何代表或者选民" may be elected, 地方组织法 第二十八条) each slot
   then holds a free name of up to ``name_chars`` characters, each a Unicode code point in
   3 integers (base 256), 0 after the name's end; a slot holds a roster number or a name,
   never both.

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
NAMES_VERSION = 2  # write-in slots that may also hold a free name
INTS_PER_CHAR = 3  # a code point (at most 0x10FFFF) in base 256
FREE_NAME_CHARS = 8  # a free name's room on the server's version 2 ballots (most are 2-4)
MIN_FREE_NAME_CHARS = 3  # below this a name would not fit most Chinese names: version 1


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
    name_chars: int = 0  # version 2: characters of a free name per write-in slot (0: none)

    def __post_init__(self) -> None:
        if self.seats < 1:
            raise ValueError("an election has at least one seat")
        if self.roster_max < 1:
            raise ValueError("the roster has at least one person")
        if not self.candidates:
            raise ValueError("an election lists at least one candidate")
        if self.name_chars < 0:
            raise ValueError("name_chars is 0 (no free names) or more")
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
    def ints_per_slot(self) -> int:
        """Integers of one write-in slot: the roster number, then the free name (version 2)."""
        return self.ints_per_write_in + self.name_chars * INTS_PER_CHAR

    @property
    def length(self) -> int:
        """Number of integers in the answer vector (= answers of the question)."""
        return len(self.candidates) + self.seats * self.ints_per_slot


@dataclass(frozen=True)
class ElectionBallot:
    """What a deputy cast: one mark per candidate and ``seats`` write-ins: a roster number, a
    free name (version 2 layouts), or None for an empty slot."""

    marks: tuple[Mark, ...]
    write_ins: tuple[int | str | None, ...]


@dataclass(frozen=True)
class DecodedBallot:
    """A decrypted ballot read back; ``problems`` non-empty means it cannot be counted as cast.

    ``marks`` holds the raw codes (0-255) so that nothing is lost; ``write_ins`` the raw slot
    values (None for an empty slot).
    """

    marks: tuple[int, ...]
    write_ins: tuple[int | str | None, ...]
    problems: tuple[str, ...]

    @property
    def well_formed(self) -> bool:
        return not self.problems

    def ballot(self) -> ElectionBallot:
        """The ballot as cast; only for a well-formed one."""
        if self.problems:
            raise ValueError("a malformed ballot has no meaning: " + "; ".join(self.problems))
        return ElectionBallot(tuple(Mark(m) for m in self.marks), self.write_ins)


def free_name_chars(candidates: int, seats: int, roster_max: int, max_ints: int = MAX_INTS) -> int:
    """Characters of a free name the server gives each write-in slot where anyone may be
    elected: :data:`FREE_NAME_CHARS` when the ballot has room, else as many as fit, and 0 (a
    version 1 ballot: write-ins by roster number only) when fewer than
    :data:`MIN_FREE_NAME_CHARS` fit, because ``c + S·k + S·3L ≤ max_ints`` (254 in
    RFC-3526-2048; ``keys.embedding.max_values`` of the election group)."""
    k = ElectionLayout(("x",), seats, roster_max).ints_per_write_in
    room = min(max_ints, MAX_INTS) - candidates - seats * k
    fits = room // (seats * INTS_PER_CHAR) if room > 0 else 0
    chars = min(FREE_NAME_CHARS, fits)
    return chars if chars >= MIN_FREE_NAME_CHARS else 0


def name_problem(name: str, chars: int) -> str:
    """Why ``name`` cannot be written in as a free name of at most ``chars`` characters ("" if
    it can), in plain Chinese for the deputy: blank, too long, a control character, or only
    digits (a roster number is entered as a number, and the count would read it as one)."""
    if not name or not name.strip():
        return "请输入被选人的姓名"
    if name != name.strip():
        return "姓名前后不能有空格"
    if len(name) > chars:
        return f"姓名最多{chars}个字，现在是{len(name)}个字"
    if not name.isprintable():
        return "姓名中有无法打印的控制字符，请重新输入"
    if name.isdigit():
        return "姓名不能只有数字；另选代表请按座位号输入"
    return ""


def write_in_labels(layout: ElectionLayout) -> list[str]:
    """Answer labels of the write-in integers: ``另选他人 s`` or ``另选他人 s (d/k)``."""
    k = layout.ints_per_write_in
    n = layout.name_chars * INTS_PER_CHAR
    labels = []
    for s in range(1, layout.seats + 1):
        if k == 1:
            labels.append(f"另选他人 {s}")
        else:
            labels.extend(f"另选他人 {s} ({d}/{k})" for d in range(1, k + 1))
        labels.extend(f"另选他人 {s} 姓名 ({d}/{n})" for d in range(1, n + 1))
    return labels


def question_json(layout: ElectionLayout, title: str) -> dict[str, Any]:
    """The non-homomorphic question of an election template for this layout."""
    extra: dict[str, Any] = {
        "method": METHOD,
        "version": VERSION,
        "seats": layout.seats,
        "roster_max": layout.roster_max,
        "unmarked": layout.allow_unmarked,
    }
    if layout.name_chars:
        extra.update(version=NAMES_VERSION, names=layout.name_chars)
    return {
        "type": "NonHomomorphic",
        "value": {"answers": [*layout.candidates, *write_in_labels(layout)], "question": title},
        "extra": extra,
    }


def layout_from_question(answers: Sequence[str], extra: Any) -> ElectionLayout:
    """Read the layout back from a question's answers and ``extra`` (ValueError if not ours)."""
    if not isinstance(extra, Mapping) or extra.get("method") != METHOD:
        raise ValueError(f"the question is not a {METHOD} election ballot")
    fields = {"method", "version", "seats", "roster_max", "unmarked"}
    if extra.get("version") == NAMES_VERSION:
        fields.add("names")
    elif extra.get("version") != VERSION:
        raise ValueError(f"unsupported election ballot version {extra.get('version')!r}")
    if set(extra) != fields:
        raise ValueError("the election ballot description has missing or unknown fields")
    names = extra.get("names", 0)
    if not (isinstance(names, int) and not isinstance(names, bool) and names >= 0) or (
        extra["version"] == NAMES_VERSION and names < 1
    ):
        raise ValueError("names must be a positive integer (characters of a free name)")
    seats, roster_max, unmarked = extra["seats"], extra["roster_max"], extra["unmarked"]
    if not (isinstance(seats, int) and not isinstance(seats, bool) and seats >= 1):
        raise ValueError("seats must be a positive integer")
    if not (isinstance(roster_max, int) and not isinstance(roster_max, bool) and roster_max >= 1):
        raise ValueError("roster_max must be a positive integer")
    if not isinstance(unmarked, bool):
        raise ValueError("unmarked must be true or false")
    probe = ElectionLayout(("x",), seats, roster_max, unmarked, names)
    count = len(answers) - seats * probe.ints_per_slot
    if count < 1:
        raise ValueError("the question has too few answers for its write-in slots")
    layout = ElectionLayout(tuple(answers[:count]), seats, roster_max, unmarked, names)
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
    for entry in ballot.write_ins:
        name = entry if isinstance(entry, str) else ""
        number = entry if isinstance(entry, int) else None
        if isinstance(entry, str) and not layout.name_chars:
            raise ValueError("this ballot's write-ins are roster numbers, not names")
        if isinstance(entry, str) and name_problem(name, layout.name_chars):
            raise ValueError(
                f"a written-in name has 1 to {layout.name_chars} characters, not blank, "
                f"printable, not only digits: {name_problem(name, layout.name_chars)}"
            )
        if number is not None and not 1 <= number <= layout.roster_max:
            raise ValueError(f"roster number {number} is not between 1 and {layout.roster_max}")
        value = number or 0
        out.extend((value >> (BITS_PER_INT * (k - 1 - d))) & 0xFF for d in range(k))
        points = [ord(ch) for ch in name] + [0] * (layout.name_chars - len(name))
        for point in points:
            out.extend((point >> (BITS_PER_INT * (2 - d))) & 0xFF for d in range(INTS_PER_CHAR))
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
    size = layout.ints_per_slot
    write_ins: list[int | str | None] = []
    for s in range(layout.seats):
        start = c + s * size
        value = 0
        for v in values[start : start + k]:
            value = (value << BITS_PER_INT) | (int(v) & 0xFF)
        name, problem = _read_name(values[start + k : start + size])
        if problem:
            problems.append(f"write-in {s + 1}: {problem}")
        if value and name:
            problems.append(f"write-in {s + 1} holds both a roster number and a name")
        if name:
            write_ins.append(name)
        elif value == 0:
            write_ins.append(None)
        else:
            write_ins.append(value)
            if value > layout.roster_max:
                problems.append(
                    f"write-in {s + 1} holds {value}, not a roster number (1-{layout.roster_max})"
                )
    return DecodedBallot(marks, tuple(write_ins), tuple(problems))


def _read_name(values: Sequence[int]) -> tuple[str, str]:
    """The free name of a slot (version 2) and what is wrong with it ("" when nothing)."""
    points = []
    for i in range(0, len(values), INTS_PER_CHAR):
        point = 0
        for v in values[i : i + INTS_PER_CHAR]:
            point = (point << BITS_PER_INT) | (int(v) & 0xFF)
        points.append(point)
    while points and points[-1] == 0:
        points.pop()
    if not points:
        return "", ""
    if 0 in points:
        return "", "the name has a gap"
    if any(p > 0x10FFFF or 0xD800 <= p <= 0xDFFF for p in points):
        return "", "the name holds a number that is no character"
    name = "".join(chr(p) for p in points)
    if not name.strip() or not name.isprintable():
        return "", "the name is blank or holds a control character"
    return name, ""


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
