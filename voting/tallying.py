"""After a close: EndBallots, encrypted tally, partial decryptions, result, rules outcome.

The computations and proof checks (encrypted tally — its ballots parsed in one slice per
process —, the server's partial decryption, the
scrutineers' partial decryptions, the result) are pure functions of raw record text run in the
server's process pool (``_compute``), off the event loop; a shuffle and a shuffle proof check
are split over all the pool's processes (``_split``, tally.shuffle's executor). Archive appends
and the database stay in threads.

Every step is idempotent and driven by what the archive and the database already hold, so the
server resumes a tally after a restart. Database first, archive second; on recovery the
archive is completed from the database.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from tally import messages as m
from tally.archive import read_archive
from tally.errors import RecordError
from voting import tally_jobs as jobs
from voting.hub import server_id
from voting.models import BallotRow, Issuance, PartialDecryptionRow, Poll, Staff, Vote, Voter

if TYPE_CHECKING:
    from voting.service import Principal, SessionService

log = logging.getLogger("renda.tally")

T = TypeVar("T")

SERVER_TRUSTEE_ID = 1  # the server's Single key is the first trustees item


async def _compute(service: SessionService, fn: Callable[..., T], *args: Any) -> T:
    """Run a pure tally function (encrypted tally, partial decryptions and their checks, the
    result) in one process of the server's pool, off the event loop (concurrent requests use
    both cores); in a thread without a pool. Exceptions (RecordError, ValueError) come back
    as raised."""
    if service.pool is None:
        return await asyncio.to_thread(fn, *args)
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(service.pool, fn, *args)


async def _tally_of(
    service: SessionService, election_raw: str, allow_test: bool, raws: list[str]
) -> tuple[str, int]:
    """The encrypted tally; with a pool, the ballots are parsed (group membership checked, the
    costly part) in one slice per process, then multiplied in a thread."""
    workers = max(1, service.config.workers)
    if service.pool is None or len(raws) < 2 * workers:
        return await _compute(service, jobs.encrypted_tally, election_raw, allow_test, raws)
    size = -(-len(raws) // workers)
    parts = await asyncio.gather(
        *(
            _compute(service, jobs.parse_ballots, election_raw, allow_test, raws[i : i + size])
            for i in range(0, len(raws), size)
        )
    )
    parsed = [ballot for part in parts for ballot in part]
    return await asyncio.to_thread(jobs.tally_parsed, election_raw, allow_test, parsed)


async def _split(service: SessionService, fn: Callable[..., T], *args: Any) -> T:
    """Run a shuffle or its check in a thread that splits the work over the process pool
    (tally.shuffle takes an executor: the ciphertexts are cut in slices, one per process)."""
    return await asyncio.to_thread(fn, *args, service.pool)


def _needed(trustees_raw: str, group: Any) -> list[tuple[list[int], int]]:
    """For each trustees item: the trustee ids in it and how many of them must decrypt."""
    from tally.trustees import PedersenTrustees, parse_trustees

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


async def advance(service: SessionService, poll_id: str) -> None:
    """Move a closed poll as far as possible towards ``tallied``."""
    rt = service.runtimes.get(poll_id)
    if rt is None or rt.writer is None:
        return
    allow_test = service.config.allow_test_group
    async with rt.lock:
        poll = await service.db(lambda s: service._poll(s, poll_id))
        if poll.state != "closed":
            return
        assert poll.election and poll.trustees
        writer = rt.writer
        last = writer.last_event.type if writer.last_event else None
        if last in ("Setup", "Ballot"):
            # every stored ballot must be in the archive before EndBallots
            await service.db(lambda s: service._sync_archive(s, poll, rt, check_archive=True))
            await asyncio.to_thread(writer.end_ballots)
            last = "EndBallots"
        if poll.encrypted_tally is None:

            def ballots(s: Session) -> list[str]:
                return list(
                    s.scalars(
                        select(BallotRow.raw)
                        .join(Vote, Vote.ballot_id == BallotRow.id)
                        .where(Vote.poll_id == poll_id)
                    )
                )

            raws = await service.db(ballots)
            et_raw, n = await _tally_of(service, poll.election, allow_test, raws)
            await service.db(
                lambda s: s.execute(
                    update(Poll).where(Poll.id == poll_id).values(encrypted_tally=et_raw)
                )
            )
            poll.encrypted_tally = et_raw
        et_raw = poll.encrypted_tally
        if last == "EndBallots":
            n = await service.db(
                lambda s: len(list(s.scalars(select(Vote.id).where(Vote.poll_id == poll_id))))
            )
            await asyncio.to_thread(writer.add_encrypted_tally, et_raw, n, n)
        dec_raw: str | None = et_raw
        if is_nh(poll):
            dec_raw = await _shuffle_phase(service, poll, rt, et_raw)
        if dec_raw is None:
            waiting_for_shuffles = True
        else:
            waiting_for_shuffles = False
            await _server_decrypts(service, poll, rt, dec_raw)
    if waiting_for_shuffles:
        await request_shuffles(service, poll_id)
        return
    if not await _maybe_finish(service, poll_id):
        await request_decryptions(service, poll_id)


async def _server_decrypts(service: SessionService, poll: Poll, rt: Any, dec_raw: str) -> None:
    """The server's own partial decryption (trustee 1), stored, then every one in the archive."""
    poll_id = poll.id
    allow_test = service.config.allow_test_group
    assert poll.election is not None
    writer = rt.writer
    if True:
        have = await service.db(
            lambda s: {
                r.trustee_id: r.raw
                for r in s.scalars(
                    select(PartialDecryptionRow).where(PartialDecryptionRow.poll_id == poll_id)
                )
            }
        )
        if SERVER_TRUSTEE_ID not in have:
            raw = await _compute(
                service,
                jobs.server_partial,
                poll.election,
                allow_test,
                dec_raw,
                service.server_trustee_private,
            )
            await service.db(
                lambda s: s.add(
                    PartialDecryptionRow(poll_id=poll_id, trustee_id=SERVER_TRUSTEE_ID, raw=raw)
                )
            )
            have[SERVER_TRUSTEE_ID] = raw
        await asyncio.to_thread(_sync_partials, writer, have)


