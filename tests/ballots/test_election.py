from __future__ import annotations

import json
from typing import Any

import pytest

from keys.group import BELENIOS_2048, TEST_256
from tally.election import (
    HomomorphicQuestion,
    NonHomomorphicQuestion,
    generate_uuid,
    make_election,
    parse_election,
)
from tally.errors import RecordError

from .helpers import TEMPLATE, UUID, small_election


def test_make_and_parse_round_trip() -> None:
    e = small_election()
    assert e.uuid == UUID and e.group is TEST_256
    again = parse_election(e.raw, allow_test_group=True)
    assert again == e
    assert isinstance(e.questions[0], HomomorphicQuestion) and e.questions[0].blank is True
    assert e.questions[0].length == 3
    assert isinstance(e.questions[3], NonHomomorphicQuestion)
    assert e.has_nh_questions
    assert e.raw.startswith('{"version":1,"description":"关于《决议草案》的表决","name":')


def test_test_group_is_refused_from_outside() -> None:
    with pytest.raises(RecordError):
        parse_election(small_election().raw)


def test_unknown_template_fields_are_dropped_and_false_blank_kept() -> None:
    template: dict[str, Any] = {
        "description": "d",
        "name": "n",
        "extra": 1,
        "questions": [
            {"answers": ["a"], "blank": False, "min": 0, "max": 1, "question": "q", "x": 2}
        ],
    }
    e = make_election(template, uuid=UUID, group=TEST_256, public_key=TEST_256.g)
    assert '"questions":[{"answers":["a"],"blank":false,"min":0,"max":1,"question":"q"}]' in e.raw
    assert '"extra"' not in e.raw


def _mutate(path: list[Any], value: Any) -> str:
    obj = json.loads(small_election().raw)
    target = obj
    for key in path[:-1]:
        target = target[key]
    if value is KeyError:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return json.dumps(obj, ensure_ascii=False)


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (["version"], 2),
        (["version"], "1"),
        (["version"], KeyError),
        (["group"], "UNKNOWN-GROUP"),
        (["public_key"], "0"),
        (["public_key"], "01"),
        (["public_key"], 5),
        (["uuid"], "short"),
        (["uuid"], "0OIl0OIl0OIl0OIl"),
        (["name"], 3),
        (["description"], KeyError),
        (["questions"], {}),
        (["questions", 0, "min"], True),
        (["questions", 0, "min"], 1.0),
        (["questions", 0, "max"], 0),
        (["questions", 0, "max"], 2**70),
        (["questions", 0, "blank"], "yes"),
        (["questions", 0, "answers"], ["a", 1]),
        (["questions", 3, "type"], "Other"),
        (["questions", 3, "value"], KeyError),
        (["administrator"], 7),
    ],
)
def test_malformed_elections_are_refused(path: list[Any], value: Any) -> None:
    with pytest.raises(RecordError):
        parse_election(_mutate(path, value), allow_test_group=True)


@pytest.mark.parametrize("raw", ["", "[]", "{", '{"version":1,"version":1}', "null"])
def test_non_objects_are_refused(raw: str) -> None:
    with pytest.raises(RecordError):
        parse_election(raw)


def test_nh_question_needs_an_embedding() -> None:
    with pytest.raises(RecordError):
        make_election(TEMPLATE, uuid=UUID, group=BELENIOS_2048, public_key=BELENIOS_2048.g)


def test_generate_uuid() -> None:
    u = generate_uuid()
    assert len(u) == 14 and u != generate_uuid()


@pytest.mark.parametrize(
    "question",
    [
        {"answers": [], "min": 0, "max": 0, "question": "q"},
        {"answers": ["a"], "min": 0, "max": 2, "question": "q"},
        {"answers": ["a"], "min": 1, "max": 0, "question": "q"},
        {"type": "NonHomomorphic", "value": {"answers": [], "question": "q"}},
        {"type": "NonHomomorphic", "value": {"answers": ["a"] * 31, "question": "q"}},
    ],
)
def test_make_election_refuses_nonsense_questions(question: dict[str, Any]) -> None:
    template = {"description": "d", "name": "n", "questions": [question]}
    with pytest.raises(RecordError):
        make_election(template, uuid=UUID, group=TEST_256, public_key=TEST_256.g)


def test_parse_accepts_what_belenios_accepts() -> None:
    # Questions belenios-tool reads without complaint (even if odd) are read; nulls are absent.
    template = {
        "description": "d",
        "name": "n",
        "questions": [{"answers": ["a"], "min": 0, "max": 1, "question": "q"}],
    }
    e = make_election(template, uuid=UUID, group=TEST_256, public_key=TEST_256.g)
    obj = json.loads(e.raw)
    obj["questions"][0].update(max=3, blank=None, future_field=[1])
    obj["administrator"] = None
    obj["unknown"] = {"x": 1}
    raw = json.dumps(obj)
    parsed = parse_election(raw, allow_test_group=True)
    q = parsed.questions[0]
    assert isinstance(q, HomomorphicQuestion) and q.max == 3 and q.blank is None
    assert parsed.administrator is None and parsed.raw == raw
