"""The session: one façade that builds the shared context and the session's jobs, starts and
stops them, and routes what a connection asks to the job that does it.

The jobs, one module each, over one :class:`~voting.session.context.SessionContext`; each
imports only those before it::

    states, errors            enums, transitions, the refusal (pure)
    background                start / stop of a job that runs in the loop's background
    context                   database, audit log, keys, hub, runtimes, pool, locks
    queries, views            repeated queries; rows → JSON and protocol messages
    staff                     tokens and roles, the scrutineers
    polls                     poll rows and their guarded transitions
    live                      status to displays, welcome to kiosks
    attendance                roster, enrolment, attendance, kiosk hello
    ballot_box                cast, store, archive sync, receipts, recovery after restart
    issuance                  open → collect credentials → issue (the no-link rule)
    ceremony                  the scrutineers' key ceremony
    signing                   count-report signatures
    tallying                  end ballots → shuffles → partial decryptions → result → outcome
    closing                   close, publish, withdraw, void, re-run
    manual                    a poll counted by show of hands or on paper (devices failed)
    display                   the hall's and the presidium's screens: snapshots of their view
    countdown                 the preset voting time: a poll closes by itself at its deadline
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from keys.group import Group
from tally.record_files import archive_name
from tally.session_groups import SessionGroups
from voting.config import ServerConfig
from voting.models import Poll
from voting.session import oplog, record
from voting.session.attendance import Attendance
from voting.session.ballot_box import BallotBox
from voting.session.ceremony import KeyCeremony
from voting.session.closing import Closing
from voting.session.context import SessionContext
from voting.session.countdown import Countdown
from voting.session.display import DisplayFeed, View
from voting.session.errors import ActionError, Code
from voting.session.hub import Connection, Hub
from voting.session.issuance import Issuing
from voting.session.live import Live
from voting.session.manual import ManualCounts
from voting.session.polls import Polls
from voting.session.setups import PollSetups
from voting.session.signing import ReportSigning
from voting.session.staff import Principal, StaffJob, require
from voting.session.states import RECORDED, PollState, Role
from voting.session.tally_jobs import warm_up
from voting.session.tallying import Tallying

T = TypeVar("T")


class SessionService:
    def __init__(self, config: ServerConfig) -> None:
        self.ctx = ctx = SessionContext(config)
        self.staff = StaffJob(ctx)
        self.polls = Polls(ctx)
        self.setups = PollSetups(ctx)
        self.live = Live(ctx, self.setups)
        self.attendance = Attendance(ctx, self.live)
        self.ballot_box = BallotBox(ctx, self.live)
        self.issuance = Issuing(ctx, self.polls, self.ballot_box, self.live)
        self.ceremony = KeyCeremony(ctx)
        self.signing = ReportSigning(ctx)
        self.tallying = Tallying(ctx, self.polls, self.ballot_box, self.live, self.signing)
        self.closing = Closing(ctx, self.polls, self.live, self.tallying)
        self.manual = ManualCounts(ctx, self.polls, self.live, self.signing)
        self.display = DisplayFeed(ctx)
        self.countdown = Countdown(ctx, self.closing)

    # -- the session's identity (also what voting.session.record reads) -----------------

    @property
    def config(self) -> ServerConfig:
        return self.ctx.config

    @property
    def group(self) -> Group:
        return self.ctx.group

    @property
    def groups(self) -> SessionGroups:
        return self.ctx.groups

    @property
    def hub(self) -> Hub:
        return self.ctx.hub

    @property
    def pool(self) -> ProcessPoolExecutor | None:
        return self.ctx.pool

    @property
    def engine(self) -> Engine:
        return self.ctx.engine

    @property
    def server_public_key(self) -> str:
        return self.ctx.server_public_key

    @property
    def server_key(self) -> Any:
        return self.ctx.server_key

    @property
    def session_name(self) -> str:
        return self.ctx.session_name

    def session_info(self) -> dict[str, Any]:
        return self.ctx.session_info()

    def archive_path(self, poll_id: str) -> Path:
        return self.ctx.archive_path(poll_id)

    @property
    def poll_lists(self) -> Any:
        """The server's signed list of polls (voting.session.poll_lists.PollLists)."""
        return self.ctx.poll_lists

    def poll_setup(self, poll: Poll) -> dict[str, Any]:
        """The poll's signed ``poll_setup`` statement, as JSON (for the record)."""
        return self.setups.of(poll).statement.model_dump()

    async def db(self, fn: Callable[[Session], T]) -> T:
        return await self.ctx.db(fn)

    # -- start and stop -----------------------------------------------------------------------

    async def startup(self) -> None:
        ctx = self.ctx
        if ctx.config.workers > 0:
            ctx.pool = ProcessPoolExecutor(
                ctx.config.workers,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=warm_up,
                initargs=(os.getpid(),),
            )
        await ctx.db(self.ballot_box.recover)
        await self.ceremony.recover()
        for poll_id in list(ctx.runtimes):
            poll = await self.polls.row(poll_id)
            if poll is not None and poll.state == PollState.CLOSED:
                self.tallying.start(poll_id)
        await self.countdown.recover()  # a time that ran out while the server was down
        self.countdown.start()
        self.display.start()
        att = await self.live.attendance()
        oplog.log.info(
            "session %r started (会议服务器已启动): %d deputies on the roster, %d present, "
            "%d poll(s) in progress, group %s",
            ctx.session_name,
            att.total,
            att.present,
            len(ctx.runtimes),
            " and ".join(g.name for g in ctx.groups.all),
        )

    async def shutdown(self) -> None:
        ctx = self.ctx
        await self.countdown.stop()
        await self.display.stop()
        for task in list(ctx.tasks):
            task.cancel()
        for rt in ctx.runtimes.values():
            rt.close()
        if ctx.pool:  # wait for the workers: none may outlive the server (nor a test run)
            pool, ctx.pool = ctx.pool, None
            await asyncio.to_thread(pool.shutdown, wait=True, cancel_futures=True)
        ctx.stop_threads()
        ctx.engine.dispose()

    # -- who is asking --------------------------------------------------------------------------

    def authenticate(self, token: str | None) -> Principal:
        return self.staff.authenticate(token)

    @staticmethod
    def require(principal: Principal, *roles: Role) -> None:
        require(principal, *roles)

    # -- connections ----------------------------------------------------------------------------

    async def kiosk_connected(self, conn: Connection, reply_to: str | None) -> None:
        self.hub.add(conn)
        await self.live.welcome(conn, reply_to)

    async def trustee_connected(self, conn: Connection, index: int) -> None:
        """A scrutineer connected: its pending ceremony step, shuffles, decryptions and
        count reports to sign."""
        self.hub.add(conn)
        oplog.log.info(
            "scrutineer %d connected (监票人已连接); %d scrutineer(s) connected",
            index,
            len(self.hub.trustees),
        )
        await self.ceremony.resend(index)
        await self.tallying.pending_for_trustee(index)
        await self.signing.request_signatures(index=index)

    def trustee_left(self, conn: Connection, index: int | None) -> None:
        self.hub.remove(conn)
        if index is not None:
            oplog.log.info("scrutineer %d disconnected (监票人已断开)", index)
        if index not in self.hub.trustees:  # the next one shuffles instead
            self.ctx.spawn(self.tallying.next_shufflers())

    async def display_connected(self, conn: Connection, view: View) -> None:
        """A screen joined: its attendance figures, then the whole state of its view."""
        conn.view = view.value
        self.hub.add(conn)
        await conn.send((await self.live.attendance()).message())
        await conn.send(await self.display.snapshot(view))

    def disconnected(self, conn: Connection) -> None:
        self.hub.remove(conn)

    # -- the public record ----------------------------------------------------------------------

    async def public_index(self) -> dict[str, Any]:
        return await record.public_index(self)

    async def record_data(self) -> dict[str, Any]:
        return await record.record_data(self)

    async def archive_file(self, poll_id: str, name: str) -> Path:
        """The archive of a closed, tallied, published or void poll, named ``<uuid>.bel``."""
        info = await self.polls.get(poll_id)
        if info["state"] not in RECORDED or name != archive_name(info["uuid"]):
            raise ActionError(Code.NOT_FOUND, "no such record file", 404)
        return self.archive_path(poll_id)


__all__ = ["ActionError", "Principal", "SessionService"]
