"""Removal (罢免): who may move it (地方组织法 第三十一条) and the vote (第二十五条).

A removal passes for a person with 赞成 (to remove) from more than half of all deputies; it is
a secret ballot (上海议事规则 第四十九条), counted like a confirmation vote.
"""

from __future__ import annotations

from tally.rules.confirmation import per_person
from tally.rules.counts import Counts
from tally.rules.errors import LawError
from tally.rules.model import Level, Organ, PostType, RemovalPoll
from tally.rules.nominations import APPOINTED_DEPUTIES, ORGAN_LABELS
from tally.rules.result import ItemResult

ART_31 = "地方组织法 第三十一条"
ELECTION_LAW_52 = "选举法 第五十二条"

# whom a congress may remove (地方组织法 第三十一条): at township level 主席、副主席 and 乡长、
# 副乡长 / 镇长、副镇长; above, the members of the standing committee and the government, and
# the heads of the supervisory commission, the court and the procuratorate; a county or city
# congress also removes the deputies it elected to the higher congress (选举法 第五十二条).
REMOVABLE = {
    Level.TOWNSHIP: frozenset({Organ.TOWNSHIP_CONGRESS, Organ.GOVERNMENT}),
    Level.COUNTY: frozenset(
        {
            Organ.STANDING_COMMITTEE,
            Organ.GOVERNMENT,
            Organ.SUPERVISORY_COMMISSION,
            Organ.COURT,
            Organ.PROCURATORATE,
            Organ.HIGHER_CONGRESS,
        }
    ),
}
REMOVABLE[Level.CITY] = REMOVABLE[Level.COUNTY]


def check_removal_poll(poll: RemovalPoll, level: Level) -> None:
    """Each person whose post the rules name (``organ``, ``post_type``) must be one this
    congress may remove; otherwise :class:`LawError` naming the article."""
    for person in poll.persons:
        organ = person.organ
        if organ is None:
            continue
        where = f"removal {poll.id!r}: {person.name} ({ORGAN_LABELS[organ]})"
        if organ not in REMOVABLE[level]:
            article = ELECTION_LAW_52 if organ is Organ.HIGHER_CONGRESS else ART_31
            raise LawError(f"{where}: this congress may not remove holders of this post", article)
        if organ in APPOINTED_DEPUTIES and person.post_type not in (None, PostType.HEAD):
            raise LawError(
                f"{where}: the congress removes only the head ({APPOINTED_DEPUTIES[organ]}); "
                "deputy heads are appointed and removed by the standing committee",
                ART_31,
            )


def removal_movers_minimum(level: Level, total: int) -> int:
    """Deputies needed to move a removal jointly: 1/5 (township) or 1/10 (county and city),
    "以上" so the exact fraction suffices."""
    d = 5 if level is Level.TOWNSHIP else 10
    return -((-total) // d)


def check_removal_motion(level: Level, total: int, movers: int, *, by_presidium: bool) -> None:
    """A removal motion is moved by the 主席团 (or the 常委会 at county level and above), or by
    enough deputies jointly; otherwise :class:`LawError`."""
    if by_presidium:
        return
    need = removal_movers_minimum(level, total)
    if movers < need:
        raise LawError(
            f"a removal motion moved by {movers} deputies; {need} or more of the {total} "
            "deputies are needed",
            ART_31,
        )


def decide_removal(poll: RemovalPoll, counts: Counts, total: int) -> tuple[ItemResult, ...]:
    return per_person(poll, counts, total)
