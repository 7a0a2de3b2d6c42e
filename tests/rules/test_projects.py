"""Reference §6.3–6.5: livelihood-project votes, forms A, B, C."""

from __future__ import annotations

from typing import Any

import pytest

from tally.rules.errors import RulesError
from tally.rules.model import ProjectPoll
from tally.rules.result import ItemStatus, NextKind
from tally.rules.serialize import to_data

from .helpers import counts, rules, run


def projects(form: str, n: int | None, k: int, **extra: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "id": "p",
        "kind": "projects",
        "title": "民生实事",
        "form": form,
        "projects": [{"id": f"P{i}", "name": f"项目{i}"} for i in range(1, k + 1)],
        **extra,
    }
    if n is not None:
        doc["select"] = n
    return doc


def a_totals(yes: list[int], returned: int) -> dict[str, dict[str, int]]:
    return {f"P{i}": {"yes": y, "no": returned - y} for i, y in enumerate(yes, start=1)}


def test_top_n_by_yes_among_those_clearing_the_floor() -> None:
    # 12 → 10 would be the usual; here 5 → 3 of 45 deputies (floor 23).
    r = rules(projects("A", 3, 5, competitive=True))
    o = run(r, counts("p", totals=a_totals([40, 30, 35, 24, 20], 45)))
    assert o.selected == ("P1", "P2", "P3")
    assert o.next_polls == ()


def test_fewer_than_n_clear_the_floor_places_stay_empty() -> None:
    r = rules(projects("A", 3, 5, competitive=True))
    o = run(r, counts("p", totals=a_totals([40, 22, 35, 10, 20], 45)))
    assert set(o.selected) == {"P1", "P3"}
    (nxt,) = o.next_polls
    assert nxt.kind is NextKind.PRESIDIUM and nxt.seats == 1 and nxt.spec is None
    r = rules(projects("A", 3, 5, competitive=True), project_majority_floor=False)
    o = run(r, counts("p", totals=a_totals([40, 22, 35, 10, 20], 45)))
    assert set(o.selected) == {"P1", "P2", "P3"}


def test_tie_at_cut_off_revote_or_presidium() -> None:
    r = rules(projects("A", 2, 4, competitive=True))
    o = run(r, counts("p", totals=a_totals([40, 30, 30, 10], 45)))
    assert o.selected == ("P1",)
    tied = [i.id for i in o.items if i.status is ItemStatus.TIED]
    assert tied == ["P2", "P3"]
    (nxt,) = o.next_polls
    assert nxt.kind is NextKind.TIE_REVOTE and isinstance(nxt.spec, ProjectPoll)
    assert nxt.spec.select == 1 and [p.id for p in nxt.spec.projects] == ["P2", "P3"]
    r2 = rules(projects("A", 2, 4, competitive=True), to_data(nxt.spec))
    o2 = run(r2, counts("p-revote", totals={"P2": {"yes": 25}, "P3": {"yes": 20}}))
    assert o2.selected == ("P2",)
    r = rules(projects("A", 2, 4, competitive=True), project_tie="presidium")
    o = run(r, counts("p", totals=a_totals([40, 30, 30, 10], 45)))
    assert o.next_polls[0].kind is NextKind.PRESIDIUM and o.next_polls[0].candidates == ("P2", "P3")


def test_form_a_without_n_adopts_all_that_pass() -> None:
    r = rules(projects("A", None, 7))
    yes = [51, 51, 51, 51, 51, 51, 22]  # 遂溪北坡镇 style: 赞成51 each; one fails
    o = run(r, counts("p", total=51, totals=a_totals(yes, 51)))
    assert len(o.selected) == 6 and "P7" not in o.selected


def test_form_b_ballots_overvote_void() -> None:
    r = rules(projects("B", 2, 4, competitive=True))
    ballots = [[0, 1]] * 20 + [[0, 2]] * 5 + [[0, 1, 2]] * 3 + [[3, 3]] * 2 + [[]] * 15
    o = run(r, counts("p", ballots=ballots))
    assert o.void_ballots == 5 and dict(o.void_reasons) == {"overvote": 3, "duplicate": 2}
    assert o.items[0].yes == 25 and o.items[1].yes == 20
    assert o.selected == ("P1",)  # P2 has 20 < 23: the floor
    assert o.next_polls[0].kind is NextKind.PRESIDIUM


def test_form_b_totals() -> None:
    r = rules(projects("B", 2, 3, competitive=True))
    o = run(r, counts("p", totals={"P1": {"yes": 40}, "P2": {"yes": 30}, "P3": {"yes": 10}}))
    assert o.selected == ("P1", "P2")
    with pytest.raises(RulesError, match="approvals"):
        run(r, counts("p", totals={"P1": {"yes": 45}, "P2": {"yes": 45}, "P3": {"yes": 45}}))


def test_form_c_ranking() -> None:
    # 4 projects, N = 2: a project ranked first or second counts one 赞成.
    r = rules(projects("C", 2, 4, competitive=True))
    ballots = [[0, 1, 2, 3]] * 25 + [[2, 1, 0, 3]] * 20
    o = run(r, counts("p", ballots=ballots))
    assert [i.yes for i in o.items] == [25, 45, 20, 0]
    assert set(o.selected) == {"P1", "P2"}
    rb = rules(projects("C", 2, 4, competitive=True), ranking_method="borda")
    o = run(rb, counts("p", ballots=ballots))
    assert o.items[1].points == 45 * 3
    assert set(o.selected) == {"P1", "P2"}
    with pytest.raises(RulesError, match="needs individual ballots"):
        run(r, counts("p", totals={"P1": {"yes": 1}}))


def test_project_list_checks() -> None:
    with pytest.raises(RulesError, match="差额"):
        rules(projects("A", 3, 3, competitive=True))
    with pytest.raises(RulesError, match="select"):
        rules(projects("B", None, 3))
    with pytest.raises(RulesError, match="only 3"):
        rules(projects("A", 4, 3))


def test_reported_practice_examples() -> None:
    # 四屏镇 2023: 2 → 1; 发出表决票45张，收回45张：票决有效.
    r = rules(projects("A", 1, 2, competitive=True))
    o = run(r, counts("p", totals=a_totals([40, 5], 45)))
    assert o.verdict.value == "valid" and o.selected == ("P1",)
    # 收回 > 发出: the project vote is invalid and held again.
    o = run(r, counts("p", issued=44, returned=45, totals=a_totals([40, 5], 45)))
    assert o.verdict.value == "returned_exceeds_issued" and o.selected == ()
    assert o.next_polls[0].kind is NextKind.RERUN
    # 12 选 10 (连云港新安镇, 杭州滨江): the ten with most 赞成, all above the floor.
    r = rules(projects("A", 10, 12, competitive=True))
    yes = [45, 44, 43, 42, 41, 40, 39, 38, 37, 36, 35, 30]
    o = run(r, counts("p", total=51, totals=a_totals(yes, 51)))
    assert o.selected == tuple(f"P{i}" for i in range(1, 11))
