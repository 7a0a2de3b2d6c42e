"""The screens' live state: what the hall and presidium screens are sent (docs/protocol.md §7).

``build_state`` reads the database once and returns the whole state of one view — the
``snapshot`` a screen receives on every (re)connect and after every change of a poll's state:

* ``hall``: attendance; the poll in progress (title, 发出 / 已投, deadline) — never a count of
  choices; a result only once published (延时显示, the default) or once tallied when the poll
  is set to 直接显示;
* ``presidium``: the same, the result as soon as it is tallied, and the process: ballots
  issued and received, the tally's steps, the scrutineers connected, a stuck step's reason.

``DisplayFeed`` keeps the screens up to date: a fresh snapshot for each view when a poll
changes state or a scrutineer comes or goes, and, while a tally runs, a look every two seconds
(sent only when something changed). Attendance and 已投 figures go out as the existing
``attendance`` / ``poll_status`` messages in between.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tally import messages as m
from tally.manual_count import METHOD_NAMES, method_of
from voting.models import (
    Ceremony,
    Deputy,
    Issuance,
    PartialDecryptionRow,
    Poll,
    ReportSignatureRow,
    ShuffleRow,
    Staff,
    Vote,
)
from voting.session import queries as q
from voting.session.background import Background
from voting.session.context import SessionContext
from voting.session.hub import server_id
from voting.session.polls import session_result_display
from voting.session.results_view import KIND_LABELS, result_view
from voting.session.states import ResultDisplay
from voting.session.tallying import _needed, is_nh
from voting.session.views import manual_fingerprint

log = logging.getLogger("renda.display")


class View(StrEnum):
    HALL = "hall"
    PRESIDIUM = "presidium"


ACTIVE = ("collecting", "open")
COUNTING = ("closed", "tallied")
SHOWN = ("collecting", "open", "closed", "tallied", "published", "void")
STATE_LABELS = {
    "draft": "草稿",
    "collecting": "正在发放选票",
    "open": "正在投票",
    "closed": "投票结束，正在计票",
    "tallied": "计票完成，待公布",
    "published": "已公布",
    "withdrawn": "已撤回",
    "void": "已作废",
}
CLOSED_BY_LABELS = {"chair": "主持人宣布投票结束", "timer": "预设时间到，自动结束", "": ""}


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


_FINGERPRINTS: dict[str, tuple[int, int, str]] = {}


def archive_fingerprint(path: Path) -> str | None:
    """SHA-256 (hex) of a published archive, as an auditor computes it on the file served at
    ``/record/polls/{poll_id}/{uuid}.bel``; cached by size and modification time."""
    try:
        st = path.stat()
    except OSError:
        return None
    key = str(path)
    cached = _FINGERPRINTS.get(key)
    if cached and cached[:2] == (st.st_size, st.st_mtime_ns):
        return cached[2]
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    value = digest.hexdigest()
    _FINGERPRINTS[key] = (st.st_size, st.st_mtime_ns, value)
    return value


def _attendance(s: Session) -> dict[str, int | bool]:
    counts = dict(
        s.execute(select(Deputy.attendance, func.count()).group_by(Deputy.attendance)).all()
    )
    total = sum(counts.values())
    present = counts.get("present", 0)
    leave = counts.get("leave", 0)
    return {
        "total": total,
        "expected": total,
        "present": present,
        "on_leave": leave,
        "absent": total - present - leave,
        "quorum": total > 0 and present * 3 >= total * 2,
    }


def _count(s: Session, model: Any, poll_id: str) -> int:
    return int(
        s.scalar(select(func.count()).select_from(model).where(model.poll_id == poll_id)) or 0
    )


def result_display(poll: Poll, session_default: str | None = None) -> ResultDisplay:
    value = poll.result_display or session_default or ResultDisplay.DELAYED
    try:
        return ResultDisplay(value)
    except ValueError:
        return ResultDisplay.DELAYED


def poll_view(s: Session, poll: Poll, session_default: str | None = None) -> dict[str, Any]:
    """The poll as every screen may see it: never a count of choices."""
    return {
        "poll_id": poll.id,
        "title": poll.title,
        "kind": poll.kind,
        "kind_label": KIND_LABELS.get(poll.kind, "表决"),
        "state": poll.state,
        "state_label": STATE_LABELS.get(poll.state, poll.state),
        "issued": _count(s, Issuance, poll.id),
        "received": _count(s, Vote, poll.id),
        "deadline": poll.deadline,
        "duration": poll.duration,
        "closed_by": poll.closed_by,
        "closed_by_label": CLOSED_BY_LABELS.get(poll.closed_by or "", ""),
        "result_display": result_display(poll, session_default).value,
        "opened_at": poll.opened_at,
        "closed_at": poll.closed_at,
    }


def _focus(polls: list[Poll]) -> Poll | None:
    """The poll the screens are about: one being voted on, else the last one opened."""
    active = [p for p in polls if p.state in ACTIVE]
    if active:
        return max(active, key=lambda p: (p.opened_at or "", p.seq))
    shown = [p for p in polls if p.state in SHOWN]
    return max(shown, key=lambda p: (p.opened_at or "", p.seq)) if shown else None


def _result(
    source: SessionContext, poll: Poll, issued: int, received: int
) -> dict[str, Any] | None:
    data = {
        "poll_id": poll.id,
        "state": poll.state,
        "kind": poll.kind,
        "title": poll.title,
        "outcome": json.loads(poll.outcome) if poll.outcome else None,
        "template": poll.template,
        "result": json.loads(poll.result) if poll.result else None,
        "counts": json.loads(poll.counts) if poll.counts else None,
        "issued": issued,
        "received": received,
    }
    view = result_view(data)
    if view is None:
        return None
    out = view.data()
    published = poll.state == "published"
    out["fingerprint"] = archive_fingerprint(source.archive_path(poll.id)) if published else None
    if view.method and published:  # counted by hand: the signed count report stands for it
        out["fingerprint"] = manual_fingerprint(source.session_name, poll)
    out["record_url"] = f"/results#poll-{poll.id}" if published else None
    out["qr_url"] = f"/results/{poll.id}/qr.svg" if published else None
    return out


def _needed_partials(source: SessionContext, poll: Poll) -> int:
    if not poll.trustees:
        return 0
    return sum(k for _ids, k in _needed(poll.trustees, source.poll_group(poll)))


def _is_nh(poll: Poll) -> bool:
    return bool(is_nh(poll))


def _process(s: Session, source: SessionContext, poll: Poll | None) -> dict[str, Any]:
    """The presidium's view of the tally: steps, scrutineers connected, a stuck step."""
    connected = set(source.hub.trustees)
    scrutineers = [
        {"index": row.trustee_index, "name": row.name, "connected": row.trustee_index in connected}
        for row in s.scalars(
            select(Staff).where(Staff.role == "scrutineer").order_by(Staff.trustee_index)
        )
    ]
    ceremony = s.scalar(select(Ceremony).order_by(Ceremony.id.desc()).limit(1))
    threshold = ceremony.threshold if ceremony is not None else 0
    out: dict[str, Any] = {
        "scrutineers": scrutineers,
        "threshold": threshold,
        "ceremony": ceremony.state if ceremony is not None else "none",
        "poll_id": None,
        "poll_title": "",
        "steps": [],
        "stuck": "",
        "notice": "",
    }
    if poll is None:
        return out
    out["poll_id"] = poll.id
    out["poll_title"] = poll.title
    issued, received = _count(s, Issuance, poll.id), _count(s, Vote, poll.id)
    state = poll.state
    # a tallied poll's message is a note (a scrutineer named, ballots void), not a pause
    out["stuck" if state not in ("tallied", "published") else "notice"] = poll.message or ""
    after_close = state in ("closed", "tallied", "published")
    manual = method_of(json.loads(poll.counts or "null"))
    if manual is not None:  # counted by hand: nothing was issued, shuffled or decrypted
        signatures = _count(s, ReportSignatureRow, poll.id)
        out["steps"] = [
            {"key": "counted", "label": f"{METHOD_NAMES[manual]}：人工清点", "done": True,
             "current": False, "detail": ""},
            {"key": "entered", "label": "秘书处录入，规则引擎计算结果", "done": True,
             "current": False, "detail": ""},
            {"key": "signed", "label": "监票人签署计票结果报告单",
             "done": signatures >= threshold, "current": signatures < threshold,
             "detail": f"{signatures} / {threshold}" if threshold else ""},
            {"key": "published", "label": "主持人宣布结果", "done": state == "published",
             "current": signatures >= threshold and state != "published", "detail": ""},
        ]  # fmt: skip
        return out
    steps: list[dict[str, Any]] = [
        {
            "key": "issued",
            "label": "发出选票",
            "done": state not in ("draft", "collecting"),
            "detail": f"{issued} 张",
        },
        {"key": "received", "label": "收回选票", "done": after_close, "detail": f"{received} 张"},
        {
            "key": "closed",
            "label": "投票结束",
            "done": after_close,
            "detail": CLOSED_BY_LABELS.get(poll.closed_by or "", ""),
        },
        {"key": "tally", "label": "计算加密总票", "done": poll.encrypted_tally is not None},
    ]
    if _is_nh(poll):
        shuffles = _count(s, ShuffleRow, poll.id)
        steps.append(
            {
                "key": "shuffle",
                "label": "监票人混洗选票",
                "done": poll.decrypt_tally is not None,
                "detail": f"已收到 {shuffles} 份",
            }
        )
    needed = _needed_partials(source, poll)
    have = _count(s, PartialDecryptionRow, poll.id)
    steps += [
        {
            "key": "decrypt",
            "label": "监票人共同解密",
            "done": poll.result is not None,
            "detail": f"{min(have, needed)} / {needed}" if needed else "",
        },
        {"key": "result", "label": "计票结果", "done": poll.result is not None},
    ]
    if threshold > 0:
        signatures = _count(s, ReportSignatureRow, poll.id)
        steps.append(
            {
                "key": "signed",
                "label": "监票人签署计票结果报告单",
                "done": poll.result is not None and signatures >= threshold,
                "detail": f"{signatures} / {threshold}" if poll.result is not None else "",
            }
        )
    steps.append({"key": "published", "label": "主持人宣布结果", "done": state == "published"})
    if after_close:
        for step in steps:
            if not step["done"]:
                step["current"] = True
                break
    for step in steps:
        step.setdefault("current", False)
        step.setdefault("detail", "")
    out["steps"] = steps if state not in ("draft",) else []
    return out


