"""Checks before an election: candidate numbers (差额), write-in eligibility, nominators.

Every refusal is a :class:`LawError` naming the article. The 差额 is the number of candidates
beyond the seats (candidates - seats); the legal range depends on the post type and the round:

====================  ==========================  ==========================================
post type             range of the 差额           article
====================  ==========================  ==========================================
head (正职)            0 or 1 (and only 1 seat)    地方组织法 第二十七条第一款
deputy (副职)          1 .. 3                      地方组织法 第二十七条第一款
member (常委会委员)    ceil(n/10) .. floor(n/5)    地方组织法 第二十七条第一款 [INFERENCE]
higher_deputy          ceil(n/5) .. floor(n/2)     选举法 第三十一条第二款
====================  ==========================  ==========================================

补选 (by-election) allows any 差额 ≥ 0 (地方组织法 第三十条); 另行选举 keeps the rates above
for deputy posts, members and higher-level deputies (地方组织法 第二十九条第三款, 选举法 第四十五条
第四款); a tie re-vote lists exactly the tied candidates (地方组织法 第二十九条第一款).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from functools import cache

from tally.rules.errors import LawError, RulesError
from tally.rules.model import (
    ElectionPoll,
    Level,
    Organ,
    PostType,
    Round,
    SmallCommitteeExtra,
    WriteInPolicy,
    person_key,
)

ART_27 = "地方组织法 第二十七条第一款"
ART_26_2 = "地方组织法 第二十六条第二款"
ART_26_3 = "地方组织法 第二十六条第三款"
ART_29_1 = "地方组织法 第二十九条第一款"
ART_29_3 = "地方组织法 第二十九条第三款"
ART_30 = "地方组织法 第三十条"
ART_18 = "地方组织法 第十八条"
ART_47 = "地方组织法 第四十七条"
ART_28 = "地方组织法 第二十八条"
ELECTION_LAW_31 = "选举法 第三十一条第二款"
ELECTION_LAW_45 = "选举法 第四十五条第四款"
ELECTION_LAW_3 = "选举法 第三条"
ELECTION_LAW_30 = "选举法 第三十条"
ELECTION_LAW_32 = "选举法 第三十二条"
ART_11 = "地方组织法 第十一条"
ART_12 = "地方组织法 第十二条"
ELECTION_LAW_44 = "选举法 第四十四条第二款"
DEPUTIES_LAW_17 = "代表法 第十七条"

POST_LABELS = {
    PostType.HEAD: "正职",
    PostType.DEPUTY: "副职",
    PostType.MEMBER: "常委会委员",
    PostType.HIGHER_DEPUTY: "上一级人大代表",
}

UNBOUNDED = 10**9

# organs whose head the congress elects and whose deputy heads the standing committee appoints
# (地方组织法 第十一条: 监察委员会主任、人民法院院长、人民检察院检察长); none at township level
APPOINTED_DEPUTIES = {
    Organ.SUPERVISORY_COMMISSION: "监察委员会主任",
    Organ.COURT: "人民法院院长",
    Organ.PROCURATORATE: "人民检察院检察长",
}
ORGAN_LABELS = {
    Organ.TOWNSHIP_CONGRESS: "乡镇人民代表大会",
    Organ.STANDING_COMMITTEE: "人民代表大会常务委员会",
    Organ.GOVERNMENT: "人民政府",
    Organ.SUPERVISORY_COMMISSION: "监察委员会",
    Organ.COURT: "人民法院",
    Organ.PROCURATORATE: "人民检察院",
    Organ.HIGHER_CONGRESS: "上一级人民代表大会",
}
TOWNSHIP_VICE_CHAIRS = 2  # 乡镇人大 "可以设副主席一人至二人" (地方组织法 第十八条)


@dataclass(frozen=True)
class ExtraRange:
    """Legal range of the 差额 (candidates beyond seats) and the article that sets it."""

    minimum: int
    maximum: int  # UNBOUNDED when the law sets no upper limit
    article: str

    def contains(self, extra: int) -> bool:
        return self.minimum <= extra <= self.maximum

    def describe(self) -> str:
        if self.maximum >= UNBOUNDED:
            return f"at least {self.minimum}"
        if self.minimum == self.maximum:
            return f"exactly {self.minimum}"
        return f"{self.minimum} to {self.maximum}"


def _ceil_div(a: int, b: int) -> int:
    return -((-a) // b)


def rate_range(
    post_type: PostType,
    seats: int,
    small_committee: SmallCommitteeExtra = SmallCommitteeExtra.AT_LEAST_ONE,
    *,
    supplementary: bool = False,
) -> ExtraRange:
    """The 差额 range of a regular election (or of a 另行选举 when ``supplementary``)."""
    if post_type is PostType.HEAD:
        return ExtraRange(0, 1, ART_29_3 if supplementary else ART_27)
    if post_type is PostType.DEPUTY:
        return ExtraRange(1, 3, ART_29_3 if supplementary else ART_27)
    if post_type is PostType.MEMBER:
        low, high = _ceil_div(seats, 10), seats // 5
        article = ART_29_3 if supplementary else ART_27
        if high < low and small_committee is SmallCommitteeExtra.AT_LEAST_ONE:
            high = low
        return ExtraRange(low, high, article)
    low, high = _ceil_div(seats, 5), seats // 2
    # 选举法 第四十五条第四款: one seat left in a 另行选举 needs two candidates.
    high = max(high, low)
    return ExtraRange(low, high, ELECTION_LAW_45 if supplementary else ELECTION_LAW_31)


def extra_range(poll: ElectionPoll) -> ExtraRange:
    """The legal 差额 range of this election poll, from its post type and round."""
    if poll.round is Round.BY_ELECTION:
        return ExtraRange(0, UNBOUNDED, ART_30)
    if poll.round is Round.TIE_REVOTE:
        return ExtraRange(1, UNBOUNDED, ART_29_1)
    return rate_range(
        poll.post_type,
        poll.seats,
        poll.settings.small_committee_extra,
        supplementary=poll.round is Round.SUPPLEMENTARY,
    )


def _check_organ(poll: ElectionPoll, level: Level) -> None:
    where = f"election {poll.id!r} ({poll.post})"
    if poll.post_type is PostType.HIGHER_DEPUTY:
        if level is Level.TOWNSHIP:
            raise LawError(
                f"{where}: a township congress elects no deputies to a higher congress",
                ELECTION_LAW_3,
            )
        if poll.organ is not Organ.HIGHER_CONGRESS:
            raise RulesError(f"{where}: higher-level deputies must have organ higher_congress")
    elif poll.organ is Organ.HIGHER_CONGRESS:
        raise RulesError(f"{where}: organ higher_congress needs post_type higher_deputy")
    if poll.post_type is PostType.MEMBER and poll.organ is not Organ.STANDING_COMMITTEE:
        raise RulesError(f"{where}: post_type member is for 常委会委员 (organ standing_committee)")
    if poll.organ is Organ.STANDING_COMMITTEE and level is Level.TOWNSHIP:
        raise LawError(f"{where}: a township congress has no standing committee", ART_47)
    if poll.organ is Organ.TOWNSHIP_CONGRESS and level is not Level.TOWNSHIP:
        raise LawError(f"{where}: 人大主席/副主席 exist only at township level", ART_18)
    if level is Level.TOWNSHIP and poll.organ in APPOINTED_DEPUTIES:
        raise LawError(
            f"{where}: a township congress elects only 人大主席、副主席 and 乡长、副乡长 / 镇长、"
            f"副镇长; there is no {ORGAN_LABELS[poll.organ]} at township level to elect",
            ART_12,
        )
    if poll.organ in APPOINTED_DEPUTIES and poll.post_type is not PostType.HEAD:
        raise LawError(
            f"{where}: the congress elects the head of the {ORGAN_LABELS[poll.organ]} only "
            f"({APPOINTED_DEPUTIES[poll.organ]}); its deputy heads are appointed by the "
            "standing committee, not elected",
            ART_11,
        )
    if (
        poll.organ is Organ.TOWNSHIP_CONGRESS
        and poll.post_type is PostType.DEPUTY
        and poll.seats > TOWNSHIP_VICE_CHAIRS
    ):
        raise LawError(
            f"{where}: a township congress has one or two 副主席, not {poll.seats}",
            ART_18,
        )
    if poll.organ in (Organ.TOWNSHIP_CONGRESS, Organ.STANDING_COMMITTEE) and (
        poll.write_ins is WriteInPolicy.ANYONE
    ):
        article = ART_18 if poll.organ is Organ.TOWNSHIP_CONGRESS else ART_47
        raise LawError(f"{where}: only deputies of this congress may be written in", article)


def primary_article(poll: ElectionPoll) -> str:
    """The article that orders a 预选 when the candidates exceed the 差额: 选举法 for deputies
    to the higher congress (with the ratio of 第三十一条第二款), 地方组织法 for officers."""
    if poll.post_type is PostType.HIGHER_DEPUTY:
        return f"{ELECTION_LAW_31}, {ELECTION_LAW_32}"
    return ART_27


def check_election(poll: ElectionPoll, level: Level) -> None:
    """Check seats, candidate numbers (差额) and organ of an election poll against the law."""
    where = f"election {poll.id!r} ({poll.post}, {POST_LABELS[poll.post_type]})"
    _check_organ(poll, level)
    if poll.post_type is PostType.HEAD and poll.seats != 1:
        raise LawError(f"{where}: a head post (正职) has exactly one seat", ART_27)
    n_cand = len(poll.candidates)
    if poll.round is Round.TIE_REVOTE:
        if n_cand <= poll.seats:
            raise LawError(
                f"{where}: a tie re-vote lists the tied candidates, more than the "
                f"{poll.seats} seat(s) left; {n_cand} listed",
                ART_29_1,
            )
        return
    rng = extra_range(poll)
    extra = n_cand - poll.seats
    if extra < rng.minimum:
        raise LawError(
            f"{where}: {n_cand} candidate(s) for {poll.seats} seat(s) is too few; the law "
            f"requires {rng.describe()} more candidate(s) than seats",
            rng.article,
        )
    if poll.extra is not None and not rng.contains(poll.extra):
        raise LawError(
            f"{where}: the 差额 fixed by the election rules ({poll.extra}) is outside the legal "
            f"range ({rng.describe()})",
            rng.article,
        )
    allowed_max = rng.maximum if poll.extra is None else poll.extra
    if poll.extra is not None and extra < poll.extra:
        raise LawError(
            f"{where}: {n_cand} candidate(s) for {poll.seats} seat(s), but the election rules "
            f"fix the 差额 at {poll.extra}",
            rng.article,
        )
    if extra > allowed_max:
        raise LawError(
            f"{where}: {n_cand} candidate(s) for {poll.seats} seat(s) is more than the 差额 "
            f"allows ({rng.describe() if poll.extra is None else poll.extra}); hold a 预选 "
            "(primary) to cut the list",
            primary_article(poll),
        )


# --- write-ins ------------------------------------------------------------------------------


def write_in_article(poll: ElectionPoll) -> str:
    if poll.organ is Organ.TOWNSHIP_CONGRESS:
        return ART_18
    if poll.organ is Organ.STANDING_COMMITTEE:
        return ART_47
    return ART_28


def write_in_eligible(poll: ElectionPoll, person: str, roster: Collection[str] | None) -> bool:
    """May ``person`` (a roster number, or an identifier the secretariat registered) be
    written in for this post?

    Posts whose holders must be deputies accept only numbers in ``roster``; when no roster is
    given for such a post, a :class:`RulesError` is raised (eligibility cannot be checked).
    """
    if poll.write_ins is WriteInPolicy.ANYONE:
        return True
    if roster is None:
        raise RulesError(
            f"election {poll.id!r}: COUNTS gives no roster list (roster.deputies), so the "
            f"write-ins cannot be checked: only deputies may be written in "
            f"({write_in_article(poll)})"
        )
    keys = _roster_keys(roster) if isinstance(roster, frozenset) else _keys(roster)
    return person_key(person) in keys


def _keys(roster: Collection[str]) -> frozenset[str]:
    return frozenset(person_key(r) for r in roster)


@cache
def _roster_keys(roster: frozenset[str]) -> frozenset[str]:
    return _keys(roster)  # a frozenset caches its hash: one conversion per roster


# --- nominators -----------------------------------------------------------------------------

PRESIDIUM = "presidium"


@dataclass(frozen=True)
class Nomination:
    """One nomination: by the 主席团 (``by == ()``) or jointly by deputies (roster numbers)."""

    candidates: tuple[str, ...]
    by: tuple[str, ...] = ()

    @property
    def by_presidium(self) -> bool:
        return not self.by


@dataclass(frozen=True)
class NominationCheck:
    """Result of checking nominations: the nominees, and whether a 预选 must cut the list."""

    nominees: tuple[str, ...]
    primary_needed: bool
    list_size: int  # seats + 差额: the size of the official list after a 预选


def joint_nominators_minimum(level: Level, post_type: PostType | None = None) -> int:
    """Deputies needed for a joint nomination: 10 (township, county), 20 (设区的市) for the
    congress's officers (地方组织法 第二十六条第二款); 10 for deputies to the higher congress
    at any level (选举法 第三十条)."""
    if post_type is PostType.HIGHER_DEPUTY:
        return 10
    return 20 if level is Level.CITY else 10


def check_nominations(
    poll: ElectionPoll, level: Level, nominations: Sequence[Nomination]
) -> NominationCheck:
    """Check nominations for one post (地方组织法 第二十六条) and say if a 预选 is needed.

    Each joint nomination needs 10 deputies (20 in a 设区的市); the 主席团's nominees, and
    those each deputy co-nominates, may not exceed the seats. When the nominees exceed the
    seats plus the largest 差额 allowed, a 预选 cuts the list (地方组织法 第二十七条第一款).
    """
    where = f"nominations for {poll.post!r}"
    need = joint_nominators_minimum(level, poll.post_type)
    deputies = poll.post_type is PostType.HIGHER_DEPUTY
    joint_article = ELECTION_LAW_30 if deputies else ART_26_2
    limit_article = ELECTION_LAW_30 if deputies else ART_26_3
    presidium: set[str] = set()
    per_deputy: dict[str, set[str]] = {}
    nominees: list[str] = []
    for nom in nominations:
        if nom.by_presidium:
            presidium.update(nom.candidates)
        else:
            signers = set(nom.by)
            if len(signers) != len(nom.by):
                raise RulesError(f"{where}: a deputy signs the same nomination twice")
            if len(signers) < need:
                raise LawError(
                    f"{where}: a joint nomination needs {need} or more deputies, "
                    f"this one has {len(signers)}",
                    joint_article,
                )
            for s in signers:
                per_deputy.setdefault(s, set()).update(nom.candidates)
        for c in nom.candidates:
            if c not in nominees:
                nominees.append(c)
    if len(presidium) > poll.seats:
        raise LawError(
            f"{where}: the presidium nominates {len(presidium)} for {poll.seats} seat(s)",
            limit_article,
        )
    for deputy, names in sorted(per_deputy.items()):
        if len(names) > poll.seats:
            raise LawError(
                f"{where}: deputy {deputy} co-nominates {len(names)} for {poll.seats} seat(s)",
                limit_article,
            )
    rng = extra_range(poll)
    extra = poll.extra if poll.extra is not None else rng.maximum
    size = poll.seats + extra if extra < UNBOUNDED else len(nominees)
    if len(nominees) < poll.seats + rng.minimum:
        raise LawError(
            f"{where}: {len(nominees)} nominee(s) for {poll.seats} seat(s); the law requires "
            f"{rng.describe()} more candidate(s) than seats",
            rng.article,
        )
    return NominationCheck(tuple(nominees), len(nominees) > size, min(size, len(nominees)))
