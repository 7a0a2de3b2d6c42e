"""Ballot checking, run in a process pool off the event loop (pure; picklable arguments)."""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from keys.group import GroupError, to_str
from tally.ballot import check_ballot, parse_ballot
from tally.election import parse_election
from tally.errors import RecordError


@lru_cache(maxsize=16)
def _election(election_raw: str, allow_test: bool) -> Any:
    return parse_election(election_raw, allow_test_group=allow_test)


def check_cast(election_raw: str, allow_test: bool, ballot_raw: str) -> tuple[str, str, str]:
    """``("ok", tracker, credential)`` or ``(error code, plain-words reason, "")``."""
    try:
        obj = json.loads(ballot_raw)
    except (ValueError, RecursionError):
        return ("invalid_ballot", "the ballot is not valid JSON", "")
    if not isinstance(obj, dict):
        return ("invalid_ballot", "the ballot must be a JSON object", "")
    election = _election(election_raw, allow_test)
    uuid, fingerprint = obj.get("election_uuid"), obj.get("election_hash")
    if (
        isinstance(uuid, str)
        and isinstance(fingerprint, str)
        and (uuid != election.uuid or fingerprint != election.fingerprint)
    ):
        return ("wrong_poll", "the ballot is for another election than this poll", "")
    try:
        ballot = parse_ballot(election, ballot_raw)
        check_ballot(election, ballot)
    except (RecordError, GroupError, ValueError) as exc:
        return ("invalid_ballot", str(exc)[:500], "")
    return ("ok", ballot.tracker, to_str(ballot.credential))
