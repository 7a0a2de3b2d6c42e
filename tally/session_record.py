"""The auditor of a whole session record (DESIGN §4 "Record"), with no trust in the server.

A session record is the folder ``renda serve --export-record`` (voting/session/record.py) and
``renda demo --out`` write; its files are named in :mod:`tally.record_files` (session.json,
issuance.json, outcomes.json, and per poll polls/<poll_id>/<uuid>.bel, rules.json,
report.json).

:func:`verify_session` runs these checks in order and stops at the first failure (later checks
rely on the earlier ones), like :func:`tally.verify.verify_archive`:

1. the record's files are there and well formed, the server key is an Ed25519 key;
2. every poll's archive verifies (:func:`tally.verify.verify_archive`, ballots in a process
   pool);
3. every archived poll's ``poll_setup`` statement is signed by the server key and names the
   archive's election and trustees and the Merkle root and count of its public credentials
   (:func:`tally.poll_setup.check_setup_against_record`: the root each kiosk checked its own
   credential against is the root of the published list);
3b. every issuance statement (发出选票) is signed by the session's server key, names its poll,
   uuid and seat, and their number per poll equals the public credentials of the archive;
4. each poll's published counts are those the archive and the issuance log imply (issued,
   returned = the archive's ``num_tallied``, result = the archive's Result);
5. the rules outcome, re-evaluated with :func:`tally.poll_outcome.evaluate_poll` (the
   pipeline the server ran) on the poll's rules and the counts from the archive and the
   issuance log, is the published outcome;
6. the server's signed result statements verify and name the published counts and outcome
   and the hash of the archive's result;
7. the scrutineers' signatures of each count report verify
   (:func:`tally.report_signatures.check_report_signatures`), the report is the published one,
   and the k signatures needed are in (a record exported before they are is refused: the
   count report is not confirmed yet);
8. linked polls (tie re-vote, 另行选举, re-run) name an existing poll whose outcome calls for
   them.
"""

from __future__ import annotations

import functools
import json
import os
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from keys.group import Group, GroupError, group_by_name
from keys.hashing import sha256_hex
from tally.archive import ArchiveError, read_archive
from tally.closing_check import check_closing
from tally.errors import RecordError
from tally.poll_description import ballot_form_problem
from tally.poll_list import check_chain, statement_hash
from tally.poll_outcome import FOLLOWUPS, evaluate_poll
from tally.poll_setup import check_setup_against_record
from tally.record_files import (
    ISSUANCE_FILE,
    OUTCOMES_FILE,
    REPORT_FILE,
    RULES_FILE,
    SESSION_FILE,
    archive_entry,
    archive_name,
    poll_folder,
)
from tally.record_trustees import RecordedPoll, check_record_trustees, poll_group
from tally.report_signatures import (
    check_report_against_result,
    check_report_signatures,
    parse_report_text,
)
from tally.session_groups import SessionGroups, record_groups
from tally.session_trustees import POLL_LIST, poll_list_entry
from tally.statements import (
    BALLOT_ISSUED,
    RESULT,
    SignedStatement,
    StatementError,
    parse_public_key,
    verify_statement,
)
from tally.verify import Check, VerificationReport, verify_archive

RELATIONS = {"tie_revote": "tie_revote", "supplementary": "supplementary", "rerun": "rerun"}


def is_session_record(path: str | os.PathLike[str]) -> bool:
    """Is ``path`` a session record folder (it holds ``session.json``)?"""
    return (Path(path) / SESSION_FILE).is_file()


class _Skip(Exception):
    """A check that has nothing to check in this record; the message says why."""


def _load(path: Path, what: str) -> Any:
    try:
        return json.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        raise RecordError(f"the record has no {what} ({path.name})") from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise RecordError(f"{what} ({path.name}) is not readable JSON: {exc}") from None


