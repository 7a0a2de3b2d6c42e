"""A deputy's choices and how they become a Belenios plaintext; the headless kiosk's script.

A *choice* for one poll is written the way a person would say it:

- ``"未按"`` or ``"skip"``: do not vote at all (the kiosk sends nothing);
- for each question, the chosen answers by label (``"赞成"``, a project or candidate name) or
  by 0-based index; an empty list means no answer (a blank vote where the question allows it).

A choice for a whole poll is one of:

- a string or an int: that answer in every question (``"赞成"`` on a motion, or on every
  candidate of a per-candidate election);
- a list: for a one-question poll, the chosen answers; for a poll with several questions, one
  item per question (each a label, an index, or a list of them);
- a mapping from question text to that question's item.

A 人大 election ballot (one non-homomorphic question laid out as in docs/ballots.md) takes a
mark per candidate — ``"赞成"`` for all, a list in candidate order, or a mapping
``{candidate: "赞成" | "反对" | "弃权", "另选他人": [roster numbers]}`` (unnamed candidates are
left 未标记); where anyone may be elected (a version 2 ballot) a write-in may also be a free name,
``"另选他人": [5, "王小五"]``. Ballots the law counts as void (too many 赞成, a write-in without
a 反对) are built as asked: the kiosk casts them and the rules engine judges them.

A *script* says what the deputy at one kiosk chooses in each poll, matched by poll id or by
(part of) the poll's title, with a default for the others::

    {"default": "弃权",
     "polls": [{"match": "议案", "choice": "赞成"},
               {"match": "民生实事", "choice": [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]},
               {"match": "副镇长", "choice": {"张三": "赞成", "李四": "反对"}}]}

JSON or YAML; ``"default"`` may be ``"未按"`` (the deputy does not press) or ``"random"``.
"""

from __future__ import annotations

import json
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

SKIP = ("未按", "skip")
RANDOM = "random"


class ChoiceError(ValueError):
    """A choice that does not fit the poll's questions."""


class QuestionLike(Protocol):
    """What the kiosk needs of a Belenios homomorphic question."""

    @property
    def question(self) -> str: ...
    @property
    def answers(self) -> Sequence[str]: ...
    @property
    def min(self) -> int: ...
    @property
    def max(self) -> int: ...
    @property
    def blank(self) -> bool | None: ...


Choice = Any  # str | int | list | Mapping, see the module docstring


def is_skip(choice: Choice) -> bool:
    return isinstance(choice, str) and choice in SKIP


def _selected(question: QuestionLike, item: Any) -> set[int]:
    items = item if isinstance(item, list | tuple) else [item]
    out: set[int] = set()
    for x in items:
        if isinstance(x, bool):
            raise ChoiceError(f"{x!r} is not an answer of {question.question!r}")
        if isinstance(x, int):
            if not 0 <= x < len(question.answers):
                raise ChoiceError(f"answer number {x} is not in {question.question!r}")
            out.add(x)
        elif isinstance(x, str):
            try:
                out.add(list(question.answers).index(x))
            except ValueError:
                raise ChoiceError(f"{x!r} is not an answer of {question.question!r}") from None
        else:
            raise ChoiceError(f"{x!r} is not an answer label or number")
    return out


def question_plaintext(question: QuestionLike, item: Any) -> list[int]:
    """The 0/1 vector Belenios encrypts for one homomorphic question (blank flag first)."""
    chosen = _selected(question, item)
    n = len(chosen)
    if n == 0 and question.blank:
        return [1] + [0] * len(question.answers)
    if not question.min <= n <= question.max:
        raise ChoiceError(
            f"{question.question!r} takes between {question.min} and {question.max} answers, "
            f"not {n}"
        )
    vector = [1 if i in chosen else 0 for i in range(len(question.answers))]
    return [0, *vector] if question.blank else vector


MARKS = {"赞成": 1, "反对": 2, "弃权": 3, "未标记": 0}
WRITE_IN = "另选他人"


def election_layout(question: Any) -> Any:
    """The 人大 election-ballot layout of a non-homomorphic question (docs/ballots.md), or
    None for a homomorphic question; ChoiceError for a non-homomorphic question of another
    kind, which this kiosk cannot fill in."""
    if hasattr(question, "min") and hasattr(question, "max"):
        return None
    from tally.election_ballot import layout_of_question

    try:
        layout = layout_of_question(question)
    except ValueError as exc:
        raise ChoiceError(f"{question.question!r}: {exc}") from None
    if layout is None:
        raise ChoiceError(f"{question.question!r} is a kind of question this kiosk cannot fill")
    return layout


