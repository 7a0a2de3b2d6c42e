"""The deputy's own check of the published record: is every ballot this tablet cast in it?

The kiosk keeps every signed receipt (``receipts.json``, kiosk.outbox). After the session,
:func:`check_receipts` reads a published session record (the folder ``renda verify RECORD/``
checks) and, for every receipt, says whether the poll is in the record with the same election
uuid, whether its archive holds the ballot (its tracking number, and the archive event the
receipt names), and whether that archive is encrypted to the session's trustees of its group
(``session.json`` names one set per group, tally.session_groups). A poll missing from the
record, or a ballot missing from a poll, is what a dishonest server would hide; the receipt
is the deputy's evidence (it is signed by the server).
``renda kiosk --dir DIR --check-record RECORD/`` prints the same in plain words.

The kiosk also kept the latest signed list of polls it received (kiosk/poll_list.py):
:func:`check_poll_list` refuses a record whose chain of signed lists is older than it or does
not pass through it — a poll removed after the fact (even one this tablet did not vote in) and
the list re-signed at an earlier state.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tally import statements


@dataclass(frozen=True)
class ReceiptCheck:
    poll_id: str
    tracker: str
    ok: bool
    message: str  # Chinese first, then English


def _load(path: Path) -> Any:
    try:
        return json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return None


def check_receipts(folder: Path, record: Path) -> list[ReceiptCheck]:
    """One :class:`ReceiptCheck` per receipt kept in the kiosk folder ``folder``."""
    from tally.archive import ArchiveError, read_archive

    receipts = _load(folder / "receipts.json") or {}
    session = _load(record / "session.json")
    outcomes = _load(record / "outcomes.json")
    if not isinstance(session, dict) or not isinstance(outcomes, list):
        raise ValueError(f"{record} is not a session record (session.json, outcomes.json)")
    server_key = session.get("server_public_key")
    polls = {p.get("poll_id"): p for p in outcomes if isinstance(p, dict)}
    trustees = _group_trustees(session)
    out: list[ReceiptCheck] = []
    for poll_id, signed in sorted(receipts.items()):
        stmt = signed.get("statement", {}) if isinstance(signed, dict) else {}
        tracker = str(stmt.get("tracker", "?"))

        def result(ok: bool, message: str, pid: str = poll_id, t: str = tracker) -> None:
            out.append(ReceiptCheck(pid, t, ok, message))

        try:
            statements.verify_statement(
                statements.SignedStatement.model_validate(signed),
                expected_signer=str(server_key),
                kind=statements.RECEIPT,
            )
        except (ValueError, statements.StatementError) as exc:
            result(False, f"回执不是本次会议服务器签发的 — the receipt is not this record's: {exc}")
            continue
        entry = polls.get(poll_id)
        if entry is None or entry.get("uuid") != stmt.get("uuid"):
            result(
                False,
                "公布的记录中没有这次表决 — the poll this tablet voted in is missing from the "
                "published record",
            )
            continue
        if entry.get("archive") is None:
            state = entry.get("state")
            result(False, f"这次表决没有公布选票记录（状态 {state}） — the poll has no archive")
            continue
        try:
            archive = read_archive(record / str(entry["archive"]))
        except (ArchiveError, OSError, ValueError) as exc:
            result(False, f"选票记录无法读取 — the poll's archive cannot be read: {exc}")
            continue
        hashes = {e.hash for e, _raw in archive.ballots()}
        trackers = {_tracker(raw) for _e, raw in archive.ballots()}
        event_hash = stmt.get("event_hash")
        if tracker not in trackers or (event_hash is not None and event_hash not in hashes):
            result(
                False,
                "公布的记录中没有本机投出的选票 — the ballot this tablet cast is missing from "
                "the poll's published archive",
            )
            continue
        _setup, election, poll_trustees, _creds = archive.setup()
        group = _group_of(election)
        if group not in trustees or trustees[group] != poll_trustees:
            result(
                False,
                "这次表决没有加密给本次会议的监票人 — the poll's archive is not encrypted to "
                f"the session's trustees of its group ({group})",
            )
            continue
        result(True, "选票在公布的记录中 — the ballot is in the published record")
    return out


def _group_trustees(session: dict[str, Any]) -> dict[str, Any]:
    """Group name -> the session's trustees in it, as session.json carries them."""
    from tally.errors import RecordError
    from tally.session_groups import record_groups, record_trustees

    try:
        groups = record_groups(session, allow_test_group=True)
    except RecordError:
        return {}
    return {e.group.name: e.trustees for e in record_trustees(session, groups)}


def _group_of(election: str) -> str | None:
    try:
        group = json.loads(election).get("group")
    except (ValueError, AttributeError):
        return None
    return group if isinstance(group, str) else None


def check_poll_list(folder: Path, record: Path) -> ReceiptCheck | None:
    """The record's chain of signed lists of polls against the one this tablet kept (None if
    it kept none: it never connected during a poll)."""
    from kiosk.poll_list import kept
    from tally.poll_list import seen_in_chain

    seen = kept(folder)
    if seen is None:
        return None
    session = _load(record / "session.json")
    if not isinstance(session, dict):
        raise ValueError(f"{record} is not a session record (session.json)")
    seq = seen.get("statement", {}).get("seq", "?")
    chain = session.get("poll_lists")
    why = seen_in_chain(
        chain if isinstance(chain, list) else [],
        seen,
        server_key=str(session.get("server_public_key")),
        session=str(session.get("session")),
    )
    if why is not None:
        return ReceiptCheck(
            "表决清单",
            f"v{seq}",
            False,
            "公布的记录与本机收到的表决清单不符，可能删去了表决 — the record's list of polls "
            f"does not extend the one this tablet received: {why}",
        )
    return ReceiptCheck(
        "表决清单",
        f"v{seq}",
        True,
        "公布的表决清单包含本机收到的版本 — the record's list of polls extends the one this "
        "tablet received",
    )


def _tracker(raw: str) -> str:
    from keys.hashing import hjson

    return hjson(raw)
