"""The model of a session's rules (选举办法 / 票决办法): enums and frozen dataclasses.

Nothing here reads or checks a document: :mod:`tally.rules.loader` builds these values from
one, and :mod:`tally.rules.nominations` checks them against the law.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from tally.rules.errors import RulesError


def person_key(identifier: str) -> str:
    """Canonical form of a person identifier: roster numbers without leading zeros."""
    return str(int(identifier)) if identifier.isascii() and identifier.isdigit() else identifier


def person_order(identifier: str) -> tuple[int, int, str]:
    """Sort key of person identifiers: roster numbers by number (9 before 10), first; then
    other identifiers in code-point order."""
    key = person_key(identifier)
    if key.isascii() and key.isdigit():
        return (0, int(key), key)
    return (1, 0, key)


class Level(StrEnum):
    """Level of the congress."""

    TOWNSHIP = "township"  # 乡、民族乡、镇
    COUNTY = "county"  # 县、自治县、不设区的市、市辖区
    CITY = "city"  # 设区的市、自治州


class PollKind(StrEnum):
    MOTION = "motion"  # 表决议案
    PROJECTS = "projects"  # 民生实事项目票决
    ELECTION = "election"  # 选举
    CONFIRMATION = "confirmation"  # 表决票 (表决通过人选)
    REMOVAL = "removal"  # 罢免


class PostType(StrEnum):
    HEAD = "head"  # 正职
    DEPUTY = "deputy"  # 副职
    MEMBER = "member"  # 常委会委员
    HIGHER_DEPUTY = "higher_deputy"  # 上一级人民代表大会代表


class Organ(StrEnum):
    """Body the post belongs to; decides who may be written in (地方组织法 第十八、四十七条)."""

    TOWNSHIP_CONGRESS = "township_congress"  # 乡镇人大主席、副主席
    STANDING_COMMITTEE = "standing_committee"  # 常委会主任、副主任、秘书长、委员
    GOVERNMENT = "government"  # 县长、乡长、镇长 and their deputies
    SUPERVISORY_COMMISSION = "supervisory_commission"  # 监察委员会主任
    COURT = "court"  # 人民法院院长
    PROCURATORATE = "procuratorate"  # 人民检察院检察长
    HIGHER_CONGRESS = "higher_congress"  # 上一级人大代表


class Round(StrEnum):
    REGULAR = "regular"  # 选举 (换届 or otherwise)
    BY_ELECTION = "by_election"  # 补选 (地方组织法 第三十条)
    TIE_REVOTE = "tie_revote"  # 再次投票 among tied candidates (地方组织法 第二十九条第一款)
    SUPPLEMENTARY = "supplementary"  # 另行选举 for unfilled seats (地方组织法 第二十九条第二款)


class WriteInPolicy(StrEnum):
    DEPUTIES = "deputies"  # only deputies of this congress (roster numbers)
    ANYONE = "anyone"  # 其他任何代表或者选民 (地方组织法 第二十八条)


class ProjectForm(StrEnum):
    A = "A"  # per project 赞成 / 反对 / 弃权
    B = "B"  # choose up to N
    C = "C"  # ranking by number


class Unmarked(StrEnum):
    """How an unmarked box on an election ballot reads (reference §4.2.5)."""

    ABSTAIN = "abstain"
    YES = "yes"
    VOID = "void"  # an explicit choice is required; a ballot with an unmarked box is void


class Press(StrEnum):
    LAST = "last"  # a later ballot from the same credential replaces the first (Belenios)
    FIRST = "first"  # the first ballot cast is final


class ElectionQuorum(StrEnum):
    """Deputies taking part (ballots issued) needed to hold an election (reference §2.4)."""

    TWO_THIRDS = "two_thirds"  # issued * 3 >= total * 2
    MORE_THAN_TWO_THIRDS = "more_than_two_thirds"  # issued * 3 > total * 2
    MAJORITY = "majority"  # issued * 2 > total
    NONE = "none"


class TieThreshold(StrEnum):
    PLURALITY = "plurality"  # 以得票多的当选 among the tied
    MAJORITY = "majority"  # again 全体代表过半数


class SmallCommitteeExtra(StrEnum):
    """差额 for 常委会委员 when ceil(n/10) > floor(n/5), i.e. fewer than 5 seats."""

    AT_LEAST_ONE = "at_least_one"  # allow exactly ceil(n/10) extra
    STRICT = "strict"  # refuse: the 选举办法 must be amended


class IneligibleWriteIn(StrEnum):
    VOID_ENTRY = "void_entry"  # that write-in counts for nobody; the rest of the ballot counts
    VOID_BALLOT = "void_ballot"  # the whole ballot is void


class WriteInPairing(StrEnum):
    """What a write-in (另选他人) must go with on an election ballot."""

    WITH_NO = (
        "with_no"  # each write-in needs a 反对 of its own; 弃权 cannot be paired (代表法 第十七条)
    )
    FREE = "free"  # a write-in needs no 反对 (地方组织法 第二十八条 lists 另选 beside 反对)


class OverfilledSection(StrEnum):
    """One ballot for several posts: what an overfilled section voids."""

    SECTION = "section"  # only that post's section is void; the other posts count (§4.3)
    SHEET = "sheet"  # the whole ballot is void for every post on it


class ElectionMethod(StrEnum):
    DEVICE = "device"  # secret ballot cast on the kiosk (the 选举办法 must adopt it, §7.1)
    PAPER_TALLY = "paper_tally"  # paper ballots, electronic tally


class ProjectTie(StrEnum):
    REVOTE = "revote"  # re-vote among the projects tied across the cut-off
    PRESIDIUM = "presidium"  # refer to the 主席团


class RankingMethod(StrEnum):
    TOP_N = "top_n"  # form C: a project ranked within the first N places counts one 赞成
    BORDA = "borda"  # form C: order by points (K - position), floor still on top-N approvals


@dataclass(frozen=True)
class Settings:
    """Every [PRACTICE] / [INFERENCE] choice of the reference, with its default."""

    unmarked: Unmarked = Unmarked.ABSTAIN
    press: Press = Press.LAST
    vote_quorum: bool = True
    election_quorum: ElectionQuorum = ElectionQuorum.TWO_THIRDS
    participation_majority: bool = False
    tie_revote_threshold: TieThreshold = TieThreshold.PLURALITY
    small_committee_extra: SmallCommitteeExtra = SmallCommitteeExtra.AT_LEAST_ONE
    ineligible_write_in: IneligibleWriteIn = IneligibleWriteIn.VOID_ENTRY
    write_in_pairing: WriteInPairing = WriteInPairing.WITH_NO
    overfilled_section: OverfilledSection = OverfilledSection.SECTION
    election_method: ElectionMethod = ElectionMethod.DEVICE
    project_majority_floor: bool = True
    project_tie: ProjectTie = ProjectTie.REVOTE
    ranking_method: RankingMethod = RankingMethod.TOP_N


@dataclass(frozen=True)
class Person:
    """A candidate, a project, or a person in a confirmation or removal vote."""

    id: str
    name: str
    post: str = ""
    # the post held, for a person to be removed (罢免): who may be removed depends on it
    post_type: PostType | None = None
    organ: Organ | None = None


@dataclass(frozen=True)
class MotionPoll:
    id: str
    title: str
    settings: Settings = field(default_factory=Settings)
    kind: PollKind = PollKind.MOTION


@dataclass(frozen=True)
class ElectionPoll:
    id: str
    title: str
    post: str
    post_type: PostType
    organ: Organ
    seats: int
    candidates: tuple[Person, ...]
    extra: int | None = None  # the 差额 the 选举办法 fixes (candidates - seats); None: any legal
    round: Round = Round.REGULAR
    parent: str | None = None
    write_ins: WriteInPolicy = WriteInPolicy.DEPUTIES
    # the sheet (一次投票，分别计算): elections with the same ``ballot`` are on one ballot paper,
    # each counted on its own (tally.rules.sheet); None: a ballot of its own (the default)
    ballot: str | None = None
    settings: Settings = field(default_factory=Settings)
    kind: PollKind = PollKind.ELECTION


@dataclass(frozen=True)
class ProjectPoll:
    id: str
    title: str
    form: ProjectForm
    projects: tuple[Person, ...]
    select: int | None = None  # N, the number of projects to select; None: all that pass
    competitive: bool = False  # 差额 required: more candidate projects than N
    round: Round = Round.REGULAR  # REGULAR or TIE_REVOTE
    parent: str | None = None
    settings: Settings = field(default_factory=Settings)
    kind: PollKind = PollKind.PROJECTS


@dataclass(frozen=True)
class ConfirmationPoll:
    id: str
    title: str
    persons: tuple[Person, ...]
    settings: Settings = field(default_factory=Settings)
    kind: PollKind = PollKind.CONFIRMATION


@dataclass(frozen=True)
class RemovalPoll:
    id: str
    title: str
    persons: tuple[Person, ...]
    settings: Settings = field(default_factory=Settings)
    kind: PollKind = PollKind.REMOVAL


Poll = MotionPoll | ElectionPoll | ProjectPoll | ConfirmationPoll | RemovalPoll


@dataclass(frozen=True)
class SessionRules:
    name: str
    level: Level
    total_deputies: int | None
    settings: Settings
    polls: tuple[Poll, ...]

    def poll(self, poll_id: str) -> Poll:
        for p in self.polls:
            if p.id == poll_id:
                return p
        raise RulesError(f"the rules define no poll {poll_id!r}")
