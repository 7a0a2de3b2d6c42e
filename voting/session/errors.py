"""A refused action: its error code, plain words and HTTP status (docs/protocol.md)."""

from __future__ import annotations

from enum import StrEnum

from tally.messages import ErrorCode


class Code(StrEnum):
    """Error codes of the HTTP API that the websocket protocol (``ErrorCode``) does not have."""

    BAD_STATE = "bad_state"
    NOT_FOUND = "not_found"
    CONFIG = "config"
    BAD_ROSTER = "bad_roster"
    CODE_USED = "code_used"
    BAD_TEMPLATE = "bad_template"
    NO_CEREMONY = "no_ceremony"
    NO_QUORUM = "no_quorum"
    NO_VOTERS = "no_voters"
    NO_CREDENTIALS = "no_credentials"
    NO_SCRUTINEERS = "no_scrutineers"
    BAD_THRESHOLD = "bad_threshold"
    NOT_CONNECTED = "not_connected"
    NOT_COUNTABLE = "not_countable"
    BAD_COUNTS = "bad_counts"  # a show of hands or paper count that cannot be this poll's


class ActionError(Exception):
    """A refused action: error code, plain words, HTTP status. Nothing was changed."""

    def __init__(self, code: ErrorCode | Code | str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
