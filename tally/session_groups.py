"""The groups of one session (DESIGN §2.2): a poll with only homomorphic questions (a motion,
a project vote) is encrypted in the session's homomorphic group (BELENIOS-2048 by default);
a poll with a non-homomorphic question (the 人大 election ballot, docs/ballots.md) needs a group
with an embedding, the session's election group (RFC-3526-2048; the same group when the
homomorphic one has an embedding, as RENDA-TEST-256 in tests). The key ceremony makes the
trustees of every group the session uses, in one sitting.

The record names them in ``session.json``: ``group``, ``trustees`` and ``trustees_signatures``
for the homomorphic group (as before there were two), ``election_group``, and, when it is
another group, ``election_trustees`` and ``election_trustees_signatures``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from keys.group import RFC_3526_2048, Group, GroupError, group_by_name
from tally.errors import RecordError

ELECTION_PREFIX = "election_"  # session.json fields of the election group, when it is another


def election_group_for(group: Group) -> Group:
    """The election group of a session whose homomorphic group is ``group``: that group if it
    has an embedding, else RFC-3526-2048 (the only such group Belenios 2.0 has)."""
    return group if group.embedding is not None else RFC_3526_2048


def needs_embedding(template: Mapping[str, Any]) -> bool:
    """Has the election template a non-homomorphic question (``"type": "NonHomomorphic"``)?"""
    questions = template.get("questions")
    if not isinstance(questions, list):
        return False
    return any(isinstance(q, Mapping) and "type" in q for q in questions)


@dataclass(frozen=True)
class SessionGroups:
    """The session's homomorphic and election groups (possibly one and the same)."""

    homomorphic: Group
    election: Group

    def __post_init__(self) -> None:
        if self.election.embedding is None:
            raise ValueError(f"the election group {self.election.name} has no embedding")

    @property
    def all(self) -> tuple[Group, ...]:
        """Every group the session uses, the homomorphic one first (the ceremony's order)."""
        if self.election == self.homomorphic:
            return (self.homomorphic,)
        return (self.homomorphic, self.election)

    def for_template(self, template: Mapping[str, Any]) -> Group:
        """The group a poll of this election template is encrypted in."""
        return self.election if needs_embedding(template) else self.homomorphic

    def by_name(self, name: str | None) -> Group:
        """One of the session's groups by its name; ValueError for any other."""
        for group in self.all:
            if group.name == name:
                return group
        raise ValueError(f"the group {name!r} is not one of this session's groups")

    def key(self, base: str, group: Group) -> str:
        """A per-group name (a setting, a file's stem): ``base`` for the homomorphic group,
        ``base:GROUP`` for the election group when it is another."""
        return base if group == self.homomorphic else f"{base}:{group.name}"


@dataclass(frozen=True)
class GroupTrustees:
    """One group's trustees in a session record, and the scrutineers' signatures of them."""

    group: Group
    trustees: Any  # the raw trustees.json text (a str once checked)
    signatures: Any  # the list of {trustee_id, signature}


def record_groups(session: Mapping[str, Any], *, allow_test_group: bool) -> SessionGroups:
    """The groups a ``session.json`` names (RecordError if one is unknown); a record without
    ``election_group`` (made before sessions had two) has the election group a session of its
    group has now, with no trustees (none of its polls is in it)."""
    try:
        group = group_by_name(str(session.get("group")), allow_test=allow_test_group)
        name = session.get("election_group", election_group_for(group).name)
        if not isinstance(name, str):
            raise RecordError("session.json: election_group must be a group's name")
        return SessionGroups(group, group_by_name(name, allow_test=allow_test_group))
    except (GroupError, ValueError) as exc:
        raise RecordError(f"session.json: {exc}") from None


def record_trustees(session: Mapping[str, Any], groups: SessionGroups) -> list[GroupTrustees]:
    """Each group's trustees and signatures as ``session.json`` carries them (unchecked)."""
    out = [
        GroupTrustees(
            groups.homomorphic, session.get("trustees"), session.get("trustees_signatures")
        )
    ]
    if groups.election != groups.homomorphic:
        out.append(
            GroupTrustees(
                groups.election,
                session.get(ELECTION_PREFIX + "trustees"),
                session.get(ELECTION_PREFIX + "trustees_signatures"),
            )
        )
    return out
