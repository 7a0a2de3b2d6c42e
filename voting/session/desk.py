"""The check-in desk: 签到, 补签到, 请假, 缺席, 中途退场 and 返回, each kept with its time.

A deputy's attendance is one of ``absent`` (the roster's default: not yet arrived, or 缺席),
``present``, ``leave`` (请假) or ``left`` (中途退场: was present, has left the hall; counted as
absent in 实到 and gets no ballot). Every change is an audit-log row (``attendance_*``) with
its time, so the attendance sheet shows when each deputy checked in, whether late (补签到: a
check-in after the first vote of the session opened), and every departure and return.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from tally.messages import ErrorCode
from voting.models import AuditLog, Deputy, Poll
from voting.session.errors import ActionError, Code
from voting.session.states import Presence as Status

if TYPE_CHECKING:
    from voting.session.service import SessionService

# China Standard Time, UTC+8 all year (no daylight saving): the times printed and shown.
CST = timezone(timedelta(hours=8), "北京时间")


class DeskAction(StrEnum):
    CHECKIN = "checkin"  # 签到
    LATE = "late"  # 补签到
    LEAVE = "leave"  # 请假
    ABSENT = "absent"  # 缺席
    UNDO = "undo"  # 撤销签到 (a check-in made by mistake)
    DEPART = "depart"  # 中途退场
    RETURN = "return"  # 返回会场


STATUS_NAMES = {
    Status.ABSENT: "未签到",
    Status.PRESENT: "已签到",
    Status.LEAVE: "请假",
    Status.LEFT: "中途退场",
}
ACTION_NAMES = {
    DeskAction.CHECKIN: "签到",
    DeskAction.LATE: "补签到",
    DeskAction.LEAVE: "请假",
    DeskAction.ABSENT: "缺席",
    DeskAction.UNDO: "撤销签到",
    DeskAction.DEPART: "中途退场",
    DeskAction.RETURN: "返回会场",
}
# action → (new status, the audit action, the statuses it may follow)
_RULES: dict[DeskAction, tuple[Status, str, tuple[Status, ...]]] = {
    DeskAction.CHECKIN: (Status.PRESENT, "attendance_present", (Status.ABSENT, Status.LEAVE)),
    DeskAction.LATE: (Status.PRESENT, "attendance_late", (Status.ABSENT, Status.LEAVE)),
    DeskAction.LEAVE: (Status.LEAVE, "attendance_leave", (Status.ABSENT, Status.PRESENT)),
    DeskAction.ABSENT: (Status.ABSENT, "attendance_absent", (Status.LEAVE,)),
    DeskAction.UNDO: (Status.ABSENT, "attendance_absent", (Status.PRESENT,)),
    DeskAction.DEPART: (Status.LEFT, "attendance_left", (Status.PRESENT,)),
    DeskAction.RETURN: (Status.PRESENT, "attendance_return", (Status.LEFT,)),
}
EVENT_NAMES = {
    "attendance_present": "签到",
    "attendance_late": "补签到",
    "attendance_leave": "请假",
    "attendance_absent": "缺席",
    "attendance_left": "中途退场",
    "attendance_return": "返回会场",
}


class DeskError(ValueError):
    """An action the deputy's state does not allow, in words."""


def local_time(at: str) -> str:
    """``2026-03-05T01:12:30.000Z`` → ``2026年3月5日 09:12`` (Beijing time)."""
    try:
        t = datetime.fromisoformat(at.replace("Z", "+00:00")).astimezone(CST)
    except ValueError:
        return at
    return f"{t.year}年{t.month}月{t.day}日 {t.hour:02d}:{t.minute:02d}"


def short_time(at: str) -> str:
    try:
        t = datetime.fromisoformat(at.replace("Z", "+00:00")).astimezone(CST)
    except ValueError:
        return at
    return f"{t.hour:02d}:{t.minute:02d}"


def status_name(status: str) -> str:
    """未签到, 已签到, 请假, 中途退场 (the value itself if it is none of these)."""
    known = Status._value2member_map_.get(status)
    return STATUS_NAMES.get(Status(status), status) if known is not None else status


