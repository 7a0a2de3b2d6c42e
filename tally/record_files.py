"""The names of a session record's files (DESIGN §4 "Record"), written by the server
(voting/session/record.py: ``renda serve --export-record``, ``renda demo --out``) and read by the
auditor (tally/session_record.py: ``renda verify RECORD/``)::

    session.json                      session name, group, server public key, roster counts
    issuance.json                     per poll: the seats issued a ballot, signed statements
    outcomes.json                     per poll: state, counts, rules outcome, result statement
    polls/<poll_id>/<uuid>.bel        the poll's Belenios archive
    polls/<poll_id>/rules.json        the poll's rules, when it has any
    polls/<poll_id>/report.json       the count report and the scrutineers' signatures

Nothing in the record links a deputy to a credential or a choice.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath

SESSION_FILE = "session.json"
ISSUANCE_FILE = "issuance.json"
OUTCOMES_FILE = "outcomes.json"
POLLS_DIR = "polls"
RULES_FILE = "rules.json"
REPORT_FILE = "report.json"
ARCHIVE_SUFFIX = ".bel"


def poll_folder(root: Path, poll_id: str) -> Path:
    """The folder of one poll's files in the record at ``root``."""
    return root / POLLS_DIR / poll_id


def archive_name(uuid: str) -> str:
    """The file name of a poll's Belenios archive (``<uuid>.bel``)."""
    return f"{uuid}{ARCHIVE_SUFFIX}"


def archive_entry(poll_id: str, uuid: str) -> str:
    """The archive's path relative to the record, as ``outcomes.json`` names it."""
    return str(PurePosixPath(POLLS_DIR, poll_id, archive_name(uuid)))
