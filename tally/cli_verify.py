"""``renda verify DIR|FILE.bel``: check a public record, print every check, exit 0 iff all pass."""

from __future__ import annotations

import argparse
import sys

from tally.verify import Check, verify_archive

HELP = "verify a Belenios archive (.bel): every ballot, the tally, decryptions and result"

_MARK = {"pass": "ok  ", "fail": "FAIL", "skip": "skip", "not run": "----"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", metavar="DIR|FILE.bel", help="an archive, or a folder with one")
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
