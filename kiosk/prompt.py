"""A plain terminal prompt for the deputy (the touch screen comes later).

For each question the answers are numbered from 1; the deputy types one number, or several
separated by spaces or commas where the question allows several (e.g. 10 of 12 projects);
an empty line is a blank vote where allowed; ``0`` on the first question means 未按 (do not
vote). After the ballot is encrypted, the tracking number (跟踪号) is shown and the deputy
confirms (确认) or chooses again (重选).
"""

from __future__ import annotations

import asyncio
import re
import sys
from collections.abc import Callable
from typing import Any, TextIO

from kiosk.choices import (
    WRITE_IN,
    ChoiceError,
    election_layout,
    election_plaintext,
    question_plaintext,
)
from kiosk.client import BallotDraft
from tally import messages as m

KIND_LABELS = {
    "motion": "表决议案",
    "projects": "民生实事项目票决",
    "election": "选举",
    "confirmation": "表决",
    "other": "表决",
}


class TerminalDeputy:
    """The deputy at a terminal. ``input_fn`` and ``out`` can be replaced (tests)."""

    def __init__(self, input_fn: Callable[[str], str] = input, out: TextIO | None = None) -> None:
        self._input = input_fn
        self._out = out or sys.stdout

    def _say(self, text: str) -> None:
        print(text, file=self._out, flush=True)

    async def choose(self, poll: m.PollInfo, election: Any) -> list[list[int]] | None:
        return await asyncio.to_thread(self._choose_sync, poll, election)

    def _choose_sync(self, poll: m.PollInfo, election: Any) -> list[list[int]] | None:
        self._say("")
        self._say(f"==== {KIND_LABELS.get(poll.kind, '表决')}: {poll.title} ====")
        out: list[list[int]] = []
        for qi, q in enumerate(election.questions):
            if election_layout(q) is not None:
                row = self._election_sync(q, first=qi == 0)
                if row is None:
                    return None
                out.append(row)
                continue
            self._say(f"-- {q.question}")
            for i, answer in enumerate(q.answers, start=1):
                self._say(f"   {i}. {answer}")
            if q.max > 1:
                hint = f"选 {q.min}–{q.max} 项，数字以空格分隔 (choose {q.min} to {q.max})"
            else:
                hint = "输入数字 (type a number)"
            if q.blank:
                hint += "；直接回车为空白票 (empty line: blank)"
            if qi == 0:
                hint += "；0 = 未按 (do not vote)"
            while True:
                line = self._input(f"   {hint}: ").strip()
                if qi == 0 and line == "0":
                    self._say("未按 — no ballot is cast.")
                    return None
                try:
                    picks = [int(x) - 1 for x in re.split(r"[\s,，、]+", line) if x]
                    out.append(question_plaintext(q, picks))
                    break
                except (ValueError, ChoiceError) as exc:
                    self._say(f"   无效的选择 (invalid): {exc}")
        return out

    def _election_sync(self, q: Any, *, first: bool) -> list[int] | None:
        """An election ballot: 1 赞成 / 2 反对 / 3 弃权 per candidate, then write-ins."""
        layout = election_layout(q)
        self._say(f"-- {q.question}（应选 {layout.seats} 名）")
        self._say("   每位候选人：1 = 赞成, 2 = 反对, 3 = 弃权" + ("；0 = 未按" if first else ""))
        while True:
            marks: dict[str, Any] = {}
            for name in layout.candidates:
                while True:
                    line = self._input(f"   {name}: ").strip()
                    if first and line == "0" and not marks:
                        self._say("未按 — no ballot is cast.")
                        return None
                    if line in ("1", "2", "3"):
                        marks[name] = ("赞成", "反对", "弃权")[int(line) - 1]
                        break
                    self._say("   请输入 1、2 或 3")
            what = "代表编号或姓名（非代表按姓名）" if layout.name_chars else "代表编号"
            line = self._input(
                f"   另选他人：{what}，最多 {layout.seats} 个，空格分隔（直接回车表示不另选）: "
            ).strip()
            try:
                marks[WRITE_IN] = _write_ins(line, layout.name_chars)
                refusal = _election_refusal(layout.seats, marks)
                if refusal:  # as the tablet's page refuses it (选举法 第四十四条第二款)
                    self._say(f"   {refusal}，请重新选择")
                    continue
                return election_plaintext(q, marks)
            except (ValueError, ChoiceError) as exc:
                self._say(f"   无效的选择 (invalid): {exc}")

    async def confirm(self, draft: BallotDraft) -> bool:
        return await asyncio.to_thread(self._confirm_sync, draft)

    def _confirm_sync(self, draft: BallotDraft) -> bool:
        self._say(f"选票已在本机加密。跟踪号 (tracking number): {draft.tracker}")
        self._say("请记下跟踪号，可在公布的记录中核对 (note it to check the published record).")
        while True:
            line = self._input("确认投出？ y = 确认 (cast), n = 重选 (choose again): ").strip()
            if line.lower() in ("y", "yes", "确认", "是"):
                return True
            if line.lower() in ("n", "no", "重选", "否"):
                return False

    def notify(self, text: str) -> None:
        self._say(text)


def _write_ins(line: str, chars: int) -> list[int | str]:
    """The write-ins typed on one line: roster numbers, and free names where the ballot has
    room for ``chars`` characters (ValueError with the reason, in Chinese, otherwise)."""
    from tally.election_ballot import name_problem

    out: list[int | str] = []
    for token in re.split(r"[\s,，、]+", line):
        if not token:
            continue
        if token.isascii() and token.isdigit():
            out.append(int(token))
        elif not chars:
            raise ValueError(f"“{token}”不是代表编号：这次选举另选他人只能填代表编号")
        elif name_problem(token, chars):
            raise ValueError(f"“{token}”：{name_problem(token, chars)}")
        else:
            out.append(token)
    return out


def _election_refusal(seats: int, marks: dict[str, Any]) -> str:
    """Why the tablet would not cast these marks and write-ins ("" if it would): more names
    than seats (the ballot would be void), a write-in without a 反对 (代表法 第十七条)."""
    written = len(marks.get(WRITE_IN, []))
    yes = sum(1 for k, v in marks.items() if k != WRITE_IN and v == "赞成")
    no = sum(1 for k, v in marks.items() if k != WRITE_IN and v == "反对")
    if yes + written > seats:
        return f"应选{seats}名，赞成和另选他人合计不能超过{seats}名（多选的选票作废）"
    if written > no:
        return "另选他人须对一位候选人投反对票"
    return ""
