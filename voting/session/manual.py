"""A poll held by show of hands or on paper when the devices fail (举手表决 / 纸质选票).

The secretariat enters the figures counted in the hall for a draft poll (its rules and ballot
already checked when it was saved); :func:`tally.manual_count.manual_counts` checks them and
the rules engine evaluates them (:func:`tally.manual_count.evaluate_manual`, the pipeline of an
electronic tally after its decryption). The poll goes from draft to tallied, marked by its
``counts.method``; the scrutineers are asked to sign its count report (voting.session.signing,
against the session's trustees: there is no archive), the chair publishes it like any poll,
and the record carries it with no archive (``renda verify`` re-evaluates it and says it is a
manual count that cannot be verified cryptographically).
"""

from __future__ import annotations

import json
import logging
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tally.manual_count import (
    METHOD_NAMES,
    ManualCountError,
    Method,
    evaluate_manual,
    manual_counts,
)
from voting.models import Deputy, Meta
from voting.session import queries as q
from voting.session.context import SessionContext, now
from voting.session.errors import ActionError, Code
from voting.session.live import Live
from voting.session.outcome import roster_numbers
from voting.session.polls import Polls, check_ballot_form, transition
from voting.session.signing import ReportSigning
from voting.session.states import PollAction, PollState

log = logging.getLogger("renda.manual")


def _entry(rules: dict[str, Any]) -> dict[str, Any]:
    if "polls" in rules and "session" in rules:
        wanted = rules.get("poll")
        for p in rules["polls"]:
            if wanted is None or p.get("id") == wanted:
                return dict(p)
    return dict(rules)


class ManualCounts:
    def __init__(self, ctx: SessionContext, polls: Polls, live: Live, signing: ReportSigning):
        self.ctx = ctx
        self.polls = polls
        self.live = live
        self.signing = signing

    async def record(self, poll_id: str, entered: dict[str, Any], role: str) -> dict[str, Any]:
        """Record a draft poll as counted by hand; ``entered`` as
        :func:`tally.manual_count.manual_counts` reads it, with ``method``. ActionError
        ``bad_counts`` (422) in words when the figures cannot be a count of this poll."""
        ctx = self.ctx

        def run(s: Session) -> dict[str, Any]:
            poll = q.poll(s, poll_id)
            if poll.state != PollState.DRAFT:
                raise ActionError(
                    Code.BAD_STATE,
                    f"only a draft poll is counted by hand, not one that is {poll.state} "
                    "(withdraw an open poll, re-run it, then enter the count of the re-run)",
                    409,
                )
            if not poll.rules:
                raise ActionError(
                    Code.BAD_COUNTS, "a poll without rules cannot be counted by hand", 422
                )
            rules = json.loads(poll.rules)
            seats = {d.seat: d.name for d in s.scalars(select(Deputy))}
            present = q.count(s, Deputy, Deputy.attendance == "present")
            try:
                counts = manual_counts(
                    _entry(rules),
                    str(entered.get("method", "")),
                    entered,
                    total=len(seats),
                    present=present,
                    roster=roster_numbers(seats),
                )
                outcome = evaluate_manual(
                    rules,
                    counts,
                    json.loads(poll.template),
                    session=ctx.session_name,
                    title=poll.title,
                )
            except ManualCountError as exc:
                raise ActionError(Code.BAD_COUNTS, exc.message, 422) from None
            except Exception as exc:  # the rules engine refuses these figures: in its words
                raise ActionError(
                    Code.BAD_COUNTS, f"规则引擎不接受这些数字：{str(exc)[:500]}", 422
                ) from None
            trustees = s.get(Meta, "trustees")
            for follow in outcome.get("followups", []) or []:
                try:  # a follow-up whose overfilled ballots could count is not drafted
                    check_ballot_form(poll.kind, follow["template"], follow.get("rules"))
                except ActionError as exc:
                    log.warning("follow-up of %s not created: %s", poll_id, exc.message)
                    continue
                self.polls.insert(
                    s,
                    str(follow.get("title", poll.title)),
                    poll.kind,
                    follow["template"],
                    follow.get("rules"),
                    poll.last_press_valid,
                    poll.id,
                    str(follow.get("relation", "tie_revote")),
                )
            transition(
                s,
                poll,
                PollAction.COUNT_BY_HAND,
                message="",
                opened_at=now(),
                closed_at=now(),
                counts=json.dumps(counts, ensure_ascii=False),
                outcome=json.dumps(outcome, ensure_ascii=False),
                # the scrutineers sign its count report with the session's keys
                trustees=trustees.value if trustees is not None else None,
            )
            method = Method(counts["method"])
            ctx.audit(s, role, "hand_count", f"{poll_id} {METHOD_NAMES[method]}")
            return counts

        async with ctx.poll_create_lock:  # follow-up drafts may be created
            await ctx.db(run)
        await self.live.status_to_displays(poll_id)
        await self.signing.request_signatures(poll_id)
        return await self.polls.get(poll_id)
