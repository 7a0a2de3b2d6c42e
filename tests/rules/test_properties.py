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


@st.composite
def overvoted_ballots(draw: st.DrawFn) -> tuple[dict[str, object], list[int], str]:
    """A 人大 election ballot (docs/ballots.md) that names more people than seats, as the rules
    read it: 赞成 marks (and unmarked boxes where the 选举办法 reads them as 赞成) plus
    write-ins; the other boxes anything a modified tablet may send (0–255)."""
    from tally.election_ballot import ElectionLayout, question_json

    c = draw(st.integers(min_value=1, max_value=8))
    seats = draw(st.integers(min_value=1, max_value=c))
    roster_max = draw(st.sampled_from([9, 255, 300]))
    unmarked = draw(st.sampled_from(["abstain", "yes", "void"]))
    layout = ElectionLayout(tuple(f"候选人{i}" for i in range(c)), seats, roster_max)
    marks = draw(st.lists(st.integers(0, 255), min_size=c, max_size=c))
    slots = draw(st.lists(st.integers(0, roster_max), min_size=seats, max_size=seats))
    chosen = sum(1 for m in marks if m == 1 or (m == 0 and unmarked == "yes"))
    chosen += sum(1 for w in slots if w)
    if chosen <= seats:  # make it an overvote: 赞成 on enough boxes
        need = seats + 1 - chosen
        boxes = [i for i, m in enumerate(marks) if m != 1 and not (m == 0 and unmarked == "yes")]
        empty = [i for i, w in enumerate(slots) if not w]
        # c boxes and `seats` slots: there is always room for seats + 1 names
        for k in draw(st.permutations(boxes + [c + j for j in empty]))[:need]:
            if k < c:
                marks[k] = 1
            else:
                slots[k - c] = draw(st.integers(1, roster_max))
    k = layout.ints_per_write_in
    vector = list(marks)
    for w in slots:
        vector += [(w >> (8 * (k - 1 - d))) & 255 for d in range(k)]
    template = {"description": "选举", "name": "选举", "questions": [question_json(layout, "职务")]}
    return {"template": template, "seats": seats, "c": c}, vector, unmarked


@settings(max_examples=300, deadline=None)
@given(overvoted_ballots())
def test_an_overvoted_election_ballot_is_never_valid(
    case: tuple[dict[str, object], list[int], str],
) -> None:
    """选举法 第四十四条第二款: a ballot naming more people than seats is void, whatever else it
    holds; it is returned, and counts for nobody (the pipeline the server and the auditor run
    on a decrypted ballot: tally.poll_outcome.evaluate_poll)."""
    from tally.poll_outcome import evaluate_poll
    from tally.rules.ballots import VoidReason

    info, vector, unmarked = case
    seats, c = int(info["seats"]), int(info["c"])  # type: ignore[call-overload]
    names = sum(1 for m in vector[:c] if m == 1 or (m == 0 and unmarked == "yes"))
    k = (len(vector) - c) // seats
    slots = [vector[c + s * k : c + (s + 1) * k] for s in range(seats)]
    names += sum(1 for slot in slots if any(slot))
    assert names > seats  # an overvote, as the rules read the ballot
    entry = {
        "id": "e", "kind": "election", "title": "选举", "post": "职务", "post_type": "deputy",
        "organ": "government", "seats": seats, "round": "by_election",
        "candidates": [{"id": f"c{i}", "name": f"候选人{i}"} for i in range(c)],
        "settings": {"unmarked": unmarked},
    }  # fmt: skip
    counts = {"total": 3, "present": 3, "issued": 3, "received": 1, "result": [[vector]]}
    roster = {str(i): f"代表{i}" for i in range(1, 301)}
    out = evaluate_poll(entry, info["template"], counts, roster)  # type: ignore[arg-type]
    assert out["valid_ballots"] == 0 and out["void_ballots"] == 1
    reasons = dict(map(tuple, out["void_reasons"]))
    assert reasons.get(VoidReason.OVERVOTE.value) == 1 or reasons.get("malformed") == 1
    assert all(i["yes"] == 0 for i in out["items"])  # counted for nobody
    assert not any(i.get("write_in") for i in out["items"])
