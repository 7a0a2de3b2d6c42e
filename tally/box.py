"""The ballot box of a published archive, ballot by ballot: each one's tracker (跟踪号).

A deputy's tablet shows the tracker of the ballot it sent (``H_JSON`` of the ballot, spec
§4.15) in groups of four (tally.tracker). Anyone holding the archive can list the trackers of
its Ballot events in order and see which one counts: the last ballot of a credential replaces
the earlier ones (Belenios' revote rule, as in tally.verify's ``tallied`` check). ``renda
verify --trackers`` prints this list and the public bulletin board (``/results``) searches it.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass

from keys.hashing import hjson
from tally.archive import Archive
from tally.errors import RecordError


@dataclass(frozen=True)
class BoxEntry:
    """One Ballot event: its position (1-based), its tracker, whether it counts."""

    position: int
    tracker: str
    counted: bool  # False: replaced by a later ballot with the same credential


def box_entries(archive: Archive) -> list[BoxEntry]:
    """Every ballot in ``archive`` in the order of its events, with its tracker."""
    ballots = archive.ballots()
    credentials: list[str] = []
    for n, (_event, raw) in enumerate(ballots, start=1):
        try:
            obj = json.loads(raw)
        except ValueError:
            raise RecordError(f"ballot #{n} is not JSON") from None
        if not isinstance(obj, dict) or not isinstance(obj.get("credential"), str):
            raise RecordError(f"ballot #{n} has no credential")
        credentials.append(obj["credential"])
    last = {credential: n for n, credential in enumerate(credentials, start=1)}
    return [
        BoxEntry(position=n, tracker=hjson(raw), counted=last[credentials[n - 1]] == n)
        for n, (_event, raw) in enumerate(ballots, start=1)
    ]


def tracker_hex(tracker: str) -> str:
    """The tracker's SHA-256 in hex: how ``belenios-tool election compute-ballot-summary``
    prints the same ballot hash (its ``"hash"`` field)."""
    return base64.b64decode(tracker + "=" * (-len(tracker) % 4), validate=True).hex()


def find_tracker(entries: list[BoxEntry], prefix: str) -> list[BoxEntry]:
    """The entries whose tracker starts with ``prefix`` (an ungrouped tracker or its start)."""
    if not prefix:
        return []
    return [e for e in entries if e.tracker.startswith(prefix)]
