"""The session's public record: a folder with one Belenios archive per poll (DESIGN §4).

The files and their names are those of :mod:`tally.record_files` (session.json, issuance.json,
outcomes.json, polls/<poll_id>/<uuid>.bel, rules.json, report.json), which the auditor's
verifier (tally/session_record.py) reads. Nothing here links a deputy to a credential or a
choice.
session.json also carries the session's trustees with the scrutineers' signatures of
them and the server's signed list of polls (tally.session_trustees).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol, TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from keys.group import Group
from tally.record_files import (
    ISSUANCE_FILE,
    OUTCOMES_FILE,
    REPORT_FILE,
    RULES_FILE,
    SESSION_FILE,
    archive_entry,
    archive_name,
    poll_folder,
)
from tally.session_groups import ELECTION_PREFIX, SessionGroups
from voting.models import Deputy, Issuance, Meta, Poll
from voting.session.closing import closing_of
from voting.session.poll_lists import PollLists
from voting.session.poll_lists import chain as poll_chain
from voting.session.states import RECORDED
from voting.session.views import report_json

T = TypeVar("T")


class SessionService(Protocol):
    """What the record reads of the session (voting.session.service.SessionService)."""

    @property
    def session_name(self) -> str: ...

    @property
    def server_key(self) -> Any: ...

    @property
    def group(self) -> Group: ...

    @property
    def groups(self) -> SessionGroups: ...

    def session_info(self) -> dict[str, Any]: ...

    def archive_path(self, poll_id: str) -> Path: ...

    async def db(self, fn: Callable[[Session], T]) -> T: ...

    def poll_setup(self, poll: Poll) -> dict[str, Any]: ...

    @property
    def poll_lists(self) -> PollLists: ...


def _collect(service: SessionService, s: Session) -> dict[str, Any]:
    counts = dict(
        s.execute(select(Deputy.attendance, func.count()).group_by(Deputy.attendance)).all()
    )
    polls = []
    issuance: dict[str, Any] = {}
    for poll in s.scalars(select(Poll).order_by(Poll.seq)):
        issued = list(
            s.execute(
                select(Issuance.seat, Issuance.statement)
                .where(Issuance.poll_id == poll.id)
                .order_by(Issuance.seat)
            ).all()
        )
        issuance[poll.id] = [{"seat": seat, "statement": json.loads(stmt)} for seat, stmt in issued]
        polls.append(
            {
                "poll_id": poll.id,
                "title": poll.title,
                "kind": poll.kind,
                "state": poll.state,
                "uuid": poll.uuid,
                "parent_id": poll.parent_id,
                "relation": poll.relation,
                "issued": len(issued),
                "counts": json.loads(poll.counts) if poll.counts else None,
                "outcome": json.loads(poll.outcome) if poll.outcome else None,
                "statement": json.loads(poll.statement) if poll.statement else None,
                # how the voting ended: chair or timer, when, the preset time (tally.closing_check)
                "closing": closing_of(poll),
                # the signed poll setup: election, trustees, Merkle root of the credentials
                "setup": service.poll_setup(poll) if poll.public_credentials else None,
                "report": report_json(service, s, poll),
                "rules": json.loads(poll.rules) if poll.rules else None,
                # a poll counted by hand (counts.method, tally.manual_count) has no archive
                "archive": archive_entry(poll.id, str(poll.uuid))
                if poll.state in RECORDED and poll.uuid
                else None,
            }
        )
    seats = s.scalars(select(Deputy.seat)).all()
    # the trustees of each group, as the scrutineers signed them after the key ceremony
    # (tally.session_groups: those of the election group under election_*, when it is another)
    groups = service.groups
    signed: dict[str, Any] = {}
    for group in groups.all:
        prefix = "" if group == groups.homomorphic else ELECTION_PREFIX
        trustees = s.get(Meta, groups.key("trustees", group))
        signatures = s.get(Meta, groups.key("trustees_signatures", group))
        signed[prefix + "trustees"] = trustees.value if trustees is not None else None
        signed[prefix + "trustees_signatures"] = json.loads(signatures.value) if signatures else []
    # the server's list of polls as it signed it at every change (tally.poll_list): the
    # record carries every version, not one signed now; a record lacking a poll the last
    # one names is refused, and a tablet refuses a chain that skips what it saw
    service.poll_lists.append(s, first=True)  # (no-op unless nothing was signed yet)
    versions = poll_chain(s)
    return {
        "session": {
            **service.session_info(),
            **signed,
            "poll_list": versions[-1],
            "poll_lists": versions,
            "total": sum(counts.values()),
            "attendance": counts,
            # roster numbers (seats made of digits): write-ins of an election are checked
            # against them when the rules are re-run (tally.session_record)
            "roster": sorted((str(int(x)) for x in seats if x.isascii() and x.isdigit()), key=int),
        },
        "polls": polls,
        "issuance": issuance,
    }


async def public_index(service: SessionService) -> dict[str, Any]:
    data = await service.db(lambda s: _collect(service, s))
    published = [p for p in data["polls"] if p["state"] == "published"]
    return {"session": data["session"], "polls": published}


async def record_data(service: SessionService) -> dict[str, Any]:
    """The record's JSON parts: ``session``, ``polls`` (outcomes.json), ``issuance``."""
    return await service.db(lambda s: _collect(service, s))


def _dump(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2), "utf-8")


def write_record(data: dict[str, Any], out: Path) -> list[tuple[dict[str, Any], Path]]:
    """Write the JSON files of the record (:func:`record_data`) under ``out``; return each
    recorded poll with its folder, where the caller puts the archive ``<uuid>.bel``."""
    out.mkdir(parents=True, exist_ok=True)
    _dump(out / SESSION_FILE, data["session"])
    _dump(out / ISSUANCE_FILE, data["issuance"])
    _dump(out / OUTCOMES_FILE, data["polls"])
    folders: list[tuple[dict[str, Any], Path]] = []
    for poll in data["polls"]:
        if poll["archive"] is None:
            continue
        folder = poll_folder(out, poll["poll_id"])
        folder.mkdir(parents=True, exist_ok=True)
        if poll["report"] is not None:
            _dump(folder / REPORT_FILE, poll["report"])
        if poll["rules"] is not None:
            _dump(folder / RULES_FILE, poll["rules"])
        folders.append((poll, folder))
    return folders


async def export_record(service: SessionService, out: Path) -> Path:
    """Write the record folder; archives of closed polls are copied as they stand."""
    data = await record_data(service)
    for poll, folder in write_record(data, out):
        shutil.copyfile(service.archive_path(poll["poll_id"]), folder / archive_name(poll["uuid"]))
    return out


def before_result(path: Path) -> bytes:
    """The archive's bytes up to (not including) its Result event and the result it names:
    what is public before the chair publishes."""
    from tally.archive import complete_prefix, parse_archive

    blob = complete_prefix(path.read_bytes())
    archive = parse_archive(blob, str(path))
    result = archive.result()
    if result is None:
        return blob
    members = archive.members
    i = next(n for n, mb in enumerate(members) if mb.kind == "event" and mb.hash == result[0].hash)
    while i > 0 and members[i - 1].kind != "event":  # the result's data member(s)
        i -= 1
    return blob[: members[i].offset]


def archive_snapshot(path: Path) -> bytes:
    """The whole archive as it stands, up to its last complete event (it may be growing)."""
    from tally.archive import complete_prefix

    return complete_prefix(path.read_bytes())
