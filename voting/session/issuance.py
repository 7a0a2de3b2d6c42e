"""Issuance: open a poll (freeze its voters, write its election), collect the kiosks' public
credentials, then issue every voter a signed ballot statement.

The no-link rule lives here. No row, log line or file written here links a deputy to a
credential: while a poll collects credentials the deputy → credential map lives in memory only
(``PollRuntime.collected``), and when collection ends the issuances (by deputy) and the
credentials (sorted by value, in one statement) are inserted separately.
"""

from __future__ import annotations

import asyncio
import json
import logging
from functools import partial
from typing import Any

from gmpy2 import mpz
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from tally import messages as m
from tally import statements as st
from tally.archive import ArchiveWriter
from tally.credentials import PublicCredential, serialize_public_credentials
from tally.election import generate_uuid, make_election
from tally.trustees import combined_public_key, parse_trustees
from voting.models import Credential, Deputy, Issuance, Poll, Voter
from voting.session import queries as q
from voting.session import views
from voting.session.ballot_box import BallotBox
from voting.session.checker import check_credential
from voting.session.context import PollRuntime, SessionContext, now, seconds_after
from voting.session.errors import ActionError, Code
from voting.session.hub import Connection
from voting.session.live import Live
from voting.session.polls import Polls, check_countable_poll, transition
from voting.session.states import (
    ACCEPTS_CREDENTIALS,
    Actor,
    PollAction,
    PollState,
    Presence,
)

log = logging.getLogger("renda.server")


