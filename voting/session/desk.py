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

from sqlalchemy import select
from sqlalchemy.orm import Session

from voting.models import AuditLog, Deputy, Poll
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
                    status_name=STATUS_NAMES.get(Status(d.attendance), d.attendance)
                    if d.attendance in Status._value2member_map_
                    else d.attendance,
                    enrolled=d.code_used,
                    connected=d.id in connected,
                    events=tuple(events.get(d.id, ())),
                )
            )
        # an exact seat first
        rows.sort(key=lambda r: (r.seat != q, r.seat))
        return rows, session_started(s)

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


async def sheet(service: SessionService) -> list[DeskRow]:
    rows, _ = await desk(service)
    return rows
