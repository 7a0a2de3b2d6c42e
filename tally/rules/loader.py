"""Loading a session's rules (选举办法 / 票决办法) from YAML or JSON into :mod:`tally.rules.model`.

Loading is three steps: the document is checked against the JSON Schema shipped with this
package (``schema.json``); it is turned into the model's dataclasses, session ``settings`` merged
with each poll's own ``settings``; every election's candidate list is checked against the law
(:func:`tally.rules.nominations.check_election`) and every project list against its form
(:func:`tally.rules.projects.check_project_poll`). Any failure raises :class:`RulesError` (or
its subclass :class:`LawError`, naming the article), and nothing is returned.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import replace
from enum import StrEnum
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema

from tally.rules.documents import read_document
from tally.rules.errors import RulesError
from tally.rules.model import (
    ConfirmationPoll,
    ElectionPoll,
    Level,
    MotionPoll,
    Organ,
    Person,
    Poll,
    PollKind,
    PostType,
    ProjectForm,
    ProjectPoll,
    RemovalPoll,
    Round,
    SessionRules,
    Settings,
    WriteInPolicy,
    person_key,
)
from tally.rules.nominations import check_election
from tally.rules.projects import check_project_poll
from tally.rules.removal import check_removal_poll


def check_poll(poll: Poll, level: Level) -> None:
    """Law checks of one poll of a rules document (elections, project lists, removals)."""
    if isinstance(poll, ElectionPoll):
        check_election(poll, level)
    elif isinstance(poll, ProjectPoll):
        check_project_poll(poll)
    elif isinstance(poll, RemovalPoll):
        check_removal_poll(poll, level)


_LEVEL_ALIASES = {
    "乡镇": "township",
    "乡": "township",
    "镇": "township",
    "县": "county",
    "区": "county",
    "市": "city",
}
_POST_ALIASES = {
    "正职": "head",
    "副职": "deputy",
    "委员": "member",
    "上一级人大代表": "higher_deputy",
}


@cache
def schema() -> dict[str, Any]:
    """The JSON Schema of the rules document (``tally/rules/schema.json``)."""
    text = resources.files("tally.rules").joinpath("schema.json").read_text(encoding="utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def _validate_schema(data: object) -> None:
    full = schema()
    validator = jsonschema.Draft202012Validator(full)
    err = jsonschema.exceptions.best_match(validator.iter_errors(data))
    if err is None:
        return
    path = list(err.absolute_path)
    instance = err.instance
    kind = instance.get("kind") if isinstance(instance, Mapping) else None
    if err.validator == "oneOf" and isinstance(kind, str) and kind in full["$defs"]:
        # a poll of a known kind: report what is wrong with it as that kind
        sub = dict(full["$defs"][kind], **{"$defs": full["$defs"]})
        inner = jsonschema.exceptions.best_match(
            jsonschema.Draft202012Validator(sub).iter_errors(instance)
        )
        if inner is not None:
            err, path = inner, path + list(inner.absolute_path)
    where = "/".join(str(p) for p in path) or "(top level)"
    raise RulesError(f"rules document, at {where}: {err.message}")


def _settings(base: Settings, data: Mapping[str, Any] | None) -> Settings:
    if not data:
        return base
    changes: dict[str, Any] = {}
    for key, value in data.items():
        current = getattr(base, key)
        changes[key] = type(current)(value) if isinstance(current, StrEnum) else bool(value)
    return replace(base, **changes)


def _person(item: Mapping[str, Any], what: str, poll_id: str) -> Person:
    pid = str(item["id"])
    name = str(item.get("name", pid))
    for label, value in (("id", pid), ("name", name)):
        if not value.strip():
            raise RulesError(
                f"poll {poll_id!r}: a {what}'s {label} is blank ({value!r}); every {what} "
                "needs an identifier and a name that can be read"
            )
    post_type = item.get("post_type")
    return Person(
        id=pid,
        name=name,
        post=str(item.get("post", "")),
        post_type=None if post_type is None else PostType(_POST_ALIASES.get(post_type, post_type)),
        organ=None if item.get("organ") is None else Organ(item["organ"]),
    )


def _persons(items: list[Mapping[str, Any]], what: str, poll_id: str) -> tuple[Person, ...]:
    persons = tuple(_person(i, what, poll_id) for i in items)
    # ids of digits are roster numbers and compare as numbers: "7" and "007" are one person
    keys = [person_key(p.id) for p in persons]
    seen: dict[str, str] = {}
    dup: list[str] = []
    for person, key in zip(persons, keys, strict=True):
        if key in seen:
            dup.append(person.id if person.id == seen[key] else f"{seen[key]} = {person.id}")
        seen.setdefault(key, person.id)
    if dup:
        raise RulesError(f"poll {poll_id!r}: {what} listed twice: {', '.join(sorted(dup))}")
    return persons


def default_organ(post_type: PostType, poll_id: str) -> Organ:
    """The organ implied by the post type; head and deputy posts must name theirs."""
    if post_type is PostType.HIGHER_DEPUTY:
        return Organ.HIGHER_CONGRESS
    if post_type is PostType.MEMBER:
        return Organ.STANDING_COMMITTEE
    raise RulesError(
        f"poll {poll_id!r}: a head or deputy post must say its organ (township_congress, "
        "standing_committee, government, supervisory_commission, court or procuratorate), "
        "because it decides who may be written in"
    )


def default_write_ins(organ: Organ) -> WriteInPolicy:
    """Congress officers must be deputies (地方组织法 第十八条, 第四十七条); others: anyone."""
    if organ in (Organ.TOWNSHIP_CONGRESS, Organ.STANDING_COMMITTEE):
        return WriteInPolicy.DEPUTIES
    return WriteInPolicy.ANYONE


def _poll(data: Mapping[str, Any], base: Settings) -> Poll:
    kind = PollKind(data["kind"])
    pid = str(data["id"])
    title = str(data.get("title", pid))
    settings = _settings(base, data.get("settings"))
    if kind is PollKind.MOTION:
        return MotionPoll(id=pid, title=title, settings=settings)
    if kind is PollKind.ELECTION:
        post_type = PostType(_POST_ALIASES.get(data["post_type"], data["post_type"]))
        organ = Organ(data["organ"]) if "organ" in data else default_organ(post_type, pid)
        write_ins = (
            WriteInPolicy(data["write_ins"]) if "write_ins" in data else default_write_ins(organ)
        )
        return ElectionPoll(
            id=pid,
            title=title,
            post=str(data.get("post", title)),
            post_type=post_type,
            organ=organ,
            seats=int(data["seats"]),
            candidates=_persons(data["candidates"], "candidate", pid),
            extra=data.get("extra"),
            round=Round(data.get("round", "regular")),
            parent=data.get("parent"),
            write_ins=write_ins,
            ballot=None if data.get("ballot") is None else str(data["ballot"]),
            settings=settings,
        )
    if kind is PollKind.PROJECTS:
        return ProjectPoll(
            id=pid,
            title=title,
            form=ProjectForm(data["form"]),
            projects=_persons(data["projects"], "project", pid),
            select=data.get("select"),
            competitive=bool(data.get("competitive", False)),
            round=Round(data.get("round", "regular")),
            parent=data.get("parent"),
            settings=settings,
        )
    persons = _persons(data["persons"], "person", pid)
    if kind is PollKind.CONFIRMATION:
        return ConfirmationPoll(id=pid, title=title, persons=persons, settings=settings)
    return RemovalPoll(id=pid, title=title, persons=persons, settings=settings)


def _check_sheets(polls: tuple[Poll, ...]) -> None:
    """Elections on one ballot paper (``ballot``) are regular elections of different posts."""
    sheets: dict[str, list[ElectionPoll]] = {}
    for poll in polls:
        if isinstance(poll, ElectionPoll) and poll.ballot is not None:
            sheets.setdefault(poll.ballot, []).append(poll)
    for sheet, posts in sheets.items():
        if len(posts) < 2:
            raise RulesError(
                f"ballot {sheet!r} holds only election {posts[0].id!r}: a ballot paper for "
                "several posts lists two or more elections"
            )
        if any(p.round is Round.TIE_REVOTE for p in posts):
            raise RulesError(f"ballot {sheet!r}: a tie re-vote has a ballot of its own")


def load_rules(data: object) -> SessionRules:
    """Check a parsed rules document (schema, consistency, law) and build the rules."""
    _validate_schema(data)
    assert isinstance(data, Mapping)
    session = data["session"]
    level = Level(_LEVEL_ALIASES.get(session["level"], session["level"]))
    base = _settings(Settings(), data.get("settings"))
    polls = tuple(_poll(p, base) for p in data.get("polls", []))
    ids = [p.id for p in polls]
    dup = sorted({i for i in ids if ids.count(i) > 1})
    if dup:
        raise RulesError(f"poll id used twice: {', '.join(dup)}")
    total = session.get("total_deputies")
    for poll in polls:
        check_poll(poll, level)
    _check_sheets(polls)
    return SessionRules(
        name=str(session.get("name", "")),
        level=level,
        total_deputies=total,
        settings=base,
        polls=polls,
    )


def load_rules_file(path: str | Path) -> SessionRules:
    """Read and check a rules document in YAML or JSON."""
    return load_rules(read_document(path, "rules"))
