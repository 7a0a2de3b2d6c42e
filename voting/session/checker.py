"""Ballot and credential checking, run in a process pool off the event loop (pure; picklable
arguments)."""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from keys.group import GroupError, group_by_name, to_str
from tally import statements as st
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


def check_credential(
    group: str,
    allow_test: bool,
    device_key: str,
    poll_id: str,
    uuid: str,
    public_credential: str,
    signature: str,
) -> tuple[str, str] | None:
    """None if a kiosk's public credential is signed by its device and is in the group, else
    ``(error code, reason)`` (the group check is a full exponentiation: 3,000 of them at an
    opening would hold the event loop for seconds)."""
    try:
        st.verify(device_key, st.credential_payload(poll_id, uuid, public_credential), signature)
    except st.StatementError as exc:
        return ("bad_signature", str(exc))
    try:
        group_by_name(group, allow_test=allow_test).parse_element(
            public_credential, "public credential"
        )
    except GroupError as exc:
        return ("bad_message", str(exc))
    return None
