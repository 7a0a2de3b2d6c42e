"""Issue 13, item 9: one ballot for several posts (一次投票，分别计算, reference §4.3), counted
post by post; an overfilled section void on its own, or the whole ballot where the 选举办法
says so (``overfilled_section: sheet``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tally.rules.errors import RulesError
from tally.rules.model import ElectionPoll
from tally.rules.outcome import evaluate
from tally.rules.sheet import evaluate_sheet
from voting.cli import main

from .helpers import counts, election, rules

MAYOR = election("mayor", seats=1, cands=["M1", "M2"], post_type="head", ballot="b1")
VICE = election("vice", seats=3, cands=["V1", "V2", "V3", "V4"], ballot="b1")


def paper(mayor: list[str], vice: list[str]) -> dict[str, Any]:
    return {"mayor": {"marks": mayor}, "vice": {"marks": vice}}


GOOD = paper(["yes", "no"], ["yes", "yes", "yes", "no"])
OVERFILLED_VICE = paper(["yes", "no"], ["yes", "yes", "yes", "yes"])  # 4 for 3 seats


def sheet(*papers: dict[str, Any]) -> dict[str, Any]:
    n = len(papers)
    return {"sheet": "b1", "total": 45, "present": 45, "issued": 45, "returned": n,
            "ballots": list(papers)}  # fmt: skip


def test_each_post_is_counted_on_its_own_and_an_overfilled_section_voids_only_itself() -> None:
    r = rules(MAYOR, VICE)
    mayor, vice = evaluate_sheet(r, sheet(*[GOOD] * 40, *[OVERFILLED_VICE] * 5))
    assert (mayor.poll, vice.poll) == ("mayor", "vice")
    assert mayor.valid_ballots == 45 and mayor.void_ballots == 0
    assert mayor.elected == ("M1",)
    assert vice.valid_ballots == 40 and dict(vice.void_reasons) == {"overvote": 5}
    assert vice.elected == ("V1", "V2", "V3")


def test_where_the_rules_say_so_an_overfilled_section_voids_the_whole_ballot() -> None:
    r = rules(MAYOR, VICE, overfilled_section="sheet")
    mayor, vice = evaluate_sheet(r, sheet(*[GOOD] * 40, *[OVERFILLED_VICE] * 5))
    assert mayor.valid_ballots == 40 and dict(mayor.void_reasons) == {"sheet_void": 5}
    assert vice.valid_ballots == 40 and dict(vice.void_reasons) == {"overvote": 5}
    assert mayor.report is not None
    assert any("全票作废" in v.label for v in mayor.report.void_reasons)


def test_a_sheet_needs_a_section_per_post_and_two_posts() -> None:
    r = rules(MAYOR, VICE)
    with pytest.raises(RulesError, match="one section per post"):
        evaluate_sheet(r, sheet({"mayor": {"marks": ["yes", "no"]}}))
    with pytest.raises(RulesError, match="holds only election"):
        rules(MAYOR)
    with pytest.raises(RulesError, match="ballot of its own"):
        rules(MAYOR, dict(VICE, round="tie_revote", seats=1, candidates=VICE["candidates"][:2]))
    with pytest.raises(RulesError, match="no election on ballot"):
        evaluate_sheet(r, dict(sheet(GOOD), sheet="b2"))


def test_a_tie_revote_and_a_rerun_have_ballots_of_their_own() -> None:
    r = rules(MAYOR, VICE)
    a = paper(["yes", "no"], ["yes", "yes", "yes", "no"])
    b = paper(["yes", "no"], ["yes", "yes", "no", "yes"])
    c = paper(["yes", "no"], ["yes", "no", "yes", "yes"])
    _mayor, vice = evaluate_sheet(r, sheet(*[a] * 15, *[b] * 15, *[c] * 15))
    (revote,) = vice.next_polls  # V2, V3, V4 tie at 30 for the last 2 seats
    assert revote.kind == "tie_revote" and revote.spec is not None
    assert isinstance(revote.spec, ElectionPoll) and revote.spec.ballot is None
    # a vote without quorum calls for a re-run, on a ballot of its own
    _mayor, vice = evaluate_sheet(r, dict(sheet(a), present=20, issued=1))
    (rerun,) = vice.next_polls
    assert rerun.kind == "rerun"
    assert isinstance(rerun.spec, ElectionPoll) and rerun.spec.ballot is None


@st.composite
def papers(draw: st.DrawFn) -> list[dict[str, Any]]:
    marks = st.sampled_from(["yes", "no", "abstain"])
    return draw(
        st.lists(
            st.builds(
                paper,
                st.lists(marks, min_size=2, max_size=2),
                st.lists(marks, min_size=4, max_size=4),
            ),
            min_size=1,
            max_size=45,
        )
    )


@settings(max_examples=80, deadline=None)
@given(papers(), st.sampled_from(["section", "sheet"]))
def test_property_posts_are_counted_apart(ballots: list[dict[str, Any]], mode: str) -> None:
    """With ``section`` each post's outcome is its sections' alone; with ``sheet`` a paper
    counts for a post only if no section of it is overfilled."""
    r = rules(MAYOR, VICE, overfilled_section=mode)
    mayor, vice = evaluate_sheet(r, sheet(*ballots))
    alone = evaluate(
        r, counts("mayor", returned=len(ballots), ballots=[b["mayor"] for b in ballots])
    )
    over = sum(1 for b in ballots if b["vice"]["marks"].count("yes") > 3 or
               b["mayor"]["marks"].count("yes") > 1)  # fmt: skip
    if mode == "section":
        assert mayor == alone
    else:
        assert mayor.valid_ballots == vice.valid_ballots == len(ballots) - over
    assert mayor.returned == vice.returned == len(ballots)


def test_renda_rules_evaluate_counts_a_sheet_post_by_post(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    doc = {"session": {"name": "测试会议", "level": "township", "total_deputies": 45},
           "polls": [MAYOR, VICE]}  # fmt: skip
    (tmp_path / "rules.json").write_text(json.dumps(doc, ensure_ascii=False), "utf-8")
    data = sheet(*[GOOD] * 40, *[OVERFILLED_VICE] * 5)
    (tmp_path / "sheet.json").write_text(json.dumps(data), "utf-8")
    args = ["rules", "evaluate", str(tmp_path / "rules.json"), str(tmp_path / "sheet.json")]
    assert main(args) == 0
    posts = json.loads(capsys.readouterr().out)["posts"]
    assert [p["outcome"]["poll"] for p in posts] == ["mayor", "vice"]
    assert posts[1]["outcome"]["void_ballots"] == 5
    assert main([*args, "--table"]) == 0
    table = capsys.readouterr().out
    assert table.count("测试会议") >= 2 and "所选人数多于应选人数" in table
