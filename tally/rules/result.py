"""The outcome of one poll: the verdict on the whole vote, each option's result, what next."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from tally.rules.model import Poll, PollKind


class Verdict(StrEnum):
    """Is the vote as a whole valid (本次选举/表决有效)?"""

    VALID = "valid"
    NO_QUORUM = "no_quorum"  # fewer than two thirds of all deputies present
    TOO_FEW_TAKING_PART = "too_few_taking_part"  # election quorum, or the Guangdong rule
    RETURNED_EXCEEDS_ISSUED = "returned_exceeds_issued"  # 收回 > 发出: 重新选举 / 重新表决


VERDICT_LABELS = {
    Verdict.VALID: "有效",
    Verdict.NO_QUORUM: "无效（出席代表不足法定人数）",
    Verdict.TOO_FEW_TAKING_PART: "无效（参加投票的代表人数不足）",
    Verdict.RETURNED_EXCEEDS_ISSUED: "无效（收回票数多于发出票数）",
}


class ItemStatus(StrEnum):
    PASSED = "passed"  # motion, confirmation: 通过; removal: 罢免通过
    NOT_PASSED = "not_passed"
    ELECTED = "elected"  # 当选
    NOT_ELECTED = "not_elected"
    TIED = "tied"  # tied across the last seat / cut-off: goes to a re-vote or the presidium
    SELECTED = "selected"  # project 入选
    NOT_SELECTED = "not_selected"
    NONE = "none"  # the vote is invalid: no result for anyone


STATUS_LABELS = {
    ItemStatus.PASSED: "通过",
    ItemStatus.NOT_PASSED: "未通过",
    ItemStatus.ELECTED: "当选",
    ItemStatus.NOT_ELECTED: "未当选",
    ItemStatus.TIED: "票数相等，再次投票",
    ItemStatus.SELECTED: "入选",
    ItemStatus.NOT_SELECTED: "未入选",
    ItemStatus.NONE: "—",
}


@dataclass(frozen=True)
class ItemResult:
    """One candidate, project, person or the motion itself."""

    id: str
    name: str
    yes: int
    no: int = 0
    abstain: int = 0
    unmarked: int = 0
    points: int | None = None  # form C with ranking_method borda
    write_in: bool = False  # 另选他人 (not on the list)
    qualified: bool = False  # passed the threshold (过半数, or the configured floor)
    status: ItemStatus = ItemStatus.NONE


class NextKind(StrEnum):
    TIE_REVOTE = "tie_revote"  # 再次投票
    SUPPLEMENTARY = "supplementary"  # 另行选举
    RERUN = "rerun"  # 重新选举 / 重新表决
    PRESIDIUM = "presidium"  # the 主席团 decides (no automatic follow-up)


NEXT_LABELS = {
    NextKind.TIE_REVOTE: "再次投票",
    NextKind.SUPPLEMENTARY: "另行选举",
    NextKind.RERUN: "重新投票",
    NextKind.PRESIDIUM: "提请主席团决定",
}


class CandidateSource(StrEnum):
    LISTED = "listed"  # the candidates below, exactly (tie re-vote, rerun)
    FIRST_ROUND_ORDER = "first_round_order"  # 按第一次投票得票多少的顺序
    NOMINATION = "nomination"  # too few left: candidates must be nominated afresh
    PRESIDIUM = "presidium"  # a tie at the list's cut: the 主席团 decides who is listed


@dataclass(frozen=True)
class NextPoll:
    """A poll the outcome calls for: its kind, why, and its specification as rules data."""

    kind: NextKind
    reason: str
    seats: int
    spec: Poll | None  # ready-to-use poll rules (None when the presidium must decide first)
    candidate_source: CandidateSource = CandidateSource.LISTED
    min_candidates: int = 0
    max_candidates: int = 0  # 0: no upper limit
    candidates: tuple[str, ...] = ()  # ids, in first-round order
    timing: str = ""  # e.g. "this_or_next_session" for 另行选举 (the congress decides)


def tie_revote(reason: str, tied: tuple[str, ...], seats: int, spec: Poll) -> NextPoll:
    """再次投票 in this session among the ``tied`` for the last ``seats`` place(s)."""
    return NextPoll(
        kind=NextKind.TIE_REVOTE,
        reason=reason,
        seats=seats,
        spec=spec,
        candidate_source=CandidateSource.LISTED,
        min_candidates=len(tied),
        max_candidates=len(tied),
        candidates=tied,
        timing="this_session",
    )


# -- the count report (计票结果报告单, reference §8.3), built by tally.rules.report ----------


@dataclass(frozen=True)
class ReportRow:
    id: str
    name: str
    write_in: bool
    yes: int
    no: int
    abstain: int
    unmarked: int
    points: int | None
    qualified: bool
    status: ItemStatus
    result: str  # Chinese label of the status


@dataclass(frozen=True)
class VoidLine:
    reason: str
    label: str
    count: int


@dataclass(frozen=True)
class FollowUp:
    kind: str
    label: str
    reason: str
    seats: int
    candidates: tuple[str, ...]  # names, in first-round order
    candidate_source: str
    min_candidates: int
    max_candidates: int  # 0: no upper limit


@dataclass(frozen=True)
class Signature:
    role: str  # 总监票人 / 监票人 / 计票人
    name: str
    signature: str = ""  # left blank for a hand signature, or an electronic signature


@dataclass(frozen=True)
class CountReport:
    session: str
    poll: str
    kind: PollKind
    kind_label: str
    title: str
    post: str
    post_type: str
    seats: int | None
    candidates: tuple[str, ...]
    total: int  # 应到 (实有代表数)
    present: int  # 实到
    quorum_minimum: int
    majority_minimum: int
    issued: int
    returned: int
    not_returned: int  # 未投 / 未按
    valid: int
    void: int
    void_reasons: tuple[VoidLine, ...]
    blank: int
    unmarked_read_as: str | None
    election_method: str | None
    verdict: Verdict
    verdict_label: str
    rows: tuple[ReportRow, ...]
    qualified: tuple[str, ...]
    decided: tuple[str, ...]  # elected / passed / selected
    tied: tuple[str, ...]
    follow_ups: tuple[FollowUp, ...]
    summary: str
    notes: tuple[str, ...]
    signatures: tuple[Signature, ...]


@dataclass(frozen=True)
class Outcome:
    poll: str
    kind: PollKind
    title: str
    verdict: Verdict
    items: tuple[ItemResult, ...]
    next_polls: tuple[NextPoll, ...]
    total: int
    present: int
    issued: int
    returned: int
    valid_ballots: int
    void_ballots: int
    void_reasons: tuple[tuple[str, int], ...] = ()
    blank_ballots: int = 0
    notes: tuple[str, ...] = ()
    report: CountReport | None = None

    @property
    def passed(self) -> bool:
        """A motion (or single confirmation/removal) passed."""
        return self.verdict is Verdict.VALID and all(
            i.status is ItemStatus.PASSED for i in self.items
        )

    @property
    def elected(self) -> tuple[str, ...]:
        return tuple(i.id for i in self.items if i.status is ItemStatus.ELECTED)

    @property
    def selected(self) -> tuple[str, ...]:
        return tuple(i.id for i in self.items if i.status is ItemStatus.SELECTED)
