"""A deputy's choices become Belenios plaintexts; the headless script."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kiosk.choices import ChoiceError, Script, plaintext, random_choice


@dataclass(frozen=True)
class Q:
    question: str
    answers: tuple[str, ...]
    min: int
    max: int
    blank: bool = False


MOTION = [Q("议案", ("赞成", "反对", "弃权"), 1, 1)]
PROJECTS = [Q("项目", tuple(f"项目{i}" for i in range(12)), 0, 10)]
ELECTION = [Q(name, ("赞成", "反对", "弃权"), 1, 1) for name in ("张三", "李四", "王五", "赵六")]


def test_motion() -> None:
    assert plaintext(MOTION, "反对") == [[0, 1, 0]]
    assert plaintext(MOTION, 2) == [[0, 0, 1]]
    with pytest.raises(ChoiceError, match="not an answer"):
        plaintext(MOTION, "同意")
    with pytest.raises(ChoiceError, match="between 1 and 1"):
        plaintext(MOTION, ["赞成", "反对"])


def test_projects() -> None:
    assert plaintext(PROJECTS, ["项目0", 3]) == [[1, 0, 0, 1] + [0] * 8]
    with pytest.raises(ChoiceError, match="between 0 and 10"):
        plaintext(PROJECTS, list(range(11)))


def test_election_by_mapping_and_list() -> None:
    by_name = plaintext(ELECTION, {"张三": "赞成", "李四": "反对", "王五": "弃权", "赵六": 0})
    assert by_name == [[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 0, 0]]
    assert plaintext(ELECTION, ["赞成", "反对", "弃权", "赞成"]) == by_name
    with pytest.raises(ChoiceError, match="no question"):
        plaintext(ELECTION, {"钱七": "赞成"})
    with pytest.raises(ChoiceError, match="4 questions"):
        plaintext(ELECTION, ["赞成"])


def test_blank_question() -> None:
    q = [Q("q", ("a", "b"), 1, 1, blank=True)]
    assert plaintext(q, []) == [[1, 0, 0]]
    assert plaintext(q, "b") == [[0, 0, 1]]


@given(st.integers(0, 2**32), st.integers(1, 12))
def test_random_choice_is_valid(seed: int, n: int) -> None:
    qs = [Q("q", tuple(str(i) for i in range(n)), min(1, n), max(1, n // 2))]
    pt = random_choice(qs, random.Random(seed))
    assert len(pt[0]) == n and qs[0].min <= sum(pt[0]) <= qs[0].max


def test_script(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    path.write_text(
        json.dumps(
            {
                "default": "未按",
                "polls": [
                    {"match": "议案", "choice": "赞成"},
                    {"match": "poll-9", "choice": [1, 2]},
                ],
            },
            ensure_ascii=False,
        )
    )
    s = Script.load(path)
    assert s.plaintext_for("p1", "关于预算的议案", MOTION) == [[1, 0, 0]]
    assert s.plaintext_for("poll-9", "民生", PROJECTS) == [[0, 1, 1] + [0] * 9]
    assert s.plaintext_for("p3", "选举", ELECTION) is None
    with pytest.raises(ChoiceError):
        Script.from_obj({"polls": [{"match": "x"}]})


def test_election_ballot_question() -> None:
    """A 人大 election ballot (one non-homomorphic question, docs/ballots.md)."""
    from keys.credentials import generate_private_credential
    from keys.group import TEST_256
    from tally.ballot import create_ballot
    from tally.election import generate_uuid, make_election
    from tally.election_ballot import ElectionLayout, decode_ballot, question_json

    layout = ElectionLayout(("张三", "李四", "王五"), seats=2, roster_max=45)
    template = {"description": "d", "name": "选举", "questions": [question_json(layout, "副镇长")]}
    election = make_election(
        template, uuid=generate_uuid(), group=TEST_256, public_key=TEST_256.g_pow(5)
    )
    qs = election.questions
    pt = plaintext(qs, {"张三": "赞成", "李四": "反对", "王五": "弃权", "另选他人": [7]})
    decoded = decode_ballot(layout, pt[0])
    assert decoded.marks == (1, 2, 3) and decoded.write_ins == (7, None)
    assert plaintext(qs, ["赞成", "赞成", "反对"]) == [[1, 1, 2, 0, 0]]
    create_ballot(election, generate_private_credential(), pt)  # a valid plaintext
    with pytest.raises(ChoiceError, match="not a candidate"):
        plaintext(qs, {"钱七": "赞成"})
    with pytest.raises(ChoiceError, match="at most 2"):
        plaintext(qs, {"另选他人": [1, 2, 3]})
    with pytest.raises(ChoiceError, match="roster number"):
        plaintext(qs, {"另选他人": [99]})
    rnd = random_choice(qs, random.Random(1))
    assert len(rnd[0]) == layout.length
