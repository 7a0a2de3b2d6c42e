"""Individual election ballots (选举票) and their validity, ballot by ballot.

Input type (what a decoded non-homomorphic ballot maps onto, see docs/rules.md):

``ElectionBallot(marks, write_ins, problems=())``
    ``marks``: one :class:`Mark` per listed candidate, in the order of the poll's candidate list;
    ``write_ins``: the filled write-in slots (empty slots left out), each a roster number or
    other person identifier (``str``), or a :class:`WriteIn` that also says which listed
    candidate (by index) the write-in stands against, when the ballot layout pairs them;
    ``problems``: what the decoder could not read (docs/ballots.md); any problem makes the
    ballot void, never dropped. :func:`from_vector` maps a decoded answer vector onto this.

Identifiers made only of digits are roster numbers and compare as numbers ("0007" is 7).

A ballot is void (作废) when (reference §4.2–4.3):

- 所选人数 (赞成 marks, after reading unmarked boxes, plus write-ins) exceeds the seats
  (选举法 第四十四条第二款);
- with ``write_in_pairing: with_no`` (the default): a write-in has no 反对 of its own:
  uncoupled, more write-ins than 反对 marks; coupled, the candidate it stands against is not
  marked 反对 (代表法 第十七条: 表示反对的，可以另选他人); or a write-in is paired with a 弃权
  (表示弃权的，不能另选他人). ``free`` drops this rule (地方组织法 第二十八条 lists 另选 as an
  option of its own); the overvote rule still holds;
- a listed candidate, or the same person twice, is written in;
- a box is unmarked and the rules say ``unmarked: void``;
- the decoder reported a problem (an unknown mark code, a forbidden "no mark", a roster
  number out of range);
- a write-in names someone who may not hold the post and the rules say
  ``ineligible_write_in: void_ballot`` (otherwise only that entry counts for nobody).

A void ballot is still a returned ballot; it adds nothing to anyone.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from enum import StrEnum

from tally.rules.errors import RulesError
from tally.rules.model import (
    ElectionPoll,
    IneligibleWriteIn,
    Unmarked,
    WriteInPairing,
    person_key,
)
from tally.rules.nominations import write_in_eligible


class Mark(StrEnum):
    YES = "yes"  # 赞成
    NO = "no"  # 反对
    ABSTAIN = "abstain"  # 弃权
    UNMARKED = "unmarked"  # 未标记


@dataclass(frozen=True)
class WriteIn:
    person: str
    replaces: int | None = None  # index of the listed candidate it stands against, if paired


@dataclass(frozen=True)
class ElectionBallot:
    marks: tuple[Mark, ...]
    write_ins: tuple[str | WriteIn, ...] = ()
    problems: tuple[str, ...] = ()
    # one ballot for several posts with ``overfilled_section: sheet``: another post's section of
    # the same ballot is overfilled, so this section is void too (tally.rules.sheet)
    sheet_void: bool = False

    def entries(self) -> tuple[WriteIn, ...]:
        return tuple(
            WriteIn(person_key(w.person), w.replaces)
            if isinstance(w, WriteIn)
            else WriteIn(person_key(w))
            for w in self.write_ins
        )


MARK_CODES = {0: Mark.UNMARKED, 1: Mark.YES, 2: Mark.NO, 3: Mark.ABSTAIN}


def from_vector(
    marks: Sequence[int], write_ins: Sequence[int | str | None], problems: Sequence[str] = ()
) -> ElectionBallot:
    """The ballot of a decoded answer vector (docs/ballots.md: 0 未标记, 1 赞成, 2 反对,
    3 弃权; write-in slots hold roster numbers or free names, None for empty). A ballot with
    problems keeps them and is void; its unreadable marks are not interpreted."""
    if problems or any(m not in MARK_CODES for m in marks):
        bad = tuple(problems) or ("unknown mark code",)
        return ElectionBallot((), (), bad)
    return ElectionBallot(
        tuple(MARK_CODES[m] for m in marks),
        tuple(str(w) for w in write_ins if w is not None),
    )


class VoidReason(StrEnum):
    MALFORMED = "malformed"
    OVERVOTE = "overvote"
    WRITE_IN_WITHOUT_NO = "write_in_without_no"
    WRITE_IN_WITH_ABSTAIN = "write_in_with_abstain"
    WRITE_IN_LISTED = "write_in_listed"
    WRITE_IN_DUPLICATE = "write_in_duplicate"
    UNMARKED = "unmarked"
    INELIGIBLE_WRITE_IN = "ineligible_write_in"
    SHEET_VOID = "sheet_void"


VOID_LABELS = {
    VoidReason.MALFORMED: "选票无法辨认",
    VoidReason.OVERVOTE: "所选人数多于应选人数",
    VoidReason.WRITE_IN_WITHOUT_NO: "另选他人未对候选人投反对票",
    VoidReason.WRITE_IN_WITH_ABSTAIN: "弃权的不能另选他人",
    VoidReason.WRITE_IN_LISTED: "另选了正式候选人",
    VoidReason.WRITE_IN_DUPLICATE: "同一人重复另选",
    VoidReason.UNMARKED: "有候选人未标记",
    VoidReason.INELIGIBLE_WRITE_IN: "另选的人不符合任职条件",
    VoidReason.SHEET_VOID: "同一张选票另一职位所选人数多于应选人数，全票作废",
}


@dataclass(frozen=True)
class BallotReading:
    """How one ballot counts: valid or void (with every reason), and for whom."""

    valid: bool
    reasons: tuple[VoidReason, ...]
    marks: tuple[Mark, ...]  # marks as read (unmarked replaced by the configured reading)
    write_ins: tuple[str, ...]  # write-ins credited (eligible persons), empty when void
    ignored_write_ins: tuple[str, ...]  # ineligible entries that count for nobody


def read_mark(mark: Mark, unmarked: Unmarked) -> Mark:
    if mark is not Mark.UNMARKED:
        return mark
    if unmarked is Unmarked.YES:
        return Mark.YES
    if unmarked is Unmarked.ABSTAIN:
        return Mark.ABSTAIN
    return Mark.UNMARKED


def read_ballot(
    poll: ElectionPoll, ballot: ElectionBallot, roster: Collection[str] | None = None
) -> BallotReading:
    """Read one election ballot under the poll's rules. A malformed ballot (wrong number of
    marks, a pairing index out of range, mixed pairing) raises :class:`RulesError`."""
    n = len(poll.candidates)
    if ballot.problems:
        return BallotReading(False, (VoidReason.MALFORMED,), (), (), ())
    if ballot.sheet_void:
        return BallotReading(False, (VoidReason.SHEET_VOID,), (), (), ())
    if len(ballot.marks) != n:
        raise RulesError(
            f"election {poll.id!r}: a ballot has {len(ballot.marks)} marks for {n} candidates"
        )
    entries = ballot.entries()
    paired = [w.replaces is not None for w in entries]
    if any(paired) and not all(paired):
        raise RulesError(f"election {poll.id!r}: a ballot mixes paired and unpaired write-ins")
    marks = tuple(read_mark(Mark(m), poll.settings.unmarked) for m in ballot.marks)
    reasons: list[VoidReason] = []
    if Mark.UNMARKED in marks:
        reasons.append(VoidReason.UNMARKED)
    listed = {person_key(c.id) for c in poll.candidates}
    people = [w.person for w in entries]
    if any(p in listed for p in people):
        reasons.append(VoidReason.WRITE_IN_LISTED)
    if len(set(people)) != len(people):
        reasons.append(VoidReason.WRITE_IN_DUPLICATE)
    if poll.settings.write_in_pairing is WriteInPairing.FREE:
        pass  # the 选举办法 lets a write-in stand without a 反对 (only the overvote rule)
    elif entries and all(paired):
        used: set[int] = set()
        for w in entries:
            idx = w.replaces
            assert idx is not None
            if not 0 <= idx < n:
                raise RulesError(
                    f"election {poll.id!r}: a write-in stands against candidate #{idx}, "
                    f"but there are {n} candidates"
                )
            if marks[idx] is Mark.ABSTAIN:
                reasons.append(VoidReason.WRITE_IN_WITH_ABSTAIN)
            elif marks[idx] is not Mark.NO or idx in used:
                reasons.append(VoidReason.WRITE_IN_WITHOUT_NO)
            used.add(idx)
    elif len(entries) > marks.count(Mark.NO):
        reasons.append(VoidReason.WRITE_IN_WITHOUT_NO)
    chosen = marks.count(Mark.YES) + len(entries)
    if chosen > poll.seats:
        reasons.append(VoidReason.OVERVOTE)
    credited: list[str] = []
    ignored: list[str] = []
    for person in people:
        if person in listed:
            continue
        if write_in_eligible(poll, person, roster):
            credited.append(person)
        else:
            ignored.append(person)
    if ignored and poll.settings.ineligible_write_in is IneligibleWriteIn.VOID_BALLOT:
        reasons.append(VoidReason.INELIGIBLE_WRITE_IN)
    unique = tuple(dict.fromkeys(reasons))
    if unique:
        return BallotReading(False, unique, marks, (), tuple(people))
    return BallotReading(True, (), marks, tuple(credited), tuple(ignored))
