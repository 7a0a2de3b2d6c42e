"""What the hall and presidium screens show of a poll: pure functions of the poll's JSON.

The server never sends a screen the raw tally: a screen gets a *result view* — the labels, the
numbers and the verdict it draws (SCREENS.md §4) — and only when that screen may show the
result (the hall: after publication, or at once under 直接显示; the presidium: once tallied).
While a poll is open, a screen gets its *vote view*: title, 发出 / 已投, the deadline — never a
count of choices. Chinese words here are what the screens show (GLOSSARY.md).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

from tally.manual_count import METHOD_NAMES, method_of

KIND_LABELS = {
    "motion": "表决",
    "projects": "民生实事项目票决",
    "election": "选举",
    "confirmation": "表决（任命）",
    "removal": "罢免",
    "other": "表决",
}

STATUS_LABELS = {
    "passed": "通过",
    "not_passed": "未通过",
    "elected": "当选",
    "not_elected": "未当选",
    "tied": "票数相等",
    "selected": "入选",
    "not_selected": "未入选",
    "none": "—",
}

NEXT_LABELS = {
    "tie_revote": "再次投票",
    "supplementary": "另行选举",
    "rerun": "重新投票",
    "presidium": "提请主席团决定",
}

VERDICT_LABELS = {
    "valid": "有效",
    "no_quorum": "无效（出席代表不足法定人数）",
    "too_few_taking_part": "无效（参加投票的代表人数不足）",
    "returned_exceeds_issued": "无效（收回票数多于发出票数）",
}


class Tone(StrEnum):
    """How a verdict or a row is coloured — always next to its word (SCREENS.md §2)."""

    PASS = "pass"
    FAIL = "fail"
    NEUTRAL = "neutral"


_GOOD = {"passed", "elected", "selected"}
_BAD = {"not_passed", "not_elected", "not_selected"}


def tone_of(status: str) -> Tone:
    return Tone.PASS if status in _GOOD else Tone.FAIL if status in _BAD else Tone.NEUTRAL


@dataclass(frozen=True)
class Row:
    """One motion, candidate or project: its counts and its status in words."""

    name: str
    yes: int
    no: int
    abstain: int
    unmarked: int
    status: str
    status_label: str
    tone: str
    write_in: bool = False


@dataclass(frozen=True)
class NextStep:
    kind: str
    label: str
    reason: str
    seats: int


@dataclass(frozen=True)
class ResultView:
    """A tallied poll as a screen draws it."""

    poll_id: str
    title: str
    kind: str
    kind_label: str
    published: bool
    valid: bool
    verdict_label: str
    headline: str  # 通过 / 未通过 / 当选2人 / 入选10项 / 本次表决无效
    tone: str
    total: int
    present: int
    issued: int
    returned: int
    valid_ballots: int
    void_ballots: int
    not_pressed: int  # 未按 (motion) / 未投: issued − returned, plus unmarked ballots
    rows: list[Row] = field(default_factory=list)
    line_after: int | None = None  # projects: the 入选 line is drawn after this many rows
    seats: int | None = None
    next_steps: list[NextStep] = field(default_factory=list)
    summary: str = ""
    error: str = ""
    method: str = ""  # "" (the devices) | show_of_hands | paper (tally.manual_count)
    method_label: str = ""  # 举手表决 / 纸质选票

    def data(self) -> dict[str, Any]:
        return asdict(self)


def _int(value: Any) -> int:
    return int(value) if isinstance(value, int) and not isinstance(value, bool) else 0


def result_view(poll: dict[str, Any]) -> ResultView | None:
    """The result view of a tallied or published poll (its JSON as ``GET /api/polls/{id}``),
    or None when it has no outcome yet."""
    outcome = poll.get("outcome")
    if poll.get("state") not in ("tallied", "published"):
        return None
    if not isinstance(outcome, dict):
        return _without_rules(poll)
    kind = str(poll.get("kind") or outcome.get("kind") or "other")
    method = method_of(poll.get("counts"))
    base: dict[str, Any] = {
        "method": method.value if method else "",
        "method_label": METHOD_NAMES[method] if method else "",
        "poll_id": str(poll["poll_id"]),
        "title": str(poll.get("title") or outcome.get("title") or ""),
        "kind": kind,
        "kind_label": KIND_LABELS.get(kind, "表决"),
        "published": poll.get("state") == "published",
    }
    if "error" in outcome:
        return ResultView(
            **base,
            valid=False,
            verdict_label="无法计算结果",
            headline="结果待定",
            tone=Tone.NEUTRAL,
            total=0,
            present=0,
            issued=_int(poll.get("issued")),
            returned=_int(poll.get("received")),
            valid_ballots=0,
            void_ballots=0,
            not_pressed=0,
            error=str(outcome["error"])[:500],
        )
    verdict = str(outcome.get("verdict", "valid"))
    valid = verdict == "valid"
    items = [i for i in outcome.get("items", []) if isinstance(i, dict)]
    rows = [
        Row(
            name=str(i.get("name") or i.get("id") or ""),
            yes=_int(i.get("yes")),
            no=_int(i.get("no")),
            abstain=_int(i.get("abstain")),
            unmarked=_int(i.get("unmarked")),
            status=str(i.get("status", "none")),
            status_label=STATUS_LABELS.get(str(i.get("status", "none")), "—"),
            tone=tone_of(str(i.get("status", "none"))),
            write_in=bool(i.get("write_in")),
        )
        for i in items
    ]
    issued, returned = _int(outcome.get("issued")), _int(outcome.get("returned"))
    unmarked = rows[0].unmarked if kind == "motion" and rows else 0
    line_after: int | None = None
    seats: int | None = None
    if kind == "projects":
        rows.sort(key=lambda r: -r.yes)  # stable: ties keep the rules order
        chosen = sum(1 for r in rows if r.status == "selected")
        line_after = chosen
        seats = chosen
        headline = f"入选{chosen}项" if valid else "本次票决无效"
    elif kind == "election":
        elected = sum(1 for r in rows if r.status == "elected")
        seats = elected
        headline = f"当选{elected}人" if valid else "本次选举无效"
    elif valid and rows and all(r.status == "passed" for r in rows):
        headline = "通过"
    elif valid:
        headline = "未通过" if len(rows) <= 1 else _mixed(rows)
    else:
        headline = "本次表决无效"
    if not valid:
        tone = Tone.FAIL
    elif kind in ("projects", "election"):
        tone = Tone.NEUTRAL
    else:
        tone = (
            Tone.PASS if headline == "通过" else Tone.FAIL if headline == "未通过" else Tone.NEUTRAL
        )
    steps = [
        NextStep(
            kind=str(n.get("kind")),
            label=NEXT_LABELS.get(str(n.get("kind")), "另行安排"),
            reason=str(n.get("reason") or "")[:500],
            seats=_int(n.get("seats")),
        )
        for n in outcome.get("next_polls", [])
        if isinstance(n, dict)
    ]
    return ResultView(
        **base,
        valid=valid,
        verdict_label=VERDICT_LABELS.get(verdict, "无效"),
        headline=headline,
        tone=tone,
        total=_int(outcome.get("total")),
        present=_int(outcome.get("present")),
        issued=issued,
        returned=returned,
        valid_ballots=_int(outcome.get("valid_ballots")),
        void_ballots=_int(outcome.get("void_ballots")),
        not_pressed=max(0, issued - returned) + unmarked,
        rows=rows,
        line_after=line_after,
        seats=seats,
        next_steps=steps,
        summary=_summary(kind, rows, issued - returned + unmarked, valid, headline),
    )


_CHOICES = {"赞成": "yes", "反对": "no", "弃权": "abstain"}


def _without_rules(poll: dict[str, Any]) -> ResultView | None:
    """A poll held without rules (no outcome): the Belenios counts per answer, no verdict."""
    template, result = poll.get("template"), poll.get("result")
    if isinstance(template, str):
        import json

        template = json.loads(template)
    if isinstance(result, dict):
        result = result.get("result")
    if not isinstance(template, dict) or not isinstance(result, list):
        return None
    rows: list[Row] = []
    questions = template.get("questions", [])
    for q, counts in zip(questions, result, strict=False):
        value = q.get("value", q) if isinstance(q, dict) else {}
        answers = [str(a) for a in value.get("answers", [])]
        if not isinstance(counts, list):
            continue
        counts = [int(c) for c in counts if isinstance(c, int)]
        if value.get("blank") and len(counts) == len(answers) + 1:
            counts = counts[1:]
        if set(answers) == set(_CHOICES) and len(counts) == 3:
            by = dict(zip(answers, counts, strict=True))
            rows.append(
                Row(
                    name=str(value.get("question") or template.get("name") or ""),
                    yes=by["赞成"],
                    no=by["反对"],
                    abstain=by["弃权"],
                    unmarked=0,
                    status="none",
                    status_label="—",
                    tone=Tone.NEUTRAL,
                )
            )
            continue
        for answer, count in zip(answers, counts, strict=False):
            rows.append(Row(answer, count, 0, 0, 0, "none", "—", Tone.NEUTRAL))
    issued, returned = _int(poll.get("issued")), _int(poll.get("received"))
    kind = str(poll.get("kind") or "other")
    motion_like = len(rows) == 1 and kind in ("motion", "confirmation")
    return ResultView(
        poll_id=str(poll["poll_id"]),
        title=str(poll.get("title") or ""),
        kind=kind if motion_like else "other",
        kind_label=KIND_LABELS.get(kind, "表决"),
        published=poll.get("state") == "published",
        valid=True,
        verdict_label="未按议事规则计算结果",
        headline="计票结果",
        tone=Tone.NEUTRAL,
        total=_int((poll.get("counts") or {}).get("total")),
        present=_int((poll.get("counts") or {}).get("present")),
        issued=issued,
        returned=returned,
        valid_ballots=returned,
        void_ballots=0,
        not_pressed=max(0, issued - returned),
        rows=rows,
        summary="本表决事项未设置议事规则，只显示票数。",
    )


def _mixed(rows: list[Row]) -> str:
    passed = sum(1 for r in rows if r.status == "passed")
    return f"通过{passed}项，未通过{len(rows) - passed}项"


def _summary(kind: str, rows: list[Row], not_pressed: int, valid: bool, headline: str) -> str:
    """One sentence, as the chair reads it out: 赞成40票，反对1票，弃权1票，未按2人；通过。"""
    if kind == "motion" and len(rows) == 1:
        r = rows[0]
        return f"赞成{r.yes}票，反对{r.no}票，弃权{r.abstain}票，未按{not_pressed}人；{headline}。"
    return f"{headline}。"
