"""What the tablet shows for a poll and how the deputy's taps become a Belenios plaintext.

Pure functions, used by the kiosk process (never by the page): :func:`ballot_form` reads the
poll's Belenios election (the questions the kiosk will encrypt), its kind and the poll's rules
entry when the server sent one (seats, project form, write-in policy, first press) and gives
the page a plain description in Chinese — the *form*, a list of *sections*:

- ``motion``: one question 赞成 / 反对 / 弃权 (three large buttons);
- ``marks``: one 赞成 / 反对 / 弃权 question per item (a candidate of a per-candidate election,
  a person in a confirmation or removal vote, a project of form A); ``seats`` caps the 赞成;
- ``choose``: one question, choose ``min`` … ``max`` of the items (projects of form B);
- ``election``: the 人大 election ballot of docs/ballots.md (marks per candidate and write-in
  slots, 另选他人 paired with a 反对), ``seats`` caps 赞成 plus write-ins.

The page answers with one entry per section (:func:`plaintext`): ``{"answer": i}`` for a
motion, ``{"marks": [i | None, ...]}`` for marks, ``{"chosen": [i, ...]}`` for choose,
``{"marks": [...], "write_ins": [roster number or free name, ...]}`` for an election (a free
name, a string, only on a version 2 ballot: where anyone may be elected). :func:`plaintext`
checks everything again (an overvote, an eleventh project, a write-in without a 反对 are
refused with the reason in Chinese) — the page is only a display. :func:`review` says every
choice in words and names what was left unmarked (第5项未选).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kiosk.choices import ChoiceError, election_layout, question_plaintext

MARK_WORDS = ("赞成", "反对", "弃权")
KIND_TITLES = {
    "motion": "表决议案",
    "projects": "民生实事项目票决",
    "election": "选举",
    "confirmation": "表决人选",
    "removal": "罢免",
    "other": "表决",
}
ITEM_WORDS = {"election": "候选人", "projects": "项目", "confirmation": "人选", "removal": "人选"}


class BallotError(ValueError):
    """The page's answer does not fit the ballot; the message is for the deputy (Chinese)."""


@dataclass(frozen=True)
class Rules:
    """What the tablet reads from the poll's rules entry (tally/rules/config.py names)."""

    kind: str | None = None
    seats: int | None = None
    select: int | None = None
    form: str | None = None
    write_ins: str | None = None  # "deputies" / "anyone"
    unmarked: str = "abstain"  # how an unmarked box reads: abstain / yes / void
    first_press: bool = False
    post: str | None = None
    pairing: bool = True  # a write-in needs a 反对 of its own (write_in_pairing with_no)


def read_rules(text: str | None) -> Rules:
    """The tablet's view of a rules entry (a poll entry or a whole document); an unreadable or
    absent entry gives the defaults (the ballot is then shown from its questions alone)."""
    if not text:
        return Rules()
    try:
        data = json.loads(text)
    except ValueError:
        return Rules()
    if not isinstance(data, Mapping):
        return Rules()
    settings: dict[str, Any] = {}
    if "polls" in data and isinstance(data.get("polls"), list):
        if isinstance(data.get("settings"), Mapping):
            settings.update(data["settings"])
        wanted = data.get("poll")
        entries = [p for p in data["polls"] if isinstance(p, Mapping)]
        entries = [p for p in entries if wanted is None or p.get("id") == wanted] or [{}]
        data = entries[0]
    if isinstance(data.get("settings"), Mapping):
        settings.update(data["settings"])

    def number(key: str) -> int | None:
        value = data.get(key)
        return value if isinstance(value, int) and not isinstance(value, bool) else None

    def word(key: str, source: Mapping[str, Any] = data) -> str | None:
        value = source.get(key)
        return value if isinstance(value, str) else None

    return Rules(
        kind=word("kind"),
        seats=number("seats"),
        select=number("select"),
        form=word("form"),
        write_ins=word("write_ins"),
        unmarked=word("unmarked", settings) or "abstain",
        first_press=settings.get("press") == "first",
        post=word("post"),
        pairing=settings.get("write_in_pairing") != "free",
    )


def _is_mark_question(q: Any) -> bool:
    return (
        hasattr(q, "min")
        and list(q.answers)[:3] == list(MARK_WORDS)
        and len(q.answers) == 3
        and q.max == 1
    )