def election_plaintext(question: Any, item: Any) -> list[int]:
    """The answer vector of an election ballot (one non-homomorphic question).

    ``item`` is a mark for every candidate (``"赞成"``), a list of marks in candidate order,
    or a mapping ``{candidate: mark, "另选他人": [roster numbers or free names]}``; unnamed
    candidates are left unmarked (未标记). A free name only on a version 2 ballot."""
    from tally.election_ballot import ElectionBallot, Mark, encode_ballot

    layout = election_layout(question)
    names = list(layout.candidates)
    write_ins: list[Any] = []
    if isinstance(item, str):
        marks = [item] * len(names)
    elif isinstance(item, list | tuple):
        if len(item) != len(names):
            raise ChoiceError(f"{len(item)} marks for {len(names)} candidates")
        marks = list(item)
    elif isinstance(item, Mapping):
        unknown = set(item) - set(names) - {WRITE_IN}
        if unknown:
            raise ChoiceError(f"{sorted(unknown)[0]!r} is not a candidate of this election")
        marks = [item.get(n, "未标记") for n in names]
        raw = item.get(WRITE_IN, [])
        write_ins = list(raw) if isinstance(raw, list | tuple) else [raw]
    else:
        raise ChoiceError(f"cannot understand the election choice {item!r}")
    try:
        codes = [Mark(MARKS[x]) if isinstance(x, str) else Mark(x) for x in marks]
    except (KeyError, ValueError):
        raise ChoiceError("a mark must be 赞成, 反对, 弃权 or 未标记") from None
    if len(write_ins) > layout.seats:
        raise ChoiceError(f"at most {layout.seats} write-ins (另选他人)")
    if not all(isinstance(w, int | str) and not isinstance(w, bool) for w in write_ins):
        raise ChoiceError("a write-in (另选他人) is a deputy's roster number or a free name")
    if any(isinstance(w, str) for w in write_ins) and not layout.name_chars:
        raise ChoiceError(
            "a write-in (另选他人) on this ballot is a deputy's roster number: only deputies "
            "may be elected to this post, or the ballot has no room for a name"
        )
    slots = tuple(write_ins) + (None,) * (layout.seats - len(write_ins))
    try:
        return encode_ballot(layout, ElectionBallot(tuple(codes), slots))
    except ValueError as exc:
        raise ChoiceError(str(exc)) from None


def _row(question: Any, item: Any) -> list[int]:
    if election_layout(question) is not None:
        return election_plaintext(question, item)
    return question_plaintext(question, item)


def plaintext(questions: Sequence[QuestionLike], choice: Choice) -> list[list[int]]:
    """The plaintext of a whole ballot for ``choice`` (see the module docstring)."""
    if is_skip(choice):
        raise ChoiceError("未按: there is no ballot to build")
    if (
        len(questions) == 1
        and isinstance(choice, Mapping | list | tuple)
        and election_layout(questions[0]) is not None
        and not (isinstance(choice, Mapping) and questions[0].question in choice)
    ):
        return [election_plaintext(questions[0], choice)]
    if isinstance(choice, str | int) and not isinstance(choice, bool):
        items: list[Any] = [choice] * len(questions)
    elif isinstance(choice, Mapping):
        unknown = set(choice) - {q.question for q in questions}
        if unknown:
            raise ChoiceError(f"no question called {sorted(unknown)[0]!r} in this poll")
        items = [choice.get(q.question, []) for q in questions]
    elif isinstance(choice, list | tuple):
        if len(questions) == 1:
            items = [list(choice)]
        elif len(choice) != len(questions):
            raise ChoiceError(f"the poll has {len(questions)} questions, the choice {len(choice)}")
        else:
            items = list(choice)
    else:
        raise ChoiceError(f"cannot understand the choice {choice!r}")
    return [_row(q, item) for q, item in zip(questions, items, strict=True)]


def random_choice(questions: Sequence[QuestionLike], rng: random.Random) -> list[list[int]]:
    """A valid random plaintext: per question, a random number of answers in min..max."""
    out: list[list[int]] = []
    for q in questions:
        layout = election_layout(q)
        if layout is not None:
            from tally.election_ballot import encode_ballot, random_ballot

            out.append(encode_ballot(layout, random_ballot(layout, rng)))
            continue
        k = rng.randint(q.min, min(q.max, len(q.answers)))
        out.append(question_plaintext(q, rng.sample(range(len(q.answers)), k)))
    return out


@dataclass(frozen=True)
class PollRule:
    match: str
    choice: Choice


@dataclass
class Script:
    """What one headless kiosk chooses in each poll."""

    rules: list[PollRule] = field(default_factory=list)
    default: Choice = "未按"
    seed: int | None = None

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)

    def choice_for(self, poll_id: str, title: str) -> Choice:
        for rule in self.rules:
            if rule.match == poll_id or (rule.match and rule.match in title):
                return rule.choice
        return self.default

    def plaintext_for(
        self, poll_id: str, title: str, questions: Sequence[QuestionLike]
    ) -> list[list[int]] | None:
        """The plaintext to cast in this poll, or None for 未按."""
        choice = self.choice_for(poll_id, title)
        if is_skip(choice):
            return None
        if choice == RANDOM:
            return random_choice(questions, self._rng)
        return plaintext(questions, choice)

    @classmethod
    def from_obj(cls, obj: Any) -> Script:
        if not isinstance(obj, Mapping):
            raise ChoiceError("a kiosk script is an object with 'polls' and 'default'")
        polls = obj.get("polls", [])
        if not isinstance(polls, list):
            raise ChoiceError("'polls' in a kiosk script must be a list")
        rules = []
        for i, p in enumerate(polls):
            if not isinstance(p, Mapping) or "match" not in p or "choice" not in p:
                raise ChoiceError(f"poll rule {i + 1} needs 'match' and 'choice'")
            rules.append(PollRule(str(p["match"]), p["choice"]))
        seed = obj.get("seed")
        return cls(rules, obj.get("default", "未按"), seed if isinstance(seed, int) else None)

    @classmethod
    def load(cls, path: Path) -> Script:
        text = path.read_text("utf-8")
        if path.suffix in (".yaml", ".yml"):
            import yaml

            return cls.from_obj(yaml.safe_load(text))
        try:
            return cls.from_obj(json.loads(text))
        except json.JSONDecodeError as exc:
            raise ChoiceError(f"the kiosk script {path} is not JSON: {exc}") from exc