def allowed(status: str, action: DeskAction) -> bool:
    return Status(status) in _RULES[action][2] if status in Status._value2member_map_ else False


def actions_for(status: str, session_started: bool) -> list[DeskAction]:
    """The desk's buttons for a deputy in ``status`` (补签到 instead of 签到 once a vote opened)."""
    out = [a for a in DeskAction if allowed(status, a)]
    drop = DeskAction.CHECKIN if session_started else DeskAction.LATE
    return [a for a in out if a is not drop]


@dataclass(frozen=True)
class Event:
    at: str
    action: str
    name: str  # Chinese


@dataclass(frozen=True)
class DeskRow:
    deputy_id: int
    name: str
    seat: str
    delegation: str
    status: str
    status_name: str
    enrolled: bool
    connected: bool
    events: tuple[Event, ...]

    @property
    def checked_in_at(self) -> str:
        first = next(
            (e.at for e in self.events if e.action in ("attendance_present", "attendance_late")),
            "",
        )
        return first

    @property
    def late(self) -> bool:
        return any(e.action == "attendance_late" for e in self.events)


def _events(s: Session) -> dict[int, list[Event]]:
    out: dict[int, list[Event]] = {}
    rows = s.execute(
        select(AuditLog.at, AuditLog.action, AuditLog.detail)
        .where(AuditLog.action.like("attendance_%"))
        .order_by(AuditLog.id)
    ).all()
    for at, action, detail in rows:
        parts = detail.split()
        if len(parts) >= 2 and parts[0] == "deputy" and parts[1].isdigit():
            out.setdefault(int(parts[1]), []).append(
                Event(at, action, EVENT_NAMES.get(action, action))
            )
    return out


def session_started(s: Session) -> bool:
    """Whether a vote of the session has opened (a check-in after that is a 补签到)."""
    return s.scalar(select(Poll.id).where(Poll.opened_at.is_not(None)).limit(1)) is not None


async def desk(service: SessionService, query: str = "") -> tuple[list[DeskRow], bool]:
    """Every deputy matching ``query`` (seat exactly or its start, or part of the name), seat
    order; and whether the session has started."""
    q = query.strip()
    connected = {d for d, conns in service.hub.kiosks.items() if conns}

    def run(s: Session) -> tuple[list[DeskRow], bool]:
        events = _events(s)
        rows = []
        for d in s.scalars(select(Deputy).order_by(Deputy.seat)):
            if q and not (d.seat == q or d.seat.startswith(q) or q in d.name):
                continue
            rows.append(
                DeskRow(
                    deputy_id=d.id,
                    name=d.name,
                    seat=d.seat,
                    delegation=d.delegation,
                    status=d.attendance,
                    status_name=status_name(d.attendance),
                    enrolled=d.code_used,
                    connected=d.id in connected,
                    events=tuple(events.get(d.id, ())),
                )
            )
        # an exact seat first
        rows.sort(key=lambda r: (r.seat != q, r.seat))
        return rows, session_started(s)

    return await service.db(run)


async def present_not_connected(service: SessionService) -> int:
    """How many deputies checked in have no tablet connected now."""
    connected = {d for d, conns in service.hub.kiosks.items() if conns}

    def run(s: Session) -> int:
        present = s.scalars(select(Deputy.id).where(Deputy.attendance == Status.PRESENT.value))
        return sum(1 for d in present if d not in connected)

    return await service.db(run)


