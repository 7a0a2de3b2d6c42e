"""``renda rules``: the rules engine's command line (tally/rules/cli.py), and the auditor's round
trip on a session record.

``renda rules evaluate RULES COUNTS`` takes the engine's own documents, or the files exactly as
a session record holds them (tally/record_files.py)::

    renda rules evaluate RECORD/polls/p3/rules.json RECORD/outcomes.json

RULES is then the poll's ``rules.json`` (one poll entry, or a whole rules document), COUNTS the
record's ``outcomes.json`` (the entry of the poll named by ``--poll``, default the folder of
RULES) or that entry's ``counts`` object alone (``{total, present, issued, received,
result}``). The poll's template comes from its archive (``--archive``, default the one
``.bel`` beside RULES), the session's name and roster from the record's ``session.json``
(``--session``, default the record's). The outcome is computed by
:func:`tally.poll_outcome.evaluate_poll`, the function the server ran, and printed as the
record publishes it (``{"outcome": ...}``), or as the count report's table (``--table``).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from tally.archive import ArchiveError, read_archive
from tally.poll_outcome import poll_outcome
from tally.record_files import OUTCOMES_FILE, SESSION_FILE
from tally.rules import cli as rules_cli
from tally.rules.documents import read_document
from tally.rules.errors import RulesError
from tally.rules.result import Outcome

HELP = rules_cli.HELP
EXAMPLES = rules_cli.EXAMPLES
RECORD_COUNTS = ("total", "present", "issued", "received", "result")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    rules_cli.add_arguments(parser)


def run(args: argparse.Namespace) -> int:
    return rules_cli.run(args, record=evaluate_record)


def _object(path: Path, what: str) -> Any:
    return read_document(path, what)


def _is_record_counts(data: object) -> bool:
    return isinstance(data, dict) and all(k in data for k in RECORD_COUNTS)


def evaluate_record(args: argparse.Namespace) -> tuple[Outcome, dict[str, Any]] | None:
    """The outcome of a record's poll from its rules.json and counts, or None when COUNTS is
    the engine's own COUNTS document."""
    rules_path = Path(args.rules)
    counts_path = Path(args.counts)
    data = _object(counts_path, "COUNTS")
    entry: dict[str, Any] = {}
    if isinstance(data, list):  # outcomes.json
        poll_id = args.poll or rules_path.resolve().parent.name
        found = [e for e in data if isinstance(e, dict) and e.get("poll_id") == poll_id]
        if not found:
            raise RulesError(f"{counts_path} lists no poll {poll_id!r} (name it with --poll)")
        entry = found[0]
        counts = entry.get("counts")
        if not _is_record_counts(counts):
            raise RulesError(
                f"poll {poll_id!r} in {counts_path} has no counts: it has no result yet"
            )
    elif _is_record_counts(data):
        counts = data
    else:
        return None
    assert isinstance(counts, dict)
    rules = _object(rules_path, "rules")
    if not isinstance(rules, dict):
        raise RulesError(f"{rules_path}: the rules must be an object (a poll entry or a document)")
    template = _template(Path(args.archive) if args.archive else rules_path.resolve().parent)
    session = _session(args, rules_path)
    roster = None
    if isinstance(session.get("roster"), list):
        # names of written-in persons are display names, taken from the published outcome
        published = entry.get("outcome") if isinstance(entry.get("outcome"), dict) else {}
        assert isinstance(published, dict)
        names = {
            str(i["id"]): str(i.get("name") or i["id"])
            for i in published.get("items", [])
            if isinstance(i, dict) and i.get("write_in")
        }
        roster = {str(n): names.get(str(n), str(n)) for n in session["roster"]}
    name = session.get("session")
    try:
        return poll_outcome(
            rules,
            template,
            counts,
            roster,
            session=str(name) if name else None,
            title=str(entry["title"]) if entry.get("title") else None,
        )
    except (KeyError, TypeError, ValueError) as exc:
        if isinstance(exc, RulesError):
            raise
        raise RulesError(f"the record's rules and counts do not fit the archive: {exc}") from None


def _template(where: Path) -> dict[str, Any]:
    """The election template of the archive ``where`` (a .bel, or a folder holding one)."""
    try:
        archive = read_archive(where)
        _setup, election, _trustees, _creds = archive.setup()
    except (ArchiveError, OSError) as exc:
        raise RulesError(f"cannot read the poll's archive ({where}): {exc}") from None
    template: dict[str, Any] = json.loads(election)
    return template


def _session(args: argparse.Namespace, rules_path: Path) -> dict[str, Any]:
    if args.session:
        path = Path(args.session)
    else:
        # RECORD/polls/<poll_id>/rules.json -> RECORD/session.json
        root = rules_path.resolve().parent.parent.parent
        path = root / SESSION_FILE
        if not path.is_file() or not (root / OUTCOMES_FILE).is_file():
            return {}
    data = _object(path, "session")
    if not isinstance(data, dict):
        raise RulesError(f"{path}: expected the record's session.json (an object)")
    return data
