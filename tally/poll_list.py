"""The server's list of the session's polls, signed as the session goes (issue 15).

At every change of a poll (created, opened, closed, tallied, published, withdrawn, voided,
re-run, a follow-up added) the server signs the whole list again — for each poll its id,
election uuid, kind, state and parent link (:data:`tally.session_trustees.POLL_FIELDS`) — as
the next statement of an append-only chain: statement ``seq`` names the hash of statement
``seq - 1`` (``previous``; the first names ``""``). Every version is kept and published in
the record (``session.json``: ``poll_lists``, the last one also as ``poll_list``).

Kiosks receive the latest version with the messages that change what they do (welcome,
credential request, poll closed, result) and keep it; after the session the deputy's
``renda kiosk --check-record`` refuses a record whose chain is older than, or does not pass
through, what the tablet saw: a server that re-signs a shorter list at export (a vote removed)
is caught by every tablet that saw the vote listed. ``renda verify`` checks the chain itself.
Pure functions; the server's side is voting/session/poll_lists.py.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from keys.hashing import sha256_hex
from tally import statements as st
from tally.errors import RecordError
from tally.session_trustees import POLL_LIST


def statement_hash(signed: Mapping[str, Any]) -> str:
    """The hash the next version names: SHA-256 of the signed statement's canonical JSON
    (payload, signature and signer)."""
    text = json.dumps(signed, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return sha256_hex(text)


def poll_list_payload(
    session: str, seq: int, previous: str, polls: Sequence[Mapping[str, Any]]
) -> dict[str, Any]:
    return {
        "kind": POLL_LIST,
        "session": session,
        "seq": seq,
        "previous": previous,
        "polls": [dict(p) for p in polls],
    }


def check_version(signed: Mapping[str, Any], *, server_key: str, session: str) -> dict[str, Any]:
    """The payload of one signed version of the list; RecordError unless it is signed by
    ``server_key``, names ``session`` and has the chain's fields."""
    try:
        payload = st.verify_statement(
            st.SignedStatement.model_validate(signed), expected_signer=server_key, kind=POLL_LIST
        )
    except (ValueError, st.StatementError) as exc:
        raise RecordError(
            f"a version of the list of polls is not signed by the server: {exc}"
        ) from None
    seq, previous, polls = payload.get("seq"), payload.get("previous"), payload.get("polls")
    if payload.get("session") != session:
        raise RecordError("a version of the list of polls is not this session's")
    if not isinstance(seq, int) or isinstance(seq, bool) or seq < 1:
        raise RecordError("a version of the list of polls has no number (seq)")
    if not isinstance(previous, str) or not isinstance(polls, list):
        raise RecordError(f"version {seq} of the list of polls is not chained (previous, polls)")
    if not all(isinstance(p, dict) and isinstance(p.get("poll_id"), str) for p in polls):
        raise RecordError(f"version {seq} of the list of polls has a poll without an id")
    return payload


def check_chain(
    chain: Sequence[Mapping[str, Any]], *, server_key: str, session: str
) -> list[dict[str, Any]]:
    """Every version's payload, in order; RecordError unless they are numbered 1, 2, …,
    each names the hash of the one before, and no poll leaves the list (a poll is withdrawn
    or voided, never removed)."""
    payloads: list[dict[str, Any]] = []
    previous = ""
    listed: set[str] = set()
    for n, signed in enumerate(chain, start=1):
        payload = check_version(signed, server_key=server_key, session=session)
        if payload["seq"] != n:
            raise RecordError(f"version {n} of the list of polls is numbered {payload['seq']}")
        if payload["previous"] != previous:
            raise RecordError(
                f"version {n} of the list of polls does not name the hash of version {n - 1}"
            )
        ids = {p["poll_id"] for p in payload["polls"]}
        gone = sorted(listed - ids)
        if gone:
            raise RecordError(f"poll {gone[0]} leaves the list of polls at version {n}")
        listed = ids
        previous = statement_hash(signed)
        payloads.append(payload)
    return payloads


def seen_in_chain(
    chain: Sequence[Mapping[str, Any]], seen: Mapping[str, Any], *, server_key: str, session: str
) -> str | None:
    """Why a record's chain does not extend the version ``seen`` (what a kiosk received), or
    None when it does: the chain verifies and holds that very statement."""
    try:
        mine = check_version(seen, server_key=server_key, session=session)
    except RecordError as exc:
        return f"the list this tablet kept is not this record's: {exc}"
    try:
        check_chain(chain, server_key=server_key, session=session)
    except RecordError as exc:
        return f"the record's list of polls does not check: {exc}"
    seq = mine["seq"]
    if len(chain) < seq:
        return (
            f"the record's list of polls ends at version {len(chain)}, older than version "
            f"{seq} this tablet received"
        )
    if statement_hash(chain[seq - 1]) != statement_hash(seen):
        return (
            f"the record's version {seq} of the list of polls is not the one this tablet "
            "received: the list was rewritten"
        )
    return None
