"""Reference §5: confirmation (表决票) and removal (罢免); §4.1: nominations."""

from __future__ import annotations

import pytest

from tally.rules.errors import LawError, RulesError
from tally.rules.model import ElectionPoll, Level, PostType
from tally.rules.nominations import Nomination, check_nominations, rate_range
from tally.rules.removal import check_removal_motion, removal_movers_minimum
from tally.rules.result import ItemStatus

from .helpers import counts, election, rules, run

PERSONS = [{"id": "p1", "name": "甲"}, {"id": "p2", "name": "乙"}]


@pytest.mark.parametrize("kind", ["confirmation", "removal"])
def test_each_person_needs_a_majority_of_all_deputies(kind: str) -> None:
    r = rules({"id": "c", "kind": kind, "persons": PERSONS}, level="county", total=120)
    o = run(
        r,
        counts(
            "c",
            total=120,
            present=100,
            totals={"p1": {"yes": 61, "no": 39}, "p2": {"yes": 60, "no": 40}},
        ),
    )
    assert [i.status for i in o.items] == [ItemStatus.PASSED, ItemStatus.NOT_PASSED]
    with pytest.raises(RulesError, match="exactly the persons"):
        run(r, counts("c", total=120, totals={"p1": {"yes": 61}}))


def test_removal_movers() -> None:
    assert removal_movers_minimum(Level.TOWNSHIP, 45) == 9
    assert removal_movers_minimum(Level.COUNTY, 200) == 20
    check_removal_motion(Level.TOWNSHIP, 45, 9, by_presidium=False)
    with pytest.raises(LawError, match="地方组织法 第三十一条"):
        check_removal_motion(Level.TOWNSHIP, 45, 8, by_presidium=False)
    check_removal_motion(Level.COUNTY, 200, 0, by_presidium=True)


def test_rate_ranges() -> None:
    assert (rate_range(PostType.DEPUTY, 3).minimum, rate_range(PostType.DEPUTY, 3).maximum) == (
        1,
        3,
    )
    m = rate_range(PostType.MEMBER, 25)
    assert (m.minimum, m.maximum) == (3, 5)
    h = rate_range(PostType.HIGHER_DEPUTY, 1, supplementary=True)
    assert (h.minimum, h.maximum) == (1, 1)  # one seat left: two candidates


def _vm() -> ElectionPoll:
    p = rules(election("vm", seats=2, cands=list("ABC"))).poll("vm")
    assert isinstance(p, ElectionPoll)
    return p


def test_nominator_limits() -> None:
    ten = tuple(f"D{i}" for i in range(10))
    res = check_nominations(
        _vm(), Level.TOWNSHIP, [Nomination(("A", "B")), Nomination(("C",), by=ten)]
    )
    assert res.nominees == ("A", "B", "C") and not res.primary_needed
    with pytest.raises(LawError, match="第二十六条第二款"):
        check_nominations(_vm(), Level.TOWNSHIP, [Nomination(("C",), by=ten[:9])])
    with pytest.raises(LawError, match="第二十六条第二款"):
        check_nominations(_vm(), Level.CITY, [Nomination(("C",), by=ten)])
    with pytest.raises(LawError, match="第二十六条第三款"):
        check_nominations(_vm(), Level.TOWNSHIP, [Nomination(("A", "B", "C"))])
    with pytest.raises(LawError, match="第二十六条第三款"):
        check_nominations(
            _vm(), Level.TOWNSHIP, [Nomination(("A", "B"), by=ten), Nomination(("C",), by=ten)]
        )
    with pytest.raises(LawError, match="第二十七条"):
        check_nominations(_vm(), Level.TOWNSHIP, [Nomination(("A", "B"))])


def test_too_many_nominees_need_a_primary() -> None:
    ten = tuple(f"D{i}" for i in range(10))
    other = tuple(f"E{i}" for i in range(10))
    third = tuple(f"F{i}" for i in range(10))
    res = check_nominations(
        _vm(),
        Level.TOWNSHIP,
        [
            Nomination(("A", "B")),
            Nomination(("C", "D"), by=ten),
            Nomination(("E", "F"), by=other),
            Nomination(("G",), by=third),
        ],
    )
    assert res.primary_needed and res.list_size == 5  # 2 seats + at most 3 (副职)
