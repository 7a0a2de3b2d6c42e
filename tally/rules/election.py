"""Elections (选举): counting ballots or totals, threshold, seats, tie re-vote, 另行选举.

- Threshold: 赞成 from more than half of all deputies (全体代表过半数, 地方组织法 第二十五条;
  for higher-level deputies 选举法 第四十五条). Never the one-third rule: that is for direct
  elections of deputies by voters only (选举法 第四十五条第五款).
- More qualifiers than seats: most votes win; a tie across the last seat ⇒ the specification
  of a tie re-vote poll among the tied for the seats left (地方组织法 第二十九条第一款), which
  needs ``tie_revote_threshold`` (default: plurality, at least one 赞成).
- Too few qualifiers: the specification of a 另行选举 poll for the unfilled seats, candidates in
  first-round vote order with the 差额 the law requires (地方组织法 第二十九条第二、三款).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace

from tally.rules.allocation import Allocation, allocate, rank
from tally.rules.ballots import ElectionBallot, Mark, read_ballot
from tally.rules.counts import Counts, OptionTotals
from tally.rules.errors import RulesError
from tally.rules.model import (
    ElectionPoll,
    Person,
    Round,
    TieThreshold,
    WriteInPairing,
    person_key,
    person_order,
)
from tally.rules.nominations import (
    ART_30,
    DEPUTIES_LAW_17,
    ELECTION_LAW_44,
    UNBOUNDED,
    ExtraRange,
    rate_range,
    write_in_eligible,
)
from tally.rules.quorum import is_majority
from tally.rules.result import (
    CandidateSource,
    ItemResult,
    ItemStatus,
    NextKind,
    NextPoll,
    tie_revote,
)


@dataclass(frozen=True)
class ElectionTally:
    listed: tuple[tuple[Person, OptionTotals], ...]
    write_ins: tuple[tuple[str, int], ...]  # person, 赞成 (write-ins are votes for them)
    valid: int
    void: int
    void_reasons: tuple[tuple[str, int], ...]
    notes: tuple[str, ...]


def tally_ballots(
    poll: ElectionPoll, ballots: tuple[ElectionBallot, ...], roster: frozenset[str] | None
) -> ElectionTally:
    n = len(poll.candidates)
    yes, no, abstain = [0] * n, [0] * n, [0] * n
    write_ins: Counter[str] = Counter()
    reasons: Counter[str] = Counter()
    valid = void = ignored = 0
    for ballot in ballots:
        reading = read_ballot(poll, ballot, roster)
        if not reading.valid:
            void += 1
            reasons.update(r.value for r in reading.reasons)
            continue
        valid += 1
        for i, mark in enumerate(reading.marks):
            if mark is Mark.YES:
                yes[i] += 1
            elif mark is Mark.NO:
                no[i] += 1
            else:
                abstain[i] += 1
        if poll.round is Round.TIE_REVOTE:
            ignored += len(reading.write_ins)
        else:
            write_ins.update(reading.write_ins)
        ignored += len(reading.ignored_write_ins)
    notes = []
    if ignored:
        notes.append(
            f"{ignored} write-in(s) counted for nobody (ineligible person, or a tie re-vote, "
            "which is only among the tied)"
        )
    listed = tuple(
        (c, OptionTotals(yes[i], no[i], abstain[i])) for i, c in enumerate(poll.candidates)
    )
    return ElectionTally(
        listed,
        _by_votes(write_ins),
        valid,
        void,
        tuple(sorted(reasons.items())),
        tuple(notes),
    )


def _by_votes(items: Counter[str] | dict[str, int]) -> tuple[tuple[str, int], ...]:
    """Most votes first; equal votes by identifier, roster numbers as numbers."""
    return tuple(sorted(items.items(), key=lambda kv: (-kv[1], person_order(kv[0]))))


def tally_totals(poll: ElectionPoll, counts: Counts) -> ElectionTally:
    """The tally of an election counted in totals, checked as the ballots would be: the totals
    must be ones that valid ballots can produce, and a written-in person who may not hold the
    post is never credited (the same eligibility as ballot by ballot)."""
    given = counts.totals or {}
    by_key = {person_key(k): v for k, v in given.items()}
    ids = [c.id for c in poll.candidates]
    keys = {person_key(i): i for i in ids}
    missing = [i for i in ids if person_key(i) not in by_key]
    extra = [k for k in given if person_key(k) not in keys]
    if missing or extra or len(by_key) != len(given):
        raise RulesError(
            f"COUNTS for election {poll.id!r}: totals must list exactly the candidates "
            f"(missing: {', '.join(missing) or '-'}; unknown: {', '.join(extra) or '-'})"
        )
    totals = {i: by_key[person_key(i)] for i in ids}
    if counts.void > counts.returned:
        raise RulesError(
            f"COUNTS for election {poll.id!r}: {counts.void} void ballots but only "
            f"{counts.returned} returned"
        )
    valid = counts.returned - counts.void
    for i in ids:
        if totals[i].cast > valid:
            raise RulesError(
                f"COUNTS for election {poll.id!r}: candidate {i} has {totals[i].cast} marks on "
                f"{valid} valid ballots (a valid ballot marks each candidate once)"
            )
    for person, votes in counts.write_in_totals.items():
        if person in keys:
            raise RulesError(
                f"COUNTS for election {poll.id!r}: write_in_totals names listed candidate {person}"
            )
        if votes > valid:
            raise RulesError(
                f"COUNTS for election {poll.id!r}: {person} is written in on {votes} ballots, "
                f"but only {valid} are valid"
            )
    yes = sum(totals[i].yes for i in ids)
    written = sum(counts.write_in_totals.values())
    if yes + written > poll.seats * valid:
        raise RulesError(
            f"COUNTS for election {poll.id!r}: {yes} 赞成 and {written} write-in(s) on {valid} "
            f"valid ballots, but a valid ballot chooses at most {poll.seats} (the seats): no "
            f"set of valid ballots gives these totals ({ELECTION_LAW_44})"
        )
    if poll.settings.write_in_pairing is WriteInPairing.WITH_NO:
        no = sum(totals[i].no for i in ids)
        if written > no:
            raise RulesError(
                f"COUNTS for election {poll.id!r}: {written} write-in(s) but only {no} 反对: "
                f"each write-in of a valid ballot goes with a 反对 of its own ({DEPUTIES_LAW_17})"
            )
    credited: dict[str, int] = {}
    ignored = 0
    for person, votes in counts.write_in_totals.items():
        if not votes:
            continue
        if poll.round is Round.TIE_REVOTE or not write_in_eligible(poll, person, counts.roster):
            ignored += votes
        else:
            credited[person] = votes
    notes: tuple[str, ...] = ()
    if ignored:
        notes = (
            f"{ignored} write-in vote(s) counted for nobody (ineligible person, or a tie "
            "re-vote, which is only among the tied)",
        )
    listed = tuple((c, totals[c.id]) for c in poll.candidates)
    return ElectionTally(listed, _by_votes(credited), valid, counts.void, (), notes)


def tally_election(poll: ElectionPoll, counts: Counts) -> ElectionTally:
    if counts.ballots is not None:
        ballots = counts.ballots
        if not all(isinstance(b, ElectionBallot) for b in ballots):
            raise RulesError(f"COUNTS for election {poll.id!r}: ballots must be election ballots")
        if len(ballots) != counts.returned:
            raise RulesError(f"COUNTS: {len(ballots)} ballots given but {counts.returned} returned")
        return tally_ballots(poll, ballots, counts.roster)  # type: ignore[arg-type]
    return tally_totals(poll, counts)


def qualifier(poll: ElectionPoll, total: int) -> tuple[str, Callable[[int], bool]]:
    """(description, predicate) of the threshold this round needs."""
    if poll.round is Round.TIE_REVOTE and (
        poll.settings.tie_revote_threshold is TieThreshold.PLURALITY
    ):
        return ("plurality among the tied, at least one 赞成", lambda v: v >= 1)
    return ("全体代表过半数", lambda v: is_majority(v, total))


def _person(pid: str, poll: ElectionPoll, names: dict[str, str]) -> Person:
    for c in poll.candidates:
        if c.id == pid:
            return c
    return Person(pid, names.get(pid, pid))


def supplementary_range(poll: ElectionPoll, seats: int) -> ExtraRange:
    if poll.round is Round.BY_ELECTION:
        return ExtraRange(0, UNBOUNDED, ART_30)
    return rate_range(
        poll.post_type, seats, poll.settings.small_committee_extra, supplementary=True
    )


def supplementary_poll(
    poll: ElectionPoll, tally: ElectionTally, elected: tuple[str, ...], seats: int
) -> NextPoll:
    """The 另行选举 for ``seats`` unfilled seats: listed candidates not elected, in
    first-round vote order, as many as seats + the smallest legal 差额 (ties at the cut are
    all listed if the 差额 stays legal, else the 主席团 decides)."""
    rng = supplementary_range(poll, seats)
    order = rank([(c.id, t.yes) for c, t in tally.listed if c.id not in elected])
    want = seats + rng.minimum
    top = rng.maximum if rng.maximum < UNBOUNDED else 0
    max_candidates = seats + top if top else 0
    ids = tuple(i for i, _ in order)
    reason = (
        f"获得全体代表过半数选票的人数少于应选名额，不足的{seats}名另行选举，由大会决定在本次"
        "会议或下次会议进行（地方组织法 第二十九条第二款）"
    )

    def follow(
        spec: ElectionPoll | None, source: CandidateSource, ids: tuple[str, ...]
    ) -> NextPoll:
        return NextPoll(
            kind=NextKind.SUPPLEMENTARY,
            reason=reason,
            seats=seats,
            spec=spec,
            candidate_source=source,
            min_candidates=want,
            max_candidates=max_candidates,
            candidates=ids,
            timing="this_or_next_session",
        )

    if len(order) < want:
        return follow(None, CandidateSource.NOMINATION, ids)
    cut = order[want - 1][1]
    chosen = tuple(i for i, v in order if v >= cut)
    if max_candidates and len(chosen) > max_candidates:
        return follow(None, CandidateSource.PRESIDIUM, chosen)
    spec = replace(
        poll,
        id=f"{poll.id}-supplementary",
        title=f"{poll.title}（另行选举）",
        seats=seats,
        candidates=tuple(_person(i, poll, {}) for i in chosen),
        extra=None,
        round=Round.BY_ELECTION if poll.round is Round.BY_ELECTION else Round.SUPPLEMENTARY,
        parent=poll.id,
        ballot=None,
    )
    return follow(spec, CandidateSource.FIRST_ROUND_ORDER, chosen)


def tie_revote_poll(poll: ElectionPoll, alloc: Allocation, names: dict[str, str]) -> NextPoll:
    spec = replace(
        poll,
        id=f"{poll.id}-revote",
        title=f"{poll.title}（再次投票）",
        seats=alloc.tie_seats,
        candidates=tuple(_person(i, poll, names) for i in alloc.tied),
        extra=None,
        round=Round.TIE_REVOTE,
        parent=poll.id,
        ballot=None,
    )
    reason = (
        f"{len(alloc.tied)}人票数相等，不能确定最后{alloc.tie_seats}个名额的当选人，"
        "就票数相等的人再次投票（地方组织法 第二十九条第一款）"
    )
    return tie_revote(reason, alloc.tied, alloc.tie_seats, spec)


@dataclass(frozen=True)
class ElectionResult:
    tally: ElectionTally
    items: tuple[ItemResult, ...]
    next_polls: tuple[NextPoll, ...]
    notes: tuple[str, ...]


def decide_election(poll: ElectionPoll, counts: Counts, total: int) -> ElectionResult:
    """Count a valid election and decide who is elected and what follows."""
    tally = tally_election(poll, counts)
    names = dict(counts.names)
    scores = [(c.id, t.yes) for c, t in tally.listed] + list(tally.write_ins)
    label, test = qualifier(poll, total)
    alloc = allocate(poll.seats, scores, test)
    status: dict[str, ItemStatus] = {}
    for pid in alloc.elected:
        status[pid] = ItemStatus.ELECTED
    for pid in alloc.tied:
        status[pid] = ItemStatus.TIED
    qualified = set(alloc.qualified)
    items = [
        ItemResult(
            id=c.id,
            name=c.name,
            yes=t.yes,
            no=t.no,
            abstain=t.abstain,
            unmarked=t.unmarked,
            qualified=c.id in qualified,
            status=status.get(c.id, ItemStatus.NOT_ELECTED),
        )
        for c, t in tally.listed
    ]
    items += [
        ItemResult(
            id=pid,
            name=names.get(pid, pid),
            yes=v,
            write_in=True,
            qualified=pid in qualified,
            status=status.get(pid, ItemStatus.NOT_ELECTED),
        )
        for pid, v in tally.write_ins
    ]
    nxt: list[NextPoll] = []
    if alloc.tied:
        nxt.append(tie_revote_poll(poll, alloc, names))
    if alloc.unfilled:
        nxt.append(supplementary_poll(poll, tally, alloc.elected, alloc.unfilled))
    notes = (*tally.notes, f"threshold: {label}")
    return ElectionResult(tally, tuple(items), tuple(nxt), notes)
