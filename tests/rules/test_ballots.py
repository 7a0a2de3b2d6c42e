"""Reference §4.2–4.3: validity of each election ballot."""

from __future__ import annotations

from typing import Any

import pytest

from tally.rules.ballots import ElectionBallot, Mark, VoidReason, WriteIn, read_ballot
from tally.rules.errors import RulesError
from tally.rules.model import ElectionPoll

from .helpers import election, rules

Y, N, A, U = Mark.YES, Mark.NO, Mark.ABSTAIN, Mark.UNMARKED


def poll(**settings: str) -> ElectionPoll:
    # 副镇长: 3 seats, 4 candidates; write-ins: anyone (government post).
    extra: dict[str, Any] = {"settings": settings} if settings else {}
    p = rules(election("vm", seats=3, cands=list("ABCD"), **extra))
    e = p.poll("vm")
    assert isinstance(e, ElectionPoll)
    return e


def test_four_marks_for_three_seats_is_void() -> None:
    r = read_ballot(poll(), ElectionBallot((Y, Y, Y, Y)))
    assert not r.valid and r.reasons == (VoidReason.OVERVOTE,)
    # 2 赞成 + 2 write-ins (each with its 反对) = 4 > 3
    r = read_ballot(poll(), ElectionBallot((Y, Y, N, N), ("X1", "X2")))
    assert not r.valid and VoidReason.OVERVOTE in r.reasons


@pytest.mark.parametrize(
    "ballot",
    [
        ElectionBallot((Y, Y, Y, N)),
        ElectionBallot((Y, Y, N, N), ("X1",)),
        ElectionBallot((N, N, N, N), ("X1", "X2", "X3")),
        ElectionBallot((A, A, A, A)),
        ElectionBallot((Y, A, N, A)),
    ],
)
def test_three_or_fewer_choices_are_valid(ballot: ElectionBallot) -> None:
    assert read_ballot(poll(), ballot).valid


def test_write_in_needs_a_no() -> None:
    r = read_ballot(poll(), ElectionBallot((Y, A, A, A), ("X1",)))
    assert not r.valid and VoidReason.WRITE_IN_WITHOUT_NO in r.reasons
    r = read_ballot(poll(), ElectionBallot((N, A, A, A), ("X1", "X2")))
    assert not r.valid and VoidReason.WRITE_IN_WITHOUT_NO in r.reasons


def test_paired_write_in_with_abstain_is_void() -> None:
    r = read_ballot(poll(), ElectionBallot((Y, A, N, Y), (WriteIn("X1", replaces=1),)))
    assert not r.valid and r.reasons == (VoidReason.WRITE_IN_WITH_ABSTAIN,)
    r = read_ballot(poll(), ElectionBallot((Y, Y, N, A), (WriteIn("X1", replaces=2),)))
    assert r.valid and r.write_ins == ("X1",)
    r = read_ballot(poll(), ElectionBallot((Y, Y, N, A), (WriteIn("X1", 0),)))
    assert not r.valid and r.reasons == (VoidReason.WRITE_IN_WITHOUT_NO,)
    r = read_ballot(poll(), ElectionBallot((N, A, A, A), (WriteIn("X1", 0), WriteIn("X2", 0))))
    assert not r.valid and VoidReason.WRITE_IN_WITHOUT_NO in r.reasons


def test_listed_candidate_written_in_is_void() -> None:
    r = read_ballot(poll(), ElectionBallot((N, A, A, A), ("B",)))
    assert not r.valid and VoidReason.WRITE_IN_LISTED in r.reasons


def test_same_person_written_in_twice_is_void() -> None:
    r = read_ballot(poll(), ElectionBallot((N, N, A, A), ("X1", "X1")))
    assert not r.valid and VoidReason.WRITE_IN_DUPLICATE in r.reasons


