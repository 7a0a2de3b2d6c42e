"""Rows as the API's JSON and as protocol messages (docs/protocol.md). Read-only."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any, Protocol

from sqlalchemy.orm import Session

from keys.group import Group, group_by_name
from tally import messages as m
from tally import statements as st
from tally.manual_count import manual_report, method_of, report_fingerprint
from tally.report_signatures import count_report, report_text, signatures_needed
from tally.trustees import parse_trustees
from voting.models import Ceremony, Deputy, Poll
from voting.session import queries as q
from voting.session.context import SessionContext
from voting.session.hub import server_id
from voting.session.states import COUNTED, CeremonyState, PollState, Presence

KINDS = ("motion", "projects", "election", "confirmation")


class SessionIdentity(Protocol):
    """What a view needs of the session: its name and group."""

    @property
    def session_name(self) -> str: ...

    @property
    def group(self) -> Group: ...


@dataclass(frozen=True)
class Attendance:
    """The check-in figures (docs/protocol.md: ``GET /api/attendance``, ``attendance``)."""

    total: int
    # 应到 is every seated deputy (law §7.3-7.4: "大会应到代表327人，实到314人");
    # those on leave are counted apart, never subtracted from the denominator.
    expected: int
    present: int
    on_leave: int
    absent: int
    quorum: bool

    @classmethod
    def of(cls, counts: dict[str, int]) -> Attendance:
        total = sum(counts.values())
        present = counts.get(Presence.PRESENT, 0)
        leave = counts.get(Presence.LEAVE, 0)
        return cls(
            total=total,
            expected=total,
            present=present,
            on_leave=leave,
            absent=total - present - leave,
            quorum=total > 0 and present * 3 >= total * 2,
        )

    def as_json(self) -> dict[str, int | bool]:
        return asdict(self)

    def message(self) -> m.Attendance:
        return m.Attendance(id=server_id(), **self.as_json())  # type: ignore[arg-type]


@dataclass(frozen=True)
class PollCounts:
    """A tallied poll's figures (column ``polls.counts``, the record's ``counts``): 应到 (every
    seated deputy), 实到 (the poll's frozen voters), 发出 (ballots issued), 收回 (ballots
    counted) and the decrypted Belenios result."""

    total: int
    present: int
    issued: int
    received: int
    result: list[Any]

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def deputy_json(d: Deputy, *, code: str | None = None) -> dict[str, Any]:
    """A deputy; ``code``: the enrolment code just made (never read back: only its hash is
    stored, voting.session.codes)."""
    out: dict[str, Any] = {
        "deputy_id": d.id,
        "name": d.name,
        "delegation": d.delegation,
        "seat": d.seat,
        "attendance": d.attendance,
        "enrolled": d.code_used,
    }
    if code is not None:
        out["enrolment_code"] = code
    return out


def ceremony_json(c: Ceremony | None) -> dict[str, Any]:
    if c is None:
        return {"state": CeremonyState.NONE.value}
    data = json.loads(c.data or "{}")
    data = data if isinstance(data, dict) else {}
    # the groups whose key it made (done), or the group its steps are at (running)
    made = data.get("trustees")
    groups = list(made) if isinstance(made, dict) else [data["group"]] if "group" in data else []
    return {
        "ceremony_id": c.id,
        "state": c.state,
        "threshold": c.threshold,
        "count": c.count,
        "trustees": c.trustees,  # the first group's (the homomorphic one's, but in an upgrade)
        "groups": groups,
        "message": c.message,
    }


# -- the count report -----------------------------------------------------------------------


def poll_report_text(session: str, poll: Poll) -> str | None:
    """The count report text of a tallied or published poll (None before)."""
    if poll.state not in COUNTED:
        return None
    counts = json.loads(poll.counts or "null")
    if method_of(counts) is not None:  # counted by hand: no archive, no result
        return report_text(
            manual_report(
                session=session,
                poll_id=poll.id,
                counts=counts,
                outcome=json.loads(poll.outcome or "null"),
            )
        )
    if not (poll.result and poll.uuid):
        return None
    report = count_report(
        session=session,
        poll_id=poll.id,
        uuid=poll.uuid,
        result_raw=poll.result,
        counts=json.loads(poll.counts or "null"),
        outcome=json.loads(poll.outcome or "null"),
    )
    return report_text(report)


def manual_fingerprint(session: str, poll: Poll) -> str | None:
    """A poll counted by hand: SHA-256 of its count report's text (it has no archive)."""
    text = poll_report_text(session, poll)
    return report_fingerprint(text) if text is not None else None


