"""The kiosk's outbox: ballots sent but not yet acknowledged, kept on disk until the receipt.

A ballot enters the outbox (written atomically and fsync'ed) *before* it is sent, and leaves
it only when a receipt signed by the pinned server key comes back. After a crash, a lost
connection or a server restart, every entry is sent again; the server acknowledges a resend of
the same ballot again and counts it once. Ballots are encrypted, so the file holds no choice.
Receipts are kept in ``receipts.json`` for the deputy to check the published record later.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from kiosk.vault import write_private


@dataclass(frozen=True)
class PendingBallot:
    poll_id: str
    message_id: str
    ballot: str  # the raw Belenios ballot, exactly as sent
    tracker: str


class OutboxError(Exception):
    """The outbox file is unreadable."""


class Outbox:
    """Pending ballots keyed by poll id (one ballot per poll per kiosk), plus kept receipts."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._path = folder / "outbox.json"
        self._receipts_path = folder / "receipts.json"
        self._pending: dict[str, PendingBallot] = {}
        self._receipts: dict[str, Any] = {}
        self._load()

    def _load(self) -> None:
        try:
            data = json.loads(self._path.read_text("utf-8"))
            self._pending = {k: PendingBallot(**v) for k, v in data.items()}
        except FileNotFoundError:
            self._pending = {}
        except (ValueError, TypeError) as exc:
            raise OutboxError(f"the outbox {self._path} is damaged: {exc}") from exc
        try:
            self._receipts = json.loads(self._receipts_path.read_text("utf-8"))
        except FileNotFoundError:
            self._receipts = {}
        except ValueError as exc:
            raise OutboxError(f"the receipts file {self._receipts_path} is damaged") from exc

    def _save(self) -> None:
        data = {k: asdict(v) for k, v in self._pending.items()}
        write_private(self._path, json.dumps(data, ensure_ascii=False).encode("utf-8"))

    def put(self, item: PendingBallot) -> None:
        """Record a ballot durably before sending it (replaces an older unacked one)."""
        self._pending[item.poll_id] = item
        self._save()

    def get(self, poll_id: str) -> PendingBallot | None:
        return self._pending.get(poll_id)

    def pending(self) -> list[PendingBallot]:
        return list(self._pending.values())

    def acknowledge(self, poll_id: str, receipt: Any) -> None:
        """The server signed a receipt: keep it and drop the ballot from the outbox."""
        self._receipts[poll_id] = receipt
        write_private(
            self._receipts_path, json.dumps(self._receipts, ensure_ascii=False).encode("utf-8")
        )
        if poll_id in self._pending:
            del self._pending[poll_id]
            self._save()

    def drop(self, poll_id: str) -> None:
        """Forget an unacknowledged ballot (its poll closed or was withdrawn)."""
        if poll_id in self._pending:
            del self._pending[poll_id]
            self._save()

    def receipt(self, poll_id: str) -> Any:
        return self._receipts.get(poll_id)
