"""Poll states and the guarded transitions between them (DESIGN §4); roles; attendance. Pure.

Every enum here is a ``StrEnum`` whose values are the strings of the wire protocol and of the
database columns, so ``PollState.OPEN == "open"``; rows keep plain strings (``.value``).
"""

from __future__ import annotations

from enum import StrEnum


class PollState(StrEnum):
    DRAFT = "draft"
    COLLECTING = "collecting"  # opened: the kiosks send their public credentials
    OPEN = "open"  # ballots issued: the ballot box accepts ballots
    CLOSED = "closed"  # being tallied
    TALLIED = "tallied"
    PUBLISHED = "published"
    WITHDRAWN = "withdrawn"
    VOID = "void"


STATES = tuple(PollState)


class PollAction(StrEnum):
    OPEN = "open"
    START = "start"  # credential collection ends, the ballots are issued
    CLOSE = "close"
    TALLY = "tally"
    PUBLISH = "publish"
    WITHDRAW = "withdraw"
    VOID = "void"
    COUNT_BY_HAND = "count_by_hand"  # devices failed: 举手表决 / 纸质选票 (tally.manual_count)


# action -> (states it may start from, state it leads to)
TRANSITIONS: dict[PollAction, tuple[frozenset[PollState], PollState]] = {
    PollAction.OPEN: (frozenset({PollState.DRAFT}), PollState.COLLECTING),
    PollAction.START: (frozenset({PollState.COLLECTING}), PollState.OPEN),
    PollAction.CLOSE: (frozenset({PollState.OPEN}), PollState.CLOSED),
    PollAction.TALLY: (frozenset({PollState.CLOSED}), PollState.TALLIED),
    PollAction.PUBLISH: (frozenset({PollState.TALLIED}), PollState.PUBLISHED),
    PollAction.WITHDRAW: (
        frozenset({PollState.DRAFT, PollState.COLLECTING, PollState.OPEN}),
        PollState.WITHDRAWN,
    ),
    PollAction.VOID: (frozenset({PollState.CLOSED, PollState.TALLIED}), PollState.VOID),
    PollAction.COUNT_BY_HAND: (frozenset({PollState.DRAFT}), PollState.TALLIED),
}

# Polls a kiosk may still send something to.
ACCEPTS_CREDENTIALS = frozenset({PollState.COLLECTING})
ACCEPTS_BALLOTS = frozenset({PollState.OPEN})
# Polls with a runtime (in memory) after a restart; polls with a tally; polls in the record.
LIVE = (PollState.COLLECTING, PollState.OPEN, PollState.CLOSED)
COUNTED = (PollState.TALLIED, PollState.PUBLISHED)
# the states whose archive is in the record; a void poll keeps its archive and is verified like
# the others (marked void in outcomes.json); a draft, open or withdrawn poll has none
RECORDED = (PollState.CLOSED, PollState.TALLIED, PollState.PUBLISHED, PollState.VOID)


class TransitionError(ValueError):
    def __init__(self, action: str, state: str) -> None:
        allowed = (
            ", ".join(sorted(TRANSITIONS[PollAction(action)][0])) if action in TRANSITIONS else "?"
        )
        super().__init__(f"cannot {action} a poll that is {state}; it must be one of: {allowed}")
        self.action = action
        self.state = state


def next_state(action: str, state: str) -> PollState:
    """The state after ``action`` from ``state``, or :class:`TransitionError`."""
    sources, target = TRANSITIONS[PollAction(action)]
    if state not in sources:
        raise TransitionError(action, state)
    return target


def can_rerun(state: str) -> bool:
    return state in (PollState.VOID, PollState.WITHDRAWN)


class Role(StrEnum):
    """The staff roles of a bearer token (table ``staff``)."""

    SECRETARIAT = "secretariat"
    CHAIR = "chair"
    SCRUTINEER = "scrutineer"
    DISPLAY = "display"


class Actor(StrEnum):
    """Who did something, in the audit log, when it is not a staff role."""

    SERVER = "server"
    PUBLIC = "public"  # an enrolling tablet
    TIMER = "timer"  # credential collection ended by its timeout
    COMPLETE = "complete"  # credential collection ended: every voter sent one


class ClosedBy(StrEnum):
    """How a poll's voting ended (column ``polls.closed_by``, the record's ``closing.by``)."""

    CHAIR = "chair"  # the chair (or the secretariat at the chair's word) closed it
    TIMER = "timer"  # its preset voting time ran out (GB 50799 §6.2.2-4)


class ResultDisplay(StrEnum):
    """GB 50799 §6.2.2-5: when the hall screen shows a result."""

    IMMEDIATE = "immediate"  # 直接显示: as soon as it is tallied
    DELAYED = "delayed"  # 延时显示: after the chair publishes (the default)


class Presence(StrEnum):
    """A deputy's attendance (column ``deputies.attendance``)."""

    PRESENT = "present"
    LEAVE = "leave"
    ABSENT = "absent"
    LEFT = "left"  # 中途退场: was present, has left the hall (counted absent, no ballot)


class CeremonyState(StrEnum):
    NONE = "none"  # no ceremony started yet (status only)
    STEP1 = "step1"
    STEP3 = "step3"
    STEP5 = "step5"
    DONE = "done"
    FAILED = "failed"
