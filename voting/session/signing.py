"""The scrutineers sign each tallied poll's count report (计票结果报告单, law §8.3).

Once a poll is tallied, every connected scrutineer that has not signed gets a
``report_request`` with the exact report text (tally.report_signatures); a scrutineer that
connects later gets it then. A ``report_signature`` is checked against the verification key of
the scrutineer's certificate in the poll's trustees before it is stored; a bad one is refused
with ``invalid_report_signature`` and nothing is stored. Publication never waits for them.
"""

from __future__ import annotations

import asyncio
import json

from sqlalchemy import select
from sqlalchemy.orm import Session

from tally import messages as m
from tally.errors import RecordError
from tally.report_signatures import scrutineer_keys, verify_report_signature
from tally.trustees import parse_trustees
from voting.models import Poll, ReportSignatureRow
from voting.session import queries as q
from voting.session.context import SessionContext, now
from voting.session.errors import ActionError
from voting.session.hub import server_id
from voting.session.staff import Principal, check_trustee
from voting.session.states import COUNTED, Role
from voting.session.upsert import insert_ignore
from voting.session.views import poll_report_text


class ReportSigning:
    def __init__(self, ctx: SessionContext) -> None:
        self.ctx = ctx

    async def request_signatures(
        self, poll_id: str | None = None, index: int | None = None
    ) -> None:
        """Ask connected scrutineers (or the one ``index``) to sign the count reports still
        missing their signature (of one poll, or of every tallied or published poll)."""
        session = self.ctx.session_name

        def run(s: Session) -> list[tuple[str, str, set[int], str | None]]:
            query = select(Poll).where(Poll.state.in_([x.value for x in COUNTED]))
            if poll_id is not None:
                query = query.where(Poll.id == poll_id)
            out = []
            for poll in s.scalars(query):
                text = poll_report_text(session, poll)
                if text is not None:
                    have = {r.trustee_id for r in q.report_signatures(s, poll.id)}
                    out.append((poll.id, text, have, poll.rules))
            return out

        def roster(s: Session) -> list[str]:
            from voting.models import Deputy

            seats = s.scalars(select(Deputy.seat)).all()
            return sorted((str(int(x)) for x in seats if x.isascii() and x.isdigit()), key=int)

        polls = await self.ctx.db(run)
        if not polls:
            return
        indices = await self.ctx.db(q.scrutineer_indices)
        numbers = await self.ctx.db(roster)  # for the scrutineer's re-run of the rules
        hub = self.ctx.hub
        for pid, text, have, rules in polls:
            for trustee_index in indices:
                trustee_id = trustee_index + 1  # the server's own key is trustee 1
                if (index is not None and trustee_index != index) or trustee_id in have:
                    continue
                if trustee_index not in hub.trustees:
                    continue
                await hub.to_trustee(
                    trustee_index,
                    m.ReportRequest(
                        id=server_id(),
                        poll_id=pid,
                        report=text,
                        trustee_id=trustee_id,
                        rules=rules,
                        roster=numbers,
                    ),
                )

    async def receive_signature(self, principal: Principal, msg: m.ReportSignature) -> None:
        ctx = self.ctx
        check_trustee(principal, msg.trustee_id)
        poll = await ctx.db(lambda s: q.poll(s, msg.poll_id))
        text = poll_report_text(ctx.session_name, poll)
        if text is None or not poll.trustees:
            raise ActionError(
                m.ErrorCode.POLL_NOT_OPEN, f"poll {poll.id} has no count report to sign yet"
            )
        trustees_raw = poll.trustees
        group = ctx.poll_group(poll)

        def check() -> None:
            keys = scrutineer_keys(group, parse_trustees(group, trustees_raw))
            verify_report_signature(group, keys, text, msg.trustee_id, msg.signature)

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
            ctx.audit(s, Role.SCRUTINEER, "report_signed", f"{poll.id} trustee {msg.trustee_id}")

        await ctx.db(store)
