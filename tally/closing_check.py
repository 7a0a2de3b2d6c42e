"""How a poll's voting ended, as the record says it (GB 50799 §6.2.2-4, the preset voting time).

Each recorded poll of outcomes.json carries ``closing``: ``by`` (``chair`` — the chair, or the
secretariat at the chair's word — or ``timer``, its preset time ran out), ``at`` (when), and its
preset time: ``duration`` (seconds) and ``deadline`` (the moment it ended, UTC ISO 8601). The
deadline is also in the poll's setup the server signed for the tablets, and the ballots were
issued at the time in the signed issuance statements. :func:`check_closing` holds the record to
what can be checked of this:

* ``by`` is chair or timer, and ``at`` is a time;
* the record's deadline is the one the server signed for the tablets (or neither has one);
* the deadline is the issue of the ballots plus the duration (when both are known);
* closed by its time: it has a deadline and was closed at or after it; closed by the chair
  while it had one: before it (once the time is up, the server closes by its time).

The published result statement carries the same ``closing`` (tally.session_record checks it).
Pure.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from tally.errors import RecordError

BY = {"chair": "closed by the chair", "timer": "closed by its preset voting time"}


def _time(value: Any, what: str) -> datetime:
    if not isinstance(value, str):
        raise RecordError(f"{what} is not a time: {value!r}")
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise RecordError(f"{what} is not a time: {value!r}") from None
    if moment.tzinfo is None:
        raise RecordError(f"{what} has no time zone: {value!r}")
    return moment


def check_closing(
    name: str,
    closing: Mapping[str, Any] | None,
    *,
    signed_deadline: str | None,
    issued_at: str | None,
) -> str:
    """One line saying how the poll ``name`` was closed, or RecordError."""
    if closing is None:
        raise RecordError(f"{name} is in the record but does not say how its voting ended")
    if not isinstance(closing, Mapping):
        raise RecordError(f"{name}: closing must be an object")
    by = closing.get("by")
    if by not in BY:
        raise RecordError(f"{name}: closing.by is {by!r}, not chair or timer")
    at = _time(closing.get("at"), f"{name}: closing.at")
    deadline_text = closing.get("deadline")
    if deadline_text != signed_deadline:
        raise RecordError(
            f"{name}: the record's deadline {deadline_text!r} is not the one the server signed "
            f"for the tablets ({signed_deadline!r})"
        )
    duration = closing.get("duration")
    if deadline_text is None:
        if by == "timer":
            raise RecordError(f"{name} says it closed by its preset time but had none")
        return f"{name}: {BY[by]}"
    deadline = _time(deadline_text, f"{name}: closing.deadline")
    if duration is not None:
        if type(duration) is not int or duration < 1:
            raise RecordError(f"{name}: closing.duration is not a number of seconds")
        if issued_at is not None:
            start = _time(issued_at, f"{name}: the ballots' issue time")
            if start + timedelta(seconds=duration) != deadline:
                raise RecordError(
                    f"{name}: the deadline {deadline_text} is not the issue of the ballots "
                    f"({issued_at}) plus {duration} s"
                )
    if by == "timer" and at < deadline:
        raise RecordError(
            f"{name} says it closed by its preset time at {closing.get('at')}, before its "
            f"deadline {deadline_text}"
        )
    if by == "chair" and at >= deadline:
        raise RecordError(
            f"{name} says the chair closed it at {closing.get('at')}, after its time ran out "
            f"({deadline_text})"
        )
    limit = f", {duration} s" if duration is not None else ""
    return f"{name}: {BY[by]} (deadline {deadline_text}{limit})"