def _sync_partials(writer: Any, have: dict[int, str]) -> None:
    archive = read_archive(writer.path)
    done = {owned.owner for _e, owned, _raw in archive.owned_items("PartialDecryption")}
    if archive.result() is not None:
        return
    for owner in sorted(have):
        if owner not in done:
            writer.add_partial_decryption(owner, have[owner])


async def request_decryptions(
    service: SessionService, poll_id: str, index: int | None = None
) -> None:
    """Send a decryption request to connected scrutineers (or one) that have not answered."""

    def run(s: Session) -> tuple[Poll, set[int], dict[int, int]]:
        poll = service._poll(s, poll_id)
        have = set(
            s.scalars(
                select(PartialDecryptionRow.trustee_id).where(
                    PartialDecryptionRow.poll_id == poll_id
                )
            )
        )
        staff = {
            st.trustee_index: st.trustee_index + 1
            for st in s.scalars(select(Staff).where(Staff.role == "scrutineer"))
            if st.trustee_index is not None
        }
        return poll, have, staff

    poll, have, staff = await service.db(run)
    to_decrypt = tally_to_decrypt(poll)
    if poll.state != "closed" or not to_decrypt:
        return
    assert poll.uuid and poll.election and poll.trustees
    for trustee_index, trustee_id in staff.items():
        if index is not None and trustee_index != index:
            continue
        if trustee_id in have:
            continue
        await service.hub.to_trustee(
            trustee_index,
            m.DecryptionRequest(
                id=server_id(),
                poll_id=poll_id,
                uuid=poll.uuid,
                election=poll.election,
                trustees=poll.trustees,
                encrypted_tally=to_decrypt,
                trustee_id=trustee_id,
            ),
        )


async def next_shufflers(service: SessionService) -> None:
    """A scrutineer left: polls waiting for its shuffle ask the next connected one."""
    polls = await service.db(
        lambda s: list(s.scalars(select(Poll.id).where(Poll.state == "closed")))
    )
    for poll_id in polls:
        await request_shuffles(service, poll_id)


async def pending_for_trustee(service: SessionService, index: int) -> None:
    polls = await service.db(
        lambda s: list(s.scalars(select(Poll.id).where(Poll.state == "closed")))
    )
    for poll_id in polls:
        await request_shuffles(service, poll_id, index)
        await request_decryptions(service, poll_id, index)


def check_trustee(principal: Principal, trustee_id: int) -> None:
    """Refuses (ActionError, forbidden) a message naming a trustee other than its sender."""
    from voting.service import ActionError

    if principal.trustee_index is None or trustee_id != principal.trustee_index + 1:
        raise ActionError(
            m.ErrorCode.FORBIDDEN, "this scrutineer is not trustee " + str(trustee_id)
        )


