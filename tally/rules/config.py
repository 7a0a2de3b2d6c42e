"""A session's rules (选举办法 / 票决办法) as frozen dataclasses, loaded from YAML or JSON.

Loading is three steps: the document is checked against the JSON Schema shipped with this
package (``schema.json``); it is turned into the dataclasses below, session ``settings`` merged
with each poll's own ``settings``; every election's candidate list is checked against the law
(:func:`tally.rules.nominations.check_candidates`). Any failure raises :class:`RulesError` (or
its subclass :class:`LawError`, naming the article), and nothing is returned.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from tally.rules.errors import RulesError


class Level(StrEnum):
    """Level of the congress."""

    TOWNSHIP = "township"  # 乡、民族乡、镇
    COUNTY = "county"  # 县、自治县、不设区的市、市辖区
    CITY = "city"  # 设区的市、自治州


class PollKind(StrEnum):
    MOTION = "motion"  # 表决议案
    PROJECTS = "projects"  # 民生实事项目票决
    ELECTION = "election"  # 选举
    CONFIRMATION = "confirmation"  # 表决票 (表决通过人选)
    REMOVAL = "removal"  # 罢免


class PostType(StrEnum):
    HEAD = "head"  # 正职
    DEPUTY = "deputy"  # 副职
    MEMBER = "member"  # 常委会委员
    HIGHER_DEPUTY = "higher_deputy"  # 上一级人民代表大会代表


class Organ(StrEnum):
    """Body the post belongs to; decides who may be written in (地方组织法 第十八、四十七条)."""

    TOWNSHIP_CONGRESS = "township_congress"  # 乡镇人大主席、副主席
    STANDING_COMMITTEE = "standing_committee"  # 常委会主任、副主任、秘书长、委员
    GOVERNMENT = "government"  # 县长、乡长、镇长 and their deputies
    SUPERVISORY_COMMISSION = "supervisory_commission"  # 监察委员会主任
    COURT = "court"  # 人民法院院长
    PROCURATORATE = "procuratorate"  # 人民检察院检察长
    HIGHER_CONGRESS = "higher_congress"  # 上一级人大代表


class Round(StrEnum):
    REGULAR = "regular"  # 选举 (换届 or otherwise)
    BY_ELECTION = "by_election"  # 补选 (地方组织法 第三十条)
    TIE_REVOTE = "tie_revote"  # 再次投票 among tied candidates (地方组织法 第二十九条第一款)
    SUPPLEMENTARY = "supplementary"  # 另行选举 for unfilled seats (地方组织法 第二十九条第二款)


class WriteInPolicy(StrEnum):
    DEPUTIES = "deputies"  # only deputies of this congress (roster numbers)
    ANYONE = "anyone"  # 其他任何代表或者选民 (地方组织法 第二十八条)


class ProjectForm(StrEnum):
    A = "A"  # per project 赞成 / 反对 / 弃权
    B = "B"  # choose up to N
    C = "C"  # ranking by number


class Unmarked(StrEnum):
    """How an unmarked box on an election ballot reads (reference §4.2.5)."""

    ABSTAIN = "abstain"
    YES = "yes"
    VOID = "void"  # an explicit choice is required; a ballot with an unmarked box is void


class Press(StrEnum):
    LAST = "last"  # a later ballot from the same credential replaces the first (Belenios)
    FIRST = "first"  # the first ballot cast is final


class ElectionQuorum(StrEnum):
    """Deputies taking part (ballots issued) needed to hold an election (reference §2.4)."""

    TWO_THIRDS = "two_thirds"  # issued * 3 >= total * 2
    MORE_THAN_TWO_THIRDS = "more_than_two_thirds"  # issued * 3 > total * 2
    MAJORITY = "majority"  # issued * 2 > total
    NONE = "none"


class TieThreshold(StrEnum):
    PLURALITY = "plurality"  # 以得票多的当选 among the tied
    MAJORITY = "majority"  # again 全体代表过半数


class SmallCommitteeExtra(StrEnum):
    """差额 for 常委会委员 when ceil(n/10) > floor(n/5), i.e. fewer than 5 seats."""

    AT_LEAST_ONE = "at_least_one"  # allow exactly ceil(n/10) extra
    STRICT = "strict"  # refuse: the 选举办法 must be amended


class IneligibleWriteIn(StrEnum):
    VOID_ENTRY = "void_entry"  # that write-in counts for nobody; the rest of the ballot counts
    VOID_BALLOT = "void_ballot"  # the whole ballot is void


class ElectionMethod(StrEnum):
    DEVICE = "device"  # secret ballot cast on the kiosk (the 选举办法 must adopt it, §7.1)
    PAPER_TALLY = "paper_tally"  # paper ballots, electronic tally


class ProjectTie(StrEnum):
    REVOTE = "revote"  # re-vote among the projects tied across the cut-off
    PRESIDIUM = "presidium"  # refer to the 主席团


class RankingMethod(StrEnum):
    TOP_N = "top_n"  # form C: a project ranked within the first N places counts one 赞成
    BORDA = "borda"  # form C: order by points (K - position), floor still on top-N approvals


@dataclass(frozen=True)
class Settings:
    """Every [PRACTICE] / [INFERENCE] choice of the reference, with its default."""

    unmarked: Unmarked = Unmarked.ABSTAIN
    press: Press = Press.LAST
    vote_quorum: bool = True
    election_quorum: ElectionQuorum = ElectionQuorum.TWO_THIRDS
    participation_majority: bool = False
    tie_revote_threshold: TieThreshold = TieThreshold.PLURALITY
    small_committee_extra: SmallCommitteeExtra = SmallCommitteeExtra.AT_LEAST_ONE
    ineligible_write_in: IneligibleWriteIn = IneligibleWriteIn.VOID_ENTRY
    election_method: ElectionMethod = ElectionMethod.DEVICE
    project_majority_floor: bool = True
    project_tie: ProjectTie = ProjectTie.REVOTE
    ranking_method: RankingMethod = RankingMethod.TOP_N


@dataclass(frozen=True)
class Person:
    """A candidate, a project, or a person in a confirmation or removal vote."""

    id: str
    name: str
    post: str = ""


@dataclass(frozen=True)
class MotionPoll:
    id: str
    title: str
    settings: Settings = field(default_factory=Settings)
    kind: PollKind = PollKind.MOTION


@dataclass(frozen=True)
class ElectionPoll:
    id: str
    title: str
    post: str
    post_type: PostType
    organ: Organ
    seats: int
    candidates: tuple[Person, ...]
    extra: int | None = None  # the 差额 the 选举办法 fixes (candidates - seats); None: any legal
    round: Round = Round.REGULAR
    parent: str | None = None
    write_ins: WriteInPolicy = WriteInPolicy.DEPUTIES
    settings: Settings = field(default_factory=Settings)
    kind: PollKind = PollKind.ELECTION


@dataclass(frozen=True)
class ProjectPoll:
    id: str
    title: str
    form: ProjectForm
    projects: tuple[Person, ...]
    select: int | None = None  # N, the number of projects to select; None: all that pass
    competitive: bool = False  # 差额 required: more candidate projects than N
    round: Round = Round.REGULAR  # REGULAR or TIE_REVOTE
    parent: str | None = None
    settings: Settings = field(default_factory=Settings)
    kind: PollKind = PollKind.PROJECTS


@dataclass(frozen=True)
class ConfirmationPoll:
    id: str
    title: str
    persons: tuple[Person, ...]
    settings: Settings = field(default_factory=Settings)
    kind: PollKind = PollKind.CONFIRMATION


@dataclass(frozen=True)
class RemovalPoll:
    id: str
    title: str
    persons: tuple[Person, ...]
    settings: Settings = field(default_factory=Settings)
    kind: PollKind = PollKind.REMOVAL


Poll = MotionPoll | ElectionPoll | ProjectPoll | ConfirmationPoll | RemovalPoll


@dataclass(frozen=True)
class SessionRules:
    name: str
    level: Level
    total_deputies: int | None
    settings: Settings
    polls: tuple[Poll, ...]

    def poll(self, poll_id: str) -> Poll:
        for p in self.polls:
            if p.id == poll_id:
                return p
        raise RulesError(f"the rules define no poll {poll_id!r}")


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


def _persons(items: list[Mapping[str, Any]], what: str, poll_id: str) -> tuple[Person, ...]:
    persons = tuple(
        Person(id=str(i["id"]), name=str(i.get("name", i["id"])), post=str(i.get("post", "")))
        for i in items
    )
    ids = [p.id for p in persons]
    dup = sorted({i for i in ids if ids.count(i) > 1})
    if dup:
        raise RulesError(f"poll {poll_id!r}: {what} listed twice: {', '.join(dup)}")
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


def load_rules(data: object) -> SessionRules:
    """Check a parsed rules document (schema, consistency, law) and build the rules."""
    from tally.rules.nominations import check_poll  # late import: nominations uses config

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
    return SessionRules(
        name=str(session.get("name", "")),
        level=level,
        total_deputies=total,
        settings=base,
        polls=polls,
    )


class _Loader(yaml.SafeLoader):
    """YAML 1.2 booleans: only true/false. YAML 1.1 would read the options yes / no (and on,
    off) as booleans, which would turn ``{yes: 30, no: 10}`` into ``{True: 30, False: 10}``."""


_Loader.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:bool"]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
for _first in "tTfF":
    _Loader.add_implicit_resolver(
        "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), [_first]
    )


def parse_document(text: str, *, source: str = "rules") -> object:
    """Parse YAML (a superset of JSON) text; a syntax error becomes a RulesError.

    Only ``true`` / ``false`` are booleans (YAML 1.2), so ``yes`` and ``no`` stay strings."""
    try:
        return yaml.load(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        raise RulesError(f"{source}: not valid YAML or JSON: {exc}") from None


def read_document(path: str | Path, what: str) -> object:
    """Read and parse a YAML or JSON file; a RulesError names it as a ``what`` file."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RulesError(f"cannot read {what} file {p}: {exc}") from None
    return parse_document(text, source=str(p))


def load_rules_file(path: str | Path) -> SessionRules:
    """Read and check a rules document in YAML or JSON."""
    return load_rules(read_document(path, "rules"))
