"""The terminal prompt, fed from a list of typed lines."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Callable
from types import SimpleNamespace

from kiosk.client import BallotDraft
from kiosk.prompt import TerminalDeputy
from tally import messages as m
from tests.kiosk.test_choices import ELECTION, MOTION, PROJECTS


def _typed(lines: list[str]) -> Callable[[str], str]:
    it = iter(lines)
    return lambda _prompt: next(it)


def _poll(kind: str = "motion") -> m.PollInfo:
    return m.PollInfo(poll_id="p1", title="议案", kind=kind, state="open")  # type: ignore[arg-type]


def _ask(questions: object, lines: list[str]) -> tuple[list[list[int]] | None, str]:
    out = io.StringIO()
    deputy = TerminalDeputy(_typed(lines), out)
    election = SimpleNamespace(questions=questions)
    return asyncio.run(deputy.choose(_poll(), election)), out.getvalue()


def test_motion_with_a_wrong_key_first() -> None:
    pt, shown = _ask(MOTION, ["7", "2"])
    assert pt == [[0, 1, 0]]
    assert "赞成" in shown and "无效" in shown


def test_not_pressing() -> None:
    assert _ask(MOTION, ["0"])[0] is None


def test_projects_and_election() -> None:
    assert _ask(PROJECTS, ["1 2，3"])[0] == [[1, 1, 1] + [0] * 9]
    pt, _ = _ask(ELECTION, ["1", "2", "3", "1"])
    assert pt == [[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 0, 0]]


def test_tracker_is_shown_before_confirming() -> None:
    out = io.StringIO()
    deputy = TerminalDeputy(_typed(["maybe", "n"]), out)
    draft = BallotDraft("p1", "议案", "TRACKER123", [[1, 0, 0]])
    assert asyncio.run(deputy.confirm(draft)) is False
    assert "TRACKER123" in out.getvalue()
    assert asyncio.run(TerminalDeputy(_typed(["确认"]), out).confirm(draft)) is True


def test_the_demos_election_refuses_an_overvote_and_takes_a_write_in() -> None:
    """3 副镇长 of 4 on the 人大 election ballot: four 赞成 are refused (the ballot would be void,
    选举法 第四十四条第二款), so is a write-in without a 反对; then 2 赞成 + seat 5."""
    from tally.election_ballot import ElectionLayout, question_json

    layout = ElectionLayout(("陈立新", "林晓燕", "周振华", "吴海燕"), seats=3, roster_max=45)
    q = question_json(layout, "副镇长")
    question = SimpleNamespace(question="副镇长", answers=q["value"]["answers"], extra=q["extra"])
    typed = ["1", "1", "1", "1", ""]  # four 赞成
    typed += ["1", "1", "3", "3", "5"]  # a write-in with no 反对
    typed += ["1", "1", "2", "3", "5"]
    pt, shown = _ask([question], typed)
    assert pt == [[1, 1, 2, 3, 5, 0, 0]]
    assert "赞成和另选他人合计不能超过3名" in shown and "须对一位候选人投反对票" in shown
