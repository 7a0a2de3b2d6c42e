"""Poll states and the guarded transitions between them (DESIGN §4). Pure."""

from __future__ import annotations

STATES = ("draft", "collecting", "open", "closed", "tallied", "published", "withdrawn", "void")

# action -> (states it may start from, state it leads to)
TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "open": (frozenset({"draft"}), "collecting"),
    "start": (frozenset({"collecting"}), "open"),
    "close": (frozenset({"open"}), "closed"),
    "tally": (frozenset({"closed"}), "tallied"),
    "publish": (frozenset({"tallied"}), "published"),
    "withdraw": (frozenset({"draft", "collecting", "open"}), "withdrawn"),
    "void": (frozenset({"closed", "tallied"}), "void"),
}

# Polls a kiosk may still send something to.
ACCEPTS_CREDENTIALS = frozenset({"collecting"})
ACCEPTS_BALLOTS = frozenset({"open"})


class TransitionError(ValueError):
    def __init__(self, action: str, state: str) -> None:
        allowed = ", ".join(sorted(TRANSITIONS[action][0])) if action in TRANSITIONS else "?"
        super().__init__(f"cannot {action} a poll that is {state}; it must be one of: {allowed}")
        self.action = action
        self.state = state


def next_state(action: str, state: str) -> str:
    """The state after ``action`` from ``state``, or :class:`TransitionError`."""
    sources, target = TRANSITIONS[action]
    if state not in sources:
        raise TransitionError(action, state)
    return target


def can_rerun(state: str) -> bool:
    return state in ("void", "withdrawn")
