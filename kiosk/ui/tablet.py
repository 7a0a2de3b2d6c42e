"""The tablet's state, kept by the kiosk process and shown by the page (kiosk/ui/app.py).

:class:`Tablet` is the :class:`kiosk.client.Deputy` of a touch kiosk: when the kiosk asks the
deputy to choose, the tablet puts the ballot's form (kiosk/ui/ballot.py) in its state and
waits — as long as it takes: there is no timeout that loses a choice — until the page sends
the answers; it then checks them, builds the plaintext and hands it back to the kiosk, which
encrypts, stores and sends the ballot. The page never sees a credential, a key or a ballot:
only the form, the tracker and the receipt's words.

The state is one JSON snapshot (:meth:`Tablet.snapshot`), pushed to every page that listens
(server-sent events) whenever it changes, so a page that reconnects is at once where it was.
Screens (``screen``): ``enrol`` (the secretariat sets the tablet up), ``connecting``,
``waiting`` (session, deputy, seat, 已签到 / 请签到), ``ballot``, ``sending`` (the tracker; while
the server is unreachable, that the ballot is kept and will be sent), ``receipt``, ``closed``
(投票已结束), ``result``, ``refused`` (the kiosk will not vote in this poll).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any
from urllib.parse import quote

from kiosk.client import BallotDraft
from kiosk.ui.ballot import BallotError, ballot_form, plaintext, read_rules, review
from kiosk.ui.results import result_view
from tally import messages as m
from tally.tracker import tracker_groups


class Screen(StrEnum):
    ENROL = "enrol"
    CONNECTING = "connecting"
    WAITING = "waiting"
    BALLOT = "ballot"
    SENDING = "sending"
    RECEIPT = "receipt"
    CLOSED = "closed"
    RESULT = "result"
    REFUSED = "refused"


def chinese(text: str) -> str:
    """The Chinese part of a kiosk message ("中文 — English"): English stays in the logs."""
    return text.split(" — ", 1)[0].split(" (", 1)[0].strip()


def bulletin_url(server_url: str, tracker: str) -> str:
    """Where the public bulletin board (公告栏) shows this tracker (the screens issue's
    contract: ``<server>/results?tracker=<URL-encoded tracker>``)."""
    return f"{server_url.rstrip('/')}/results?tracker={quote(tracker, safe='')}"


@dataclass
class PollView:
    """What the tablet shows of one poll."""

    poll_id: str
    title: str
    form: dict[str, Any] | None = None
    questions: Any = None
    tracker: str | None = None
    receipt: dict[str, Any] | None = None
    closed: bool = False
    ended: str = ""  # how the poll ended when it did not simply close: withdrawn, void
    result: dict[str, Any] | None = None
    refused: str | None = None
    voted: bool = False
    deadline: str | None = None  # the preset voting time's end, from the signed setup


class Tablet:
    """The touch deputy (kiosk.client.Deputy) and the state of the tablet's page."""

    def __init__(self, server_url: str = "") -> None:
        self.server_url = server_url
        self.enrolled = False
        self.online = False
        self.ever_connected = False
        self.session = ""
        self.deputy: dict[str, Any] = {}
        self.present = False
        self.large_text = False
        self.message = ""
        self.polls: dict[str, PollView] = {}
        self.active: str | None = None  # the poll on screen
        self.pending: set[str] = set()  # polls whose ballot waits in the outbox
        self._choice: asyncio.Future[list[list[int]] | None] | None = None
        self._turn = asyncio.Lock()  # one ballot on screen at a time
        self._listeners: set[asyncio.Queue[str]] = set()
        self._revision = 0
        self.on_enrol: Callable[[str, str], Any] | None = None
        # 本机信息: the pinned server key and session trustees (fingerprints to compare)
        self.about: dict[str, Any] = {}

    # -- the page -------------------------------------------------------------------------------

    def screen(self) -> Screen:
        if not self.enrolled:
            return Screen.ENROL
        view = self.polls.get(self.active) if self.active else None
        if self._choice is not None and view is not None and view.form is not None:
            return Screen.BALLOT
        if view is not None:
            if view.result is not None:
                return Screen.RESULT
            if view.refused:
                return Screen.REFUSED
            if view.closed:
                return Screen.CLOSED
            if view.receipt is not None:
                return Screen.RECEIPT
            if view.tracker is not None:
                return Screen.SENDING
        if not self.ever_connected:
            return Screen.CONNECTING
        return Screen.WAITING

    def snapshot(self) -> dict[str, Any]:
        view = self.polls.get(self.active) if self.active else None
        poll: dict[str, Any] | None = None
        if view is not None:
            poll = {
                "poll_id": view.poll_id,
                "title": view.title,
                "form": view.form,
                "tracker": view.tracker,
                "tracker_groups": tracker_groups(view.tracker) if view.tracker else [],
                "receipt": view.receipt,
                "bulletin_url": bulletin_url(self.server_url, view.tracker)
                if view.tracker and view.receipt
                else None,
                "closed": view.closed,
                "ended": view.ended,
                "voted": view.voted,
                "result": view.result,
                "refused": view.refused,
                "kept": view.poll_id in self.pending,
                "deadline": None if view.closed else view.deadline,
            }
        return {
            "revision": self._revision,
            "screen": str(self.screen()),
            "online": self.online,
            "session": self.session,
            "deputy": self.deputy,
            "present": self.present,
            "large_text": self.large_text,
            "message": self.message,
            "server_url": self.server_url,
            "about": self.about,
            "poll": poll,
            "now": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        }

    def changed(self) -> None:
        self._revision += 1
        text = json.dumps(self.snapshot(), ensure_ascii=False)
        for queue in list(self._listeners):
            with contextlib.suppress(asyncio.QueueFull):
                queue.put_nowait(text)

    def listen(self) -> asyncio.Queue[str]:
        queue: asyncio.Queue[str] = asyncio.Queue(maxsize=100)
        queue.put_nowait(json.dumps(self.snapshot(), ensure_ascii=False))
        self._listeners.add(queue)
        return queue

    def unlisten(self, queue: asyncio.Queue[str]) -> None:
        self._listeners.discard(queue)

    def set_large_text(self, on: bool) -> None:
        self.large_text = on
        self.changed()

    def review(self, poll_id: str, answers: Any) -> dict[str, Any]:
        view = self._ballot(poll_id)
        assert view.form is not None
        return review(view.form, answers)

    def cast(self, poll_id: str, answers: Any) -> None:
        """The deputy confirmed on the review screen: the kiosk encrypts and sends."""
        view = self._ballot(poll_id)
        assert view.form is not None and self._choice is not None
        rows = plaintext(view.form, view.questions, answers)
        if not self._choice.done():
            self._choice.set_result(rows)

    def _ballot(self, poll_id: str) -> PollView:
        view = self.polls.get(poll_id)
        if view is None or self.active != poll_id or self._choice is None or view.form is None:
            raise BallotError("这张选票已不在屏幕上")
        return view

    # -- kiosk.client.Deputy ------------------------------------------------------------------

    async def choose(self, poll: m.PollInfo, election: Any) -> list[list[int]] | None:
        async with self._turn:
            view = self._view(poll.poll_id, poll.title)
            if view.closed:
                return None
            rules = read_rules(getattr(poll, "rules", None))
            view.form = ballot_form(
                poll.poll_id,
                poll.title,
                poll.kind,
                election.questions,
                rules,
                last_press_valid=poll.last_press_valid,
                description=election.description,
            )
            view.questions = election.questions
            loop = asyncio.get_running_loop()
            self._choice = loop.create_future()
            self.active = poll.poll_id
            self.message = ""
            self.changed()
            try:
                return await self._choice
            finally:
                self._choice = None
                self.changed()

    async def confirm(self, draft: BallotDraft) -> bool:
        view = self._view(draft.poll_id, draft.title)
        view.tracker = draft.tracker
        view.voted = True
        self.pending.add(draft.poll_id)
        self.active = draft.poll_id
        self.changed()
        return True  # the deputy confirmed on the review screen; the tracker is now shown

    def notify(self, text: str) -> None:
        if text.startswith(("已投票", "投票时间至")):
            return  # the receipt screen says it; the ballot screen counts down
        self.message = chinese(text)
        self.changed()

    # -- the kiosk's events ---------------------------------------------------------------------

    def _view(self, poll_id: str, title: str = "") -> PollView:
        view = self.polls.get(poll_id)
        if view is None:
            view = self.polls[poll_id] = PollView(poll_id, title)
        elif title:
            view.title = title
        return view

    def on_welcome(self, welcome: m.Welcome, ended: set[str] | None = None) -> None:
        """``ended``: the polls the kiosk ended (on the server's signed list of polls); a poll
        the welcome alone calls closed stays open on the page (None: trust the welcome)."""
        deputy = {
            "name": welcome.deputy.name,
            "seat": welcome.deputy.seat,
            "delegation": welcome.deputy.delegation,
            "deputy_id": welcome.deputy.deputy_id,
        }
        if self.deputy and self.deputy.get("deputy_id") != deputy["deputy_id"]:
            self.large_text = False  # the next deputy starts with the default size
        self.deputy = deputy
        self.session = welcome.session
        self.present = welcome.present
        self.online = True
        self.ever_connected = True
        self.message = ""
        for info in welcome.polls:
            view = self.polls.get(info.poll_id)
            if view is None:
                continue
            view.title = info.title
            if info.state in ("withdrawn", "void"):
                view.ended = info.state
            if info.state in ("closed", "tallied", "published", "withdrawn", "void") and (
                ended is None or info.poll_id in ended
            ):
                self._close(view)
        self.changed()

    def _close(self, view: PollView) -> None:
        view.closed = True
        self.pending.discard(view.poll_id)
        if self._choice is not None and self.active == view.poll_id and not self._choice.done():
            self._choice.set_result(None)  # the ballot on screen can no longer be cast

    async def on_event(self, kind: str, data: dict[str, Any], kiosk: Any) -> None:
        """``Kiosk(on_event=...)``: keeps the page's state in step with the kiosk."""
        poll_id = data.get("poll_id")
        if kind == "welcome" and kiosk.welcome is not None:
            self.on_welcome(kiosk.welcome, {p for p, s in kiosk.polls.items() if s.closed})
            return
        if kind == "offline":
            self.online = False
            self.changed()
            return
        if kind == "trustees":
            self.about = {**self.about, "trustees": dict(data)}
            self.changed()
            return
        if not isinstance(poll_id, str):
            return
        title = kiosk.polls[poll_id].info.title if poll_id in kiosk.polls else ""
        view = self._view(poll_id, title)
        if kind == "ack":
            view.tracker = data["tracker"]
            receipt = data.get("receipt") or {}
            view.receipt = {
                "checked": True,
                "received_at": receipt.get("received_at"),
                "event_hash": receipt.get("event_hash"),
            }
            self.pending.discard(poll_id)
            if self._choice is None:
                self.active = poll_id
        elif kind == "poll_closed":
            state = str(data.get("state", ""))
            view.ended = state if state in ("withdrawn", "void") else ""
            self._close(view)
            if self._choice is None and self.active is None:
                self.active = poll_id
        elif kind == "result":
            self._close(view)
            view.result = result_view(view.form, data.get("result") or {}, view.title)
            if self._choice is None:
                self.active = poll_id
        elif kind == "refused":
            view.refused = chinese(str(data.get("reason", "")))
            if self._choice is None:
                self.active = poll_id
        elif kind == "deadline":
            view.deadline = str(data.get("deadline") or "") or None
        elif kind == "bad_receipt":
            self.message = chinese(str(data.get("reason", "")))
        else:
            return
        self.changed()

    def restore(self, pending: list[Any]) -> None:
        """Ballots left in the outbox by an earlier run of the kiosk process (kiosk.outbox
        PendingBallot): shown as being sent until their receipt comes."""
        for item in pending:
            view = self._view(item.poll_id)
            view.tracker = item.tracker
            view.voted = True
            self.pending.add(item.poll_id)
            self.active = item.poll_id

    def receipt_of(self, poll_id: str) -> PollView:
        view = self.polls.get(poll_id)
        if view is None or view.tracker is None or view.receipt is None:
            raise KeyError(poll_id)
        return view