async def receive_partial(
    service: SessionService, principal: Principal, msg: m.PartialDecryptionMsg
) -> None:
    from voting.service import ActionError

    check_trustee(principal, msg.trustee_id)
    rt = service.runtimes.get(msg.poll_id)
    poll = await service.db(lambda s: s.get(Poll, msg.poll_id))
    if poll is None:
        raise ActionError(m.ErrorCode.POLL_NOT_FOUND, f"no poll {msg.poll_id!r}")
    to_decrypt = tally_to_decrypt(poll)
    if not to_decrypt:
        raise ActionError(m.ErrorCode.POLL_NOT_OPEN, f"poll {poll.id} is not awaiting decryption")
    assert poll.election and poll.trustees
    try:
        await _compute(
            service,
            jobs.check_partial,
            poll.election,
            service.config.allow_test_group,
            poll.trustees,
            to_decrypt,
            msg.trustee_id,
            msg.partial_decryption,
        )
    except (RecordError, ValueError) as exc:
        raise ActionError(m.ErrorCode.INVALID_DECRYPTION, str(exc)[:500]) from None
    from voting.upsert import insert_ignore

    if poll.state != "closed" or rt is None or rt.writer is None:
        raise ActionError(m.ErrorCode.POLL_NOT_OPEN, f"poll {poll.id} is not awaiting decryption")
    async with rt.lock:
        if rt.writer is None:
            return

        def run(s: Session) -> dict[int, str]:
            insert_ignore(
                s,
                PartialDecryptionRow,
                {"poll_id": poll.id, "trustee_id": msg.trustee_id, "raw": msg.partial_decryption},
                ["poll_id", "trustee_id"],
            )
            return {
                r.trustee_id: r.raw
                for r in s.scalars(
                    select(PartialDecryptionRow).where(PartialDecryptionRow.poll_id == poll.id)
                )
            }

        have = await service.db(run)
        await asyncio.to_thread(_sync_partials, rt.writer, have)
    await _maybe_finish(service, poll.id)


async def _maybe_finish(service: SessionService, poll_id: str) -> bool:
    """Compute the result once enough partial decryptions are in; True when tallied."""
    rt = service.runtimes.get(poll_id)
    if rt is None or rt.writer is None:
        return False
    allow_test = service.config.allow_test_group
    async with rt.lock:
        poll = await service.db(lambda s: service._poll(s, poll_id))
        if poll.state != "closed" or rt.writer is None:
            return poll.state in ("tallied", "published")
        to_decrypt = tally_to_decrypt(poll)
        if not (poll.election and poll.trustees and to_decrypt):
            return False
        have = await service.db(
            lambda s: {
                r.trustee_id: r.raw
                for r in s.scalars(
                    select(PartialDecryptionRow).where(PartialDecryptionRow.poll_id == poll_id)
                )
            }
        )
        needed = _needed(poll.trustees, service.group)
        if not _complete(needed, set(have)):
            return False
        # only the partial decryptions already in the archive are used (all of them)
        archive = await asyncio.to_thread(read_archive, rt.writer.path)
        in_archive = {o.owner for _e, o, _r in archive.owned_items("PartialDecryption")}
        partials = {k: v for k, v in have.items() if k in in_archive}
        counts_n = await service.db(
            lambda s: len(list(s.scalars(select(Vote.id).where(Vote.poll_id == poll_id))))
        )
        result_raw = await _compute(
            service,
            jobs.result,
            poll.election,
            allow_test,
            poll.trustees,
            to_decrypt,
            partials,
            max(counts_n, 1),
        )
        if archive.result() is None:
            await asyncio.to_thread(rt.writer.add_result, result_raw)

        def counts(s: Session) -> dict[str, Any]:
            from voting.models import Deputy

            total = len(list(s.scalars(select(Deputy.id))))
            voters = len(list(s.scalars(select(Voter.deputy_id).where(Voter.poll_id == poll_id))))
            issued = len(
                list(s.scalars(select(Issuance.deputy_id).where(Issuance.poll_id == poll_id)))
            )
            return {
                "total": total,
                "present": voters,
                "issued": issued,
                "received": counts_n,
                "result": json.loads(result_raw)["result"],
            }

        count_data = await service.db(counts)
        roster: dict[str, str] | None = None
        if is_nh(poll):

            def seats(s: Session) -> dict[str, str]:
                from voting.models import Deputy

                return {d.seat: d.name for d in s.scalars(select(Deputy))}

            from voting.outcome import roster_numbers

            roster = roster_numbers(await service.db(seats))
        outcome = evaluate_outcome(poll, count_data, roster)
        follows = []
        for follow in (outcome or {}).get("followups", []) or []:
            try:
                service.check_template(follow["template"])
            except Exception as exc:  # a proposal the server cannot turn into a poll
                log.warning("follow-up of %s not created: %s", poll_id, exc)
                continue
            follows.append(follow)

        def finish(s: Session) -> Poll:
            p = service._poll(s, poll_id)
            for follow in follows:  # drafts linked to this poll, visible with the tally
                service._insert_poll(
                    s,
                    str(follow.get("title", p.title)),
                    p.kind,
                    follow["template"],
                    follow.get("rules"),
                    p.last_press_valid,
                    poll_id,
                    str(follow.get("relation", "tie_revote")),
                )
            service._transition(
                s,
                p,
                "tally",
                result=result_raw,
                counts=json.dumps(count_data, ensure_ascii=False),
                outcome=json.dumps(outcome, ensure_ascii=False) if outcome is not None else None,
            )
            service.audit(s, "server", "poll_tallied", poll_id)
            return p

        async with service.poll_create_lock:  # finish() may create follow-up polls
            await service.db(finish)
        rt.writer.close()
        rt.writer = None
        service.runtimes.pop(poll_id, None)
    await service._status_to_displays(poll_id)
    from voting.report_signing import request_signatures

    await request_signatures(service, poll_id)  # the scrutineers sign the count report
    return True