def report_json(session: SessionIdentity, s: Session, poll: Poll) -> dict[str, Any] | None:
    """What the outcome shows: the report text, the signatures in, how many are needed and
    whether they are all in (``complete``). None before the tally."""
    text = poll_report_text(session.session_name, poll)
    manual = method_of(json.loads(poll.counts or "null")) is not None
    if text is None or not (poll.trustees or manual):
        return None
    rows = q.report_signatures(s, poll.id)
    group = group_by_name(poll.group_name or session.group.name, allow_test=True)
    needed = signatures_needed(parse_trustees(group, poll.trustees)) if poll.trustees else 0
    return {
        "text": text,
        "signatures": [
            {"trustee_id": r.trustee_id, "signature": json.loads(r.signature)} for r in rows
        ],
        "needed": needed,
        "complete": len(rows) >= needed,
    }


# -- polls ------------------------------------------------------------------------------------


def poll_json(ctx: SessionContext, s: Session, poll: Poll) -> dict[str, Any]:
    published = poll.state == PollState.PUBLISHED
    return {
        "poll_id": poll.id,
        "title": poll.title,
        "kind": poll.kind,
        "state": poll.state,
        "uuid": poll.uuid,
        "group": poll.group_name,
        "last_press_valid": poll.last_press_valid,
        "parent_id": poll.parent_id,
        "relation": poll.relation,
        "voters": len(ctx.runtimes[poll.id].voters) if poll.id in ctx.runtimes else None,
        "issued": q.issued_count(s, poll.id),
        "received": q.received_count(s, poll.id),
        "result": json.loads(poll.result) if poll.result and poll.state in COUNTED else None,
        "counts": json.loads(poll.counts) if poll.counts else None,
        "outcome": json.loads(poll.outcome) if poll.outcome else None,
        "statement": json.loads(poll.statement) if published and poll.statement else None,
        "report": report_json(ctx, s, poll),
        "followups": q.followup_ids(s, poll.id),
        "template": json.loads(poll.template),
        "rules": json.loads(poll.rules) if poll.rules else None,
        "message": poll.message,
        # the preset voting time (seconds) and when it ends once the ballots are issued; how
        # the voting ended (chair | timer); when the hall sees the result (None: the session's)
        "duration": poll.duration,
        "deadline": poll.deadline,
        "closed_at": poll.closed_at,
        "closed_by": poll.closed_by,
        "result_display": poll.result_display,
    }


def poll_info(poll: Poll) -> m.PollInfo:
    return m.PollInfo(
        poll_id=poll.id,
        title=poll.title[:1000],
        kind=poll.kind if poll.kind in KINDS else "other",  # type: ignore[arg-type]
        state=poll.state,  # type: ignore[arg-type]
        uuid=poll.uuid,
        group=poll.group_name,
        last_press_valid=poll.last_press_valid,
        template=poll.template,
        rules=poll.rules or None,
    )


def poll_status(s: Session, poll: Poll) -> m.PollStatus:
    return m.PollStatus(
        id=server_id(),
        poll=poll_info(poll),
        issued=q.issued_count(s, poll.id),
        received=q.received_count(s, poll.id),
    )


def credential_request(
    poll: Poll, poll_list: st.SignedStatement | None = None
) -> m.CredentialRequest:
    assert poll.uuid is not None and poll.group_name is not None
    return m.CredentialRequest(
        id=server_id(),
        poll=poll_info(poll),
        uuid=poll.uuid,
        group=poll.group_name,
        poll_list=poll_list,
    )


def ballot_issued(poll_id: str, statement: str) -> m.BallotIssued:
    return m.BallotIssued(
        id=server_id(),
        poll_id=poll_id,
        issuance=st.SignedStatement.model_validate_json(statement),
    )


def poll_ready(poll: Poll, setup: st.SignedStatement) -> m.PollReady:
    """The poll's setup for the kiosks, with the server's signed ``poll_setup`` of it (the list
    of credentials is not sent: its Merkle root is in the statement)."""
    assert poll.uuid and poll.election and poll.trustees and poll.public_credentials
    return m.PollReady(
        id=server_id(),
        poll_id=poll.id,
        uuid=poll.uuid,
        election=poll.election,
        trustees=poll.trustees,
        last_press_valid=poll.last_press_valid,
        setup=setup,
    )


def deputy_info(d: Deputy) -> m.DeputyInfo:
    return m.DeputyInfo(
        deputy_id=d.id, name=d.name[:1000], delegation=d.delegation[:1000], seat=d.seat
    )
