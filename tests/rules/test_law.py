"""Issue 13, items 2-6: write-ins as the law allows them, eligibility on every path, counts that
cannot be, what each level may elect and remove, and every citation right.

Worked examples from ../shared/reference/npc-rules.md (§n) and the statutes; Hypothesis
properties where a rule is general.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tally.rules.ballots import ElectionBallot, Mark, VoidReason, WriteIn, read_ballot
from tally.rules.errors import LawError, RulesError
from tally.rules.model import ElectionPoll, Level, PostType
from tally.rules.nominations import Nomination, check_nominations
from tally.rules.outcome import evaluate
from tally.rules.result import ItemStatus

from .helpers import counts, election, rules, yes_totals

Y, N, A, U = Mark.YES, Mark.NO, Mark.ABSTAIN, Mark.UNMARKED
ROSTER = [str(i) for i in range(1, 46)]


def _poll(doc: dict[str, Any], **kw: Any) -> ElectionPoll:
    p = rules(doc, **kw).poll(doc["id"])
    assert isinstance(p, ElectionPoll)
    return p


def vice_mayor(**settings: str) -> dict[str, Any]:
    """副镇长: 3 seats, 4 candidates, government post (anyone may be written in)."""
    extra: dict[str, Any] = {"settings": settings} if settings else {}
    return election("vm", seats=3, cands=list("ABCD"), **extra)


def vice_chair(**extra: Any) -> dict[str, Any]:
    """乡镇人大副主席: deputies only (地方组织法 第十八条), 1 seat, 2 candidates."""
    return election("vc", seats=1, cands=["A", "B"], organ="township_congress", **extra)


# -- 2. write-ins as the law allows them --------------------------------------------------------


def test_pairing_is_a_setting_with_the_law_as_default() -> None:
    """代表法 第十七条 (表示反对的，可以另选他人) is the default; a 选举办法 may drop it."""
    lone = ElectionBallot((Y, A, A, A), ("王五",))  # a write-in without any 反对
    paired_abstain = ElectionBallot((Y, A, N, Y), (WriteIn("王五", replaces=1),))
    default = _poll(vice_mayor())
    assert read_ballot(default, lone).reasons == (VoidReason.WRITE_IN_WITHOUT_NO,)
    assert read_ballot(default, paired_abstain).reasons == (VoidReason.WRITE_IN_WITH_ABSTAIN,)
    free = _poll(vice_mayor(write_in_pairing="free"))
    assert read_ballot(free, lone).valid and read_ballot(free, lone).write_ins == ("王五",)
    assert read_ballot(free, paired_abstain).valid
    # the overvote rule still holds without pairing (选举法 第四十四条第二款)
    over = ElectionBallot((Y, Y, Y, A), ("王五",))
    assert read_ballot(free, over).reasons == (VoidReason.OVERVOTE,)


def test_a_free_name_where_anyone_may_be_elected_and_the_roster_where_deputies_must_be() -> None:
    """A 副镇长 may be "其他任何代表或者选民" (地方组织法 第二十八条): a free name counts; a
    副主席 must be a deputy (第十八条): a name not on the roster counts for nobody."""
    ballots = [{"marks": ["no", "yes", "yes", "abstain"], "write_ins": ["王五"]}] * 30 + [
        {"marks": ["yes", "yes", "yes", "no"]}
    ] * 15
    o = evaluate(rules(vice_mayor()), counts("vm", ballots=ballots, roster=ROSTER))
    status = {i.id: (i.status, i.write_in) for i in o.items}
    assert status["王五"] == (ItemStatus.ELECTED, True)
    assert o.elected == ("B", "C", "王五")

    deputies = [{"marks": ["no", "abstain"], "write_ins": ["王五"]}] * 30 + [
        {"marks": ["no", "abstain"], "write_ins": ["7"]}
    ] * 15
    o = evaluate(
        rules(vice_chair()),
        counts("vc", ballots=deputies, roster=ROSTER, names={"7": "李四"}),
    )
    assert "王五" not in {i.id for i in o.items}
    assert {i.id: i.yes for i in o.items if i.write_in} == {"7": 15}
    assert any("counted for nobody" in n for n in o.notes)


def test_ids_of_digits_compare_as_numbers() -> None:
    with pytest.raises(RulesError, match="listed twice: 7 = 007"):
        rules(election("e", seats=1, cands=["7", "007"], post_type="head"))
    # totals for "007" are the totals of candidate 7
    r = rules(election("e", seats=1, cands=["7", "8"], post_type="head"))
    o = evaluate(r, counts("e", totals={"007": {"yes": 30, "no": 15}, "8": {"yes": 15}}))
    assert o.elected == ("7",)
    # write-ins in equal numbers are listed 9 before 10 (numbers, not text)
    ballots = [{"marks": ["no", "no"], "write_ins": [10]}] * 10 + [
        {"marks": ["no", "no"], "write_ins": ["009"]}
    ] * 10
    o = evaluate(r, counts("e", returned=20, ballots=ballots, roster=ROSTER))
    assert [i.id for i in o.items if i.write_in] == ["9", "10"]


@pytest.mark.parametrize(
    ("person", "what"),
    [({"id": " ", "name": "张三"}, "id is blank"), ({"id": "A", "name": "　 "}, "name is blank")],
)
def test_blank_names_are_refused(person: dict[str, str], what: str) -> None:
    doc = election("e", seats=1, cands=["B"], post_type="head")
    doc["candidates"].append(person)
    with pytest.raises(RulesError, match=what):
        rules(doc)


@pytest.mark.parametrize(
    "bad",
    [
        {"ballots": [{"marks": ["no", "no"], "write_ins": ["  "]}]},
        {"ballots": [{"marks": ["no", "no"], "write_ins": [{"person": " ", "replaces": 0}]}]},
        {"totals": {"A": {"no": 1}, "B": {"no": 1}}, "write_in_totals": {" ": 1}},
        {"totals": {"A": {"no": 1}, "B": {"no": 1}}, "names": {"7": " "}},
    ],
)
def test_blank_write_ins_and_names_in_counts_are_refused(bad: dict[str, Any]) -> None:
    r = rules(election("e", seats=1, cands=["A", "B"], post_type="head"))
    with pytest.raises(RulesError, match=r"blank|not blank|person identifier"):
        evaluate(r, counts("e", total=45, present=45, issued=1, returned=1, **bad))


# -- 3. eligibility on every path ---------------------------------------------------------------


def test_a_non_deputy_is_never_elected_to_a_deputies_organ_from_totals() -> None:
    """The 副主席 must be a deputy (地方组织法 第十八条): 30 write-in votes for a person who is
    not on the roster elect nobody, from totals as from ballots."""
    c = counts(
        "vc",
        totals={"A": {"yes": 5, "no": 40}, "B": {"yes": 5, "no": 40}},
        write_in_totals={"99": 30, "7": 5},
        roster=ROSTER,
    )
    o = evaluate(rules(vice_chair()), c)
    assert o.elected == ()
    assert "99" not in {i.id for i in o.items}
    assert any("counted for nobody" in n for n in o.notes)
    # the same person may be elected where anyone may be (a 副镇长, 第二十八条)
    c = counts(
        "vm",
        totals=yes_totals({"A": 30, "B": 30, "C": 10, "D": 0}, 45),
        write_in_totals={"99": 30},
    )
    assert evaluate(rules(vice_mayor()), c).elected == ("A", "B", "99")


def test_no_roster_stops_the_evaluation_on_both_paths() -> None:
    totals = {"A": {"yes": 10, "no": 35}, "B": {"yes": 5, "no": 40}}
    with pytest.raises(RulesError, match=r"no roster.*第十八条"):
        evaluate(rules(vice_chair()), counts("vc", totals=totals, write_in_totals={"7": 30}))
    ballots = [{"marks": ["no", "abstain"], "write_ins": ["7"]}] * 45
    with pytest.raises(RulesError, match=r"no roster.*第十八条"):
        evaluate(rules(vice_chair()), counts("vc", ballots=ballots))


def test_write_ins_count_for_nobody_in_a_tie_revote_from_totals() -> None:
    r = rules(election("t", seats=1, cands=["A", "B"], round="tie_revote"))
    c = counts(
        "t",
        totals={"A": {"yes": 20, "no": 25}, "B": {"yes": 19, "no": 26}},
        write_in_totals={"王五": 6},
    )
    o = evaluate(r, c)
    assert o.elected == ("A",) and not any(i.write_in for i in o.items)


@st.composite
def deputy_ballots(draw: st.DrawFn) -> list[dict[str, Any]]:
    """Ballots of a 1-seat 副主席 election (2 candidates) with write-ins of roster numbers
    1..60, of which only 1..45 are deputies."""
    n = draw(st.integers(min_value=1, max_value=45))
    out = []
    for _ in range(n):
        marks = draw(st.lists(st.sampled_from(["yes", "no", "abstain"]), min_size=2, max_size=2))
        person = draw(st.none() | st.integers(min_value=1, max_value=60))
        out.append({"marks": marks, "write_ins": [] if person is None else [person]})
    return out


def _as_totals(ballots: list[dict[str, Any]]) -> tuple[dict[str, Any], dict[str, int], int]:
    """The totals of the valid ones among ``ballots`` (read with the default rules)."""
    poll = _poll(vice_chair())
    totals = {"A": Counter[str](), "B": Counter[str]()}
    written: Counter[str] = Counter()
    void = 0
    for b in ballots:
        reading = read_ballot(
            poll,
            ElectionBallot(tuple(Mark(m) for m in b["marks"]), tuple(map(str, b["write_ins"]))),
            frozenset(ROSTER),
        )
        if not reading.valid:
            void += 1
            continue
        for cid, mark in zip("AB", reading.marks, strict=True):
            totals[cid][mark.value] += 1
        written.update(str(w) for w in b["write_ins"])
    return {k: dict(v) for k, v in totals.items()}, dict(written), void


@settings(max_examples=120, deadline=None)
@given(deputy_ballots())
def test_property_a_non_deputy_is_never_elected_whatever_the_path(
    ballots: list[dict[str, Any]],
) -> None:
    r = rules(vice_chair())
    n = len(ballots)
    by_ballot = evaluate(r, counts("vc", issued=45, returned=n, ballots=ballots, roster=ROSTER))
    totals, written, void = _as_totals(ballots)
    by_totals = evaluate(
        r,
        counts(
            "vc",
            issued=45,
            returned=n,
            totals=totals,
            write_in_totals=written,
            void=void,
            roster=ROSTER,
        ),
    )
    for o in (by_ballot, by_totals):
        assert all(e in {"A", "B", *ROSTER} for e in o.elected)
        assert all(i.id in {"A", "B", *ROSTER} for i in o.items)
    assert by_ballot.elected == by_totals.elected


# -- 4. counts that cannot be ------------------------------------------------------------------


def test_more_yes_than_seats_times_valid_ballots_is_refused() -> None:
    """副镇长, 3 seats, 45 ballots: at most 135 赞成 in all (选举法 第四十四条第二款)."""
    r = rules(vice_mayor())
    ok = counts("vm", totals=yes_totals({"A": 45, "B": 45, "C": 45, "D": 0}, 45))
    assert evaluate(r, ok).elected == ("A", "B", "C")
    bad = counts("vm", totals=yes_totals({"A": 45, "B": 45, "C": 45, "D": 1}, 45))
    with pytest.raises(RulesError, match=r"136 赞成.*at most 3.*第四十四条"):
        evaluate(r, bad)
    bad = counts(
        "vm",
        totals=yes_totals({"A": 45, "B": 45, "C": 40, "D": 0}, 45),
        write_in_totals={"王五": 6},
    )
    with pytest.raises(RulesError, match="6 write-in"):
        evaluate(r, bad)


def test_more_write_ins_than_no_marks_or_ballots_is_refused() -> None:
    r = rules(vice_mayor())
    no_no = {k: {"yes": 0, "abstain": 45} for k in "ABCD"}
    with pytest.raises(RulesError, match=r"only 0 反对.*代表法 第十七条"):
        evaluate(r, counts("vm", totals=no_no, write_in_totals={"王五": 1}))
    # with the pairing dropped the same totals are possible
    free = rules(vice_mayor(write_in_pairing="free"))
    assert evaluate(free, counts("vm", totals=no_no, write_in_totals={"王五": 1})).elected == ()
    with pytest.raises(RulesError, match="written in on 46 ballots"):
        evaluate(free, counts("vm", totals=no_no, write_in_totals={"王五": 46}))


def test_project_approvals_beyond_n_per_ballot_are_refused() -> None:
    doc = {
        "id": "p",
        "kind": "projects",
        "title": "民生实事",
        "form": "B",
        "select": 2,
        "competitive": True,
        "projects": [{"id": f"P{i}", "name": f"项目{i}"} for i in range(3)],
    }
    r = rules(doc)
    with pytest.raises(RulesError, match="more approvals than N"):
        evaluate(r, counts("p", totals={f"P{i}": {"yes": 31} for i in range(3)}))


@st.composite
def election_totals(draw: st.DrawFn) -> tuple[int, list[int], int]:
    seats = draw(st.integers(min_value=1, max_value=3))
    valid = draw(st.integers(min_value=0, max_value=45))
    votes = draw(st.lists(st.integers(0, valid), min_size=seats + 1, max_size=seats + 1))
    return seats, votes, valid


@settings(max_examples=150, deadline=None)
@given(election_totals())
def test_property_totals_no_valid_ballots_can_give_are_refused(
    contest: tuple[int, list[int], int],
) -> None:
    seats, votes, valid = contest
    ids = [f"C{i}" for i in range(len(votes))]
    r = rules(election("e", seats=seats, cands=ids, round="by_election"))
    c = counts(
        "e", issued=45, returned=valid, totals=yes_totals(dict(zip(ids, votes, strict=True)), valid)
    )
    if sum(votes) > seats * valid:
        with pytest.raises(RulesError, match="no set of valid ballots"):
            evaluate(r, c)
    else:
        assert len(evaluate(r, c).elected) <= seats


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.sampled_from([Y, N, A, U]), min_size=4, max_size=4),
    st.lists(st.sampled_from(["王五", "赵六", "7"]), max_size=3, unique=True),
    st.sampled_from(["abstain", "yes", "void"]),
    st.sampled_from(["with_no", "free"]),
)
def test_property_an_overvote_is_never_valid(
    marks: list[Mark], write_ins: list[str], unmarked: str, pairing: str
) -> None:
    poll = _poll(vice_mayor(unmarked=unmarked, write_in_pairing=pairing))
    reading = read_ballot(poll, ElectionBallot(tuple(marks), tuple(write_ins)))
    if reading.valid:
        assert list(reading.marks).count(Y) + len(write_ins) <= poll.seats


# -- 5. what each level may elect and remove ----------------------------------------------------


def test_a_township_elects_no_court_procuratorate_or_supervisory_head() -> None:
    for organ in ("court", "procuratorate", "supervisory_commission"):
        doc = election("x", seats=1, cands=["A"], post_type="head", organ=organ)
        with pytest.raises(LawError, match="地方组织法 第十二条"):
            rules(doc, level="township")
        assert rules(doc, level="county").poll("x")


def test_deputy_heads_of_courts_and_procuratorates_are_appointed_not_elected() -> None:
    doc = election("x", seats=2, cands=["A", "B", "C"], post_type="deputy", organ="court")
    with pytest.raises(LawError, match=r"appointed by the standing committee.*第十一条"):
        rules(doc, level="county")


def test_a_township_has_one_or_two_vice_chairs() -> None:
    two = election("vc", seats=2, cands=["A", "B", "C"], organ="township_congress")
    assert rules(two).poll("vc")
    three = election("vc", seats=3, cands=["A", "B", "C", "D"], organ="township_congress")
    with pytest.raises(LawError, match=r"one or two 副主席.*地方组织法 第十八条"):
        rules(three)


def _removal(*persons: dict[str, str]) -> dict[str, Any]:
    return {"id": "rm", "kind": "removal", "title": "罢免案", "persons": list(persons)}


def test_who_this_congress_may_remove() -> None:
    mayor = {"id": "P1", "name": "张三", "post": "镇长", "post_type": "head", "organ": "government"}
    judge = {"id": "P2", "name": "李四", "post": "法院院长", "post_type": "head", "organ": "court"}
    vice_judge = dict(judge, post="副院长", post_type="deputy")
    assert rules(_removal(mayor), level="township").poll("rm")
    with pytest.raises(LawError, match=r"may not remove.*地方组织法 第三十一条"):
        rules(_removal(judge), level="township")
    assert rules(_removal(judge), level="county").poll("rm")
    with pytest.raises(LawError, match=r"removes only the head.*第三十一条"):
        rules(_removal(vice_judge), level="county")
    # a person given only by name and post text is not checked (the rules do not say the post)
    assert rules(_removal({"id": "P3", "name": "王五", "post": "副院长"}), level="township")


# -- 6. every citation right, plain messages -----------------------------------------------------


def test_too_many_candidates_for_higher_deputies_cites_the_election_law() -> None:
    # 10 seats: 差额 2..5 (选举法 第三十一条第二款); 16 candidates need a 预选 (第三十二条)
    doc = election("hd", seats=10, cands=[f"H{i}" for i in range(16)], post_type="higher_deputy")
    with pytest.raises(LawError) as err:
        rules(doc, level="county")
    assert err.value.article == "选举法 第三十一条第二款, 选举法 第三十二条"
    assert "地方组织法" not in str(err.value)
    # an officer's list still cites 地方组织法
    with pytest.raises(LawError, match=r"预选.*地方组织法 第二十七条第一款"):
        rules(election("vm", seats=1, cands=list("ABCDEF")))


def test_joint_nominations_of_higher_deputies_need_ten_at_any_level() -> None:
    hd = _poll(
        election("hd", seats=5, cands=[f"H{i}" for i in range(7)], post_type="higher_deputy"),
        level="city",
    )
    ten = tuple(str(i) for i in range(1, 11))
    presidium = Nomination(tuple(f"H{i}" for i in range(5)))
    assert check_nominations(hd, Level.CITY, [presidium, Nomination(("H5", "H6"), by=ten)])
    with pytest.raises(LawError, match="选举法 第三十条"):
        check_nominations(hd, Level.CITY, [presidium, Nomination(("H5", "H6"), by=ten[:9])])
    officer = _poll(vice_mayor(), level="city")
    assert officer.post_type is PostType.DEPUTY
    with pytest.raises(LawError, match=r"20 or more.*地方组织法 第二十六条第二款"):
        check_nominations(officer, Level.CITY, [Nomination(("A",), by=ten)])


@pytest.mark.parametrize(
    ("totals", "message"),
    [
        ({"yes": 30.5, "no": 10, "abstain": 4.5}, "totals.yes: expected a whole number"),
        ({"yes": "30", "no": 10, "abstain": 5}, "totals.yes: expected a whole number"),
        ({"yes": -1, "no": 41, "abstain": 5}, "totals.yes: expected a whole number"),
        ({"yes": 30, "no": 10, "abstain": 5, "maybe": 0}, "unknown key"),
    ],
)
def test_malformed_motion_totals_get_plain_messages(totals: dict[str, Any], message: str) -> None:
    r = rules({"id": "m", "kind": "motion", "title": "议案"})
    with pytest.raises(RulesError, match=message) as err:
        evaluate(r, counts("m", totals=totals))
    assert "expected an object" not in str(err.value)


def test_a_candidate_given_a_bare_number_gets_a_plain_message() -> None:
    r = rules(vice_mayor())
    with pytest.raises(RulesError, match=r"totals.A: expected \{yes, no, abstain"):
        evaluate(r, counts("vm", totals={"A": 30, "B": 30, "C": 30, "D": 0}))
