"""Reference §4.5–4.7: thresholds, seats, ties, 另行选举, whole-vote validity."""

from __future__ import annotations

from tally.rules.election import supplementary_poll, tally_totals
from tally.rules.model import ElectionPoll, Round
from tally.rules.result import CandidateSource, ItemStatus, NextKind, Verdict
from tally.rules.serialize import to_data

from .helpers import (
    COMMITTEE,
    COMMITTEE_POLL,
    committee_tie,
    counts,
    election,
    rules,
    run,
    yes_totals,
)

VM = election("vm", seats=3, cands=list("ABCD"))  # 副镇长


def test_vice_mayor_three_qualify() -> None:
    o = run(rules(VM), counts("vm", totals=yes_totals({"A": 30, "B": 25, "C": 23, "D": 20}, 45)))
    assert o.verdict is Verdict.VALID
    assert o.elected == ("A", "B", "C")
    assert o.next_polls == ()


def test_vice_mayor_only_one_qualifies_supplementary_with_competition() -> None:
    o = run(rules(VM), counts("vm", totals=yes_totals({"A": 30, "B": 22, "C": 22, "D": 20}, 45)))
    assert o.elected == ("A",)
    (nxt,) = o.next_polls
    assert nxt.kind is NextKind.SUPPLEMENTARY and nxt.seats == 2
    assert nxt.candidate_source is CandidateSource.FIRST_ROUND_ORDER
    assert nxt.candidates == ("B", "C", "D")  # 3 candidates for 2 seats, first-round order
    assert nxt.min_candidates == 3 and nxt.max_candidates == 5
    assert nxt.timing == "this_or_next_session"
    spec = nxt.spec
    assert isinstance(spec, ElectionPoll)
    assert spec.round is Round.SUPPLEMENTARY and spec.seats == 2 and spec.parent == "vm"
    # the specification is itself valid rules (the 差额 of a 副职 另行选举 holds)
    rules(VM, to_data(spec))


def test_committee_tie_across_last_seat_revote_between_the_two() -> None:
    ids, poll = COMMITTEE, COMMITTEE_POLL
    o = committee_tie()
    assert o.elected == tuple(ids[:6])
    assert {i.id for i in o.items if i.status is ItemStatus.TIED} == {"M7", "M8"}
    (nxt,) = o.next_polls
    assert nxt.kind is NextKind.TIE_REVOTE and nxt.seats == 1
    assert isinstance(nxt.spec, ElectionPoll)
    assert [c.id for c in nxt.spec.candidates] == ["M7", "M8"]
    assert nxt.spec.round is Round.TIE_REVOTE
    # the re-vote: plurality among the tied by default
    r2 = rules(poll, to_data(nxt.spec), level="county", total=120)
    o2 = run(r2, counts("cm-revote", total=120, totals=yes_totals({"M7": 50, "M8": 49}, 120)))
    assert o2.elected == ("M7",)
    # with the majority setting, 50 of 120 is not enough: the seat goes to 另行选举
    spec = {**to_data(nxt.spec), "settings": {"tie_revote_threshold": "majority"}}
    r3 = rules(poll, spec, level="county", total=120)
    o3 = run(r3, counts("cm-revote", total=120, totals=yes_totals({"M7": 50, "M8": 49}, 120)))
    assert o3.elected == () and o3.next_polls[0].kind is NextKind.SUPPLEMENTARY
    # a tie again: another re-vote, never broken silently
    o4 = run(r2, counts("cm-revote", total=120, totals=yes_totals({"M7": 60, "M8": 60}, 120)))
    assert o4.elected == () and o4.next_polls[0].kind is NextKind.TIE_REVOTE


def test_tie_within_the_seats_is_no_tie() -> None:
    o = run(rules(VM), counts("vm", totals=yes_totals({"A": 30, "B": 30, "C": 30, "D": 20}, 45)))
    assert o.elected == ("A", "B", "C") and o.next_polls == ()


def test_more_ballots_returned_than_issued_reruns_the_whole_election() -> None:
    o = run(
        rules(VM),
        counts(
            "vm",
            issued=44,
            returned=45,
            totals=yes_totals({"A": 30, "B": 25, "C": 23, "D": 20}, 45),
        ),
    )
    assert o.verdict is Verdict.RETURNED_EXCEEDS_ISSUED
    assert o.elected == ()
    (nxt,) = o.next_polls
    assert nxt.kind is NextKind.RERUN and nxt.seats == 3
    assert nxt.spec is not None and nxt.spec.id == "vm-rerun"