NO_ARCHIVE = {
    "draft": "a draft, never opened",
    "collecting": "opened, still collecting the tablets' credentials",
    "open": "still open: no archive before the close",
    "withdrawn": "withdrawn before its close: no ballot was counted",
    "void": "void before its close",
}


def _no_archive(state: object, counts: object = None) -> str:
    """Why a poll of the record has no archive, from its state (and a manual count's method)."""
    if isinstance(counts, dict) and counts.get("method") in ("show_of_hands", "paper"):
        return f"counted by hand ({counts['method']}), {state}"
    return NO_ARCHIVE.get(str(state), f"state {state}")


def _name(poll: Mapping[str, Any]) -> str:
    return f"poll {poll.get('poll_id')} ({poll.get('title')})"


class _Poll:
    """One recorded poll: its outcomes.json entry and what its archive says."""

    def __init__(self, entry: dict[str, Any], folder: Path) -> None:
        self.entry = entry
        self.folder = folder
        self.archive_path = folder / archive_name(entry["uuid"])
        self.credentials: int = 0
        self.num_tallied: int | None = None
        self.result_raw: str | None = None
        self.trustees_raw: str = ""
        self.election_raw: str = ""
        self.credentials_raw: str = "[]"

    @property
    def id(self) -> str:
        return str(self.entry["poll_id"])

    @property
    def name(self) -> str:
        return _name(self.entry)


