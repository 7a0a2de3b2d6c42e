"""The latest signed list of polls this kiosk received (tally/poll_list.py), kept on disk.

The server sends its latest signed version of the session's list of polls with the welcome,
the credential request, the poll-closed notice and the result. The kiosk keeps the newest
version signed by the pinned server key (``poll_list.json`` in its folder; public data, no
secret), ends a poll only when that list says the poll ended, and after the session
``renda kiosk --check-record`` refuses a record whose chain of lists does not pass through it
(kiosk/receipts.py).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from kiosk.vault import write_private
from tally import statements
from tally.session_trustees import POLL_LIST

FILE = "poll_list.json"
ENDED = ("closed", "tallied", "published", "withdrawn", "void")
log = logging.getLogger("renda.kiosk")


def kept(folder: Path) -> dict[str, Any] | None:
    """The kept version, as signed (``statement``, ``signature``, ``signer``), or None."""
    try:
        data = json.loads((folder / FILE).read_text("utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def keep(folder: Path, signed: statements.SignedStatement | None, server_key: str) -> bool:
    """Keep ``signed`` if it is a list of polls signed by ``server_key`` (the pinned key) and
    newer than the kept one; anything else is ignored (and logged). True if kept."""
    if signed is None:
        return False
    try:
        payload = statements.verify_statement(signed, expected_signer=server_key, kind=POLL_LIST)
    except statements.StatementError as exc:
        log.warning("a list of polls not signed by the pinned server key: %s", exc)
        return False
    seq = payload.get("seq")
    if (
        not isinstance(seq, int)
        or isinstance(seq, bool)
        or not isinstance(payload.get("polls"), list)
    ):
        return False
    old = kept(folder)
    old_seq = old.get("statement", {}).get("seq", 0) if old else 0
    if isinstance(old_seq, int) and seq <= old_seq:
        return False
    write_private(folder / FILE, json.dumps(signed.model_dump(), ensure_ascii=False).encode())
    return True


def ended(folder: Path, poll_id: str) -> bool:
    """Does the kept signed list say that the poll ended (closed, withdrawn, void, …)?"""
    data = kept(folder)
    polls = data.get("statement", {}).get("polls", []) if data else []
    return any(
        isinstance(p, dict) and p.get("poll_id") == poll_id and p.get("state") in ENDED
        for p in polls
    )
