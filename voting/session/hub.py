"""Live connections: kiosks by deputy, scrutineers by trustee index, displays."""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from pydantic import BaseModel

from tally.messages import dump

log = logging.getLogger("renda.hub")
_ids = itertools.count(1)
_opened = itertools.count(1)

MAX_KIOSK_CONNECTIONS = 2  # per deputy (its tablet): a third closes the oldest


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


REVOKED = 4403  # websocket close code: this tablet's enrolment was revoked
REPLACED = 4409  # websocket close code: a newer connection of the same tablet took its place


def server_id() -> str:
    return f"s{next(_ids)}"


@dataclass(eq=False)
class Connection:
    """One websocket peer; ``send_text`` is the websocket's send."""

    send_text: Callable[[str], Awaitable[None]]
    role: str
    deputy_id: int | None = None
    trustee_index: int | None = None
    view: str = ""  # a display's view: "hall" or "presidium" (voting.session.display)
    device_id: str | None = None  # a kiosk's enrolled device
    close: Callable[[int], Awaitable[None]] | None = None  # the websocket's close(code)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    opened: int = field(default_factory=lambda: next(_opened))

    async def send(self, message: BaseModel | str) -> bool:
        """Send a message, or a frame already dumped (the same for many peers: dumped once)."""
        try:
            text = message if isinstance(message, str) else dump(message)
            async with self.lock:
                await self.send_text(text)
            return True
        except Exception:  # a peer that went away; it reconnects and catches up
            return False


class Hub:
    def __init__(self) -> None:
        self.kiosks: dict[int, set[Connection]] = {}
        self.trustees: dict[int, set[Connection]] = {}
        self.displays: set[Connection] = set()
        self.trustee_left_at: dict[int, str] = {}  # index -> when its last connection closed
        # called when something the screens show may have changed (voting.session.display)
        self.on_change: Callable[[], None] | None = None

    def _changed(self) -> None:
        if self.on_change is not None:
            self.on_change()

    def screens_changed(self) -> None:
        """Something the screens show changed (a poll's settings): fresh snapshots soon."""
        self._changed()

    def add(self, conn: Connection) -> None:
        if conn.role == "kiosk" and conn.deputy_id is not None:
            conns = self.kiosks.setdefault(conn.deputy_id, set())
            while len(conns) >= MAX_KIOSK_CONNECTIONS:  # connections per tablet are bounded
                oldest = min(conns, key=lambda c: c.opened)
                conns.discard(oldest)
                log.info("deputy %s: a third kiosk connection closes the oldest", conn.deputy_id)
                if oldest.close is not None:
                    task = asyncio.ensure_future(oldest.close(REPLACED))
                    task.add_done_callback(lambda t: t.cancelled() or t.exception())
            conns.add(conn)
        elif conn.role == "scrutineer" and conn.trustee_index is not None:
            self.trustees.setdefault(conn.trustee_index, set()).add(conn)
            self._changed()
        else:
            self.displays.add(conn)

    def remove(self, conn: Connection) -> None:
        for table, key in ((self.kiosks, conn.deputy_id), (self.trustees, conn.trustee_index)):
            if key is None:
                continue
            conns = table.get(key)
            if conns is not None:
                conns.discard(conn)
                if not conns:
                    del table[key]
                    if table is self.trustees:
                        self.trustee_left_at[key] = _now()
        self.displays.discard(conn)
        if conn.role == "scrutineer":
            self._changed()

    async def close_kiosks(self, deputy_id: int) -> int:
        """Revocation: close at once every live connection of the deputy's tablets; they
        get nothing more. The number closed."""
        closed = 0
        for conn in list(self.kiosks.get(deputy_id, ())):
            self.remove(conn)
            closed += 1
            if conn.close is not None:
                try:
                    await conn.close(REVOKED)
                except Exception:  # already gone
                    log.debug("a revoked kiosk connection was already closed")
        return closed

    async def to_deputy(self, deputy_id: int, message: BaseModel | str) -> int:
        sent = 0
        for conn in list(self.kiosks.get(deputy_id, ())):
            sent += await conn.send(message)
        return sent

    async def to_many_deputies(
        self, send: Callable[[int], Awaitable[None]], deputy_ids: Iterable[int], step: int = 100
    ) -> None:
        """``send(deputy_id)`` for each, all at once (a slow tablet holds up no other), started
        ``step`` at a time with the event loop's other work in between: 3,000 tablets' ballots
        sent in one turn of the loop kept the staff's requests waiting for seconds."""
        tasks: list[asyncio.Future[None]] = []
        for i, deputy_id in enumerate(deputy_ids):
            tasks.append(asyncio.ensure_future(send(deputy_id)))
            if i % step == step - 1:
                await asyncio.sleep(0)
        await asyncio.gather(*tasks)

    async def to_trustee(self, index: int, message: BaseModel) -> int:
        sent = 0
        for conn in list(self.trustees.get(index, ())):
            sent += await conn.send(message)
        return sent

    async def to_all_kiosks(self, make: Callable[[], BaseModel]) -> None:
        conns = [c for cs in self.kiosks.values() for c in cs]
        await asyncio.gather(*(c.send(make()) for c in conns))

    async def to_displays(self, make: Callable[[], BaseModel]) -> None:
        await asyncio.gather(*(c.send(make()) for c in list(self.displays)))
        self._changed()
