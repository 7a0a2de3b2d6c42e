"""Motions and resolutions (表决议案): passes when 赞成 × 2 > all deputies (地方组织法 第二十五条).

反对, 弃权, 未按 (not pressed) and absence all count alike: none is a 赞成. 未按 is shown
(issued − returned) but is never a vote cast.
"""

from __future__ import annotations

from dataclasses import dataclass

from tally.rules.counts import Counts, OptionTotals
from tally.rules.errors import RulesError
from tally.rules.model import MotionPoll
from tally.rules.quorum import is_majority
from tally.rules.result import ItemResult, ItemStatus


@dataclass(frozen=True)
class MotionTally:
    totals: OptionTotals
    blank: int


def motion_totals(poll: MotionPoll, counts: Counts) -> MotionTally:
    if counts.totals is None or set(counts.totals) != {""}:
        raise RulesError(
            f"COUNTS for motion {poll.id!r}: totals must be {{yes, no, abstain[, blank]}}"
        )
    t = counts.totals[""]
    if t.unmarked:
        raise RulesError("COUNTS: a motion has no 'unmarked' option (未按 is issued − returned)")
    if t.cast + counts.blank != counts.returned:
        raise RulesError(
            f"COUNTS for motion {poll.id!r}: 赞成 + 反对 + 弃权 (+ blank) = "
            f"{t.cast + counts.blank}, but {counts.returned} ballots were returned"
        )
    return MotionTally(t, counts.blank)


def decide_motion(poll: MotionPoll, counts: Counts, total: int) -> ItemResult:
    t = motion_totals(poll, counts).totals
    passed = is_majority(t.yes, total)
    return ItemResult(
        id=poll.id,
        name=poll.title,
        yes=t.yes,
        no=t.no,
        abstain=t.abstain,
        qualified=passed,
        status=ItemStatus.PASSED if passed else ItemStatus.NOT_PASSED,
    )
