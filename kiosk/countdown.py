"""The preset voting time as the tablet tells the deputy (GB 50799 §6.2.2-4).

The deadline comes in the poll's setup the server signed (``deadline``, UTC ISO 8601), checked
by the kiosk with the rest of the setup; the terminal kiosk prints it once, the touch page
counts down to it (kiosk/ui). Pure.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

BEIJING = timezone(timedelta(hours=8))


def parse_deadline(value: object) -> datetime | None:
    """The signed deadline as a time, or None (none, or not a time with a zone)."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def left_words(seconds: float) -> str:
    """如 "2分05秒", "40秒"."""
    total = max(0, int(seconds + 0.999))
    minutes, rest = divmod(total, 60)
    return f"{minutes}分{rest:02d}秒" if minutes else f"{rest}秒"


def deadline_notice(deadline: datetime, now: datetime | None = None) -> str:
    """The line the kiosk says when a timed poll's ballot is ready."""
    now = now or datetime.now(UTC)
    at = deadline.astimezone(BEIJING).strftime("%H:%M:%S")
    left = (deadline - now).total_seconds()
    return (
        f"投票时间至 {at}（北京时间，还剩 {left_words(left)}），时间到自动结束投票 — "
        f"voting ends at {deadline.isoformat()}"
    )
