"""Live status: what the displays (attendance, 已投 counts) and the kiosks (welcome, the
polls they may act on) are sent as things change. Only counts, never partial results."""

from __future__ import annotations

import asyncio

from sqlalchemy import select
from sqlalchemy.orm import Session

from tally import messages as m
from tally import statements as st
from voting.models import Deputy, Issuance, Poll
from voting.session import queries as q
from voting.session import views
from voting.session.context import SessionContext
from voting.session.hub import Connection, server_id
from voting.session.setups import PollSetups
from voting.session.states import PollState, Presence


class Live:
    def __init__(self, ctx: SessionContext, setups: PollSetups) -> None:
        self.ctx = ctx
        self.setups = setups
        self._status_pending: set[str] = set()

    # -- displays ---------------------------------------------------------------------------

    async def attendance(self) -> views.Attendance:
        return views.Attendance.of(await self.ctx.db(q.attendance_counts))

    async def attendance_to_displays(self) -> views.Attendance:
        att = await self.attendance()
        await self.ctx.hub.to_displays(att.message)
        return att

    def status_soon(self, poll_id: str, delay: float = 0.25) -> None:
        """Coalesce the screens' 已投 updates while many ballots arrive (one per ``delay``)."""
        if not self.ctx.hub.displays or poll_id in self._status_pending:
            return
        self._status_pending.add(poll_id)

        async def later() -> None:
            await asyncio.sleep(delay)
            self._status_pending.discard(poll_id)
            await self.status_to_displays(poll_id)

        self.ctx.spawn(later())

    async def status_to_displays(self, poll_id: str) -> None:
        if not self.ctx.hub.displays:
            return
        status = await self.ctx.db(lambda s: views.poll_status(s, q.poll(s, poll_id, light=True)))
        await self.ctx.hub.to_displays(lambda: status)

    # -- kiosks -----------------------------------------------------------------------------

    async def welcome(self, conn: Connection, reply_to: str | None = None) -> None:
        """The kiosk's welcome (deputy, presence, polls), then what it may act on now: a
        credential request for a collecting poll, its ballot for an open one, and the signed
        result of every published poll it was issued a ballot for (it may have been away when
        the result was sent)."""
        deputy_id = conn.deputy_id
        assert deputy_id is not None

        def run(s: Session) -> tuple[Deputy, list[Poll], dict[str, str]]:
            deputy = s.get(Deputy, deputy_id)
            assert deputy is not None
            issued = dict(
                s.execute(
                    select(Issuance.poll_id, Issuance.statement).where(
                        Issuance.deputy_id == deputy_id
                    )
                ).all()
            )
            polls = q.polls_in_order(s, light=True)  # not 2 MB of credentials a connection
            for p in polls:  # the poll_ready of an open poll: made once, here in the session
                if p.state == PollState.OPEN and p.id in issued:
                    self.setups.of(p)
            return deputy, polls, issued

        deputy, polls, issued = await self.ctx.db(run, kiosk=True)  # not the staff's threads
        await conn.send(
            m.Welcome(
                id=server_id(),
                reply_to=reply_to,
                deputy=views.deputy_info(deputy),
                present=deputy.attendance == Presence.PRESENT,
                session=self.ctx.session_name[:1000],
                polls=[views.poll_info(p) for p in polls],
                poll_list=self.ctx.poll_lists.current(),
            )
        )
        for poll in polls:
            rt = self.ctx.runtimes.get(poll.id)
            if (
                poll.state == PollState.COLLECTING
                and rt is not None
                and deputy_id in rt.voters
                and deputy_id not in rt.collected
            ):
                await conn.send(views.credential_request(poll, self.ctx.poll_lists.current()))
            elif poll.state == PollState.OPEN and poll.id in issued:
                await conn.send(views.ballot_issued(poll.id, issued[poll.id]))
                await conn.send(self.setups.ready(poll))
            elif poll.state == PollState.PUBLISHED and poll.id in issued and poll.statement:
                # a kiosk that was away at publication gets the signed result now
                await conn.send(
                    m.ResultMsg(
                        id=server_id(),
                        poll_id=poll.id,
                        statement=st.SignedStatement.model_validate_json(poll.statement),
                        poll_list=self.ctx.poll_lists.current(),
                    )
                )

    async def presence_changed(self, deputy_id: int) -> None:
        """The deputy's kiosks are welcomed again (present or not, what they may do now)."""
        for conn in list(self.ctx.hub.kiosks.get(deputy_id, ())):
            await self.welcome(conn)
