"""Combining a poll's partial decryptions, and naming a scrutineer whose one is wrong (issue 15).

The verdict is :func:`tally.blame.judge_raw`'s (run in the server's pool): which partial
decryptions make the result — they alone go into the archive — and which scrutineers sent a
factor that contradicts it. This module turns it into words (the poll's message: the console,
the presidium's screen, the operator's log) and audit rows (``partial_decryption_rejected``,
``partial_decryptions_inconsistent``); the rejected partial decryption stays in the database, its
hash in the audit row. docs/trust.md says what it decides and why it is sound.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from keys.hashing import sha256_hex
from tally.blame import Verdict, VerdictKind, judge_raw
from voting.models import Poll, Staff
from voting.session.context import SessionContext
from voting.session.states import Actor

log = logging.getLogger("renda.tally")

SERVER_TRUSTEE_ID = 1  # the server's Single key is the first trustees item


def scrutineer_names(s: Session) -> dict[int, str]:
    """Trustee id (scrutineer index + 1) -> the scrutineer's name."""
    return {
        row.trustee_index + 1: row.name
        for row in s.scalars(select(Staff).where(Staff.trustee_index.is_not(None)))
        if row.trustee_index is not None
    }


def who(trustee_id: int, names: Mapping[int, str]) -> str:
    if trustee_id == SERVER_TRUSTEE_ID:
        return "服务器 (the server)"
    index = trustee_id - 1
    name = names.get(trustee_id)
    return f"监票人 {index}" + (f"（{name}）" if name else "") + f" (scrutineer {index})"


def _list(ids: tuple[int, ...], names: Mapping[int, str]) -> str:
    return "、".join(who(i, names) for i in ids if i != SERVER_TRUSTEE_ID)


def tallied_message(verdict: Verdict, names: Mapping[int, str]) -> str:
    """The poll's message once tallied: empty when every partial decryption agreed."""
    parts = []
    if verdict.dishonest:
        parts.append(
            f"{_list(verdict.dishonest, names)} 的部分解密有误，未予采用 (sent a wrong partial "
            "decryption with a valid Belenios proof: not used); 以 "
            f"{_list(verdict.used, names)} 的部分解密计票 (tallied with these)"
        )
    if verdict.malformed:
        parts.append(
            f"{len(verdict.malformed)} 张选票解密后不是有效选票，按无效票处理 "
            f"({len(verdict.malformed)} ballot(s) do not decode to a ballot: void)"
            + ("" if "not cross-checked" not in verdict.reason else "; " + verdict.reason)
        )
    return "; ".join(parts)


def waiting_message(verdict: Verdict, names: Mapping[int, str], can_ask: bool) -> str:
    """The poll's message while the verdict waits for another scrutineer."""
    head = (
        "部分解密合不出结果 (the partial decryptions do not combine to a result: "
        f"{verdict.reason}); 嫌疑 (one of them is wrong): {_list(verdict.suspects, names)}"
    )
    if verdict.kind is VerdictKind.NEED_ANOTHER and can_ask:
        return (
            head
            + "; 需要再一名监票人的部分解密来查明 (one more scrutineer's partial "
            + ("decryption tells which): the tally waits for it")
        )
    if can_ask:
        return head + "; 等待其他监票人的部分解密 (the tally waits for the other scrutineers)"
    return (
        head + "; 已无其他监票人可以解密 (no other scrutineer can decrypt): the tally cannot go on"
    )


class Blame:
    """The verdicts of the polls being tallied; says each waiting verdict once."""

    def __init__(self, ctx: SessionContext) -> None:
        self.ctx = ctx
        self.said: dict[str, str] = {}  # poll id -> the last waiting message audited

    async def judge(
        self, poll: Poll, to_decrypt: str, have: Mapping[int, str], total_weight: int
    ) -> Verdict:
        assert poll.election and poll.trustees
        return await self.ctx.compute(
            judge_raw,
            poll.election,
            self.ctx.config.allow_test_group,
            poll.trustees,
            to_decrypt,
            dict(have),
            total_weight,
        )

    async def waiting(
        self, poll_id: str, verdict: Verdict, have: Mapping[int, str], can_ask: bool
    ) -> str:
        """Audit (once per change) and return the poll's message for a waiting verdict."""
        names = await self.ctx.db(scrutineer_names)
        message = waiting_message(verdict, names, can_ask)
        if self.said.get(poll_id) != message:
            self.said[poll_id] = message
            detail = (
                f"poll {poll_id}: suspects trustee(s) {list(verdict.suspects)} "
                f"({_list(verdict.suspects, names)}): {verdict.reason}; partial decryption "
                "hashes " + ", ".join(f"{i}={sha256_hex(have[i])[:16]}" for i in sorted(have))
            )

            def run(s: Session) -> None:
                self.ctx.audit(s, Actor.SERVER, "partial_decryptions_inconsistent", detail)

            await self.ctx.db(run)
        return message

    def record_tallied(
        self, s: Session, poll_id: str, verdict: Verdict, have: Mapping[int, str]
    ) -> str:
        """In the tally's transaction: an audit row per rejected partial decryption; the
        poll's message."""
        self.said.pop(poll_id, None)
        names = scrutineer_names(s)
        for i in verdict.dishonest:
            self.ctx.audit(
                s,
                Actor.SERVER,
                "partial_decryption_rejected",
                f"poll {poll_id}: {who(i, names)}, Belenios trustee {i}: its decryption factors "
                "contradict the result that the partial decryptions of "
                f"trustees {list(verdict.used)} give and that decodes; not used, not in the "
                f"archive (its partial decryption, SHA-256 {sha256_hex(have[i])}, is kept in "
                "the database)",
            )
            log.error("tally of %s: %s sent a wrong partial decryption", poll_id, who(i, names))
        if verdict.malformed:
            self.ctx.audit(
                s,
                Actor.SERVER,
                "ballots_not_decoding",
                f"poll {poll_id}: {len(verdict.malformed)} ballot(s) of the shuffled tally do "
                f"not decode (void): positions {list(verdict.malformed)[:50]}; {verdict.reason}",
            )
        return tallied_message(verdict, names)