def test_mayor_non_competitive_22_of_45_not_elected() -> None:
    poll = election("mayor", seats=1, cands=["L"], post_type="head")
    o = run(rules(poll), counts("mayor", totals=yes_totals({"L": 22}, 45)))
    assert o.elected == ()
    (nxt,) = o.next_polls
    assert nxt.kind is NextKind.SUPPLEMENTARY and nxt.seats == 1
    assert nxt.min_candidates == 1  # 正职: 等额 allowed
    assert nxt.candidates == ("L",)
    o = run(rules(poll), counts("mayor", totals=yes_totals({"L": 23}, 45)))
    assert o.elected == ("L",)


def test_never_the_one_third_rule() -> None:
    # 20 of 45 is more than a third of all ballots, and the most votes: still not elected.
    poll = election("mayor", seats=1, cands=["L", "M"], post_type="head")
    o = run(rules(poll), counts("mayor", totals=yes_totals({"L": 20, "M": 10}, 45)))
    assert o.elected == ()


def test_threshold_is_of_all_deputies_not_of_those_present() -> None:
    # 31 present of 45; 22 赞成 is a majority of those present but not of all deputies.
    poll = election("mayor", seats=1, cands=["L"], post_type="head")
    o = run(rules(poll), counts("mayor", present=31, totals=yes_totals({"L": 22}, 31)))
    assert o.verdict is Verdict.VALID and o.elected == ()


def test_election_quorum_settings() -> None:
    poll = election("mayor", seats=1, cands=["L"], post_type="head")
    c = counts("mayor", present=40, issued=30, totals=yes_totals({"L": 25}, 30))
    assert run(rules(poll), c).elected == ("L",)  # 30 of 45 = exactly two thirds
    o = run(rules(poll, election_quorum="more_than_two_thirds"), c)
    assert o.verdict is Verdict.TOO_FEW_TAKING_PART
    c = counts("mayor", present=29, totals=yes_totals({"L": 25}, 29))
    assert run(rules(poll), c).verdict is Verdict.NO_QUORUM


def test_supplementary_too_few_left_needs_nomination() -> None:
    poll = election("vm", seats=2, cands=list("ABC"))
    o = run(rules(poll), counts("vm", totals=yes_totals({"A": 10, "B": 10, "C": 10}, 45)))
    (nxt,) = o.next_polls
    assert nxt.seats == 2 and nxt.min_candidates == 3
    assert nxt.candidate_source is CandidateSource.FIRST_ROUND_ORDER
    o = run(rules(poll), counts("vm", totals=yes_totals({"A": 30, "B": 10, "C": 10}, 45)))
    (nxt,) = o.next_polls
    assert nxt.seats == 1 and nxt.candidates == ("B", "C")  # 1 seat + 1 extra
    poll = election("vm", seats=2, cands=list("ABC"), extra=1)
    o = run(rules(poll), counts("vm", totals=yes_totals({"A": 10, "B": 10, "C": 10}, 45)))
    assert o.next_polls[0].candidates == ("A", "B", "C")
    # fewer candidates left than the 差额 needs: candidates must be nominated afresh
    r = rules(election("v2", seats=3, cands=list("ABCD")))
    vm = r.poll("v2")
    assert isinstance(vm, ElectionPoll)
    t = tally_totals(vm, counts("v2", totals=yes_totals({"A": 5, "B": 4, "C": 3, "D": 2}, 45)))
    nxt = supplementary_poll(vm, t, ("A", "B", "C"), 2)
    assert nxt.candidate_source is CandidateSource.NOMINATION
    assert nxt.spec is None and nxt.min_candidates == 3 and nxt.candidates == ("D",)


def test_supplementary_tie_at_list_cut() -> None:
    poll = election("vm", seats=3, cands=list("ABCDEF"), extra=3)
    votes = {"A": 30, "B": 30, "C": 10, "D": 10, "E": 10, "F": 10}
    o = run(rules(poll), counts("vm", totals=yes_totals(votes, 45)))
    (nxt,) = o.next_polls
    # 1 seat left, min 2 candidates, max 4; C..F tie: all four listed (within the 差额)
    assert nxt.candidates == ("C", "D", "E", "F") and nxt.spec is not None
    poll = election("vm", seats=2, cands=list("ABCDE"), extra=3)
    votes = {"A": 30, "B": 1, "C": 1, "D": 1, "E": 1}
    o = run(rules(poll), counts("vm", totals=yes_totals(votes, 45)))
    (nxt,) = o.next_polls
    # 1 seat left: min 2, max 4, and the four remaining all tie: within the limit
    assert nxt.candidate_source is CandidateSource.FIRST_ROUND_ORDER
    poll = election("cm", seats=5, cands=[str(i) for i in range(6)], post_type="member")
    votes = {"0": 100, "1": 100, "2": 100, "3": 100, "4": 5, "5": 5}
    o = run(
        rules(poll, level="county", total=120),
        counts("cm", total=120, totals=yes_totals(votes, 120)),
    )
    (nxt,) = o.next_polls
    # 1 seat left, committee rate: exactly 1 extra allowed; "4" and "5" tie for... both fit
    assert nxt.candidates == ("4", "5")


