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