class SessionVerifier:
    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        workers: int = 2,
        allow_test_group: bool = False,
        on_check: Callable[[Check], None] | None = None,
        check_archives: bool = True,
    ) -> None:
        self.root = Path(path)
        self.workers = workers
        self.allow_test_group = allow_test_group
        self.on_check = on_check
        self.check_archives = check_archives
        self.report = VerificationReport(str(self.root))
        self.session: dict[str, Any] = {}
        self.issuance: dict[str, Any] = {}
        self.polls: list[dict[str, Any]] = []
        self.recorded: list[_Poll] = []
        self.unrecorded: list[dict[str, Any]] = []
        self.group: Group | None = None  # the homomorphic group (counts by hand)
        self.groups: SessionGroups | None = None

    # -- running -------------------------------------------------------------------------------

    def run(self) -> VerificationReport:
        steps: list[tuple[str, Callable[[], str]]] = [("the record's files", self._files)]
        failed = False
        failed = self._step(*steps[0], failed)
        if not failed:
            for poll in self.recorded:
                failed = self._step(
                    f"archive of {poll.name}", functools.partial(self._archive, poll), failed
                )
        else:
            self._step("every poll's archive", lambda: "", failed)
        for name, fn in (
            ("the session's trustees, signed by the scrutineers", self._trustees),
            ("the server's signed list of polls", self._poll_list),
            ("the server's signed poll setups (Merkle root of the credentials)", self._setups),
            ("issuance statements", self._issuance),
            ("how each poll's voting ended (preset voting time)", self._closings),
            ("published counts against the archives", self._counts),
            ("rules outcomes re-evaluated", self._outcomes),
            ("the server's result statements", self._statements),
            ("the scrutineers' count report signatures", self._reports),
            ("polls counted by hand (举手表决 / 纸质选票)", self._manual),
            ("linked polls", self._links),
        ):
            failed = self._step(name, fn, failed)
        return self.report

    def _step(self, name: str, fn: Callable[[], str], failed: bool) -> bool:
        if failed:
            check = Check(name, "not run")
        else:
            start = time.perf_counter()
            try:
                check = Check(name, "pass", fn(), time.perf_counter() - start)
            except _Skip as exc:
                check = Check(name, "skip", str(exc))
            except (RecordError, StatementError, ArchiveError, GroupError) as exc:
                check = Check(name, "fail", str(exc), time.perf_counter() - start)
            except (KeyError, TypeError, ValueError, AttributeError) as exc:
                check = Check(
                    name, "fail", f"a malformed entry in the record ({type(exc).__name__}: {exc})"
                )
        self.report.checks.append(check)
        if self.on_check is not None:
            self.on_check(check)
        return failed or check.failed

    # -- 1. files ------------------------------------------------------------------------------

    def _files(self) -> str:
        session = _load(self.root / SESSION_FILE, "session description")
        issuance = _load(self.root / ISSUANCE_FILE, "issuance log")
        polls = _load(self.root / OUTCOMES_FILE, "list of outcomes")
        if not isinstance(session, dict) or not isinstance(session.get("session"), str):
            raise RecordError("session.json must be an object with the session's name")
        if not isinstance(issuance, dict) or not isinstance(polls, list):
            raise RecordError("issuance.json must be an object and outcomes.json a list")
        parse_public_key(session.get("server_public_key"))  # type: ignore[arg-type]
        group_name = session.get("group")
        if not isinstance(group_name, str):
            raise RecordError("session.json does not name the group")
        self.group = group_by_name(group_name, allow_test=self.allow_test_group)
        self.groups = record_groups(session, allow_test_group=self.allow_test_group)
        ids: set[str] = set()
        for entry in polls:
            if not isinstance(entry, dict) or not isinstance(entry.get("poll_id"), str):
                raise RecordError("every entry of outcomes.json must be an object with a poll_id")
            if entry["poll_id"] in ids:
                raise RecordError(f"outcomes.json lists {_name(entry)} twice")
            ids.add(entry["poll_id"])
            if entry.get("archive") is None:
                self.unrecorded.append(entry)
                continue
            folder = poll_folder(self.root, entry["poll_id"])
            poll = _Poll(entry, folder)
            if entry["archive"] != archive_entry(poll.id, entry["uuid"]):
                raise RecordError(
                    f"{poll.name}: outcomes.json names the archive {entry['archive']}"
                )
            if not poll.archive_path.is_file():
                raise RecordError(f"{poll.name}: the archive {entry['archive']} is missing")
            self.recorded.append(poll)
        self.session, self.issuance, self.polls = session, issuance, polls
        for poll in self.recorded:
            try:
                self._read(poll)
            except (RecordError, ArchiveError) as exc:
                raise RecordError(f"{poll.name}: {exc}") from None
        text = f"{len(polls)} poll(s), {len(self.recorded)} with an archive"
        if self.recorded:
            text += " (" + ", ".join(p.id for p in self.recorded) + ")"
        if self.unrecorded:
            text += "; no archive: " + ", ".join(
                f"{e['poll_id']} ({_no_archive(e.get('state'), e.get('counts'))})"
                for e in self.unrecorded
            )
        return text

    def _read(self, poll: _Poll) -> None:
        archive = read_archive(poll.archive_path)
        _setup, election, trustees, creds = archive.setup()
        poll.trustees_raw = trustees
        poll.election_raw, poll.credentials_raw = election, creds
        poll.credentials = len(json.loads(creds))
        sized = archive.sized_encrypted_tally()
        poll.num_tallied = sized[1].num_tallied if sized is not None else None
        result = archive.result()
        poll.result_raw = result[1] if result is not None else None

    # -- 2. archives ---------------------------------------------------------------------------

    def _archive(self, poll: _Poll) -> str:
        if not self.check_archives:
            raise _Skip("not asked for")
        report = verify_archive(
            poll.archive_path, workers=self.workers, allow_test_group=self.allow_test_group
        )
        self.report.warnings.extend(f"{poll.name}: {w}" for w in report.warnings)
        failure = report.first_failure
        if failure is not None or not report.ok:
            what = f"{failure.name}: {failure.detail}" if failure else "not every check ran"
            raise RecordError(f"{poll.name}: the archive does not verify: {what}")
        return f"{len(report.checks)} checks passed"

    # -- 2b. the ceremony's trustees and the list of polls ------------------------------------

    def _trustees(self) -> str:
        """Every poll is encrypted to its group's trustees, which k scrutineers signed."""
        assert self.groups is not None
        polls = [RecordedPoll(p.name, p.election_raw, p.trustees_raw) for p in self.recorded]
        return check_record_trustees(
            self.session, self.groups, polls, allow_test_group=self.allow_test_group
        )

    def _poll_list(self) -> str:
        """The list of polls as the server signed it at every change (tally.poll_list): a
        chain of versions, each naming the previous one's hash, from which no poll leaves;
        its last version names exactly the record's polls."""
        signed = self.session.get("poll_list")
        versions = self.session.get("poll_lists")
        if not isinstance(signed, dict):
            raise RecordError("session.json has no signed list of polls")
        if not isinstance(versions, list) or not versions:
            raise RecordError("session.json has no chain of the signed lists of polls")
        check_chain(
            versions,
            server_key=str(self.session["server_public_key"]),
            session=str(self.session["session"]),
        )
        if statement_hash(versions[-1]) != statement_hash(signed):
            raise RecordError("the signed list of polls is not the last version of its chain")
        payload = verify_statement(
            SignedStatement.model_validate(signed),
            expected_signer=str(self.session["server_public_key"]),
            kind=POLL_LIST,
        )
        listed = payload.get("polls")
        if payload.get("session") != self.session["session"] or not isinstance(listed, list):
            raise RecordError("the signed list of polls is not this session's")
        by_id = {str(p["poll_id"]): p for p in self.polls}
        for item in listed:
            pid = str(item.get("poll_id")) if isinstance(item, dict) else "?"
            entry = by_id.get(pid)
            if entry is None:
                raise RecordError(
                    f"poll {pid} of the server's signed list of polls is missing from the record"
                )
            if poll_list_entry(entry) != item:
                raise RecordError(f"{_name(entry)} is not as the server's signed list names it")
        names = {str(i.get("poll_id")) for i in listed if isinstance(i, dict)}
        extra = [p for p in by_id if p not in names]
        if extra:
            raise RecordError(f"poll {extra[0]} is not in the server's signed list of polls")
        return (
            f"{len(listed)} poll(s) listed and signed, all in the record; "
            f"{len(versions)} signed version(s), chained"
        )

    # -- 3. the signed setups ------------------------------------------------------------------

    def _setups(self) -> str:
        """Each archived poll's ``poll_setup`` statement: signed by the server, naming the
        archive's election and trustees, and the Merkle root and count of the archive's list of
        public credentials (what every kiosk checked its own credential against)."""
        key = str(self.session["server_public_key"])
        for poll in self.recorded:
            raw = poll.entry.get("setup")
            if raw is None:
                raise RecordError(f"{poll.name} has an archive but no signed poll setup")
            try:
                signed = SignedStatement.model_validate(raw)
            except ValueError as exc:
                raise RecordError(f"{poll.name}: the poll setup is malformed: {exc}") from None
            try:
                assert self.groups is not None
                check_setup_against_record(
                    signed,
                    server_key=key,
                    poll_id=poll.id,
                    uuid=str(poll.entry["uuid"]),
                    group=poll_group(self.groups, poll.election_raw, poll.name).name,
                    election=poll.election_raw,
                    trustees=poll.trustees_raw,
                    public_credentials=poll.credentials_raw,
                )
            except RecordError as exc:
                raise RecordError(f"{poll.name}: {exc}") from None
        return f"{len(self.recorded)} signed setup(s) match their archives"

    # -- 4. issuance ---------------------------------------------------------------------------

    def _issuance(self) -> str:
        by_id = {str(p["poll_id"]): p for p in self.polls}
        for poll_id in self.issuance:
            if poll_id not in by_id:
                raise RecordError(f"the issuance log names poll {poll_id}, not in outcomes.json")
        total = 0
        for poll_id, entry in by_id.items():
            entries = self.issuance.get(poll_id, [])
            if not isinstance(entries, list):
                raise RecordError(f"{_name(entry)}: the issuance log for this poll is not a list")
            self._statements_of(entry, entries)
            if entry.get("issued") != len(entries):
                raise RecordError(
                    f"{_name(entry)}: outcomes.json says {entry.get('issued')} issued, the "
                    f"issuance log holds {len(entries)}"
                )
            total += len(entries)
        for poll in self.recorded:
            issued = len(self.issuance.get(poll.id, []))
            if issued != poll.credentials:
                raise RecordError(
                    f"{poll.name}: {issued} ballot(s) issued but the archive lists "
                    f"{poll.credentials} public credential(s)"
                )
        return f"{total} signed statement(s), one per public credential"

    def _closings(self) -> str:
        """Each recorded poll's ``closing`` against its signed deadline (tally.closing_check)."""
        lines = []
        for poll in self.recorded:
            setup = (poll.entry.get("setup") or {}).get("statement") or {}
            signed_deadline = setup.get("deadline")
            if "closing" not in poll.entry and signed_deadline is None:
                continue  # a record made before polls said how they closed
            issued = self.issuance.get(poll.id) or [{}]
            first = (issued[0].get("statement") or {}).get("statement") or {}
            lines.append(
                check_closing(
                    poll.name,
                    poll.entry.get("closing"),
                    signed_deadline=signed_deadline,
                    issued_at=first.get("issued_at"),
                )
            )
        if not lines:
            raise _Skip("the record does not say how its polls were closed")
        return "; ".join(lines)

    def _statements_of(self, poll: Mapping[str, Any], entries: list[Any]) -> None:
        """Each issuance statement of ``poll``: signed by the server, naming it and the seat."""
        key = str(self.session["server_public_key"])
        seats: set[str] = set()
        for n, item in enumerate(entries, start=1):
            where = f"{_name(poll)}, issuance statement {n}"
            try:
                signed = SignedStatement.model_validate(item["statement"])
                payload = verify_statement(signed, expected_signer=key, kind=BALLOT_ISSUED)
            except StatementError as exc:
                raise RecordError(f"{where}: {exc}") from None
            except (ValueError, KeyError, TypeError) as exc:
                raise RecordError(f"{where} is malformed: {exc}") from None
            expected = {
                "session": self.session["session"],
                "poll_id": poll["poll_id"],
                "uuid": poll.get("uuid"),
                "seat": item.get("seat"),
            }
            for field, value in expected.items():
                if payload.get(field) != value:
                    raise RecordError(
                        f"{where} names {field} {payload.get(field)!r}, not {value!r}"
                    )
            if payload["seat"] in seats:
                raise RecordError(f"{where}: seat {payload['seat']} is issued a ballot twice")
            seats.add(payload["seat"])

    # -- 4. counts -----------------------------------------------------------------------------

    def _implied_counts(self, poll: _Poll) -> dict[str, Any] | None:
        """The counts the record implies (None before the result)."""
        if poll.result_raw is None or poll.num_tallied is None:
            return None
        published = poll.entry.get("counts") or {}
        return {
            "total": self.session.get("total"),
            "present": published.get("present"),
            "issued": len(self.issuance.get(poll.id) or []),
            "received": poll.num_tallied,
            "result": json.loads(poll.result_raw)["result"],
        }

    def _counts(self) -> str:
        checked = 0
        for poll in self.recorded:
            counts = poll.entry.get("counts")
            implied = self._implied_counts(poll)
            if implied is None:
                if counts is not None:
                    raise RecordError(
                        f"{poll.name}: counts are published but the archive has no result"
                    )
                continue
            if not isinstance(counts, dict):
                raise RecordError(
                    f"{poll.name}: the archive has a result but no counts are published"
                )
            for field in ("total", "issued", "received", "result"):
                if counts.get(field) != implied[field]:
                    source = {
                        "total": "session.json's roster total",
                        "issued": "the issuance log",
                        "received": "the archive's num_tallied",
                        "result": "the archive's Result",
                    }[field]
                    raise RecordError(
                        f"{poll.name}: the published {field} count {counts.get(field)!r} is not "
                        f"{implied[field]!r} from {source}"
                    )
            present = counts.get("present")
            if not isinstance(present, int) or not implied["issued"] <= present <= implied["total"]:
                raise RecordError(
                    f"{poll.name}: the present count {present!r} is not between the ballots "
                    f"issued and the roster total"
                )
            checked += 1
        return f"{checked} poll(s): issued, returned and result as the archives imply"

    # -- 5. outcomes ---------------------------------------------------------------------------

    def _template(self, poll: _Poll) -> dict[str, Any]:
        archive = read_archive(poll.archive_path)
        _setup, election, _trustees, _creds = archive.setup()
        template: dict[str, Any] = json.loads(election)
        return template

    def _evaluate(self, poll: _Poll, rules: Any, counts: dict[str, Any]) -> dict[str, Any]:
        roster = None
        published = poll.entry.get("outcome") or {}
        if "roster" in self.session:
            # names of written-in persons are display names, taken from the published outcome
            names = {
                str(i["id"]): str(i.get("name") or i["id"])
                for i in published.get("items", [])
                if isinstance(i, dict) and i.get("write_in")
            }
            roster = {str(n): names.get(str(n), str(n)) for n in self.session["roster"]}
        data = evaluate_poll(
            rules,
            self._template(poll),
            counts,
            roster,
            session=str(self.session["session"]),
            title=str(poll.entry.get("title") or "") or None,
        )
        data.pop(FOLLOWUPS, None)
        return data

    def _ballot_form(self, poll: _Poll) -> None:
        """Warns of an election whose overfilled ballots could not be voided (an older server's
        per-candidate layout, or no rules: 选举法 第四十四条第二款)."""
        rules = poll.entry.get("rules")
        kind = poll.entry.get("kind")
        form = ballot_form_problem(
            str(kind) if kind is not None else None,
            self._template(poll),
            rules if isinstance(rules, dict) else None,
        )
        if form is not None:
            self.report.warnings.append(
                f"{poll.name}: an overfilled ballot of this election cannot have been voided: "
                f"{form}"
            )

    def _outcomes(self) -> str:
        checked = 0
        for poll in self.recorded:
            published = poll.entry.get("outcome")
            rules_file = poll.folder / RULES_FILE
            self._ballot_form(poll)
            if poll.entry.get("rules") is None and not rules_file.exists():
                if published is not None:
                    raise RecordError(f"{poll.name}: an outcome is published but no rules")
                continue
            rules = _load(rules_file, f"rules of {poll.name}")
            if rules != poll.entry.get("rules"):
                raise RecordError(f"{poll.name}: rules.json differs from outcomes.json's rules")
            implied = self._implied_counts(poll)
            if implied is None:
                continue
            if not isinstance(published, dict):
                raise RecordError(f"{poll.name}: the poll has rules and a result but no outcome")
            try:
                mine = self._evaluate(poll, rules, implied)
            except (RecordError, ArchiveError):
                raise
            except Exception as exc:  # the rules engine refuses these rules or counts
                if "error" in published:
                    checked += 1
                    continue
                raise RecordError(
                    f"{poll.name}: the rules engine refuses the record's rules and counts "
                    f"({exc}), yet an outcome is published"
                ) from None
            theirs = {k: v for k, v in published.items() if k != FOLLOWUPS}
            if mine != theirs:
                raise RecordError(f"{poll.name}: {_difference(mine, theirs)}")
            checked += 1
        return f"{checked} outcome(s) identical to the rules engine's"

    # -- 6. statements -------------------------------------------------------------------------

    def _statements(self) -> str:
        key = str(self.session["server_public_key"])
        checked = 0
        for entry in self.polls:
            raw = entry.get("statement")
            if entry.get("state") == "published" and raw is None:
                raise RecordError(f"{_name(entry)} is published without a signed result statement")
            if raw is None:
                continue
            try:
                signed = SignedStatement.model_validate(raw)
                payload = verify_statement(signed, expected_signer=key, kind=RESULT)
            except StatementError as exc:
                raise RecordError(f"{_name(entry)}: the result statement: {exc}") from None
            except ValueError as exc:
                raise RecordError(
                    f"{_name(entry)}: the result statement is malformed: {exc}"
                ) from None
            poll = next((p for p in self.recorded if p.id == entry["poll_id"]), None)
            result_hash = (
                sha256_hex(poll.result_raw) if poll is not None and poll.result_raw else None
            )
            expected = {
                "session": self.session["session"],
                "poll_id": entry["poll_id"],
                "uuid": entry.get("uuid"),
                "result_hash": result_hash,
                "counts": entry.get("counts"),
                "outcome": entry.get("outcome"),
            }
            if "closing" in payload or "closing" in entry:
                expected["closing"] = entry.get("closing")
            for field, value in expected.items():
                if payload.get(field) != value:
                    raise RecordError(
                        f"{_name(entry)}: the signed result statement's {field} is not the record's"
                    )
            checked += 1
        if not checked:
            raise _Skip("no poll is published")
        return f"{checked} signed result statement(s) match the record"

    # -- 7. count reports ----------------------------------------------------------------------

    def _reports(self) -> str:
        assert self.groups is not None
        lines: list[str] = []
        for poll in self.recorded:
            if poll.result_raw is None:
                continue
            path = poll.folder / REPORT_FILE
            if poll.entry.get("state") == "void" and not path.exists():
                lines.append(f"{poll.id}: void, its count report is not confirmed")
                continue
            if not path.exists():
                raise RecordError(f"{poll.name}: the record has no count report (report.json)")
            report = _load(path, f"count report of {poll.name}")
            if report != poll.entry.get("report"):
                raise RecordError(f"{poll.name}: report.json differs from outcomes.json's report")
            text = report.get("text")
            if not isinstance(text, str):
                raise RecordError(f"{poll.name}: the count report has no text")
            parsed = parse_report_text(text)
            check_report_against_result(parsed, poll.result_raw)
            expected = {
                "session": self.session["session"],
                "poll_id": poll.id,
                "uuid": poll.entry["uuid"],
                "counts": poll.entry.get("counts"),
                "outcome": poll.entry.get("outcome"),
            }
            for field, value in expected.items():
                if parsed.get(field) != value:
                    raise RecordError(
                        f"{poll.name}: the count report's {field} is not the record's"
                    )
            signatures = report.get("signatures")
            if not isinstance(signatures, list):
                raise RecordError(f"{poll.name}: the count report has no list of signatures")
            try:
                group = poll_group(self.groups, poll.election_raw, poll.name)
                signers, needed = check_report_signatures(
                    group, poll.trustees_raw, text, signatures
                )
            except RecordError as exc:
                raise RecordError(f"{poll.name}: {exc}") from None
            if report.get("needed") != needed:
                raise RecordError(
                    f"{poll.name}: the count report says {report.get('needed')!r} signatures "
                    f"are needed, the poll's trustees.json says {needed}"
                )
            if len(signers) < needed and poll.entry.get("state") == "void":
                lines.append(f"{poll.id}: void, {len(signers)} of {needed} signature(s)")
                continue
            if len(signers) < needed:
                raise RecordError(
                    f"{poll.name}: only {len(signers)} of the {needed} scrutineers' signatures "
                    "needed are in: the count report is not confirmed"
                )
            note = f"{poll.id}: {len(signers)} signature(s) check, {needed} needed"
            lines.append(note)
        if not lines:
            raise _Skip("no poll is tallied")
        return "; ".join(lines)

    # -- 7b. polls counted by hand -------------------------------------------------------------

    def _manual(self) -> str:
        from tally.manual_count import check_unarchived

        lines, warnings = check_unarchived(self.unrecorded, self.session, self.group)
        self.report.warnings.extend(warnings)
        if not lines:
            raise _Skip("no poll was counted by hand")
        return "; ".join(lines) + " (manual counts: not verifiable cryptographically)"

    # -- 8. links ------------------------------------------------------------------------------

    def _links(self) -> str:
        by_id = {p["poll_id"]: p for p in self.polls}
        linked = 0
        for entry in self.polls:
            parent_id = entry.get("parent_id")
            if parent_id is None:
                continue
            parent = by_id.get(parent_id)
            if parent is None:
                raise RecordError(
                    f"{_name(entry)} is linked to poll {parent_id}, not in the record"
                )
            relation = entry.get("relation")
            if relation not in RELATIONS:
                raise RecordError(f"{_name(entry)} has an unknown relation {relation!r}")
            nexts = (parent.get("outcome") or {}).get("next_polls") or []
            kinds = {str(n.get("kind")) for n in nexts if isinstance(n, dict)}
            if relation == "rerun" and parent.get("state") in ("void", "withdrawn"):
                linked += 1  # the presidium re-runs a void or withdrawn poll
                continue
            if relation not in kinds:
                raise RecordError(
                    f"{_name(entry)} is a {relation} of {_name(parent)}, whose outcome calls "
                    "for no such poll"
                )
            linked += 1
        # ... and every follow-up an outcome calls for is in the record (a tie re-vote that
        # decided the last seat cannot be left out)
        for entry in self.polls:
            for n in (entry.get("outcome") or {}).get("next_polls") or []:
                kind = n.get("kind") if isinstance(n, dict) else None
                if kind not in RELATIONS:
                    continue
                if not any(
                    c.get("parent_id") == entry["poll_id"] and c.get("relation") == kind
                    for c in self.polls
                ):
                    raise RecordError(
                        f"the outcome of {_name(entry)} calls for a {kind} poll, which is not "
                        "in the record"
                    )
        if not linked:
            raise _Skip("no linked polls")
        return f"{linked} linked poll(s), each called for by its parent's outcome"


