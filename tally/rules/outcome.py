"""The one entry point: ``evaluate(rules, counts) -> Outcome``.

Pure: the same rules and the same counts always give the same outcome; the server announces
it and the auditor's verifier recomputes it from the published record.
"""

from __future__ import annotations

from dataclasses import replace

from tally.rules.confirmation import decide_confirmation
from tally.rules.counts import Counts
from tally.rules.election import ElectionResult, decide_election
from tally.rules.errors import RulesError
from tally.rules.model import (
    ConfirmationPoll,
    ElectionPoll,
    MotionPoll,
    Poll,
    ProjectPoll,
    RemovalPoll,
    SessionRules,
)
from tally.rules.motion import decide_motion, motion_totals
from tally.rules.projects import ProjectResult, decide_projects
from tally.rules.removal import decide_removal
from tally.rules.report import build_report
from tally.rules.result import (
    VERDICT_LABELS,
    CandidateSource,
    ItemResult,
    ItemStatus,
    NextKind,
    NextPoll,
    Outcome,
    Verdict,
)
from tally.rules.validity import vote_verdict


def _names(poll: Poll) -> tuple[tuple[str, str], ...]:
    if isinstance(poll, ElectionPoll):
        return tuple((c.id, c.name) for c in poll.candidates)
    if isinstance(poll, ProjectPoll):
        return tuple((p.id, p.name) for p in poll.projects)
    if isinstance(poll, ConfirmationPoll | RemovalPoll):
        return tuple((p.id, p.name) for p in poll.persons)
    return ((poll.id, poll.title),)


def _rerun(poll: Poll, verdict: Verdict) -> NextPoll:
    spec = replace(poll, id=f"{poll.id}-rerun", title=f"{poll.title}（重新投票）")
    if isinstance(spec, ElectionPoll):
        spec = replace(spec, ballot=None)  # a re-run is a ballot of its own
    seats = poll.seats if isinstance(poll, ElectionPoll) else 0
    return NextPoll(
        kind=NextKind.RERUN,
        reason=f"本次投票{VERDICT_LABELS[verdict]}，由主席团决定重新投票",
        seats=seats,
        spec=spec,
        candidate_source=CandidateSource.LISTED,
        timing="when_the_presidium_decides",
    )


def total_deputies(rules: SessionRules, counts: Counts) -> int:
    """实有代表数 at the vote: COUNTS ``total`` if given, else the session's figure."""
    total = counts.total if counts.total is not None else rules.total_deputies
    if total is None:
        raise RulesError("neither COUNTS nor the rules give the number of deputies (total)")
    return total


def evaluate(rules: SessionRules, counts: Counts) -> Outcome:
    """Outcome of the poll ``counts.poll`` under ``rules``, with its count report."""
    poll = rules.poll(counts.poll)
    total = total_deputies(rules, counts)
    verdict = vote_verdict(
        poll.settings, poll.kind, total, counts.present, counts.issued, counts.returned
    )
    common = dict(
        poll=poll.id,
        kind=poll.kind,
        title=poll.title,
        verdict=verdict,
        total=total,
        present=counts.present,
        issued=counts.issued,
        returned=counts.returned,
    )
    if verdict is not Verdict.VALID:
        items = tuple(ItemResult(id=i, name=n, yes=0) for i, n in _names(poll))
        outcome = Outcome(
            **common,  # type: ignore[arg-type]
            items=items,
            next_polls=(_rerun(poll, verdict),),
            valid_ballots=0,
            void_ballots=0,
            notes=("no result is counted: the vote is invalid",),
        )
        return replace(outcome, report=build_report(rules, poll, outcome, counts))
    outcome = _decide(poll, counts, total, common)
    return replace(outcome, report=build_report(rules, poll, outcome, counts))


def _decide(poll: Poll, counts: Counts, total: int, common: dict[str, object]) -> Outcome:
    if isinstance(poll, MotionPoll):
        item = decide_motion(poll, counts, total)
        blank = motion_totals(poll, counts).blank
        return Outcome(
            **common,  # type: ignore[arg-type]
            items=(item,),
            next_polls=(),
            valid_ballots=counts.returned,
            void_ballots=0,
            blank_ballots=blank,
            notes=("passes with 赞成 × 2 > all deputies; 未按 is not a vote cast",),
        )
    if isinstance(poll, ElectionPoll | ProjectPoll):
        r: ElectionResult | ProjectResult = (
            decide_election(poll, counts, total)
            if isinstance(poll, ElectionPoll)
            else decide_projects(poll, counts, total)
        )
        return Outcome(
            **common,  # type: ignore[arg-type]
            items=r.items,
            next_polls=r.next_polls,
            valid_ballots=r.tally.valid,
            void_ballots=r.tally.void,
            void_reasons=r.tally.void_reasons,
            notes=r.notes,
        )
    if isinstance(poll, ConfirmationPoll):
        items = decide_confirmation(poll, counts, total)
    else:
        items = decide_removal(poll, counts, total)
    return Outcome(
        **common,  # type: ignore[arg-type]
        items=items,
        next_polls=(),
        valid_ballots=counts.returned,
        void_ballots=0,
        notes=("each person passes with 赞成 × 2 > all deputies",),
    )


__all__ = ["ItemStatus", "Outcome", "evaluate", "total_deputies"]
