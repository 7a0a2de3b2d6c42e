"""The auditor's check of a session's trustees, group by group (tally.session_groups).

A session record names the trustees of each group its key ceremony ran in, with the
scrutineers' signatures of them (``session.json``). Each archived poll must be encrypted to the
trustees of its own group (the group its election names), which at least k scrutineers signed:
a motion to those of the homomorphic group, an election to those of the election group.
``renda verify RECORD/`` (tally.session_record) and ``renda kiosk --check-record`` call it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from keys.group import Group
from tally.errors import RecordError
from tally.session_groups import SessionGroups, record_trustees
from tally.session_trustees import check_trustees_signatures


@dataclass(frozen=True)
class RecordedPoll:
    """What the check needs of one archived poll: its name, election and trustees texts."""

    name: str
    election_raw: str
    trustees_raw: str


def poll_group(groups: SessionGroups, election_raw: str, name: str) -> Group:
    """The session group a poll's election names; RecordError if it names another."""
    try:
        obj = json.loads(election_raw)
        group_name = obj.get("group") if isinstance(obj, dict) else None
    except ValueError:
        group_name = None
    try:
        return groups.by_name(group_name if isinstance(group_name, str) else None)
    except ValueError:
        names = " or ".join(g.name for g in groups.all)
        raise RecordError(
            f"{name} is encrypted in the group {group_name!r}, not in the session's ({names})"
        ) from None


def check_record_trustees(
    session: Mapping[str, Any],
    groups: SessionGroups,
    polls: Sequence[RecordedPoll],
    *,
    allow_test_group: bool,
) -> str:
    """What was checked, in words; RecordError unless every poll is encrypted to the trustees
    of its group and each group's trustees that a poll uses (the homomorphic group's always)
    carry k scrutineers' signatures."""
    used = {poll_group(groups, p.election_raw, p.name).name for p in polls}
    entries = {e.group.name: e for e in record_trustees(session, groups)}
    several = len(entries) > 1
    for poll in polls:
        group = poll_group(groups, poll.election_raw, poll.name)
        raw = entries[group.name].trustees
        where = f" in {group.name}" if several else ""
        if not isinstance(raw, str):
            raise RecordError(f"session.json does not carry the session's trustees{where}")
        if poll.trustees_raw != raw:
            raise RecordError(
                f"{poll.name} is not encrypted to the session's trustees{where} (those of the "
                "key ceremony, as the scrutineers signed them)"
            )
    words: list[str] = []
    for name, entry in entries.items():
        where = f" in {name}" if several else ""
        if entry.group != groups.homomorphic and name not in used and entry.trustees is None:
            continue  # (a session whose ceremony did not make the election group's key)
        if not isinstance(entry.trustees, str):
            raise RecordError(f"session.json does not carry the session's trustees{where}")
        if not isinstance(entry.signatures, list):
            raise RecordError(
                f"session.json has no list of the scrutineers' trustees signatures{where}"
            )
        signers, needed = check_trustees_signatures(
            entry.group, entry.trustees, entry.signatures, allow_server_only=allow_test_group
        )
        count = sum(1 for p in polls if poll_group(groups, p.election_raw, p.name).name == name)
        prefix = f"{name}: " if several else ""
        if needed == 0:
            words.append(
                prefix + "the server's key alone (test session; refused without --test-group)"
            )
        else:
            words.append(
                f"{prefix}{count} poll(s) encrypted to them; scrutineers {signers} signed them "
                f"({needed} needed)"
            )
    return "; ".join(words)