def _difference(mine: Any, theirs: Any, where: str = "outcome") -> str:
    """The first place where the re-evaluated outcome differs from the published one."""
    if isinstance(mine, dict) and isinstance(theirs, dict):
        for key in [*mine, *(k for k in theirs if k not in mine)]:
            if mine.get(key) != theirs.get(key):
                label = where
                if key == "items" or key == "next_polls":
                    label = f"{where}'s {key}"
                    return _difference(mine.get(key), theirs.get(key), label)
                return (
                    f"the published {where}.{key} is {theirs.get(key)!r}, the rules give "
                    f"{mine.get(key)!r}"
                )
    if isinstance(mine, list) and isinstance(theirs, list):
        for a, b in zip(mine, theirs, strict=False):
            if a == b:
                continue
            if isinstance(a, dict) and isinstance(b, dict):
                who = a.get("name") or a.get("id") or a.get("kind")
                return _difference(a, b, f"{where} [{who}]")
            return f"the published {where} holds {b!r}, the rules give {a!r}"
        return f"the published {where} has {len(theirs)} entries, the rules give {len(mine)}"
    return f"the published {where} is {theirs!r}, the rules give {mine!r}"


def verify_session(
    path: str | os.PathLike[str],
    *,
    workers: int = 2,
    allow_test_group: bool = False,
    on_check: Callable[[Check], None] | None = None,
    check_archives: bool = True,
) -> VerificationReport:
    """Verify a session record folder; ``check_archives=False`` skips the archives' own
    checks (a test of the later checks on a record already verified)."""
    return SessionVerifier(
        path,
        workers=workers,
        allow_test_group=allow_test_group,
        on_check=on_check,
        check_archives=check_archives,
    ).run()
