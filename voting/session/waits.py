"""What a closed poll's tally waits for, in words for the poll's ``message`` and the log, and
the scrutineers' deadlines: a shuffle request with no answer in ``scrutineer_timeout`` goes to
the next scrutineer; a decryption request is sent again to those who have not answered.

A tally that cannot go on is never silent: the message names the scrutineers it waits for,
since when it has asked them, and which of them are not connected (since when).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Coroutine, Iterable
from dataclasses import dataclass, field
from typing import Any

from voting.session.context import SessionContext, now

log = logging.getLogger("renda.tally")


@dataclass
class Asked:
    """A request to one scrutineer: when, and the deadline's timer."""

    index: int
    at: str
    monotonic: float
    timer: asyncio.TimerHandle | None = None


@dataclass
class PollWaits:
    shuffle: Asked | None = None  # the scrutineer asked to shuffle now
    skipped: set[int] = field(default_factory=set)  # asked, no answer in time
    decryption: dict[int, Asked] = field(default_factory=dict)
    message: str = ""


def _who(index: int) -> str:
    return f"scrutineer {index}"


def away_words(indices: Iterable[int], connected: set[int], left_at: dict[int, str]) -> list[str]:
    return [
        f"{_who(i)} is not connected" + (f" (since {left_at[i]})" if i in left_at else "")
        for i in sorted(indices)
        if i not in connected
    ]


def shuffle_message(
    done: int, needed: int, asked: Asked | None, skipped: set[int], away: list[str]
) -> str:
    parts = [f"the tally waits for shuffles: {done} of {needed} scrutineers' shuffles are in"]
    if asked is not None:
        parts.append(f"{_who(asked.index)} was asked at {asked.at}")
    else:
        parts.append("no scrutineer that has not shuffled is connected")
    if skipped:
        parts.append("no answer in time from " + ", ".join(_who(i) for i in sorted(skipped)))
    return "; ".join(parts + away)


def decryption_message(
    have: int, needed: int, asked: dict[int, Asked], answered: set[int], away: list[str]
) -> str:
    parts = [f"the tally waits for partial decryptions: {have} of {needed} scrutineers' are in"]
    pending = [a for i, a in sorted(asked.items()) if i not in answered]
    if pending:
        parts.append("asked " + ", ".join(f"{_who(a.index)} at {a.at}" for a in pending))
    return "; ".join(parts + away)


class Waits:
    """The waits of the polls being tallied (memory only: rebuilt by the requests after a
    restart)."""

    def __init__(
        self,
        ctx: SessionContext,
        set_message: Callable[[str, str], Coroutine[Any, Any, None]],
    ) -> None:
        self.ctx = ctx
        self._set_message = set_message
        self.polls: dict[str, PollWaits] = {}

    def of(self, poll_id: str) -> PollWaits:
        return self.polls.setdefault(poll_id, PollWaits())

    def forget(self, poll_id: str) -> None:
        waits = self.polls.pop(poll_id, None)
        if waits is None:
            return
        for asked in [waits.shuffle, *waits.decryption.values()]:
            if asked is not None and asked.timer is not None:
                asked.timer.cancel()

    def _arm(self, asked: Asked, on_timeout: Callable[[], Coroutine[Any, Any, None]]) -> None:
        loop = asyncio.get_running_loop()
        asked.timer = loop.call_later(
            self.ctx.config.scrutineer_timeout, lambda: self.ctx.spawn(on_timeout())
        )

    def shuffler(self, poll_id: str, candidates: list[int]) -> int | None:
        """Whom to ask for the next shuffle: the lowest connected candidate not skipped for
        silence; if every candidate was skipped, they get another chance."""
        waits = self.of(poll_id)
        fresh = [i for i in candidates if i not in waits.skipped]
        if not fresh and candidates:
            waits.skipped -= set(candidates)
            fresh = candidates
        return fresh[0] if fresh else None

    def asked_to_shuffle(
        self, poll_id: str, index: int, on_timeout: Callable[[], Coroutine[Any, Any, None]]
    ) -> None:
        waits = self.of(poll_id)
        if waits.shuffle is not None and waits.shuffle.index == index:
            return  # asked again (it reconnected): the deadline still runs from the first ask
        if waits.shuffle is not None and waits.shuffle.timer is not None:
            waits.shuffle.timer.cancel()
        waits.shuffle = Asked(index, now(), time.monotonic())
        self._arm(waits.shuffle, on_timeout)

    def shuffle_timed_out(self, poll_id: str, index: int) -> bool:
        """The deadline of scrutineer ``index``'s shuffle passed: True if it is still the one
        asked (it is then skipped for this poll)."""
        waits = self.polls.get(poll_id)
        if waits is None or waits.shuffle is None or waits.shuffle.index != index:
            return False
        log.warning(
            "tally of %s: scrutineer %s did not shuffle within %.0f s; asking the next one",
            poll_id,
            index,
            self.ctx.config.scrutineer_timeout,
        )
        waits.skipped.add(index)
        waits.shuffle = None
        return True

    def shuffled(self, poll_id: str) -> None:
        waits = self.polls.get(poll_id)
        if waits is not None and waits.shuffle is not None:
            if waits.shuffle.timer is not None:
                waits.shuffle.timer.cancel()
            waits.shuffle = None

    def asked_to_decrypt(
        self, poll_id: str, index: int, on_timeout: Callable[[], Coroutine[Any, Any, None]]
    ) -> None:
        waits = self.of(poll_id)
        if index in waits.decryption:
            return
        asked = Asked(index, now(), time.monotonic())
        waits.decryption[index] = asked
        self._arm(asked, on_timeout)

    def decryption_timed_out(self, poll_id: str) -> list[int]:
        """The scrutineers whose decryption deadline passed: asked again (new deadline)."""
        waits = self.polls.get(poll_id)
        if waits is None:
            return []
        late = [
            i
            for i, a in waits.decryption.items()
            if time.monotonic() - a.monotonic >= self.ctx.config.scrutineer_timeout - 0.01
        ]
        for i in late:
            del waits.decryption[i]
        if late:
            log.warning(
                "tally of %s: no partial decryption in time from scrutineer(s) %s; asked again",
                poll_id,
                late,
            )
        return late

    async def say(self, poll_id: str, message: str) -> None:
        """The poll's message (and the log, when it changes)."""
        waits = self.of(poll_id)
        if message == waits.message:
            return
        waits.message = message
        if message:
            log.warning("tally of %s: %s", poll_id, message)
        await self._set_message(poll_id, message)
