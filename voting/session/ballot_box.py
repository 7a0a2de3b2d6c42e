"""The ballot box: cast (check in the pool, store, archive, signed receipt), the archive kept
in step with the database, and the polls' runtimes rebuilt after a restart.

Database first, archive second: a ballot is committed (uniqueness decided by the database),
then appended to the poll's Belenios archive (fsync) and given its receipt, in order; after a
restart the archive is completed from the database.
"""

from __future__ import annotations

import time
from functools import partial

from sqlalchemy import func, select
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


class BallotBox:
    def __init__(self, ctx: SessionContext, live: Live) -> None:
        self.ctx = ctx
        self.live = live

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
        for row in pending:
            digest = sha256_hex(row.raw)
            event_hash = in_archive.get(digest)
            if event_hash is None:
                event_hash = rt.writer.add_ballot(row.raw).hash
            row.event_hash = event_hash
            row.receipt = self._receipt(poll, row).model_dump_json()
        s.flush()

    def _receipt(self, poll: Poll, row: BallotRow) -> st.SignedStatement:
        return st.make_statement(
            self.ctx.server_key,
            st.RECEIPT,
            session=self.ctx.session_name,
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
        poll = await ctx.db(lambda s: q.poll(s, msg.poll_id))
        if poll.state not in ACCEPTS_BALLOTS or rt is None or rt.writer is None:
            raise ActionError(m.ErrorCode.POLL_NOT_OPEN, f"poll {poll.id} is {poll.state}")
        assert poll.election is not None
        status, detail, credential = await ctx.compute(
            check_cast, poll.election, ctx.config.allow_test_group, msg.ballot
        )
        if status != "ok":
            raise ActionError(status, detail)
        tracker = detail
        if credential not in rt.credentials:
            raise ActionError(
                m.ErrorCode.WRONG_CREDENTIAL, "the ballot's credential is not one of this poll's"
            )
        async with rt.lock:
            if ctx.runtimes.get(poll.id) is not rt or rt.writer is None:
                raise ActionError(m.ErrorCode.POLL_NOT_OPEN, f"poll {poll.id} is closed")
            # 1. database commit (uniqueness decided by the database) …
            again = await ctx.db(
                partial(self._store_ballot, poll.id, tracker, credential, msg.ballot)
            )
            # 2. … then the archive event (fsync) and the signed receipt, still in order
            try:
                row = await ctx.db(partial(self._sync_and_get, poll.id, tracker, rt))
            except Exception:
                rt.archive_unsure = True  # next time, compare with the archive before appending
                raise
        receipt = st.SignedStatement.model_validate_json(row.receipt or "")
        self.live.status_soon(poll.id)
        if not again:
            rt.received += 1
            oplog.received(poll.id, rt.received, len(rt.credentials))
        return m.Ack(
            id=server_id(),
            reply_to=msg.id,
            poll_id=poll.id,
            tracker=tracker,
            receipt=receipt,
            again=again,
        )

    @staticmethod
    def _store_ballot(poll_id: str, tracker: str, credential: str, raw: str, s: Session) -> bool:
        """Insert the ballot and its vote in one transaction; True if it was already there."""
        poll = q.poll(s, poll_id)
        if poll.state != PollState.OPEN:
            raise ActionError(m.ErrorCode.POLL_NOT_OPEN, f"poll {poll_id} is {poll.state}")
        received_at = now()
        if poll.deadline is not None and received_at >= poll.deadline:  # the signed deadline
            raise ActionError(
                m.ErrorCode.POLL_NOT_OPEN,
                f"投票时间已到 — poll {poll_id}: the voting time ended at {poll.deadline}",
            )
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
            if not upsert_vote(s, poll_id, credential, ballot_id, replace=poll.last_press_valid):
                raise ActionError(
                    m.ErrorCode.DUPLICATE,
                    "this credential has already voted; the first ballot counts in this poll",
                )
        return not inserted

    def _sync_and_get(self, poll_id: str, tracker: str, rt: PollRuntime, s: Session) -> BallotRow:
        poll = q.poll(s, poll_id)
        self.sync_archive(s, poll, rt, check_archive=rt.archive_unsure)
        rt.archive_unsure = False
        row = q.ballot(s, poll_id, tracker)
        assert row is not None and row.receipt is not None
        return row
