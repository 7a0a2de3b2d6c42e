"""Reference §3: motions (赞成 × 2 > all deputies; 未按 shown, never a vote cast)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tally.rules.errors import RulesError
from tally.rules.result import ItemStatus, NextKind, Outcome, Verdict

from .helpers import counts, rules, run

M = {"id": "m", "kind": "motion", "title": "关于…的决议"}


def motion(
    yes: int,
    no: int,
    abstain: int,
    *,
    total: int = 45,
    present: int | None = None,
    issued: int | None = None,
    **settings: Any,
) -> Outcome:
    present = total if present is None else present
    issued = present if issued is None else issued
    returned = yes + no + abstain
    return run(
        rules(M, total=total, **settings),
        counts(
            "m",
            total=total,
            present=present,
            issued=issued,
            returned=returned,
            totals={"yes": yes, "no": no, "abstain": abstain},
        ),
    )


def test_passes_with_a_majority_of_all_deputies() -> None:
    o = motion(23, 0, 0)
    assert o.passed and o.items[0].status is ItemStatus.PASSED
    assert not motion(22, 0, 0).passed


def test_not_pressed_is_shown_but_never_cast() -> None:
    o = motion(22, 0, 0, present=44)  # 22 未按
    assert not o.passed
    report = o.report
    assert report is not None
    assert report.not_returned == 22
    assert "未按22人" in report.summary


def test_npc_display_example() -> None:
    # 2639 赞成 / 160 反对 / 57 弃权 / 16 未按, of 2872 present.
    o = motion(2639, 160, 57, total=2900, present=2872)
    assert o.passed
    assert o.report is not None and o.report.not_returned == 16


def test_guangdong_participation_rule() -> None:
    # 40 present, 22 vote (all 赞成 would still fail the majority); 23 vote: participation ok
    o = motion(22, 0, 0, present=40, participation_majority=True)
    assert o.verdict is Verdict.TOO_FEW_TAKING_PART
    o = motion(23, 0, 0, present=40, participation_majority=True)
    assert o.verdict is Verdict.VALID and o.passed


def test_no_quorum_at_the_vote() -> None:
    o = motion(29, 0, 0, present=29)
    assert o.verdict is Verdict.NO_QUORUM
    assert o.next_polls[0].kind is NextKind.RERUN
    o = motion(29, 0, 0, present=29, vote_quorum=False)
    assert o.verdict is Verdict.VALID


def test_totals_must_add_up_to_the_ballots_returned() -> None:
    with pytest.raises(RulesError, match="returned"):
        run(rules(M), counts("m", returned=40, totals={"yes": 30, "no": 1, "abstain": 1}))
    o = run(
        rules(M), counts("m", returned=40, totals={"yes": 30, "no": 1, "abstain": 1, "blank": 8})
    )
    assert o.blank_ballots == 8 and o.passed
    with pytest.raises(RulesError, match="yes, no, abstain"):
        run(rules(M), counts("m", returned=1, totals={"a": {"yes": 1}}))


@given(st.integers(min_value=1, max_value=2000), st.data())
def test_exactly_half_never_passes(k: int, data: st.DataObject) -> None:
    total = 2 * k
    no = data.draw(st.integers(min_value=0, max_value=k))
    o = motion(k, no, 0, total=total)
    assert not o.passed
    assert motion(k + 1, min(no, k - 1), 0, total=total).passed