def test_supplementary_tie_beyond_legal_maximum_goes_to_presidium() -> None:
    poll = election("mayor", seats=1, cands=["L", "M"], post_type="head")
    ids = ["L", "M"]
    o = run(rules(poll), counts("mayor", totals=yes_totals(dict.fromkeys(ids, 5), 45)))
    (nxt,) = o.next_polls
    assert nxt.candidates == ("L", "M")  # 1 + 1 within the head post's 0..1
    poll = election(
        "cm", seats=5, cands=[str(i) for i in range(7)], post_type="member", round="by_election"
    )
    rules(poll, level="county", total=120)
    poll = election("vm", seats=1, cands=list("ABCDE"), extra=3, round="regular")
    # 副职 1 seat, 4 extra is too many for the rate: use a legal 3 extra list and tie all four
    poll = election("vm", seats=1, cands=list("ABCD"), extra=3)
    o = run(rules(poll), counts("vm", totals=yes_totals(dict.fromkeys("ABCD", 5), 45)))
    (nxt,) = o.next_polls
    assert nxt.candidates == ("A", "B", "C", "D")  # 1 + 3: still legal
    poll = election("hd", seats=4, cands=[str(i) for i in range(6)], post_type="higher_deputy")
    votes = {"0": 100, "1": 100, "2": 100, "3": 5, "4": 5, "5": 5}
    o = run(
        rules(poll, level="county", total=120),
        counts("hd", total=120, totals=yes_totals(votes, 120)),
    )
    (nxt,) = o.next_polls
    # 1 seat left: min 2, max 2 (选举法 第四十五条第四款); three tie at the cut: presidium
    assert nxt.candidate_source is CandidateSource.PRESIDIUM and nxt.spec is None
    assert nxt.candidates == ("3", "4", "5")


def test_individual_ballots_with_write_ins_and_void_ballots() -> None:
    poll = election("vm", seats=2, cands=list("ABC"))
    yes, no, ab = "yes", "no", "abstain"
    ballots = (
        [{"marks": [yes, yes, no]}] * 20
        + [{"marks": [yes, no, no], "write_ins": ["X9"]}] * 23
        + [{"marks": [yes, yes, yes]}]  # overvote: void
        + [{"marks": [ab, ab, ab], "write_ins": ["X9", ""]}]  # write-in without 反对: void
    )
    o = run(rules(poll), counts("vm", ballots=ballots))
    assert o.valid_ballots == 43 and o.void_ballots == 2
    assert dict(o.void_reasons) == {"overvote": 1, "write_in_without_no": 1}
    by_id = {i.id: i for i in o.items}
    assert by_id["A"].yes == 43 and by_id["B"].yes == 20 and by_id["X9"].yes == 23
    assert by_id["X9"].write_in
    assert o.elected == ("A", "X9")


def test_write_ins_in_a_tie_revote_count_for_nobody() -> None:
    poll = election("t", seats=1, cands=["A", "B"], round="tie_revote")
    ballots = [{"marks": ["yes", "no"]}] * 3 + [{"marks": ["no", "no"], "write_ins": ["Z"]}] * 5
    o = run(rules(poll), counts("t", total=9, present=8, ballots=ballots))
    assert o.elected == ("A",)
    assert all(i.id != "Z" for i in o.items)


def test_totals_consistency_errors() -> None:
    import pytest

    from tally.rules.errors import RulesError

    with pytest.raises(RulesError, match="exactly the candidates"):
        run(rules(VM), counts("vm", totals=yes_totals({"A": 1, "B": 1, "C": 1}, 45)))
    with pytest.raises(RulesError, match="marks on"):
        run(rules(VM), counts("vm", totals=yes_totals({"A": 46, "B": 1, "C": 1, "D": 1}, 46)))
    with pytest.raises(RulesError, match="ballots given"):
        run(rules(VM), counts("vm", ballots=[{"marks": ["yes"] * 4}]))
    with pytest.raises(RulesError, match="issued"):
        run(rules(VM), counts("vm", present=40, issued=41, totals=yes_totals({"A": 1}, 41)))


def test_counts_ballots_in_the_decoder_codes() -> None:
    poll = election("vm", seats=1, cands=["0012", "0013"])
    ballots = (
        [{"marks": [1, 2], "write_ins": [None]}] * 24
        + [{"marks": [2, 2], "write_ins": [7]}] * 3
        + [{"marks": [1, 7], "write_ins": [None], "problems": ["unknown mark code 7"]}]
    )
    o = run(
        rules(poll), counts("vm", total=30, present=28, ballots=ballots, names={"0007": "王五"})
    )
    assert o.elected == ("0012",) and o.void_ballots == 1
    assert dict(o.void_reasons) == {"malformed": 1}
    assert {i.id: i.name for i in o.items}["7"] == "王五"
