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
    parser.add_argument("--test-group", action="store_true", help=argparse.SUPPRESS)


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
    failure = report.first_failure
    if failure is None and report.ok:
        print("VERIFIED: all checks passed")
        return 0
    if failure is not None:
        print(f"REFUSED: {failure.name}: {failure.detail}")
    else:
        print("REFUSED")
    return 1
