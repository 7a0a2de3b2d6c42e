"""Closing, publishing, withdrawing (撤回), voiding and re-running (重新选举) a poll."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from sqlalchemy.orm import Session

from keys.hashing import sha256_hex
from tally import messages as m
from tally import statements as st
from voting.models import Poll
from voting.session import queries as q
from voting.session.context import SessionContext, now
from voting.session.errors import ActionError, Code
from voting.session.hub import server_id
from voting.session.live import Live
from voting.session.polls import Polls, transition
from voting.session.states import Actor, ClosedBy, PollAction, PollState, can_rerun
from voting.session.tallying import Tallying


def closing_of(poll: Poll) -> dict[str, Any] | None:
    """How the poll's voting ended, as the record and the signed result say it: ``by``
    (chair | timer), ``at``, and its preset time (``duration`` seconds, ``deadline``)."""
    if poll.closed_at is None:
        return None
    return {
        "by": poll.closed_by or ClosedBy.CHAIR.value,
        "at": poll.closed_at,
        "duration": poll.duration,
        "deadline": poll.deadline,
    }


class Closing:
    def __init__(self, ctx: SessionContext, polls: Polls, live: Live, tallying: Tallying) -> None:
        self.ctx = ctx
        self.polls = polls
        self.live = live
        self.tallying = tallying

    async def close_poll(self, poll_id: str, role: str, *, late: bool = False) -> dict[str, Any]:
        """End of voting: no ballot is accepted after this; the tally starts. ``role`` is who
        closed it — a person (the chair or the secretariat) or ``Actor.TIMER`` when the preset
        voting time ran out (``late``: it ran out while the server was down)."""
        ctx = self.ctx
        rt = ctx.runtimes.get(poll_id)
        lock = rt.lock if rt else asyncio.Lock()
        async with lock:

            def run(s: Session) -> Poll:
                poll = q.poll(s, poll_id)
                at = now()
                # once the time has run out, the poll closed by its time whoever presses
                timer = role == Actor.TIMER or (poll.deadline is not None and at >= poll.deadline)
                by = ClosedBy.TIMER if timer else ClosedBy.CHAIR
                transition(s, poll, PollAction.CLOSE, closed_at=at, closed_by=by.value)
                detail = poll_id
                if timer:
                    detail += f" by its preset time (预设投票时间到, {poll.deadline})"
                if late:
                    detail += (
                        "; the time ran out while the server was down, closed at restart "
                        "(服务器停机期间投票时间已到，重启后立即结束)"
                    )
                ctx.audit(s, role, "poll_close", detail)
                return poll

            await ctx.db(run)
        await ctx.hub.to_all_kiosks(
            lambda: m.PollClosed(
                id=server_id(),
                poll_id=poll_id,
                state=PollState.CLOSED.value,
                poll_list=ctx.poll_lists.current(),
            )
        )
        await self.live.status_to_displays(poll_id)
        self.tallying.start(poll_id)
        return await self.polls.get(poll_id)

    async def publish(self, poll_id: str, role: str) -> dict[str, Any]:
        ctx = self.ctx

        def run(s: Session) -> Poll:
            poll = q.poll(s, poll_id)
            if poll.state != PollState.TALLIED:
                raise ActionError(
                    Code.BAD_STATE, f"cannot publish a poll that is {poll.state}", 409
                )
            stmt = st.make_statement(
                ctx.server_key,
                st.RESULT,
                session=ctx.session_name,
                poll_id=poll.id,
                uuid=poll.uuid,
                result_hash=sha256_hex(poll.result) if poll.result else None,
                counts=json.loads(poll.counts or "null"),
                outcome=json.loads(poll.outcome or "null"),
                closing=closing_of(poll),
            )
            transition(s, poll, PollAction.PUBLISH, statement=stmt.model_dump_json())
            ctx.audit(s, role, "poll_publish", poll_id)
            return poll

        poll = await ctx.db(run)
        assert poll.statement
        stmt = st.SignedStatement.model_validate_json(poll.statement)
        await ctx.hub.to_all_kiosks(
            lambda: m.ResultMsg(
                id=server_id(), poll_id=poll_id, statement=stmt, poll_list=ctx.poll_lists.current()
            )
        )
        await ctx.hub.to_displays(
            lambda: m.ResultMsg(id=server_id(), poll_id=poll_id, statement=stmt)
        )
        return await self.polls.get(poll_id)

    async def withdraw(self, poll_id: str, role: str) -> dict[str, Any]:
        return await self._stop(poll_id, PollAction.WITHDRAW, role)

    async def void(self, poll_id: str, role: str) -> dict[str, Any]:
        return await self._stop(poll_id, PollAction.VOID, role)

    async def _stop(self, poll_id: str, action: PollAction, role: str) -> dict[str, Any]:
        ctx = self.ctx
        rt = ctx.runtimes.get(poll_id)
        lock = rt.lock if rt else asyncio.Lock()
        async with lock:

            def run(s: Session) -> None:
                poll = q.poll(s, poll_id)
                transition(s, poll, action)
                ctx.audit(s, role, f"poll_{action.value}", poll_id)

            await ctx.db(run)
            if rt is not None:
                rt.collected = {}
                rt.close()
                ctx.runtimes.pop(poll_id, None)
        state = PollState.WITHDRAWN if action == PollAction.WITHDRAW else PollState.VOID
        await ctx.hub.to_all_kiosks(
            lambda: m.PollClosed(
                id=server_id(),
                poll_id=poll_id,
                state=state.value,
                poll_list=ctx.poll_lists.current(),
            )
        )
        await self.live.status_to_displays(poll_id)
        return await self.polls.get(poll_id)

    async def rerun(self, poll_id: str, role: str) -> dict[str, Any]:
        """A void or withdrawn poll again, as a new draft linked to it (``rerun``)."""
        poll = await self.polls.row(poll_id)
        if not can_rerun(poll.state):
            raise ActionError(
                Code.BAD_STATE, f"only a void or withdrawn poll is re-run, not {poll.state}", 409
            )
        return await self.polls.create(
            poll.title,
            poll.kind,
            json.loads(poll.template),
            json.loads(poll.rules) if poll.rules else None,
            poll.last_press_valid,
            parent_id=poll.id,
            relation="rerun",
        )
