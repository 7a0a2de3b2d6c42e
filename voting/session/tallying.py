"""After a close: EndBallots, encrypted tally, shuffles, partial decryptions, result, outcome.

The computations and proof checks (encrypted tally — its ballots parsed in one slice per
process —, the server's partial decryption, the scrutineers' partial decryptions, the result)
are pure functions of raw record text (:mod:`voting.session.tally_jobs`) run in the server's
process pool (``ctx.compute``), off the event loop; a shuffle and a shuffle proof check are
split over all the pool's processes (``ctx.split``, tally.shuffle's executor). Archive appends
and the database stay in threads.

Every step is idempotent and driven by what the archive and the database already hold, so the
server resumes a tally after a restart. Database first, archive second; on recovery the
archive is completed from the database.
"""

from __future__ import annotations

import asyncio
import json
import logging
from functools import partial
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from keys.group import Group
from tally import messages as m
from tally import statements as st
from tally.archive import ArchiveWriter, read_archive
from tally.errors import RecordError
from tally.progress import timed
from tally.trustees import PedersenTrustees, parse_trustees
from voting.models import (
    Deputy,
    Issuance,
    PartialDecryptionRow,
    Poll,
    ShuffleRow,
    Vote,
)
from voting.session import queries as q
from voting.session import tally_jobs as jobs
from voting.session.ballot_box import BallotBox
from voting.session.blame import Blame
from voting.session.context import PollRuntime, SessionContext
from voting.session.errors import ActionError
from voting.session.hub import server_id
from voting.session.live import Live
from voting.session.outcome import outcome_for, roster_numbers
from voting.session.polls import Polls, check_ballot_form, set_message, transition
from voting.session.signing import ReportSigning
from voting.session.staff import Principal, check_trustee
from voting.session.states import COUNTED, Actor, PollAction, PollState
from voting.session.upsert import insert_ignore
from voting.session.views import PollCounts
from voting.session.waits import Waits, away_words, decryption_message, shuffle_message

log = logging.getLogger("renda.tally")

SERVER_TRUSTEE_ID = 1  # the server's Single key is the first trustees item


def _needed(trustees_raw: str, group: Group) -> list[tuple[list[int], int]]:
    """For each trustees item: the trustee ids in it and how many of them must decrypt."""
    out: list[tuple[list[int], int]] = []
    next_id = 1
    for item in parse_trustees(group, trustees_raw).items:
        if isinstance(item, PedersenTrustees):
            ids = list(range(next_id, next_id + item.size))
            out.append((ids, item.threshold))
            next_id += item.size
        else:
            out.append(([next_id], 1))
            next_id += 1
    return out


def _complete(needed: list[tuple[list[int], int]], have: set[int]) -> bool:
    return all(len(have & set(ids)) >= k for ids, k in needed)


def _scrutineer_threshold(poll: Poll, group: Group) -> int:
    needed = _needed(poll.trustees or "", group)
    return sum(k for ids, k in needed if ids != [SERVER_TRUSTEE_ID])


def is_nh(poll: Poll) -> bool:
    """Has the poll a non-homomorphic question (Belenios ``"type": "NonHomomorphic"``)?"""
    template = json.loads(poll.template)
    return any(isinstance(q, dict) and "type" in q for q in template.get("questions", []))


def tally_to_decrypt(poll: Poll) -> str | None:
    """The encrypted tally the trustees decrypt: after the shuffles for a non-homomorphic poll."""
    return poll.decrypt_tally if is_nh(poll) else poll.encrypted_tally


def evaluate_outcome(
    poll: Poll,
    counts: dict[str, Any],
    roster: dict[str, str] | None = None,
    session: str | None = None,
) -> dict[str, Any] | None:
    """The rules engine's outcome for the poll's rules and counts (None without rules);
    ``roster`` (roster number → name) resolves the write-ins of an election with write-ins;
    ``session`` is the session's name, which the count report names."""
    if not poll.rules:
        return None
    try:
        out: dict[str, Any] = outcome_for(
            json.loads(poll.rules), poll, counts, roster, session=session
        )
        return out
    except Exception as exc:  # the rules engine refuses: say so in the outcome
        log.warning("rules engine on %s: %s", poll.id, exc)
        return {"error": str(exc)[:1000]}


