"""Removal (罢免): who may move it (地方组织法 第三十一条) and the vote (第二十五条).

A removal passes for a person with 赞成 (to remove) from more than half of all deputies; it is
a secret ballot (上海议事规则 第四十九条), counted like a confirmation vote.
"""

from __future__ import annotations

from tally.rules.confirmation import per_person
from tally.rules.counts import Counts
from tally.rules.errors import LawError
from tally.rules.model import Level, RemovalPoll
from tally.rules.result import ItemResult

ART_31 = "地方组织法 第三十一条"


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