class Issuing:
    def __init__(self, ctx: SessionContext, polls: Polls, box: BallotBox, live: Live) -> None:
        self.ctx = ctx
        self.polls = polls
        self.box = box
        self.live = live

    async def open_poll(self, poll_id: str, role: str) -> dict[str, Any]:
        ctx = self.ctx

        def run(s: Session) -> tuple[dict[str, Any], list[int], Poll, list[str]]:
            poll = q.poll(s, poll_id)
            if poll.state != PollState.DRAFT:
                raise ActionError(Code.BAD_STATE, f"cannot open a poll that is {poll.state}", 409)
            # the group its questions need (tally.session_groups), and that group's trustees
            group = ctx.groups.for_template(json.loads(poll.template))
            trustees_raw = q.trustees_raw(s, ctx.groups.key("trustees", group), group.name)
            total = q.deputies_total(s)
            # a poll that cannot be counted is never opened (checked at save, again here)
            check_countable_poll(
                json.loads(poll.template),
                json.loads(poll.rules) if poll.rules else None,
                total,
                opening=True,  # a ranking (form C) is held on paper only
            )
            voters = list(
                s.scalars(
                    select(Deputy.id)
                    .where(Deputy.attendance == Presence.PRESENT.value, Deputy.code_used.is_(True))
                    .order_by(Deputy.id)
                )
            )
            present = q.present_count(s)
            if total == 0 or present * 3 < total * 2:
                raise ActionError(
                    Code.NO_QUORUM, f"no quorum: {present} present of {total} deputies", 409
                )
            if not voters:
                raise ActionError(Code.NO_VOTERS, "no present deputy has an enrolled tablet", 409)
            trustees = parse_trustees(group, trustees_raw)
            uuid = generate_uuid()
            election = make_election(
                json.loads(poll.template),
                uuid=uuid,
                group=group,
                public_key=combined_public_key(group, trustees),
            )
            transition(
                s,
                poll,
                PollAction.OPEN,
                uuid=uuid,
                group_name=group.name,
                election=election.raw,
                trustees=trustees_raw,
                opened_at=now(),
            )
            s.add_all([Voter(poll_id=poll.id, deputy_id=d) for d in voters])
            # 实到 is every deputy checked in; the count uses the figure this check used
            q.set_opening_present(s, poll.id, present)
            without = q.present_without_tablet(s)
            ctx.audit(
                s,
                role,
                "poll_open",
                f"{poll.id}: {present} present, {len(voters)} voters"
                + (f", {len(without)} present without a tablet" if without else ""),
            )
            return views.poll_json(ctx, s, poll), voters, poll, without

        out, voters, poll, without = await ctx.db(run)
        unreachable = [d for d in voters if not ctx.hub.kiosks.get(d)]
        warnings = opening_warnings(without, len(unreachable))
        if warnings:
            out = dict(out, warnings=warnings)
            for w in warnings:
                log.warning("poll %s: %s", poll_id, w)
        rt = PollRuntime(poll_id, voters=set(voters))
        ctx.runtimes[poll_id] = rt
        if ctx.config.collect_timeout > 0:
            rt.timer = asyncio.get_running_loop().call_later(
                ctx.config.collect_timeout, lambda: ctx.spawn(self._collect_timeout(poll_id))
            )
        # the same request for every voter: made and dumped once
        request = m.dump(views.credential_request(poll, ctx.poll_lists.current()))

        async def ask(deputy_id: int) -> None:
            await ctx.hub.to_deputy(deputy_id, request)

        await ctx.hub.to_many_deputies(ask, voters)
        await self.live.status_to_displays(poll_id)
        return out

    async def _collect_timeout(self, poll_id: str) -> None:
        rt = self.ctx.runtimes.get(poll_id)
        if rt is not None and rt.collected:
            try:
                await self.finish_collection(poll_id, Actor.TIMER)
            except ActionError as exc:
                log.warning("collection of %s: %s", poll_id, exc.message)

    async def receive_credential(
        self, conn: Connection, msg: m.CredentialMsg, device_key: str
    ) -> None:
        ctx = self.ctx
        rt = ctx.runtimes.get(msg.poll_id)
        poll = await ctx.db(lambda s: q.poll(s, msg.poll_id), kiosk=True)
        if poll.state not in ACCEPTS_CREDENTIALS or rt is None:
            raise ActionError(m.ErrorCode.POLL_NOT_OPEN, f"poll {poll.id} is {poll.state}")
        if msg.uuid != poll.uuid:
            raise ActionError(m.ErrorCode.WRONG_POLL, "the uuid is not this poll's election uuid")
        assert conn.deputy_id is not None
        if conn.deputy_id not in rt.voters:
            raise ActionError(
                m.ErrorCode.NOT_ELIGIBLE, "this deputy was not present when the poll opened"
            )
        refused = await ctx.compute(  # signature and group membership, in the pool
            check_credential,
            ctx.poll_group(poll).name,
            ctx.config.allow_test_group,
            device_key,
            msg.poll_id,
            msg.uuid,
            msg.public_credential,
            msg.signature,
        )
        if refused is not None:
            raise ActionError(*refused)
        async with rt.lock:
            if poll.id not in ctx.runtimes or ctx.runtimes[poll.id] is not rt or rt.credentials:
                raise ActionError(m.ErrorCode.POLL_NOT_OPEN, "credential collection has ended")
            previous = rt.collected.get(conn.deputy_id)
            if previous is not None and previous != msg.public_credential:
                raise ActionError(
                    m.ErrorCode.ALREADY_SENT,
                    "a different credential was already sent for this poll",
                )
            if previous is None and msg.public_credential in rt.collected.values():
                raise ActionError(m.ErrorCode.BAD_MESSAGE, "this public credential is already used")
            rt.collected[conn.deputy_id] = msg.public_credential
            complete = set(rt.collected) >= rt.voters
        if complete:
            await self.finish_collection(poll.id, Actor.COMPLETE)

    async def proof(self, msg: m.ProofRequest) -> m.CredentialProof:
        """The inclusion proof of a public credential in a started poll's list (the poll's
        row without its credentials once its tree is made: 3,000 requests, not 3,000 × 2 MB)."""
        poll = await self.ctx.db(lambda s: q.poll(s, msg.poll_id, light=True), kiosk=True)
        if not self.live.setups.has(poll):
            poll = await self.polls.row(msg.poll_id)
        return self.live.setups.proof(poll, msg)

    async def finish_collection(self, poll_id: str, role: str) -> dict[str, Any]:
        """End collection: the archive's setup, the credentials (sorted, unlinked) and the
        signed issuance statements (by seat) stored, then each voter sent its ballot."""
        ctx = self.ctx
        rt = ctx.runtimes.get(poll_id)
        if rt is None:
            poll = await self.polls.row(poll_id)
            raise ActionError(Code.BAD_STATE, f"the poll is {poll.state}, not collecting", 409)
        async with rt.lock:
            if rt.credentials:
                return await self.polls.get(poll_id)
            if not rt.collected:
                raise ActionError(Code.NO_CREDENTIALS, "no kiosk has sent a credential yet", 409)
            if rt.timer:
                rt.timer.cancel()
            collected = rt.collected
            rt.collected = {}
            credentials = sorted(collected.values(), key=mpz)
            issued = sorted(collected)
            del collected
            public_raw = serialize_public_credentials(
                [PublicCredential(mpz(c), 1) for c in credentials]
            )
            poll0 = await self.polls.row(poll_id)
            assert poll0.election and poll0.trustees
            path = ctx.archive_path(poll_id)
            self.box.discard_archive(poll_id)
            writer = await asyncio.to_thread(
                partial(ArchiveWriter.create, path, sync=ctx.config.archive_sync)
            )
            await asyncio.to_thread(writer.add_setup, poll0.election, poll0.trustees, public_raw)
            issued_at = now()

            def run(s: Session) -> tuple[Poll, dict[int, str]]:
                poll = q.poll(s, poll_id)
                # the preset voting time runs from the issue of the ballots (GB 50799 §6.2.2-4)
                deadline = seconds_after(issued_at, poll.duration) if poll.duration else None
                transition(
                    s, poll, PollAction.START, public_credentials=public_raw, deadline=deadline
                )
                # credentials sorted by value, in one statement; nothing names a deputy
                s.execute(
                    insert(Credential),
                    [{"poll_id": poll_id, "credential": c} for c in credentials],
                )
                seats = dict(
                    s.execute(select(Deputy.id, Deputy.seat).where(Deputy.id.in_(issued))).all()
                )
                statements: dict[int, str] = {}
                rows = []
                for deputy_id in issued:
                    stmt = st.make_statement(
                        ctx.server_key,
                        st.BALLOT_ISSUED,
                        session=ctx.session_name,
                        poll_id=poll_id,
                        uuid=poll.uuid,
                        seat=seats[deputy_id],
                        issued_at=issued_at,
                    ).model_dump_json()
                    statements[deputy_id] = stmt
                    rows.append(
                        {
                            "poll_id": poll_id,
                            "deputy_id": deputy_id,
                            "seat": seats[deputy_id],
                            "issued_at": issued_at,
                            "statement": stmt,
                        }
                    )
                s.execute(insert(Issuance), rows)
                ctx.audit(
                    s,
                    role,
                    "poll_start",
                    f"{poll_id}: {len(rows)} ballots issued"
                    + (f", voting ends at {deadline} ({poll.duration} s)" if deadline else ""),
                )
                return poll, statements

            try:
                poll, statements = await ctx.db(run)
            except BaseException:
                writer.close()
                self.box.discard_archive(poll_id)
                raise
            rt.writer = writer
            rt.credentials = set(credentials)
        # signed once, and dumped once: the same frame for every kiosk (3,000 × its JSON was
        # the event loop's largest cost when the ballots were issued)
        ready = m.dump(self.live.setups.ready(poll))

        async def issue(deputy_id: int) -> None:
            await ctx.hub.to_deputy(deputy_id, views.ballot_issued(poll_id, statements[deputy_id]))
            await ctx.hub.to_deputy(deputy_id, ready)

        # all at once: a slow tablet does not hold up the others
        await ctx.hub.to_many_deputies(issue, list(statements))
        await self.live.status_to_displays(poll_id)
        return await self.polls.get(poll_id)


def opening_warnings(without_tablet: list[str], unreachable: int) -> list[str]:
    """What the secretariat must act on when a poll opens: deputies checked in (counted in
    实到) who get no ballot because they have no enrolled tablet, and tablets not connected."""
    out = []
    if without_tablet:
        seats = ", ".join(without_tablet[:20]) + (" …" if len(without_tablet) > 20 else "")
        out.append(
            f"{len(without_tablet)} deputy(ies) checked in have no enrolled tablet (seats "
            f"{seats}): they count in 实到 but get no ballot; enrol their tablet before the "
            "poll closes, or the presidium decides how they vote"
        )
    if unreachable:
        out.append(
            f"{unreachable} tablet(s) of deputies checked in are not connected: they get their "
            "ballot when they connect while the poll collects credentials"
        )
    return out