def build_state(s: Session, source: SessionContext, view: View) -> dict[str, Any]:
    """The whole state of ``view`` (one transaction)."""
    polls = q.polls_in_order(s, light=True)  # every 0.2–2 s: not the polls' credential lists
    focus = _focus(polls)
    state: dict[str, Any] = {
        "view": view.value,
        "session": source.session_name,
        "server_time": now_iso(),
        "attendance": _attendance(s),
        "stage": "idle",
        "poll": None,
        "result_display": session_result_display(s),
    }
    if focus is not None:
        pv = poll_view(s, focus, session_result_display(s))
        state["poll"] = pv
        shown = focus.state == "published" or (
            focus.state == "tallied"
            and (view is View.PRESIDIUM or pv["result_display"] == ResultDisplay.IMMEDIATE)
        )
        if focus.state in ACTIVE:
            state["stage"] = "vote"
        elif shown:
            result = _result(source, focus, pv["issued"], pv["received"])
            if result is not None:
                state["result"] = result
            state["stage"] = "result" if result is not None else "counting"
        elif focus.state == "void":
            state["stage"] = "idle"
        else:
            state["stage"] = "counting"
    if view is View.PRESIDIUM:
        state["process"] = _process(s, source, focus)
    return state


class DisplayFeed(Background):
    """Snapshots to the connected screens, per view, when something they show changed."""

    TICK = 2.0

    def __init__(self, ctx: SessionContext) -> None:
        self.source = ctx
        self.db = ctx.db
        self.hub = ctx.hub
        ctx.hub.on_change = self.changed
        self._last: dict[View, str] = {}
        self._wake = asyncio.Event()

    async def state(self, view: View) -> dict[str, Any]:
        result: dict[str, Any] = await self.db(lambda s: build_state(s, self.source, view))
        return result

    async def snapshot(self, view: View) -> m.Snapshot:
        return m.Snapshot(id=_sid(), view=view.value, state=await self.state(view))

    def changed(self) -> None:
        """Something a screen shows changed: send fresh snapshots soon (coalesced)."""
        self._wake.set()

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self.TICK)
            self._wake.clear()
            try:
                await self._push()
            except Exception:  # a screen must never stop the server
                log.exception("display snapshot failed")
            await asyncio.sleep(0.2)  # coalesce bursts (many ballots, many check-ins)

    async def _push(self) -> None:
        conns = list(self.hub.displays)
        for view in View:
            targets = [c for c in conns if getattr(c, "view", "") == view.value]
            if not targets:
                self._last.pop(view, None)
                continue
            state = await self.state(view)
            key = json.dumps({k: v for k, v in state.items() if k != "server_time"}, sort_keys=True)
            if self._last.get(view) == key:
                continue
            self._last[view] = key
            msg = m.Snapshot(id=_sid(), view=view.value, state=state)
            await asyncio.gather(*(c.send(msg) for c in targets))


def _sid() -> str:
    return server_id()