def _rule_words(kind: str, rules: Rules, sections: list[dict[str, Any]]) -> str:
    words: list[str] = []
    for s in sections:
        if s["type"] == "motion":
            words.append("请选择 赞成、反对 或 弃权，每人一票")
        elif s["type"] == "marks":
            item = s["item_word"]
            if s.get("seats"):
                words.append(f"应选{s['seats']}名，赞成不能超过{s['seats']}名")
            words.append(
                f"对每位{item}选择 赞成、反对 或 弃权"
                if item != "项目"
                else "对每个项目选择 赞成、反对 或 弃权"
            )
        elif s["type"] == "choose":
            lo, hi = s["min"], s["max"]
            if lo == hi:
                words.append(f"请选{hi}项")
            elif lo == 0:
                words.append(f"最多选{hi}项")
            else:
                words.append(f"选{lo}至{hi}项")
        elif s["type"] == "election":
            if s["names"]:
                words.append(f"应选{s['seats']}名，可以另选他人（按座位号或姓名）")
            elif s["write_in"]:
                words.append(f"应选{s['seats']}名，可以另选他人")
            else:
                words.append(f"应选{s['seats']}名")
            words.append(f"赞成与另选他人合计不能超过{s['seats']}名")
    return "；".join(words)


def ballot_form(
    poll_id: str,
    title: str,
    kind: str,
    questions: Sequence[Any],
    rules: Rules,
    *,
    last_press_valid: bool,
    description: str = "",
) -> dict[str, Any]:
    """The page's description of the ballot (see the module docstring)."""
    kind = rules.kind if rules.kind in KIND_TITLES else kind
    sections: list[dict[str, Any]] = []
    i = 0
    while i < len(questions):
        q = questions[i]
        layout = election_layout(q)
        if layout is not None:
            sections.append(
                {
                    "type": "election",
                    "title": q.question,
                    "questions": [i],
                    "candidates": list(layout.candidates),
                    "seats": layout.seats,
                    "allow_unmarked": layout.allow_unmarked,
                    "write_in": rules.write_ins or "deputies",
                    "roster_max": layout.roster_max,
                    "names": layout.name_chars,  # a free name's characters (0: by seat only)
                    "pairing": rules.pairing,
                }
            )
            i += 1
            continue
        if _is_mark_question(q) and (kind != "motion" or len(questions) > 1):
            j = i
            while j < len(questions) and _is_mark_question(questions[j]):
                j += 1
            seats = rules.seats if kind == "election" else None
            sections.append(
                {
                    "type": "marks",
                    "title": "",
                    "questions": list(range(i, j)),
                    "items": [questions[k].question for k in range(i, j)],
                    "blank": [bool(questions[k].blank) for k in range(i, j)],
                    "seats": seats,
                    "item_word": ITEM_WORDS.get(kind, "项"),
                    "unmarked": rules.unmarked,
                }
            )
            i = j
            continue
        if _is_mark_question(q):
            sections.append(
                {"type": "motion", "title": q.question, "questions": [i], "blank": bool(q.blank)}
            )
        else:
            sections.append(
                {
                    "type": "choose",
                    "title": q.question,
                    "questions": [i],
                    "items": list(q.answers),
                    "min": q.min,
                    "max": min(q.max, len(q.answers)),
                    "blank": bool(q.blank),
                }
            )
        i += 1
    first_press = rules.first_press or not last_press_valid
    return {
        "poll_id": poll_id,
        "title": title,
        "kind": kind,
        "kind_title": KIND_TITLES.get(kind, "表决"),
        "description": description if description and description != title else "",
        "rule": _rule_words(kind, rules, sections),
        "first_press": first_press,
        "sections": sections,
    }


# -- the page's answer -> plaintext -----------------------------------------------------------


