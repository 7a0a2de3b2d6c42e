"""Issue 13, item 2: a free name (a person who is not a deputy) written in on the ballot itself,
where "其他任何代表或者选民" may be elected (地方组织法 第二十八条): layout version 2
(docs/ballots.md), decoded ballot by ballot and counted by the rules engine."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tally.election_ballot import (
    ElectionBallot,
    ElectionLayout,
    Mark,
    decode_ballot,
    encode_ballot,
    layout_from_question,
    question_json,
)
from tally.poll_outcome import evaluate_poll

Y, N, A = Mark.FOR, Mark.AGAINST, Mark.ABSTAIN
V2 = ElectionLayout(("甲", "乙", "丙"), seats=2, roster_max=300, name_chars=4)


def test_version_1_is_unchanged_and_version_2_says_its_names() -> None:
    v1 = ElectionLayout(("甲", "乙", "丙"), seats=2, roster_max=255)
    q1 = question_json(v1, "副镇长")
    assert q1["extra"] == {"method": "RendaElection", "version": 1, "seats": 2,
                           "roster_max": 255, "unmarked": False}  # fmt: skip
    assert len(q1["value"]["answers"]) == 5
    q2 = question_json(V2, "副镇长")
    assert q2["extra"]["version"] == 2 and q2["extra"]["names"] == 4
    # 3 marks + 2 slots of (2 roster integers + 4 characters × 3 integers)
    assert len(q2["value"]["answers"]) == V2.length == 3 + 2 * (2 + 12)
    assert layout_from_question(q2["value"]["answers"], q2["extra"]) == V2
    assert layout_from_question(q1["value"]["answers"], q1["extra"]) == v1
    with pytest.raises(ValueError, match="names must be"):
        layout_from_question(q2["value"]["answers"], dict(q2["extra"], names=0))


def test_a_name_and_a_roster_number_round_trip() -> None:
    ballot = ElectionBallot((N, N, Y), ("王小五", 7))
    values = encode_ballot(V2, ballot)
    decoded = decode_ballot(V2, values)
    assert decoded.problems == () and decoded.write_ins == ("王小五", 7)


@pytest.mark.parametrize(
    ("entry", "message"),
    [("", "1 to 4 characters"), ("   ", "1 to 4 characters"), ("欧阳小五五", "1 to 4")],
)
def test_names_that_cannot_be_written_are_refused(entry: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        encode_ballot(V2, ElectionBallot((N, N, Y), (entry, None)))
    v1 = ElectionLayout(("甲",), seats=1, roster_max=9)
    with pytest.raises(ValueError, match="roster numbers, not names"):
        encode_ballot(v1, ElectionBallot((N,), ("王五",)))


def _slot(roster: int, points: list[int]) -> list[int]:
    out = [roster >> 8, roster & 0xFF]
    for p in points + [0] * (4 - len(points)):
        out += [p >> 16, (p >> 8) & 0xFF, p & 0xFF]
    return out


@pytest.mark.parametrize(
    ("slot", "problem"),
    [
        (_slot(7, [ord("王")]), "both a roster number and a name"),
        (_slot(0, [ord("王"), 0, ord("五")]), "gap"),
        (_slot(0, [0x110000]), "no character"),
        (_slot(0, [0xD800]), "no character"),
        (_slot(0, [0x07]), "control character"),
        (_slot(0, [0x20, 0x3000]), "blank"),
    ],
)
def test_a_slot_that_means_nothing_makes_the_ballot_void(slot: list[int], problem: str) -> None:
    values = [2, 2, 1, *slot, *_slot(0, [])]
    decoded = decode_ballot(V2, values)
    assert any(problem in p for p in decoded.problems), decoded.problems


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.sampled_from([Y, N, A]), min_size=3, max_size=3),
    st.lists(
        st.none()
        | st.integers(min_value=1, max_value=300)
        | st.text(
            alphabet=st.characters(codec="utf-8", categories=["Lo", "Lu", "Ll"]),
            min_size=1,
            max_size=4,
        ),
        min_size=2,
        max_size=2,
    ),
)
def test_property_every_writable_ballot_decodes_to_itself(
    marks: list[Mark], write_ins: list[int | str | None]
) -> None:
    ballot = ElectionBallot(tuple(marks), tuple(write_ins))
    decoded = decode_ballot(V2, encode_ballot(V2, ballot))
    assert decoded.problems == () and decoded.write_ins == tuple(write_ins)


def _outcome(organ: str, ballots: list[ElectionBallot]) -> dict[str, object]:
    template = {"description": "d", "name": "选举", "questions": [question_json(V2, "选举")]}
    rules = {
        "id": "e", "kind": "election", "title": "选举", "post": "职位", "post_type": "deputy",
        "organ": organ, "seats": 2,
        "candidates": [{"id": "A", "name": "甲"}, {"id": "B", "name": "乙"},
                       {"id": "C", "name": "丙"}],
    }  # fmt: skip
    n = len(ballots)
    counts = {"total": n, "present": n, "issued": n, "received": n,
              "result": [[encode_ballot(V2, b) for b in ballots]]}  # fmt: skip
    roster = {str(i): f"代表{i}" for i in range(1, n + 1)}
    return evaluate_poll(rules, template, counts, roster, session="测试会议")


def test_a_free_name_is_elected_where_anyone_may_be_and_never_to_a_deputies_organ() -> None:
    ballots = [ElectionBallot((Y, N, N), ("王小五", None))] * 4 + [
        ElectionBallot((Y, Y, N), (None, None))
    ] * 2
    items = {i["id"]: i for i in _outcome("government", ballots)["items"]}  # type: ignore[attr-defined]
    assert items["王小五"]["write_in"] is True and items["王小五"]["status"] == "elected"
    assert items["A"]["status"] == "elected"
    # 副主席 of the township congress: only deputies (地方组织法 第十八条)
    out = _outcome("township_congress", ballots)
    items = {i["id"]: i for i in out["items"]}  # type: ignore[attr-defined]
    assert "王小五" not in items
    assert any("counted for nobody" in n for n in out["notes"])  # type: ignore[attr-defined]
