"""tally.election_ballot: the 人大 election ballot as a non-homomorphic answer vector."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tally.election_ballot import (
    MAX_INTS,
    DecodedBallot,
    ElectionBallot,
    ElectionLayout,
    Mark,
    decode_ballot,
    encode_ballot,
    layout_from_question,
    question_json,
    write_in_labels,
)


@st.composite
def layouts_and_ballots(draw: st.DrawFn) -> tuple[ElectionLayout, ElectionBallot]:
    seats = draw(st.integers(1, 5))
    roster_max = draw(st.sampled_from([1, 9, 255, 256, 3000, 65535, 65536]))
    n = draw(st.integers(1, 7))
    unmarked = draw(st.booleans())
    layout = ElectionLayout(tuple(f"候选人{i}" for i in range(n)), seats, roster_max, unmarked)
    marks = tuple(draw(st.sampled_from(list(Mark))) for _ in range(n))
    write_ins = tuple(draw(st.one_of(st.none(), st.integers(1, roster_max))) for _ in range(seats))
    return layout, ElectionBallot(marks, write_ins)


@settings(max_examples=80, deadline=None)
@given(layouts_and_ballots())
def test_encode_decode_round_trip(case: tuple[ElectionLayout, ElectionBallot]) -> None:
    layout, ballot = case
    values = encode_ballot(layout, ballot)
    assert len(values) == layout.length
    assert all(0 <= v <= 255 for v in values)
    decoded = decode_ballot(layout, values)
    assert decoded.marks == tuple(int(m) for m in ballot.marks)
    assert decoded.write_ins == ballot.write_ins
    unmarked_used = any(m == Mark.UNMARKED for m in ballot.marks)
    assert decoded.well_formed == (layout.allow_unmarked or not unmarked_used)
    if decoded.well_formed:
        assert decoded.ballot() == ballot


@settings(max_examples=80, deadline=None)
@given(st.data())
def test_decoding_is_total(data: st.DataObject) -> None:
    layout = ElectionLayout(("甲", "乙", "丙"), 2, 300, False)
    values = data.draw(
        st.lists(st.integers(0, 255), min_size=layout.length, max_size=layout.length)
    )
    decoded = decode_ballot(layout, values)
    assert isinstance(decoded, DecodedBallot)
    bad_marks = [v for v in values[:3] if v not in (1, 2, 3)]
    too_big = [w for w in decoded.write_ins if w is not None and w > layout.roster_max]
    assert len(decoded.problems) == len(bad_marks) + len(too_big)


def test_examples_from_docs() -> None:
    layout = ElectionLayout(("张三", "李四", "王五"), 2, 1200)
    assert layout.ints_per_write_in == 2
    ballot = ElectionBallot((Mark.FOR, Mark.AGAINST, Mark.ABSTAIN), (517, None))
    assert encode_ballot(layout, ballot) == [1, 2, 3, 2, 5, 0, 0]
    bad = decode_ballot(layout, [1, 7, 0, 255, 255, 0, 1])
    assert bad.problems == (
        "candidate 2 has the unknown mark code 7",
        "candidate 3 is not marked and the rules require a mark",
        "write-in 1 holds 65535, not a roster number (1-1200)",
    )
    assert bad.write_ins == (65535, 1)
    with pytest.raises(ValueError):
        bad.ballot()
    # An overvote and a write-in beside an abstention are still encodable: the rules decide.
    overvote = ElectionBallot((Mark.FOR, Mark.FOR, Mark.ABSTAIN), (5, 6))
    assert decode_ballot(layout, encode_ballot(layout, overvote)).ballot() == overvote


def test_layout_limits_and_refusals() -> None:
    with pytest.raises(ValueError, match="at most 254"):
        ElectionLayout(tuple(str(i) for i in range(200)), 30, 3000)
    ok = ElectionLayout(tuple(str(i) for i in range(MAX_INTS - 2)), 1, 65535)
    assert ok.length == MAX_INTS
    for bad in (
        dict(candidates=(), seats=1, roster_max=5),
        dict(candidates=("a",), seats=0, roster_max=5),
        dict(candidates=("a",), seats=1, roster_max=0),
    ):
        with pytest.raises(ValueError):
            ElectionLayout(**bad)  # type: ignore[arg-type]
    layout = ElectionLayout(("a", "b"), 1, 10)
    with pytest.raises(ValueError):
        encode_ballot(layout, ElectionBallot((Mark.FOR,), (None,)))
    with pytest.raises(ValueError):
        encode_ballot(layout, ElectionBallot((Mark.FOR, Mark.FOR), (11,)))
    with pytest.raises(ValueError):
        encode_ballot(layout, ElectionBallot((Mark.FOR, Mark.FOR), (None, None)))
    with pytest.raises(ValueError):
        decode_ballot(layout, [1, 1])


def test_question_round_trip() -> None:
    layout = ElectionLayout(("张三", "李四"), 2, 700, True)
    q = question_json(layout, "副镇长")
    assert q["value"]["answers"] == [
        "张三",
        "李四",
        "另选他人 1 (1/2)",
        "另选他人 1 (2/2)",
        "另选他人 2 (1/2)",
        "另选他人 2 (2/2)",
    ]
    assert layout_from_question(q["value"]["answers"], q["extra"]) == layout
    assert write_in_labels(ElectionLayout(("a",), 2, 9)) == ["另选他人 1", "另选他人 2"]
    for extra in (
        None,
        {},
        {**q["extra"], "version": 2},
        {**q["extra"], "seats": 0},
        {**q["extra"], "more": 1},
        {**q["extra"], "unmarked": 1},
    ):
        with pytest.raises(ValueError):
            layout_from_question(q["value"]["answers"], extra)
    with pytest.raises(ValueError):
        layout_from_question(q["value"]["answers"][:-1], q["extra"])
    with pytest.raises(ValueError):
        layout_from_question(q["value"]["answers"][:4], q["extra"])


def test_largest_layout_fits_one_rfc_3526_element() -> None:
    from keys.embedding import group_decode, group_encode
    from keys.group import RFC_3526_2048

    layout = ElectionLayout(tuple(str(i) for i in range(MAX_INTS - 4)), 2, 65535, True)
    ballot = ElectionBallot(tuple(Mark.ABSTAIN for _ in layout.candidates), (65535, 65535))
    values = encode_ballot(layout, ballot)
    values[0] = 255  # the largest integer each position may hold
    x = group_encode(RFC_3526_2048, values)
    assert group_decode(RFC_3526_2048, x, layout.length) == values
    with pytest.raises(ValueError):
        group_encode(RFC_3526_2048, [255] * (MAX_INTS + 1))


def test_random_ballots_are_lawful_unless_overvoting() -> None:
    import random

    from tally.election_ballot import random_ballot

    rng = random.Random(4)
    layout = ElectionLayout(("甲", "乙", "丙", "丁"), 2, 300)
    seen_write_in = seen_overvote = False
    for _ in range(400):
        b = random_ballot(layout, rng, overvote_rate=0.1)
        choices = sum(m == Mark.FOR for m in b.marks) + sum(w is not None for w in b.write_ins)
        writes = sum(w is not None for w in b.write_ins)
        assert Mark.UNMARKED not in b.marks
        if writes:
            seen_write_in = True
            assert Mark.ABSTAIN not in b.marks
            assert writes <= sum(m == Mark.AGAINST for m in b.marks)
        seen_overvote |= choices > layout.seats
        assert decode_ballot(layout, encode_ballot(layout, b)).ballot() == b
    assert seen_write_in and seen_overvote


def test_layout_of_question() -> None:
    from tally.election import parse_question
    from tally.election_ballot import layout_of_question

    layout = ElectionLayout(("张三",), 1, 70000, True)
    q = parse_question(question_json(layout, "镇长"))
    assert layout_of_question(q) == layout
    plain = parse_question({"type": "NonHomomorphic", "value": {"answers": ["a"], "question": "?"}})
    assert layout_of_question(plain) is None