async def act(
    service: SessionService, deputy_id: int, action: DeskAction, role: str
) -> dict[str, Any]:
    """Apply a desk action (DeskError if the deputy's state does not allow it)."""
    status, audit_action, before = _RULES[action]

    def current(s: Session) -> tuple[str, str, bool]:
        d = s.get(Deputy, deputy_id)
        if d is None:
            raise DeskError("没有这位代表")
        return d.attendance, d.name, session_started(s)

    now_status, name, started = await service.db(current)
    if action is DeskAction.CHECKIN and started:
        audit_action = "attendance_late"  # a check-in after the first vote is a 补签到
    if now_status not in Status._value2member_map_ or Status(now_status) not in before:
        raise DeskError(
            f"{name}当前为“{STATUS_NAMES.get(Status(now_status), now_status)}”，"
            f"不能{ACTION_NAMES[action]}"
        )
    return await service.attendance.set_attendance(deputy_id, status, role, audit_action)


MAX_BATCH = 5000  # seats in one batch check-in (a hall has at most a few thousand)


@dataclass(frozen=True)
class Batch:
    """A batch check-in: the seats checked in now, and those left as they were (already
    present, or 中途退场: they come back with 返回会场, one by one) with their status."""

    checked_in: tuple[str, ...]
    unchanged: tuple[tuple[str, str], ...]
    late: bool  # 补签到: a vote of the session had opened


async def check_in_many(
    service: SessionService, role: str, *, seats: list[str] | None = None, delegation: str = ""
) -> tuple[Batch, dict[str, Any]]:
    """签到 of a list of seats or of a whole delegation (代表团) in one transaction: each
    deputy checked in gets their own audit row (``attendance_present``, or
    ``attendance_late`` once a vote opened), as at the desk; the displays and the log get the
    new figures once. A seat not on the roster, an unknown delegation, an empty or too long
    list: ActionError (404 ``not_found``, 422 ``bad_message``), nothing changed.
    Returns the batch and the attendance figures."""
    wanted = list(dict.fromkeys(x.strip() for x in seats or [] if x.strip()))
    if seats is not None and not wanted:
        raise ActionError(ErrorCode.BAD_MESSAGE, "没有座位号 (no seat given)", 422)
    if len(wanted) > MAX_BATCH:
        raise ActionError(
            ErrorCode.BAD_MESSAGE, f"一次最多 {MAX_BATCH} 个座位 (at most {MAX_BATCH} seats)", 422
        )

    def run(s: Session) -> tuple[Batch, list[int]]:
        if seats is not None:
            found: list[Deputy] = []
            for i in range(0, len(wanted), 500):  # bounded IN lists on every database
                chunk = wanted[i : i + 500]
                found.extend(s.scalars(select(Deputy).where(Deputy.seat.in_(chunk))))
            missing = sorted(set(wanted) - {d.seat for d in found})
            if missing:
                more = f" 等 {len(missing)} 个" if len(missing) > 5 else ""
                raise ActionError(
                    Code.NOT_FOUND, f"名单上没有座位号 {'、'.join(missing[:5])}{more}", 404
                )
        else:
            found = list(s.scalars(select(Deputy).where(Deputy.delegation == delegation)))
            if not found:
                raise ActionError(Code.NOT_FOUND, f"名单上没有代表团“{delegation}”", 404)
        found.sort(key=lambda d: d.seat)
        started = session_started(s)
        now_in = [d for d in found if allowed(d.attendance, DeskAction.CHECKIN)]
        ids = [d.id for d in now_in]
        taken = set(ids)
        batch = Batch(
            checked_in=tuple(d.seat for d in now_in),
            unchanged=tuple((d.seat, d.attendance) for d in found if d.id not in taken),
            late=started,
        )
        for i in range(0, len(ids), 500):
            s.execute(
                update(Deputy)
                .where(Deputy.id.in_(ids[i : i + 500]))
                .values(attendance=Status.PRESENT.value)
            )
        action = "attendance_late" if started else "attendance_present"
        service.ctx.audit_many(s, role, action, [f"deputy {i}" for i in ids])
        return batch, ids

    batch, ids = await service.db(run)
    what = f"代表团 {delegation}" if seats is None else f"{len(wanted)} seat(s)"
    att = await service.attendance.changed(ids, f"batch check-in of {what}, {len(ids)} now; ")
    return batch, att


async def sheet(service: SessionService) -> list[DeskRow]:
    rows, _ = await desk(service)
    return rows