def evaluate_outcome(
    poll: Poll, counts: dict[str, Any], roster: dict[str, str] | None = None
) -> dict[str, Any] | None:
    """The rules engine's outcome for the poll's rules and counts (None without rules);
    ``roster`` (roster number → name) resolves the write-ins of an election with write-ins."""
    if not poll.rules:
        return None
    try:
        from voting.outcome import outcome_for
    except ImportError:
        return {"error": "the rules engine is not available"}
    try:
        out: dict[str, Any] = outcome_for(json.loads(poll.rules), poll, counts, roster)
        return out
    except Exception as exc:  # the rules engine refuses: say so in the outcome
        log.warning("rules engine on %s: %s", poll.id, exc)
        return {"error": str(exc)[:1000]}


# -- non-homomorphic polls: the shuffle chain ---------------------------------------------------


def is_nh(poll: Poll) -> bool:
    """Has the poll a non-homomorphic question (Belenios ``"type": "NonHomomorphic"``)?"""
    template = json.loads(poll.template)
    return any(isinstance(q, dict) and "type" in q for q in template.get("questions", []))


def tally_to_decrypt(poll: Poll) -> str | None:
    """The encrypted tally the trustees decrypt: after the shuffles for a non-homomorphic poll."""
    return poll.decrypt_tally if is_nh(poll) else poll.encrypted_tally


def _shuffles(service: SessionService, poll_id: str) -> Any:
    from voting.models import ShuffleRow

    def run(s: Session) -> list[tuple[int, str]]:
        return [
            (r.owner, r.raw)
            for r in s.scalars(
                select(ShuffleRow).where(ShuffleRow.poll_id == poll_id).order_by(ShuffleRow.seq)
            )
        ]

    return service.db(run)


def _sync_shuffles(writer: Any, rows: list[tuple[int, str]]) -> None:
    archive = read_archive(writer.path)
    done = [o.owner for _e, o, _r in archive.owned_items("Shuffle")]
    last = archive.last_event.type if archive.last_event else None
    if last not in ("EncryptedTally", "Shuffle"):
        return
    for owner, raw in rows[len(done) :]:
        writer.add_shuffle(owner, raw)


def _scrutineer_threshold(poll: Poll, group: Any) -> int:
    needed = _needed(poll.trustees or "", group)
    return sum(k for ids, k in needed if ids != [SERVER_TRUSTEE_ID])


