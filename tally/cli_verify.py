"""``renda verify DIR|FILE.bel``: check a public record, print every check, exit 0 iff all pass.

DIR is a poll's folder (one ``.bel``) or a whole session record (it holds ``session.json``:
tally.session_record checks every archive, the issuance log, outcomes, statements and
signatures)."""

from __future__ import annotations

import argparse
import sys

from tally.session_record import is_session_record, verify_session
from tally.verify import Check, verify_archive

HELP = "verify a Belenios archive (.bel), or a whole session record (a folder with session.json)"

_MARK = {"pass": "ok  ", "fail": "FAIL", "skip": "skip", "not run": "----"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "path", metavar="DIR|FILE.bel", help="an archive, a folder with one, or a session record"
    )
    parser.add_argument(
        "--workers", type=int, default=2, help="processes checking ballot proofs (default 2)"
    )
    parser.add_argument("--quiet", action="store_true", help="print only the verdict")
    parser.add_argument(
        "--previous",
        metavar="DIR|FILE.bel",
        default=None,
        help="an earlier copy of the same record: check that nothing was removed since",
    )
    parser.add_argument(
        "--trackers",
        action="store_true",
        help="also print every ballot's tracker (跟踪号), grouped as the tablet shows it",
    )
    parser.add_argument("--test-group", action="store_true", help=argparse.SUPPRESS)


def print_trackers(path: str) -> None:
    """Each archive's ballots: position, tracker in groups of four (as the tablet shows it), the
    same hash in hex (as belenios-tool's compute-ballot-summary prints it), whether it counts."""
    from pathlib import Path

    from tally.archive import find_archive, read_archive
    from tally.box import box_entries, tracker_hex
    from tally.errors import RecordError
    from tally.tracker import group_tracker

    root = Path(path)
    if is_session_record(path):
        archives = sorted((root / "polls").glob("*/*.bel"))
    else:
        archives = [find_archive(path)]
    for archive_path in archives:
        name = (
            f"{archive_path.parent.name}/{archive_path.name}"
            if is_session_record(path)
            else (archive_path.name)
        )
        try:
            entries = box_entries(read_archive(archive_path))
        except RecordError as exc:
            print(f"trackers of {name}: cannot be read: {exc}")
            continue
        counted = sum(1 for e in entries if e.counted)
        print(f"trackers of {name}: {len(entries)} ballot(s), {counted} counted")
        for e in entries:
            note = "" if e.counted else "  (replaced by a later ballot of the same voter)"
            print(f"  {e.position:>5}  {group_tracker(e.tracker)}  {tracker_hex(e.tracker)}{note}")


def run(args: argparse.Namespace) -> int:
    def show(check: Check) -> None:
        if args.quiet:
            return
        line = f"[{_MARK.get(check.status, check.status)}] {check.name}"
        if check.detail:
            line += f": {check.detail}"
        if check.status in ("pass", "fail") and check.seconds >= 0.05:
            line += f"  ({check.seconds:.2f} s)"
        print(line, flush=True)

    if is_session_record(args.path):
        if args.previous is not None:
            print("renda verify: --previous applies to one archive, not a session record")
            return 2
        report = verify_session(
            args.path,
            workers=max(1, args.workers),
            allow_test_group=args.test_group,
            on_check=show,
        )
    else:
        report = verify_archive(
            args.path,
            workers=max(1, args.workers),
            allow_test_group=args.test_group,
            on_check=show,
            previous=args.previous,
        )
    for warning in report.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    if args.trackers:
        print_trackers(args.path)
    failure = report.first_failure
    if failure is None and report.ok:
        print("VERIFIED: all checks passed")
        return 0
    if failure is not None:
        print(f"REFUSED: {failure.name}: {failure.detail}")
    else:
        print("REFUSED")
    return 1