def _mark(value: Any, where: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 2:
        raise BallotError(f"{where}的选择无效")
    return value


def _section_answer(section: Mapping[str, Any], answer: Any) -> Mapping[str, Any]:
    if not isinstance(answer, Mapping):
        raise BallotError("选票内容无效，请重新选择")
    return answer


def _marks(section: Mapping[str, Any], answer: Mapping[str, Any], n: int) -> list[int | None]:
    marks = answer.get("marks")
    if not isinstance(marks, list) or len(marks) != n:
        raise BallotError("选票内容无效，请重新选择")
    return [_mark(x, f"第{k + 1}项") for k, x in enumerate(marks)]


def _unmarked_code(section: Mapping[str, Any]) -> int | None:
    """The mark an unmarked box reads as on a per-question ballot, or None when a mark is
    required (the rules make an unmarked box void)."""
    rule = section.get("unmarked", "abstain")
    if rule == "yes":
        return 0
    if rule == "void":
        return None
    return 2


def check_answers(form: Mapping[str, Any], answers: Any) -> list[str]:
    """What stops this ballot from being cast (empty when it can be cast): the reasons in
    Chinese. An overvote, a write-in without a 反对, too many projects are refused here."""
    sections = form["sections"]
    if not isinstance(answers, list) or len(answers) != len(sections):
        raise BallotError("选票内容无效，请重新选择")
    problems: list[str] = []
    for section, raw in zip(sections, answers, strict=True):
        answer = _section_answer(section, raw)
        kind = section["type"]
        if kind == "motion":
            if _mark(answer.get("answer"), "表决") is None and not section["blank"]:
                problems.append("还没有选择 赞成、反对 或 弃权")
        elif kind == "marks":
            marks = _marks(section, answer, len(section["items"]))
            yes = sum(1 for x in marks if x == 0)
            if section.get("seats") and yes > section["seats"]:
                raise BallotError(f"应选{section['seats']}名，赞成不能超过{section['seats']}名")
            for k, x in enumerate(marks):
                if x is None and not section["blank"][k] and _unmarked_code(section) is None:
                    problems.append(f"第{k + 1}项「{section['items'][k]}」未选，必须选择")
        elif kind == "choose":
            chosen = answer.get("chosen")
            if not isinstance(chosen, list) or not all(
                isinstance(x, int) and not isinstance(x, bool) for x in chosen
            ):
                raise BallotError("选票内容无效，请重新选择")
            if len(set(chosen)) != len(chosen) or not all(
                0 <= x < len(section["items"]) for x in chosen
            ):
                raise BallotError("选票内容无效，请重新选择")
            if len(chosen) > section["max"]:
                raise BallotError(f"最多选{section['max']}项，已经选满")
            if len(chosen) < section["min"] and not (not chosen and section["blank"]):
                problems.append(f"至少要选{section['min']}项，现在选了{len(chosen)}项")
        elif kind == "election":
            marks = _marks(section, answer, len(section["candidates"]))
            write_ins = _write_ins(section, answer)
            yes = sum(1 for x in marks if x == 0)
            no = sum(1 for x in marks if x == 1)
            if yes + len(write_ins) > section["seats"]:
                raise BallotError(
                    f"应选{section['seats']}名，赞成和另选他人合计不能超过{section['seats']}名"
                )
            if section.get("pairing", True) and len(write_ins) > no:
                raise BallotError("另选他人须对一位候选人投反对票")
            if not section["allow_unmarked"]:
                for k, x in enumerate(marks):
                    if x is None:
                        problems.append(
                            f"第{k + 1}位候选人「{section['candidates'][k]}」未选，必须选择"
                        )
        else:  # pragma: no cover - ballot_form makes no other kind
            raise BallotError("选票内容无效")
    return problems


def _write_ins(section: Mapping[str, Any], answer: Mapping[str, Any]) -> list[int | str]:
    """The write-ins: roster numbers, and free names where the ballot has room for them."""
    from tally.election_ballot import name_problem

    raw = answer.get("write_ins", [])
    if not isinstance(raw, list) or not all(
        isinstance(x, int | str) and not isinstance(x, bool) for x in raw
    ):
        raise BallotError("另选他人的座位号无效")
    if len(raw) != len(set(raw)):
        raise BallotError("同一个人不能另选两次")
    chars = section.get("names", 0)
    for x in raw:
        if isinstance(x, str):
            if not chars:
                raise BallotError("这次选举另选他人只能按座位号填写，只能另选本级人大代表")
            problem = name_problem(x, chars)
            if problem:
                raise BallotError(problem)
            if x in section["candidates"]:
                raise BallotError(f"「{x}」是候选人，请直接对他投赞成票，不用另选")
        elif not 1 <= x <= section["roster_max"]:
            raise BallotError(f"座位号 {x} 不在代表名单中")
    return list(raw)


def write_in_words(entry: int | str, names: Mapping[int, str] | None = None) -> str:
    """A write-in as the tablet says it: a deputy by seat, or a free name (not a deputy)."""
    if isinstance(entry, str):
        return f"{entry}（按姓名另选，非代表）"
    who = (names or {}).get(entry)
    return f"{who}（{entry}号）" if who else f"{entry}号代表"


def plaintext(form: Mapping[str, Any], questions: Sequence[Any], answers: Any) -> list[list[int]]:
    """The plaintext to encrypt for the page's ``answers``; BallotError if it cannot be cast."""
    from tally.election_ballot import ElectionBallot, Mark, encode_ballot

    problems = check_answers(form, answers)
    if problems:
        raise BallotError(problems[0])
    rows: dict[int, list[int]] = {}
    for section, answer in zip(form["sections"], answers, strict=True):
        idx = section["questions"]
        try:
            if section["type"] == "motion":
                q = questions[idx[0]]
                a = answer.get("answer")
                rows[idx[0]] = question_plaintext(q, [] if a is None else [a])
            elif section["type"] == "marks":
                default = _unmarked_code(section)
                for k, x in enumerate(_marks(section, answer, len(idx))):
                    q = questions[idx[k]]
                    if x is None and section["blank"][k]:
                        rows[idx[k]] = question_plaintext(q, [])
                    else:
                        rows[idx[k]] = question_plaintext(q, [default if x is None else x])
            elif section["type"] == "choose":
                rows[idx[0]] = question_plaintext(questions[idx[0]], list(answer["chosen"]))
            else:
                layout = election_layout(questions[idx[0]])
                marks = _marks(section, answer, len(section["candidates"]))
                codes = tuple(Mark.UNMARKED if x is None else Mark(x + 1) for x in marks)
                write_ins = _write_ins(section, answer)
                slots = tuple(write_ins) + (None,) * (layout.seats - len(write_ins))
                rows[idx[0]] = encode_ballot(layout, ElectionBallot(codes, slots))
        except (ChoiceError, ValueError) as exc:
            if isinstance(exc, BallotError):
                raise
            raise BallotError("选票内容无效，请重新选择") from exc
    return [rows[i] for i in range(len(questions))]


def review(
    form: Mapping[str, Any], answers: Any, names: Mapping[int, str] | None = None
) -> dict[str, Any]:
    """Every choice in words, what was left unmarked, and what stops the ballot from being cast.

    ``names`` maps roster numbers to names (for write-ins). Returns ``{"lines": [{"item",
    "choice", "mark", "unmarked"}], "unmarked": [...], "notes": [...], "problems": [...]}``."""
    problems = check_answers(form, answers)
    lines: list[dict[str, Any]] = []
    unmarked: list[str] = []
    notes: list[str] = []
    for section, answer in zip(form["sections"], answers, strict=True):
        kind = section["type"]
        if kind == "motion":
            a = answer.get("answer")
            lines.append(
                {
                    "item": section["title"] or form["title"],
                    "choice": "未选" if a is None else MARK_WORDS[a],
                    "mark": a,
                    "unmarked": a is None,
                }
            )
        elif kind in ("marks", "election"):
            items = section["items"] if kind == "marks" else section["candidates"]
            marks = _marks(section, answer, len(items))
            for k, (item, x) in enumerate(zip(items, marks, strict=True)):
                lines.append(
                    {
                        "item": item,
                        "choice": "未选" if x is None else MARK_WORDS[x],
                        "mark": x,
                        "unmarked": x is None,
                    }
                )
                if x is None:
                    unmarked.append(f"第{k + 1}项「{item}」未选")
            if kind == "marks" and any(x is None for x in marks):
                rule = section.get("unmarked", "abstain")
                if rule == "abstain":
                    notes.append("未选的项按弃权计")
                elif rule == "yes":
                    notes.append("未选的项按赞成计")
            if kind == "election":
                for w in _write_ins(section, answer):
                    lines.append(
                        {
                            "item": "另选他人",
                            "choice": write_in_words(w, names),
                            "mark": 0,
                            "unmarked": False,
                        }
                    )
        elif kind == "choose":
            chosen = set(answer["chosen"])
            for k, item in enumerate(section["items"]):
                lines.append(
                    {
                        "item": item,
                        "choice": "选中" if k in chosen else "未选",
                        "mark": 0 if k in chosen else None,
                        "unmarked": k not in chosen,
                    }
                )
                if k not in chosen:
                    unmarked.append(f"第{k + 1}项「{item}」未选")
            notes.append(f"已选{len(chosen)}项，最多可选{section['max']}项")
    return {"lines": lines, "unmarked": unmarked, "notes": notes, "problems": problems}
