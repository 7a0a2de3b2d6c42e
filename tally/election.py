"""The election structure of Belenios 2.0 (spec §4.9, §4.10) and its questions.

The raw text of an election is kept as read: its fingerprint is ``H_JSON(raw)`` and it must
never be re-serialized for hashing. :func:`make_election` writes a new election exactly as
``belenios-tool setup make-election --template`` does (same bytes, without the final newline
the tool adds to ``election.json``, which ``archive init`` drops too).

Reading follows Belenios: unknown fields are ignored (atdgen), optional fields may be absent
or null; types, the version, the group, the uuid and the public key are checked strictly.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from gmpy2 import mpz

from keys.credentials import BASE58_DIGITS
from keys.embedding import max_values
from keys.group import TEST_256, Group, GroupError, group_by_name, to_str
from keys.hashing import hjson
from tally.errors import RecordError
from tally.json_format import compact, parse_json

UUID_MIN_LENGTH = 14


@dataclass(frozen=True)
class HomomorphicQuestion:
    """Select between ``min`` and ``max`` of ``answers``; ``blank`` allows a blank vote."""

    question: str
    answers: tuple[str, ...]
    min: int
    max: int
    blank: bool | None = None  # None: absent from the JSON (same meaning as False)

    @property
    def blank_allowed(self) -> bool:
        return self.blank is True

    @property
    def length(self) -> int:
        """Number of encrypted choices in an answer: the answers, plus 1 when blank is allowed."""
        return len(self.answers) + (1 if self.blank_allowed else 0)

    def to_json(self) -> dict[str, Any]:
        obj: dict[str, Any] = {"answers": list(self.answers)}
        if self.blank is not None:
            obj["blank"] = self.blank
        obj["min"] = self.min
        obj["max"] = self.max
        obj["question"] = self.question
        return obj


@dataclass(frozen=True)
class NonHomomorphicQuestion:
    """Each answer gets a small integer; the individual ballots are revealed after a shuffle."""

    question: str
    answers: tuple[str, ...]
    extra: Any = field(default=None, compare=False)  # parsed JSON of "extra", None if absent
    has_extra: bool = False

    @property
    def length(self) -> int:
        return len(self.answers)

    def to_json(self) -> dict[str, Any]:
        obj: dict[str, Any] = {
            "type": "NonHomomorphic",
            "value": {"answers": list(self.answers), "question": self.question},
        }
        if self.has_extra:
            obj["extra"] = self.extra
        return obj


Question = HomomorphicQuestion | NonHomomorphicQuestion


@dataclass(frozen=True)
class Election:
    version: int
    description: str
    name: str
    group: Group
    public_key: mpz
    questions: tuple[Question, ...]
    uuid: str
    administrator: str | None
    credential_authority: str | None
    raw: str = field(repr=False)
    fingerprint: str

    @property
    def has_nh_questions(self) -> bool:
        return any(isinstance(q, NonHomomorphicQuestion) for q in self.questions)


# -- small strict readers ------------------------------------------------------------------


def _str(obj: Mapping[str, Any], key: str, what: str) -> str:
    if key not in obj:
        raise RecordError(f"{what} has no {key!r} field")
    value = obj[key]
    if not isinstance(value, str):
        raise RecordError(f"{what}: {key!r} must be a string")
    return value


def _opt_str(obj: Mapping[str, Any], key: str, what: str) -> str | None:
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise RecordError(f"{what}: {key!r} must be a string")
    return value


def _int(obj: Mapping[str, Any], key: str, what: str) -> int:
    if key not in obj:
        raise RecordError(f"{what} has no {key!r} field")
    value = obj[key]
    if isinstance(value, bool) or not isinstance(value, int):
        raise RecordError(f"{what}: {key!r} must be an integer")
    if not -(2**62) <= value < 2**62:  # an OCaml int, as Belenios reads it
        raise RecordError(f"{what}: {key!r} is too large")
    return value


def _str_list(obj: Mapping[str, Any], key: str, what: str) -> tuple[str, ...]:
    if key not in obj:
        raise RecordError(f"{what} has no {key!r} field")
    value = obj[key]
    if not isinstance(value, list) or not all(isinstance(x, str) for x in value):
        raise RecordError(f"{what}: {key!r} must be a list of strings")
    return tuple(value)


def check_uuid(uuid: object) -> str:
    """An election uuid: at least 14 Base58 characters (spec §4.2)."""
    if not isinstance(uuid, str):
        raise RecordError("the election uuid must be a string")
    if len(uuid) < UUID_MIN_LENGTH or any(c not in BASE58_DIGITS for c in uuid):
        raise RecordError(
            f"the election uuid {uuid[:40]!r} is not at least {UUID_MIN_LENGTH} Base58 characters"
        )
    return uuid


def parse_question(obj: Any, what: str = "question") -> Question:
    """A question as Belenios reads it: homomorphic unless it has a ``type`` field."""
    if not isinstance(obj, dict):
        raise RecordError(f"{what} must be a JSON object")
    if "type" not in obj:
        answers = _str_list(obj, "answers", what)
        blank = obj.get("blank")
        if blank is not None and not isinstance(blank, bool):
            raise RecordError(f"{what}: 'blank' must be true or false")
        q = HomomorphicQuestion(
            question=_str(obj, "question", what),
            answers=answers,
            min=_int(obj, "min", what),
            max=_int(obj, "max", what),
            blank=blank,
        )
        if q.min < 0 or q.max < q.min:
            raise RecordError(f"{what}: min and max must satisfy 0 <= min <= max")
        return q
    if obj["type"] != "NonHomomorphic":
        raise RecordError(f"{what}: unknown question type {obj['type']!r}")
    if "value" not in obj:
        raise RecordError(f"{what}: a non-homomorphic question needs a 'value' field")
    value = obj["value"]
    if not isinstance(value, dict):
        raise RecordError(f"{what}: 'value' must be a JSON object")
    answers = _str_list(value, "answers", what)
    return NonHomomorphicQuestion(
        question=_str(value, "question", what),
        answers=answers,
        extra=obj.get("extra"),
        has_extra="extra" in obj,
    )


def _parse_questions(obj: Mapping[str, Any], what: str) -> tuple[Question, ...]:
    if "questions" not in obj:
        raise RecordError(f"{what} has no 'questions' field")
    questions = obj["questions"]
    if not isinstance(questions, list):
        raise RecordError(f"{what}: 'questions' must be a list")
    return tuple(parse_question(q, f"question {i + 1}") for i, q in enumerate(questions))


def parse_election(raw: str, *, allow_test_group: bool = False) -> Election:
    """Read an election structure from its raw text; RecordError if it is not valid."""
    obj = parse_json(raw, "election")
    if not isinstance(obj, dict):
        raise RecordError("the election must be a JSON object")
    version = obj.get("version")
    if isinstance(version, bool) or not isinstance(version, int):
        raise RecordError("the election has no integer 'version' field")
    if version != 1:
        raise RecordError(f"unsupported election version {version} (Belenios 2.0 uses 1)")
    group_name = _str(obj, "group", "election")
    try:
        group = group_by_name(group_name, allow_test=allow_test_group)
        if "public_key" not in obj:
            raise RecordError("election has no 'public_key' field")
        public_key = group.parse_element(obj["public_key"], "election public key")
    except GroupError as exc:
        raise RecordError(f"election: {exc}") from None
    if "uuid" not in obj:
        raise RecordError("election has no 'uuid' field")
    return Election(
        version=version,
        description=_str(obj, "description", "election"),
        name=_str(obj, "name", "election"),
        group=group,
        public_key=public_key,
        questions=_parse_questions(obj, "election"),
        uuid=check_uuid(obj["uuid"]),
        administrator=_opt_str(obj, "administrator", "election"),
        credential_authority=_opt_str(obj, "credential_authority", "election"),
        raw=raw,
        fingerprint=hjson(raw),
    )


def serialize_election(
    *,
    description: str,
    name: str,
    group: Group,
    public_key: mpz,
    questions: Sequence[Question],
    uuid: str,
    administrator: str | None = None,
    credential_authority: str | None = None,
) -> str:
    """The election JSON exactly as belenios-tool 2.0 writes it (without final newline)."""
    obj: dict[str, Any] = {
        "version": 1,
        "description": description,
        "name": name,
        "group": group.name,
        "public_key": to_str(public_key),
        "questions": [q.to_json() for q in questions],
        "uuid": uuid,
    }
    if administrator is not None:
        obj["administrator"] = administrator
    if credential_authority is not None:
        obj["credential_authority"] = credential_authority
    return compact(obj)


def make_election(
    template: Mapping[str, Any], *, uuid: str, group: Group, public_key: mpz
) -> Election:
    """A new election from a belenios-tool template (description, name, questions, ...)."""
    if not isinstance(template, Mapping):
        raise RecordError("the election template must be a JSON object")
    questions = _parse_questions(template, "template")
    if not questions:
        raise RecordError("the template has no questions")
    for i, q in enumerate(questions):
        if not q.answers:
            raise RecordError(f"question {i + 1} has no answers")
        if isinstance(q, HomomorphicQuestion):
            if q.max > len(q.answers):
                raise RecordError(f"question {i + 1}: max is larger than the number of answers")
            continue
        if group.embedding is None:
            raise RecordError(
                f"non-homomorphic questions need a group with an embedding, not {group.name}"
            )
        if len(q.answers) > max_values(group):
            raise RecordError(f"question {i + 1} has too many answers for one group element")
    if not group.is_element(public_key):
        raise RecordError("the election public key is not an element of the group")
    raw = serialize_election(
        description=_str(template, "description", "template"),
        name=_str(template, "name", "template"),
        group=group,
        public_key=public_key,
        questions=questions,
        uuid=check_uuid(uuid),
        administrator=_opt_str(template, "administrator", "template"),
        credential_authority=_opt_str(template, "credential_authority", "template"),
    )
    return parse_election(raw, allow_test_group=group.name == TEST_256.name)


def generate_uuid(length: int = UUID_MIN_LENGTH) -> str:
    """A fresh election uuid, like ``belenios-tool setup generate-token``."""
    if length < UUID_MIN_LENGTH:
        raise ValueError(f"a uuid has at least {UUID_MIN_LENGTH} characters")
    return "".join(secrets.choice(BASE58_DIGITS) for _ in range(length))
