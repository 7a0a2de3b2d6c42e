"""The ballot box: cast (check in the pool, store, archive, signed receipt), the archive kept
in step with the database, and the polls' runtimes rebuilt after a restart.

Database first, archive second: a ballot is committed (uniqueness decided by the database),
then appended to the poll's Belenios archive (fsync) and given its receipt, in order; after a
restart the archive is completed from the database.

Group commit: the ballots of a poll that passed their checks while the previous commit was
running are stored together: one database transaction, one archive write and fsync, one
transaction for their receipts. No ballot is acknowledged before both are durable.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from functools import partial

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from keys.hashing import sha256_hex
from tally import messages as m
from tally import statements as st
from tally.archive import ArchiveWriter, read_archive
from voting.models import BallotRow, Credential, Poll, Voter
from voting.session import oplog
from voting.session import queries as q
from voting.session.checker import check_cast
from voting.session.context import PollRuntime, SessionContext, now
from voting.session.errors import ActionError
from voting.session.hub import server_id
from voting.session.live import Live
from voting.session.states import ACCEPTS_BALLOTS, LIVE, PollState
from voting.session.upsert import insert_ignore, upsert_vote


@dataclass
class _Arrival:
    """A checked ballot waiting for the next group commit of its poll."""

    tracker: str
    credential: str
    raw: str
    done: asyncio.Future[tuple[bool, BallotRow]] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


class BallotBox:
    def __init__(self, ctx: SessionContext, live: Live) -> None:
        self.ctx = ctx
        self.live = live
        self._arrivals: dict[str, list[_Arrival]] = {}  # poll id -> waiting for a commit

    # -- the archive --------------------------------------------------------------------------

    def discard_archive(self, poll_id: str) -> None:
        """Set aside a poll's archive file (renamed ``.stale-<ms>``, never deleted)."""
        path = self.ctx.archive_path(poll_id)
        if path.exists():
            path.rename(path.with_suffix(f".stale-{int(time.time() * 1000)}"))

    def sync_archive(
        self, s: Session, poll: Poll, rt: PollRuntime, *, check_archive: bool = True
    ) -> None:
        """Append to the archive every stored ballot not yet in it (DB order), fill receipts."""
        assert rt.writer is not None
        pending = list(
            s.scalars(
                select(BallotRow)
                .where(BallotRow.poll_id == poll.id, BallotRow.event_hash.is_(None))
                .order_by(BallotRow.id)
            )
        )
        if not pending:
            return
        in_archive: dict[str, str] = {}
        if check_archive:  # after a restart: the archive may hold what the DB does not know
            for event, _raw in read_archive(rt.writer.path).ballots():
                if event.payload:
                    in_archive[event.payload] = event.hash
        missing = [row for row in pending if sha256_hex(row.raw) not in in_archive]
        # one write and one fsync for all of them (group commit)
        events = rt.writer.add_ballots([row.raw for row in missing]) if missing else []
        for row, event in zip(missing, events, strict=True):
            in_archive[sha256_hex(row.raw)] = event.hash
        session = self.ctx.session_name  # read once for the batch, not once for each receipt
        for row in pending:
            row.event_hash = in_archive[sha256_hex(row.raw)]
            row.receipt = self._receipt(poll, row, session).model_dump_json()
        s.flush()

    def _receipt(self, poll: Poll, row: BallotRow, session: str) -> st.SignedStatement:
        return st.make_statement(
            self.ctx.server_key,
            st.RECEIPT,
            session=session,
            poll_id=poll.id,
            uuid=poll.uuid,
            tracker=row.tracker,
            event_hash=row.event_hash,
            received_at=row.received_at,
        )

    # -- recovery after a restart -------------------------------------------------------------

    def recover(self, s: Session) -> None:
        """Rebuild the runtime of every collecting, open or closed poll (a database job)."""
        for poll in s.scalars(select(Poll).where(Poll.state.in_([x.value for x in LIVE]))):
            rt = PollRuntime(poll.id)
            rt.voters = set(s.scalars(select(Voter.deputy_id).where(Voter.poll_id == poll.id)))
            if poll.state == PollState.COLLECTING:
                self.discard_archive(poll.id)  # collected credentials were in memory only
            else:
                rt.credentials = set(
                    s.scalars(select(Credential.credential).where(Credential.poll_id == poll.id))
                )
                rt.received = (
                    s.scalar(
                        select(func.count())
                        .select_from(BallotRow)
                        .where(BallotRow.poll_id == poll.id)
                    )
                    or 0
                )
                rt.writer = ArchiveWriter.open(self.ctx.archive_path(poll.id), recover=True)
                self.sync_archive(s, poll, rt)
            self.ctx.runtimes[poll.id] = rt

    # -- casting ------------------------------------------------------------------------------

    async def cast(self, msg: m.Cast) -> m.Ack:
        ctx = self.ctx
        rt = ctx.runtimes.get(msg.poll_id)
        poll_id = msg.poll_id
        state, election = await ctx.db(lambda s: q.poll_for_cast(s, poll_id), kiosk=True)
        if state not in ACCEPTS_BALLOTS or rt is None or rt.writer is None:
            raise ActionError(m.ErrorCode.POLL_NOT_OPEN, f"poll {poll_id} is {state}")
        assert election is not None
        status, detail, credential = await ctx.compute(
            check_cast, election, ctx.config.allow_test_group, msg.ballot
        )
        if status != "ok":
            raise ActionError(status, detail)
        tracker = detail
        if credential not in rt.credentials:
            raise ActionError(
                m.ErrorCode.WRONG_CREDENTIAL, "the ballot's credential is not one of this poll's"
            )
        again, row = await self._group_commit(
            poll_id, rt, _Arrival(tracker, credential, msg.ballot)
        )
        receipt = st.SignedStatement.model_validate_json(row.receipt or "")
        self.live.status_soon(poll_id)
        if not again:
            rt.received += 1
            oplog.received(poll_id, rt.received, len(rt.credentials))
        return m.Ack(
            id=server_id(),
            reply_to=msg.id,
            poll_id=poll_id,
            tracker=tracker,
            receipt=receipt,
            again=again,
        )

    async def _group_commit(
        self, poll_id: str, rt: PollRuntime, arrival: _Arrival
    ) -> tuple[bool, BallotRow]:
        """Store ``arrival`` with every ballot of the poll that arrives before the running
        commit ends; (already stored before, its row with the receipt) once durable."""
        waiting = self._arrivals.setdefault(poll_id, [])
        waiting.append(arrival)
        if len(waiting) == 1:  # the first of the next batch: its commit waits for the lock
            self.ctx.spawn(self._commit_next(poll_id, rt))
        return await arrival.done

    async def _commit_next(self, poll_id: str, rt: PollRuntime) -> None:
        batch: list[_Arrival] = []
        try:
            async with rt.lock:
                batch = self._arrivals.pop(poll_id, [])
                if batch:
                    await self._commit(poll_id, rt, batch)
        except BaseException as exc:
            for a in batch:
                if not a.done.done():
                    if isinstance(exc, Exception):
                        a.done.set_exception(exc)
                    else:
                        a.done.cancel()
            if not isinstance(exc, Exception):
                raise

    async def _commit(self, poll_id: str, rt: PollRuntime, batch: list[_Arrival]) -> None:
        ctx = self.ctx
        if ctx.runtimes.get(poll_id) is not rt or rt.writer is None:
            raise ActionError(m.ErrorCode.POLL_NOT_OPEN, f"poll {poll_id} is closed")
        # 1. one database transaction for the batch (uniqueness decided by the database) …
        items = [(a.tracker, a.credential, a.raw) for a in batch]
        outcomes = await ctx.db(partial(self._store_ballots, poll_id, items), kiosk=True)
        stored = [a for a, o in zip(batch, outcomes, strict=True) if isinstance(o, bool)]
        for a, o in zip(batch, outcomes, strict=True):
            if isinstance(o, ActionError) and not a.done.done():
                a.done.set_exception(o)
        if not stored:
            return
        # 2. … then their archive events (one write, one fsync) and signed receipts, in order
        try:
            rows = await ctx.db(
                partial(self._sync_and_get, poll_id, [a.tracker for a in stored], rt), kiosk=True
            )
        except Exception:
            rt.archive_unsure = True  # next time, compare with the archive before appending
            raise
        for a, o in zip(batch, outcomes, strict=True):
            if isinstance(o, bool) and not a.done.done():
                a.done.set_result((o, rows[a.tracker]))

    @staticmethod
    def _store_ballots(
        poll_id: str, items: list[tuple[str, str, str]], s: Session
    ) -> list[bool | ActionError]:
        """Insert each ballot and its vote, all in one transaction; for each, True if it was
        already there, False if stored now, or the refusal (nothing of it stored)."""
        state, deadline, last_press_valid = q.poll_columns(
            s, poll_id, Poll.state, Poll.deadline, Poll.last_press_valid
        )
        if state != PollState.OPEN:
            raise ActionError(m.ErrorCode.POLL_NOT_OPEN, f"poll {poll_id} is {state}")
        received_at = now()
        if deadline is not None and received_at >= deadline:  # the signed deadline
            raise ActionError(
                m.ErrorCode.POLL_NOT_OPEN,
                f"投票时间已到 — poll {poll_id}: the voting time ended at {deadline}",
            )
        outcomes: list[bool | ActionError] = []
        for tracker, credential, raw in items:
            inserted = insert_ignore(
                s,
                BallotRow,
                {
                    "poll_id": poll_id,
                    "tracker": tracker,
                    "credential": credential,
                    "raw": raw,
                    "received_at": received_at,
                },
                ["poll_id", "tracker"],
            )
            if inserted:
                ballot_id = s.scalar(
                    select(BallotRow.id).where(
                        BallotRow.poll_id == poll_id, BallotRow.tracker == tracker
                    )
                )
                assert ballot_id is not None
                if not upsert_vote(s, poll_id, credential, ballot_id, replace=last_press_valid):
                    # refused: the ballot row goes too (as a rollback of this ballot alone)
                    s.execute(delete(BallotRow).where(BallotRow.id == ballot_id))
                    outcomes.append(
                        ActionError(
                            m.ErrorCode.DUPLICATE,
                            "this credential has already voted; the first ballot counts in "
                            "this poll",
                        )
                    )
                    continue
            outcomes.append(not inserted)
        return outcomes

    def _sync_and_get(
        self, poll_id: str, trackers: list[str], rt: PollRuntime, s: Session
    ) -> dict[str, BallotRow]:
        poll = q.poll(s, poll_id, light=True)
        self.sync_archive(s, poll, rt, check_archive=rt.archive_unsure)
        rt.archive_unsure = False
        rows: dict[str, BallotRow] = {}
        for i in range(0, len(trackers), 500):
            chunk = trackers[i : i + 500]
            for row in s.scalars(
                select(BallotRow).where(BallotRow.poll_id == poll_id, BallotRow.tracker.in_(chunk))
            ):
                assert row.receipt is not None
                rows[row.tracker] = row
        return rows