async def _shuffle_phase(service: SessionService, poll: Poll, rt: Any, et_raw: str) -> str | None:
    """Under the poll's lock: the server shuffles first, then k scrutineers one after the other;
    then EndShuffles and the merged tally. None while shuffles are missing."""
    from voting.models import ShuffleRow

    allow_test = service.config.allow_test_group
    assert poll.election is not None
    if poll.decrypt_tally is not None:
        return poll.decrypt_tally
    rows = await _shuffles(service, poll.id)
    writer = rt.writer
    await asyncio.to_thread(_sync_shuffles, writer, rows)
    if not rows:
        current = await _compute(service, jobs.current_rows, poll.election, allow_test, et_raw, [])
        raw = await _split(service, jobs.server_shuffle, poll.election, allow_test, current)
        await service.db(
            lambda s: s.add(ShuffleRow(poll_id=poll.id, seq=1, owner=SERVER_TRUSTEE_ID, raw=raw))
        )
        rows = [(SERVER_TRUSTEE_ID, raw)]
        await asyncio.to_thread(_sync_shuffles, writer, rows)
    if len(rows) - 1 < _scrutineer_threshold(poll, service.group):
        return None
    last = writer.last_event.type if writer.last_event else None
    if last == "Shuffle":
        await asyncio.to_thread(writer.end_shuffles)
    merged = await _compute(service, jobs.merged, poll.election, allow_test, et_raw, rows[-1][1])
    await service.db(
        lambda s: s.execute(update(Poll).where(Poll.id == poll.id).values(decrypt_tally=merged))
    )
    poll.decrypt_tally = merged
    return merged


async def request_shuffles(service: SessionService, poll_id: str, index: int | None = None) -> None:
    """Ask the next scrutineer (lowest connected index that has not shuffled) to shuffle the
    current rows; with ``index``, only if it is that one."""
    poll = await service.db(lambda s: service._poll(s, poll_id))
    if poll.state != "closed" or not is_nh(poll) or poll.decrypt_tally or not poll.encrypted_tally:
        return
    assert poll.election is not None
    rows = await _shuffles(service, poll_id)
    if not rows:
        return
    done = {owner for owner, _raw in rows}
    current = await _compute(
        service,
        jobs.current_rows,
        poll.election,
        service.config.allow_test_group,
        poll.encrypted_tally,
        [raw for _o, raw in rows],
    )
    # one scrutineer at a time (a chain): the lowest connected one that has not shuffled
    waiting = sorted(i for i in service.hub.trustees if i + 1 not in done)
    for trustee_index in waiting[:1]:
        trustee_id = trustee_index + 1
        if index is not None and trustee_index != index:
            continue
        await service.hub.to_trustee(
            trustee_index,
            m.ShuffleRequest(
                id=server_id(),
                poll_id=poll_id,
                election=poll.election,
                ciphertexts=current,
                trustee_id=trustee_id,
            ),
        )


async def receive_shuffle(service: SessionService, principal: Principal, msg: m.ShuffleMsg) -> None:
    from voting.models import ShuffleRow
    from voting.service import ActionError
    from voting.upsert import insert_ignore

    check_trustee(principal, msg.trustee_id)
    rt = service.runtimes.get(msg.poll_id)
    poll = await service.db(lambda s: s.get(Poll, msg.poll_id))
    if poll is None:
        raise ActionError(m.ErrorCode.POLL_NOT_FOUND, f"no poll {msg.poll_id!r}")
    if (
        poll.state != "closed"
        or not is_nh(poll)
        or poll.decrypt_tally
        or not poll.encrypted_tally
        or rt is None
    ):
        raise ActionError(m.ErrorCode.POLL_NOT_OPEN, f"poll {poll.id} is not awaiting shuffles")
    assert poll.election is not None
    allow_test = service.config.allow_test_group
    async with rt.lock:
        rows = await _shuffles(service, poll.id)
        if not rows or any(owner == msg.trustee_id for owner, _r in rows):
            raise ActionError(m.ErrorCode.POLL_NOT_OPEN, "no shuffle is expected from you now")
        current = await _compute(
            service,
            jobs.current_rows,
            poll.election,
            allow_test,
            poll.encrypted_tally,
            [r for _o, r in rows],
        )
        try:
            await _split(
                service, jobs.check_shuffle, poll.election, allow_test, current, msg.shuffle
            )
        except (RecordError, ValueError) as exc:
            raise ActionError(
                m.ErrorCode.INVALID_DECRYPTION,
                f"not a valid shuffle of the current ciphertexts: {str(exc)[:400]}",
            ) from None
        seq = len(rows) + 1
        await service.db(
            lambda s: insert_ignore(
                s,
                ShuffleRow,
                {"poll_id": poll.id, "seq": seq, "owner": msg.trustee_id, "raw": msg.shuffle},
                ["poll_id", "seq"],
            )
        )
        await asyncio.to_thread(_sync_shuffles, rt.writer, await _shuffles(service, poll.id))
    service._spawn(service._advance_tally(poll.id))