def _sync_partials(writer: ArchiveWriter, have: dict[int, str]) -> None:
    archive = read_archive(writer.path)
    done = {owned.owner for _e, owned, _raw in archive.owned_items("PartialDecryption")}
    if archive.result() is not None:
        return
    for owner in sorted(have):
        if owner not in done:
            writer.add_partial_decryption(owner, have[owner])


def _sync_shuffles(writer: ArchiveWriter, rows: list[tuple[int, str]]) -> None:
    archive = read_archive(writer.path)
    done = [o.owner for _e, o, _r in archive.owned_items("Shuffle")]
    last = archive.last_event.type if archive.last_event else None
    if last not in ("EncryptedTally", "Shuffle"):
        return
    for owner, raw in rows[len(done) :]:
        writer.add_shuffle(owner, raw)


class Tallying:
    def __init__(
        self,
        ctx: SessionContext,
        polls: Polls,
        box: BallotBox,
        live: Live,
        signing: ReportSigning,
    ) -> None:
        self.ctx = ctx
        self.polls = polls
        self.box = box
        self.live = live
        self.signing = signing
        self.waits = Waits(ctx, self._set_message)
        self.blame = Blame(ctx)

    async def _set_message(self, poll_id: str, message: str) -> None:
        await self.ctx.db(set_message(poll_id, message))

    def start(self, poll_id: str) -> None:
        """Tally the closed poll in the background (as far as it can go now)."""
        self.ctx.spawn(self._advance_logged(poll_id))

    async def _advance_logged(self, poll_id: str) -> None:
        try:
            await self.advance(poll_id)
        except Exception as exc:  # keep the server up; the poll says what went wrong
            log.exception("tally of %s failed", poll_id)
            await self.ctx.db(set_message(poll_id, f"the tally failed: {exc}"))

    async def _tally_of(
        self, election_raw: str, allow_test: bool, raws: list[str]
    ) -> tuple[str, int]:
        """The encrypted tally; with a pool, the ballots are parsed (group membership checked,
        the costly part) in one slice per process, then multiplied in a thread."""
        ctx = self.ctx
        workers = max(1, ctx.config.workers)
        if ctx.pool is None or len(raws) < 2 * workers:
            return await ctx.compute(jobs.encrypted_tally, election_raw, allow_test, raws)
        size = -(-len(raws) // workers)
        parts = await asyncio.gather(
            *(
                ctx.compute(jobs.parse_ballots, election_raw, allow_test, raws[i : i + size])
                for i in range(0, len(raws), size)
            )
        )
        parsed = [ballot for part in parts for ballot in part]
        return await asyncio.to_thread(jobs.tally_parsed, election_raw, allow_test, parsed)

    async def advance(self, poll_id: str) -> None:
        """Move a closed poll as far as possible towards ``tallied``."""
        ctx = self.ctx
        rt = ctx.runtimes.get(poll_id)
        if rt is None or rt.writer is None:
            return
        allow_test = ctx.config.allow_test_group
        async with rt.lock:
            poll = await self.polls.row(poll_id)
            if poll.state != PollState.CLOSED:
                return
            assert poll.election and poll.trustees
            writer = rt.writer
            last = writer.last_event.type if writer.last_event else None
            if last in ("Setup", "Ballot"):
                # every stored ballot must be in the archive before EndBallots
                await ctx.db(lambda s: self.box.sync_archive(s, poll, rt, check_archive=True))
                await asyncio.to_thread(writer.end_ballots)
                last = "EndBallots"
            if poll.encrypted_tally is None:
                raws = await ctx.db(lambda s: q.counted_ballots(s, poll_id))
                with timed(log, f"poll {poll_id}: the encrypted tally of {len(raws)} ballot(s)"):
                    et_raw, n = await self._tally_of(poll.election, allow_test, raws)
                await ctx.db(
                    lambda s: s.execute(
                        update(Poll).where(Poll.id == poll_id).values(encrypted_tally=et_raw)
                    )
                )
                poll.encrypted_tally = et_raw
            et_raw = poll.encrypted_tally
            if last == "EndBallots":
                n = await ctx.db(lambda s: q.received_count(s, poll_id))
                await asyncio.to_thread(writer.add_encrypted_tally, et_raw, n, n)
            dec_raw: str | None = et_raw
            if is_nh(poll):
                dec_raw = await self._shuffle_phase(poll, rt, et_raw)
            if dec_raw is None:
                waiting_for_shuffles = True
            else:
                waiting_for_shuffles = False
                await self._server_decrypts(poll, rt, dec_raw)
        if waiting_for_shuffles:
            await self.request_shuffles(poll_id)
            return
        if not await self._maybe_finish(poll_id):
            await self.request_decryptions(poll_id)

    async def _server_decrypts(self, poll: Poll, rt: PollRuntime, dec_raw: str) -> None:
        """The server's own partial decryption (trustee 1), stored; the archive gets the
        partial decryptions with the result, only those that make it (voting.session.blame)."""
        ctx = self.ctx
        poll_id = poll.id
        assert poll.election is not None and rt.writer is not None
        have = await ctx.db(lambda s: q.partials(s, poll_id))
        if SERVER_TRUSTEE_ID not in have:
            with timed(log, f"poll {poll_id}: the server's partial decryption"):
                raw = await ctx.compute(
                    jobs.server_partial,
                    poll.election,
                    ctx.config.allow_test_group,
                    dec_raw,
                    ctx.server_trustees[ctx.poll_group(poll).name],
                )
            await ctx.db(
                lambda s: s.add(
                    PartialDecryptionRow(poll_id=poll_id, trustee_id=SERVER_TRUSTEE_ID, raw=raw)
                )
            )

    # -- the scrutineers ----------------------------------------------------------------------

    async def request_decryptions(self, poll_id: str, index: int | None = None) -> None:
        """Send a decryption request to connected scrutineers (or one) that have not
        answered."""

        def run(s: Session) -> tuple[Poll, set[int], list[int], dict[str, int]]:
            figures = {
                "total": q.count(s, Deputy),
                "present": q.opening_present(s, poll_id),  # 实到, as the count's
                "issued": q.count(s, Issuance, Issuance.poll_id == poll_id),
                "received": q.count(s, Vote, Vote.poll_id == poll_id),
            }
            return (
                q.poll(s, poll_id),
                set(q.partials(s, poll_id)),
                q.scrutineer_indices(s),
                figures,
            )

        poll, have, indices, figures = await self.ctx.db(run)
        to_decrypt = tally_to_decrypt(poll)
        if poll.state != PollState.CLOSED or not to_decrypt:
            return
        assert poll.uuid and poll.election and poll.trustees
        # the figures the scrutineers check against the archive before they decrypt
        closing = st.sign_statement(
            self.ctx.server_key,
            st.poll_closed_payload(
                session=self.ctx.session_name,
                poll_id=poll_id,
                uuid=poll.uuid,
                election=poll.election,
                **figures,
            ),
        )
        rt = self.ctx.runtimes.get(poll_id)
        checks = sorted((rt.checks if rt else {}).values(), key=lambda c: c.trustee_id)
        hub = self.ctx.hub
        for trustee_index in indices:
            trustee_id = trustee_index + 1
            if index is not None and trustee_index != index:
                continue
            if trustee_id in have:
                continue
            if trustee_index in hub.trustees:
                self.waits.asked_to_decrypt(
                    poll_id, trustee_index, partial(self._decryption_timeout, poll_id)
                )
            await self.ctx.hub.to_trustee(
                trustee_index,
                m.DecryptionRequest(
                    id=server_id(),
                    poll_id=poll_id,
                    uuid=poll.uuid,
                    election=poll.election,
                    trustees=poll.trustees,
                    encrypted_tally=to_decrypt,
                    trustee_id=trustee_id,
                    closing=closing,
                    checks=[c for c in checks if c.trustee_id != trustee_id] or None,
                ),
            )
        await self.explain_decryptions(poll_id)

    async def explain_decryptions(self, poll_id: str) -> None:
        """The poll's message while partial decryptions are missing: how many of the k are
        in, whom the server asked and when, who is not connected (since when)."""

        def run(s: Session) -> tuple[Poll, set[int], list[int]]:
            return q.poll(s, poll_id), set(q.partials(s, poll_id)), q.scrutineer_indices(s)

        poll, have, indices = await self.ctx.db(run)
        if poll.state != PollState.CLOSED or not tally_to_decrypt(poll):
            return
        hub = self.ctx.hub
        answered = {tid - 1 for tid in have} & set(indices)
        needed = _scrutineer_threshold(poll, self.ctx.poll_group(poll))
        if len(answered) >= needed:
            return
        await self.waits.say(
            poll_id,
            decryption_message(
                len(answered),
                needed,
                self.waits.of(poll_id).decryption,
                answered,
                away_words(set(indices) - answered, set(hub.trustees), hub.trustee_left_at),
            ),
        )

    async def _decryption_timeout(self, poll_id: str) -> None:
        if self.waits.decryption_timed_out(poll_id):
            await self.request_decryptions(poll_id)

    async def _shuffle_timeout(self, poll_id: str, index: int) -> None:
        if self.waits.shuffle_timed_out(poll_id, index):
            await self.request_shuffles(poll_id)

    async def next_shufflers(self) -> None:
        """A scrutineer left: polls waiting for its shuffle ask the next connected one, and
        the polls' messages say who is missing now."""
        for poll_id in await self.ctx.db(lambda s: q.poll_ids_in(s, PollState.CLOSED)):
            await self.request_shuffles(poll_id)
            await self.explain_decryptions(poll_id)

    async def pending_for_trustee(self, index: int) -> None:
        """A scrutineer connected: what it is to shuffle or decrypt now."""
        for poll_id in await self.ctx.db(lambda s: q.poll_ids_in(s, PollState.CLOSED)):
            await self.request_shuffles(poll_id, index)
            await self.request_decryptions(poll_id, index)

    async def receive_partial(self, principal: Principal, msg: m.PartialDecryptionMsg) -> None:
        ctx = self.ctx
        check_trustee(principal, msg.trustee_id)
        rt = ctx.runtimes.get(msg.poll_id)
        poll = await ctx.db(lambda s: q.poll(s, msg.poll_id))
        if poll.state in COUNTED:
            self._late_partial(poll.id, msg.trustee_id)
            return
        to_decrypt = tally_to_decrypt(poll)
        if not to_decrypt:
            raise ActionError(
                m.ErrorCode.POLL_NOT_OPEN, f"poll {poll.id} is not awaiting decryption"
            )
        assert poll.election and poll.trustees
        try:
            await ctx.compute(
                jobs.check_partial,
                poll.election,
                ctx.config.allow_test_group,
                poll.trustees,
                to_decrypt,
                msg.trustee_id,
                msg.partial_decryption,
            )
        except (RecordError, ValueError) as exc:
            raise ActionError(m.ErrorCode.INVALID_DECRYPTION, str(exc)[:500]) from None
        state = await ctx.db(lambda s: q.poll_columns(s, msg.poll_id, Poll.state)[0])
        if state in COUNTED:  # counted while this partial was being checked
            self._late_partial(poll.id, msg.trustee_id)
            return
        if state != PollState.CLOSED or rt is None or rt.writer is None:
            raise ActionError(
                m.ErrorCode.POLL_NOT_OPEN, f"poll {poll.id} is not awaiting decryption"
            )
        async with rt.lock:
            if rt.writer is None:
                return
            if msg.check is not None and msg.check.trustee_id == msg.trustee_id:
                rt.checks[msg.trustee_id] = msg.check

            def run(s: Session) -> None:
                insert_ignore(
                    s,
                    PartialDecryptionRow,
                    {
                        "poll_id": poll.id,
                        "trustee_id": msg.trustee_id,
                        "raw": msg.partial_decryption,
                    },
                    ["poll_id", "trustee_id"],
                )

            await ctx.db(run)
        if not await self._maybe_finish(poll.id):
            await self.explain_decryptions(poll.id)

    @staticmethod
    def _late_partial(poll_id: str, trustee_id: int) -> None:
        """A scrutineer answered after k others had decrypted the poll: its answer is not
        needed (nor stored: the archive holds the partials that made the result). Not an
        error for the scrutineer, who did what was asked."""
        log.info(
            "poll %s: the partial decryption of trustee %d came after the count; not needed "
            "(计票已完成，无需此份解密)",
            poll_id,
            trustee_id,
        )

    # -- the result and the outcome -----------------------------------------------------------

    async def _maybe_finish(self, poll_id: str) -> bool:
        """Compute the result once enough partial decryptions are in; True when tallied.
        A wrong partial decryption is named and left out (voting.session.blame)."""
        ctx = self.ctx
        rt = ctx.runtimes.get(poll_id)
        if rt is None or rt.writer is None:
            return False
        async with rt.lock:
            poll = await self.polls.row(poll_id)
            if poll.state != PollState.CLOSED or rt.writer is None:
                return poll.state in COUNTED
            writer = rt.writer
            to_decrypt = tally_to_decrypt(poll)
            if not (poll.election and poll.trustees and to_decrypt):
                return False
            have = await ctx.db(lambda s: q.partials(s, poll_id))
            needed = _needed(poll.trustees, ctx.poll_group(poll))
            if not _complete(needed, set(have)):
                return False
            counts_n = await ctx.db(lambda s: q.received_count(s, poll_id))
            # which partial decryptions make the result, and whose is wrong (tally.blame)
            verdict = await self.blame.judge(poll, to_decrypt, have, max(counts_n, 1))
            if verdict.result is None:
                indices = await ctx.db(q.scrutineer_indices)
                can_ask = any(i + 1 not in have for i in indices)
                message = await self.blame.waiting(poll_id, verdict, have, can_ask)
                await self.waits.say(poll_id, message)
                return False
            # only those go into the archive (the record both verifiers check)
            used = {k: have[k] for k in verdict.used}
            await asyncio.to_thread(_sync_partials, writer, used)
            archive = await asyncio.to_thread(read_archive, writer.path)
            in_archive = {o.owner for _e, o, _r in archive.owned_items("PartialDecryption")}
            if not in_archive <= set(used):
                log.error("archive of %s holds partial decryptions not used", poll_id)
            result_raw = verdict.result.serialize()
            if archive.result() is None:
                await asyncio.to_thread(writer.add_result, result_raw)

            def counts(s: Session) -> PollCounts:
                return PollCounts(
                    total=q.deputies_total(s),
                    present=q.opening_present(s, poll_id),
                    issued=q.issued_count(s, poll_id),
                    received=counts_n,
                    result=json.loads(result_raw)["result"],
                )

            count_data = (await ctx.db(counts)).as_json()
            roster: dict[str, str] | None = None
            if is_nh(poll):

                def seats(s: Session) -> dict[str, str]:
                    return {d.seat: d.name for d in s.scalars(select(Deputy))}

                roster = roster_numbers(await ctx.db(seats))
            outcome = evaluate_outcome(poll, count_data, roster, ctx.session_name)
            follows = []
            for follow in (outcome or {}).get("followups", []) or []:
                try:
                    check_ballot_form(poll.kind, follow["template"], follow.get("rules"))
                    self.polls.check_template(follow["template"])
                except Exception as exc:  # a proposal the server cannot turn into a poll
                    log.warning("follow-up of %s not created: %s", poll_id, exc)
                    continue
                follows.append(follow)

            def finish(s: Session) -> Poll:
                p = q.poll(s, poll_id)
                message = self.blame.record_tallied(s, poll_id, verdict, have)
                for follow in follows:  # drafts linked to this poll, visible with the tally
                    self.polls.insert(
                        s,
                        str(follow.get("title", p.title)),
                        p.kind,
                        follow["template"],
                        follow.get("rules"),
                        p.last_press_valid,
                        poll_id,
                        str(follow.get("relation", "tie_revote")),
                    )
                transition(
                    s,
                    p,
                    PollAction.TALLY,
                    message=message,
                    result=result_raw,
                    counts=json.dumps(count_data, ensure_ascii=False),
                    outcome=json.dumps(outcome, ensure_ascii=False)
                    if outcome is not None
                    else None,
                )
                ctx.audit(s, Actor.SERVER, "poll_tallied", poll_id)
                return p

            async with ctx.poll_create_lock:  # finish() may create follow-up polls
                await ctx.db(finish)
            writer.close()
            rt.writer = None
            ctx.runtimes.pop(poll_id, None)
            self.waits.forget(poll_id)
        await self.live.status_to_displays(poll_id)
        await self.signing.request_signatures(poll_id)  # the scrutineers sign the count report
        return True

    # -- non-homomorphic polls: the shuffle chain ---------------------------------------------

    async def _shuffle_phase(self, poll: Poll, rt: PollRuntime, et_raw: str) -> str | None:
        """Under the poll's lock: the server shuffles first, then k scrutineers one after the
        other; then EndShuffles and the merged tally. None while shuffles are missing."""
        ctx = self.ctx
        allow_test = ctx.config.allow_test_group
        assert poll.election is not None and rt.writer is not None
        if poll.decrypt_tally is not None:
            return poll.decrypt_tally
        rows = await ctx.db(lambda s: q.shuffles(s, poll.id))
        writer = rt.writer
        await asyncio.to_thread(_sync_shuffles, writer, rows)
        if not rows:
            current = await ctx.compute(jobs.current_rows, poll.election, allow_test, et_raw, [])
            shuffle = partial(jobs.server_shuffle, what=f"poll {poll.id}: the server's shuffle")
            raw = await ctx.split(shuffle, poll.election, allow_test, current)
            await ctx.db(
                lambda s: s.add(
                    ShuffleRow(poll_id=poll.id, seq=1, owner=SERVER_TRUSTEE_ID, raw=raw)
                )
            )
            rows = [(SERVER_TRUSTEE_ID, raw)]
            await asyncio.to_thread(_sync_shuffles, writer, rows)
        if len(rows) - 1 < _scrutineer_threshold(poll, ctx.poll_group(poll)):
            return None
        last = writer.last_event.type if writer.last_event else None
        if last == "Shuffle":
            await asyncio.to_thread(writer.end_shuffles)
        merged = await ctx.compute(jobs.merged, poll.election, allow_test, et_raw, rows[-1][1])
        await ctx.db(
            lambda s: s.execute(update(Poll).where(Poll.id == poll.id).values(decrypt_tally=merged))
        )
        poll.decrypt_tally = merged
        return merged

    async def request_shuffles(self, poll_id: str, index: int | None = None) -> None:
        """Ask the next scrutineer (lowest connected index that has not shuffled) to shuffle
        the current rows; with ``index``, only if it is that one."""
        ctx = self.ctx
        poll = await self.polls.row(poll_id)
        if (
            poll.state != PollState.CLOSED
            or not is_nh(poll)
            or poll.decrypt_tally
            or not poll.encrypted_tally
        ):
            return
        assert poll.election is not None
        rows = await ctx.db(lambda s: q.shuffles(s, poll_id))
        if not rows:
            return
        done = {owner for owner, _raw in rows}
        current = await ctx.compute(
            jobs.current_rows,
            poll.election,
            ctx.config.allow_test_group,
            poll.encrypted_tally,
            [raw for _o, raw in rows],
        )
        # one scrutineer at a time (a chain): the lowest connected one that has not shuffled
        # (and has not let a request pass its deadline, while another one can be asked)
        hub = ctx.hub
        chosen = self.waits.shuffler(poll_id, sorted(i for i in hub.trustees if i + 1 not in done))
        indices = await ctx.db(q.scrutineer_indices)
        waits = self.waits.of(poll_id)
        if chosen is not None and (index is None or chosen == index):
            self.waits.asked_to_shuffle(
                poll_id, chosen, partial(self._shuffle_timeout, poll_id, chosen)
            )
        await self.waits.say(
            poll_id,
            shuffle_message(
                len(rows) - 1,
                _scrutineer_threshold(poll, ctx.poll_group(poll)),
                waits.shuffle if chosen is not None else None,
                waits.skipped,
                away_words(
                    [i for i in indices if i + 1 not in done],
                    set(hub.trustees),
                    hub.trustee_left_at,
                ),
            ),
        )
        for trustee_index in [chosen] if chosen is not None else []:
            trustee_id = trustee_index + 1
            if index is not None and trustee_index != index:
                continue
            await ctx.hub.to_trustee(
                trustee_index,
                m.ShuffleRequest(
                    id=server_id(),
                    poll_id=poll_id,
                    election=poll.election,
                    ciphertexts=current,
                    trustee_id=trustee_id,
                ),
            )

    async def receive_shuffle(self, principal: Principal, msg: m.ShuffleMsg) -> None:
        ctx = self.ctx
        check_trustee(principal, msg.trustee_id)
        rt = ctx.runtimes.get(msg.poll_id)
        poll = await ctx.db(lambda s: q.poll(s, msg.poll_id))
        if (
            poll.state != PollState.CLOSED
            or not is_nh(poll)
            or poll.decrypt_tally
            or not poll.encrypted_tally
            or rt is None
        ):
            raise ActionError(m.ErrorCode.POLL_NOT_OPEN, f"poll {poll.id} is not awaiting shuffles")
        assert poll.election is not None
        allow_test = ctx.config.allow_test_group
        encrypted_tally = poll.encrypted_tally
        async with rt.lock:
            rows = await ctx.db(lambda s: q.shuffles(s, poll.id))
            if not rows or any(owner == msg.trustee_id for owner, _r in rows):
                raise ActionError(m.ErrorCode.POLL_NOT_OPEN, "no shuffle is expected from you now")
            current = await ctx.compute(
                jobs.current_rows,
                poll.election,
                allow_test,
                encrypted_tally,
                [r for _o, r in rows],
            )
            try:
                with timed(log, f"poll {poll.id}: checking trustee {msg.trustee_id}'s shuffle"):
                    await ctx.split(
                        jobs.check_shuffle, poll.election, allow_test, current, msg.shuffle
                    )
            except (RecordError, ValueError) as exc:
                raise ActionError(
                    m.ErrorCode.INVALID_DECRYPTION,
                    f"not a valid shuffle of the current ciphertexts: {str(exc)[:400]}",
                ) from None
            seq = len(rows) + 1
            await ctx.db(
                lambda s: insert_ignore(
                    s,
                    ShuffleRow,
                    {"poll_id": poll.id, "seq": seq, "owner": msg.trustee_id, "raw": msg.shuffle},
                    ["poll_id", "seq"],
                )
            )
            all_rows = await ctx.db(lambda s: q.shuffles(s, poll.id))
            await asyncio.to_thread(_sync_shuffles, rt.writer, all_rows)  # type: ignore[arg-type]
        self.waits.shuffled(poll.id)
        self.start(poll.id)
