"""The scrutineers sign each tallied poll's count report (计票结果报告单, npc-rules §8.3).

Once a poll is tallied, every connected scrutineer that has not signed gets a
``report_request`` with the exact report text (tally.report_signatures); a scrutineer that
connects later gets it then. A ``report_signature`` is checked against the verification key of
the scrutineer's certificate in the poll's trustees before it is stored; a bad one is refused
with ``invalid_report_signature`` and nothing is stored. Publication never waits for them.
"""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tally import messages as m
from tally.errors import RecordError
from tally.report_signatures import (
    count_report,
    report_text,
    scrutineer_keys,
    signatures_needed,
    verify_report_signature,
)
from tally.trustees import parse_trustees
from voting.hub import server_id
from voting.models import Poll, ReportSignatureRow, Staff
from voting.tallying import check_trustee

if TYPE_CHECKING:
    from voting.service import Principal, SessionService

SIGNABLE = ("tallied", "published")


def poll_report_text(session: str, poll: Poll) -> str | None:
    """The count report text of a tallied or published poll (None before)."""
    if poll.state not in SIGNABLE or not (poll.result and poll.uuid):
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


def _signatures(s: Session, poll_id: str) -> list[ReportSignatureRow]:
    return list(
        s.scalars(
            select(ReportSignatureRow)
            .where(ReportSignatureRow.poll_id == poll_id)
            .order_by(ReportSignatureRow.trustee_id)
        )
    )


def report_json(service: SessionService, s: Session, poll: Poll) -> dict[str, Any] | None:
    """What the outcome shows: the report text, the signatures in, how many are needed and
    whether they are all in (``complete``). None before the tally."""
    text = poll_report_text(service.session_name, poll)
    if text is None or not poll.trustees:
        return None
    rows = _signatures(s, poll.id)
    needed = signatures_needed(parse_trustees(service.group, poll.trustees))
    return {
        "text": text,
        "signatures": [
            {"trustee_id": r.trustee_id, "signature": json.loads(r.signature)} for r in rows
        ],
        "needed": needed,
        "complete": len(rows) >= needed,
    }


async def request_signatures(
    service: SessionService, poll_id: str | None = None, index: int | None = None
) -> None:
    """Ask connected scrutineers (or the one ``index``) to sign the count reports still
    missing their signature (of one poll, or of every tallied or published poll)."""

    def run(s: Session) -> list[tuple[str, str, set[int]]]:
        query = select(Poll).where(Poll.state.in_(SIGNABLE))
        if poll_id is not None:
            query = query.where(Poll.id == poll_id)
        out = []
        for poll in s.scalars(query):
            text = poll_report_text(service.session_name, poll)
            if text is not None:
                have = {r.trustee_id for r in _signatures(s, poll.id)}
                out.append((poll.id, text, have))
        return out

    def staff(s: Session) -> list[int]:
        return [
            st.trustee_index
            for st in s.scalars(select(Staff).where(Staff.role == "scrutineer"))
            if st.trustee_index is not None
        ]

    polls = await service.db(run)
    if not polls:
        return
    indices = await service.db(staff)
    for pid, text, have in polls:
        for trustee_index in indices:
            trustee_id = trustee_index + 1  # the server's own key is trustee 1
            if (index is not None and trustee_index != index) or trustee_id in have:
                continue
            if trustee_index not in service.hub.trustees:
                continue
            await service.hub.to_trustee(
                trustee_index,
                m.ReportRequest(id=server_id(), poll_id=pid, report=text, trustee_id=trustee_id),
            )


async def receive_signature(
    service: SessionService, principal: Principal, msg: m.ReportSignature
) -> None:
    from voting.service import ActionError, now
    from voting.upsert import insert_ignore

    check_trustee(principal, msg.trustee_id)
    poll = await service.db(lambda s: s.get(Poll, msg.poll_id))
    if poll is None:
        raise ActionError(m.ErrorCode.POLL_NOT_FOUND, f"no poll {msg.poll_id!r}")
    text = poll_report_text(service.session_name, poll)
    if text is None or not poll.trustees:
        raise ActionError(
            m.ErrorCode.POLL_NOT_OPEN, f"poll {poll.id} has no count report to sign yet"
        )
    trustees_raw = poll.trustees

    def check() -> None:
        keys = scrutineer_keys(service.group, parse_trustees(service.group, trustees_raw))
        verify_report_signature(service.group, keys, text, msg.trustee_id, msg.signature)

    try:
        await asyncio.to_thread(check)
    except RecordError as exc:
        raise ActionError(m.ErrorCode.INVALID_REPORT_SIGNATURE, str(exc)[:500]) from None
    signature = json.dumps(json.loads(msg.signature), separators=(",", ":"))

    def store(s: Session) -> None:
        insert_ignore(
            s,
            ReportSignatureRow,
            {
                "poll_id": poll.id,
                "trustee_id": msg.trustee_id,
                "signature": signature,
                "signed_at": now(),
            },
            ["poll_id", "trustee_id"],
        )
        service.audit(s, "scrutineer", "report_signed", f"{poll.id} trustee {msg.trustee_id}")

    await service.db(store)