def test_unmarked_reading_is_configurable() -> None:
    b = ElectionBallot((Y, U, U, U))
    r = read_ballot(poll(), b)
    assert r.valid and r.marks == (Y, A, A, A)
    r = read_ballot(poll(unmarked="yes"), b)
    assert not r.valid and r.reasons == (VoidReason.OVERVOTE,)  # 4 赞成 for 3 seats
    r = read_ballot(poll(unmarked="void"), b)
    assert not r.valid and r.reasons == (VoidReason.UNMARKED,)
    # an unmarked box read as 弃权 cannot carry a write-in
    r = read_ballot(poll(), ElectionBallot((Y, U, Y, Y), (WriteIn("X", 1),)))
    assert not r.valid and VoidReason.WRITE_IN_WITH_ABSTAIN in r.reasons


def _deputies_only() -> tuple[ElectionPoll, ElectionPoll]:
    r = rules(
        election(
            "ch",
            seats=1,
            cands=["A", "B"],
            post_type="head",
            organ="township_congress",
            settings={"ineligible_write_in": "void_entry"},
        ),
        election(
            "ch2",
            seats=1,
            cands=["A", "B"],
            post_type="head",
            organ="township_congress",
            settings={"ineligible_write_in": "void_ballot"},
        ),
    )
    a, b = r.poll("ch"), r.poll("ch2")
    assert isinstance(a, ElectionPoll) and isinstance(b, ElectionPoll)
    return a, b


def test_write_in_eligibility_for_deputy_only_posts() -> None:
    entry, whole = _deputies_only()
    roster = frozenset({"0001", "0002"})
    b = ElectionBallot((N, A), ("0001",))
    assert read_ballot(entry, b, roster).write_ins == ("1",)  # roster numbers canonical
    outsider = ElectionBallot((N, A), ("9999",))
    r = read_ballot(entry, outsider, roster)
    assert r.valid and r.write_ins == () and r.ignored_write_ins == ("9999",)
    r = read_ballot(whole, outsider, roster)
    assert not r.valid and r.reasons == (VoidReason.INELIGIBLE_WRITE_IN,)
    with pytest.raises(RulesError, match="第十八条"):
        read_ballot(entry, b, None)


def test_malformed_ballots_are_errors_not_void() -> None:
    with pytest.raises(RulesError, match="3 marks for 4"):
        read_ballot(poll(), ElectionBallot((Y, Y, Y)))
    with pytest.raises(RulesError, match="candidate #7"):
        read_ballot(poll(), ElectionBallot((N, A, A, A), (WriteIn("X", 7),)))
    with pytest.raises(RulesError, match="mixes"):
        read_ballot(poll(), ElectionBallot((N, N, A, A), (WriteIn("X", 0), "Y")))


def test_decoded_vectors_map_onto_ballots() -> None:
    from tally.rules.ballots import from_vector

    b = from_vector([1, 2, 3, 0], [517, None])
    assert b.marks == (Y, N, A, U) and b.write_ins == ("517",)
    r = read_ballot(poll(), b)
    assert r.valid and r.write_ins == ("517",)
    bad = from_vector([1, 7, 0, 0], [None, None], ["candidate 2 has the unknown mark code 7"])
    r = read_ballot(poll(), bad)
    assert not r.valid and r.reasons == (VoidReason.MALFORMED,)
    assert not read_ballot(poll(), from_vector([1, 9, 0, 0], [])).valid


def test_roster_numbers_compare_as_numbers() -> None:
    entry, _ = _deputies_only()
    # candidates "A", "B"; a write-in 7 matches roster entry "0007"
    r = read_ballot(entry, ElectionBallot((N, A), ("7",)), frozenset({"0007"}))
    assert r.valid and r.write_ins == ("7",)
    p = rules(election("vm", seats=1, cands=["0012", "0013"])).poll("vm")
    assert isinstance(p, ElectionPoll)
    r = read_ballot(p, ElectionBallot((N, A), ("12",)))
    assert not r.valid and VoidReason.WRITE_IN_LISTED in r.reasons
