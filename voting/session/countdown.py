"""The preset voting time (GB 50799 §6.2.2-4): a poll whose time runs out closes by itself.

A poll may have a voting time (``polls.duration``, seconds, set while it is a draft). When its
ballots are issued the server fixes the moment it ends (``polls.deadline``) and signs it in the
poll's setup, so every tablet counts down to the same moment the screens do. From then on:

* the ballot box refuses a ballot received at or after the deadline (voting.session.ballot_box);
* this job closes the poll at the deadline (``closed_by = timer``, audit role ``timer``), unless
  the chair closed it earlier;
* after a restart, a poll whose time ran out while the server was down is closed at once, and
  the audit log and the operator's log say so (:meth:`Countdown.recover`).

The job reads the open polls with a deadline from the database (twice a second at most, and
sleeps to the exact deadline it knows), so a restart, a second worker or a poll opened meanwhile
need nothing else: the database is the one place the deadlines live.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from voting.models import Poll
from voting.session import oplog
from voting.session.background import Background
from voting.session.closing import Closing
from voting.session.context import SessionContext, now, parse_time
from voting.session.errors import ActionError
from voting.session.states import Actor, PollState

log = logging.getLogger("renda.countdown")

LOOK = 0.5  # seconds between looks for a poll opened meanwhile


class Countdown(Background):
    def __init__(self, ctx: SessionContext, closing: Closing) -> None:
        self.ctx = ctx
        self.closing = closing

    async def deadlines(self) -> dict[str, str]:
        """Open polls with a deadline: poll id → deadline."""

        def run(s: Session) -> dict[str, str]:
            rows = s.execute(
                select(Poll.id, Poll.deadline).where(
                    Poll.state == PollState.OPEN.value, Poll.deadline.is_not(None)
                )
            ).all()
            return {pid: deadline for pid, deadline in rows if deadline is not None}

        return await self.ctx.db(run)

    async def close_due(
        self, deadlines: dict[str, str] | None = None, *, late: bool = False
    ) -> list[str]:
        """Close every open poll whose deadline has passed; the ids closed."""
        closed = []
        at = now()
        if deadlines is None:
            deadlines = await self.deadlines()
        for poll_id, deadline in sorted(deadlines.items()):
            if deadline > at:
                continue
            try:
                await self.closing.close_poll(poll_id, Actor.TIMER, late=late)
            except ActionError as exc:  # the chair closed it meanwhile, or it was withdrawn
                log.info("poll %s not closed by its time: %s", poll_id, exc.message)
                continue
            closed.append(poll_id)
        return closed

    async def recover(self) -> list[str]:
        """At start: close at once the polls whose time ran out while the server was down."""
        closed = await self.close_due(late=True)
        for poll_id in closed:
            oplog.log.warning(
                "poll %s: its voting time ran out while the server was down; closed now "
                "(服务器停机期间投票时间已到，已立即结束投票)",
                poll_id,
            )
        return closed

    async def _run(self) -> None:
        while True:
            wait = LOOK
            try:
                pending = await self.deadlines()
                for poll_id in await self.close_due(pending):
                    del pending[poll_id]
                if pending:
                    first = min(parse_time(d) for d in pending.values())
                    wait = min(LOOK, max(0.0, (first - datetime.now(UTC)).total_seconds()))
            except Exception:  # the countdown must never stop the server
                log.exception("countdown failed")
            await asyncio.sleep(wait)
