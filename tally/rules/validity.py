"""Validity of a vote as a whole: figures consistent, quorum, participation, 收回 ≤ 发出."""

from __future__ import annotations

from tally.rules.errors import RulesError
from tally.rules.model import ElectionQuorum, PollKind, Settings
from tally.rules.quorum import has_quorum, is_majority, more_than_two_thirds
from tally.rules.result import Verdict


def check_figures(total: int, present: int, issued: int) -> None:
    """Roster figures that cannot happen in a session are an error in the record."""
    if total < 1:
        raise RulesError("COUNTS: the number of deputies (total) must be at least 1")
    if present > total:
        raise RulesError(f"COUNTS: {present} deputies present but only {total} seated")
    if issued > present:
        raise RulesError(f"COUNTS: {issued} ballots issued to {present} deputies present")


def election_quorum_met(rule: ElectionQuorum, total: int, taking_part: int) -> bool:
    if rule is ElectionQuorum.TWO_THIRDS:
        return has_quorum(total, taking_part)
    if rule is ElectionQuorum.MORE_THAN_TWO_THIRDS:
        return more_than_two_thirds(total, taking_part)
    if rule is ElectionQuorum.MAJORITY:
        return is_majority(taking_part, total)
    return True


def vote_verdict(
    settings: Settings, kind: PollKind, total: int, present: int, issued: int, returned: int
) -> Verdict:
    """The verdict on the whole vote (reference §2, §4.4).

    - ``vote_quorum``: two thirds of all deputies present at the vote (地方组织法 第十四条);
    - elections: deputies taking part (ballots issued) per ``election_quorum`` (§2.4);
    - other votes, with ``participation_majority`` (广东议事规则 第六十条): more than half of
      all deputies cast a ballot;
    - more ballots returned than issued: the vote is invalid and is held again (§4.4).
    """
    check_figures(total, present, issued)
    if settings.vote_quorum and not has_quorum(total, present):
        return Verdict.NO_QUORUM
    if kind is PollKind.ELECTION:
        if not election_quorum_met(settings.election_quorum, total, issued):
            return Verdict.TOO_FEW_TAKING_PART
    elif settings.participation_majority and not is_majority(min(returned, issued), total):
        return Verdict.TOO_FEW_TAKING_PART
    if returned > issued:
        return Verdict.RETURNED_EXCEEDS_ISSUED
    return Verdict.VALID
