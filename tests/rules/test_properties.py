"""Hypothesis properties of the election rules."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from tally.rules.allocation import allocate
from tally.rules.errors import LawError
from tally.rules.loader import load_rules
from tally.rules.outcome import evaluate
from tally.rules.quorum import is_majority
from tally.rules.result import ItemStatus

from .helpers import counts, election, rules, yes_totals


@st.composite
def contests(draw: st.DrawFn) -> tuple[int, int, list[int]]:
    total = draw(st.integers(min_value=3, max_value=300))
    seats = draw(st.integers(min_value=1, max_value=8))
    n = draw(st.integers(min_value=seats, max_value=seats + 6))
    # totals that valid ballots can give: at most `seats` 赞成 per ballot (选举法 第四十四条)
    budget = seats * total
    votes = []
    for _ in range(n):
        v = draw(st.integers(min_value=0, max_value=min(total, budget)))
        votes.append(v)
        budget -= v
    return total, seats, draw(st.permutations(votes))


def _evaluate(total: int, seats: int, votes: list[int]) -> dict[str, ItemStatus]:
    ids = [f"C{i}" for i in range(len(votes))]
    poll = election("e", seats=seats, cands=ids, round="by_election")  # any 差额 is legal
    c = counts("e", total=total, totals=yes_totals(dict(zip(ids, votes, strict=True)), total))
    o = evaluate(rules(poll, total=total), c)
    return {i.id: i.status for i in o.items}


@settings(max_examples=150, deadline=None)
@given(contests())
def test_the_elected_never_exceed_the_seats(contest: tuple[int, int, list[int]]) -> None:
    total, seats, votes = contest
    status = _evaluate(total, seats, votes)
    elected = [k for k, v in status.items() if v is ItemStatus.ELECTED]
    tied = [k for k, v in status.items() if v is ItemStatus.TIED]
    assert len(elected) <= seats
    assert not tied or len(elected) < seats < len(elected) + len(tied)
    for k in elected:  # everyone elected has a majority of all deputies
        assert is_majority(votes[int(k[1:])], total)


@settings(max_examples=150, deadline=None)
@given(contests(), st.data())
def test_one_more_yes_never_unelects(
    contest: tuple[int, int, list[int]], data: st.DataObject
) -> None:
    """The candidate who gets one more 赞成 is never un-elected by it (others may be
    overtaken: that is the rule of most votes)."""
    total, seats, votes = contest
    i = data.draw(st.integers(min_value=0, max_value=len(votes) - 1))
    if votes[i] >= total or sum(votes) >= seats * total:
        return  # one more 赞成 would make totals that no valid ballots give
    before = _evaluate(total, seats, votes)
    more = list(votes)
    more[i] += 1
    after = _evaluate(total, seats, more)
    me = f"C{i}"
    if before[me] is ItemStatus.ELECTED:
        assert after[me] is ItemStatus.ELECTED
    if before[me] is ItemStatus.TIED:
        assert after[me] in (ItemStatus.ELECTED, ItemStatus.TIED)


@given(
    st.integers(min_value=1, max_value=10), st.lists(st.integers(0, 50), min_size=1, max_size=12)
)
def test_allocation_partitions_the_seats(seats: int, votes: list[int]) -> None:
    scores = [(str(i), v) for i, v in enumerate(votes)]
    a = allocate(seats, scores, lambda v: v > 10)
    assert len(a.elected) + a.tie_seats + a.unfilled == seats
    assert set(a.elected) <= set(a.qualified) and set(a.tied) <= set(a.qualified)
    if a.tied:
        vs = {v for k, v in scores if k in a.tied}
        assert len(vs) == 1 and a.unfilled == 0


@settings(max_examples=60, deadline=None)
@given(
    st.sampled_from(["deputy", "member", "higher_deputy"]),
    st.integers(min_value=1, max_value=30),
)
def test_too_few_candidates_for_a_competitive_post_names_the_article(
    post_type: str, seats: int
) -> None:
    doc = {
        "session": {"level": "county", "total_deputies": 200},
        "polls": [
            election("e", seats=seats, cands=[f"C{i}" for i in range(seats)], post_type=post_type)
        ],
    }
    try:
        load_rules(doc)
    except LawError as exc:
        assert exc.article in ("地方组织法 第二十七条第一款", "选举法 第三十一条第二款")
        assert exc.article in str(exc)
    else:
        raise AssertionError("等额 accepted for a post that requires 差额")


@settings(max_examples=60, deadline=None)
@given(st.integers(min_value=1, max_value=300))
def test_a_vote_with_exactly_two_thirds_present_is_held(k: int) -> None:
    m = {"id": "m", "kind": "motion"}
    c = counts("m", total=3 * k, present=2 * k, totals={"yes": 2 * k, "no": 0, "abstain": 0})
    o = evaluate(rules(m, total=3 * k), c)
    assert o.verdict.value == "valid"
    if k > 1:
        c = counts(
            "m", total=3 * k, present=2 * k - 1, totals={"yes": 2 * k - 1, "no": 0, "abstain": 0}
        )
        assert evaluate(rules(m, total=3 * k), c).verdict.value == "no_quorum"
