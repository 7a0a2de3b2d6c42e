"""``renda rules``: check a session's rules, print the schema, evaluate a poll's outcome.

renda rules evaluate RULES COUNTS [--table]   outcome and count report (JSON, or a table);
                                              also a record's rules.json and outcomes.json
                                              (tally/cli_rules.py)
renda rules check RULES                       check a rules document against schema and law
renda rules schema                            print the JSON Schema of rules documents
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from tally.rules.counts import parse_counts
from tally.rules.documents import read_document
from tally.rules.errors import RulesError
from tally.rules.loader import load_rules_file, schema
from tally.rules.outcome import evaluate
from tally.rules.report import report_to_data, report_to_text
from tally.rules.result import Outcome
from tally.rules.serialize import to_data
from tally.rules.sheet import evaluate_sheet, is_sheet_counts

HELP = "the rules engine: check a session's rules, evaluate a poll's outcome"
EXAMPLES = """examples:
  renda rules schema                         # the JSON schema of a session's rules
  renda rules check rules.yaml               # schema + law checks of a rules document
  renda rules evaluate rules.yaml counts.json --table   # a poll's outcome, as a table"""


_EXAMPLES = "tally/rules/examples"  # in the repository (a fresh clone's working folder)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="rules_command", metavar="ACTION")
    raw = argparse.RawDescriptionHelpFormatter
    what = "outcome and count report of one poll"
    ev = sub.add_parser(
        "evaluate",
        help=what,
        description=what,
        formatter_class=raw,
        epilog=f"examples:\n  renda rules evaluate {_EXAMPLES}/town-session.yaml "
        f"{_EXAMPLES}/counts-vice-mayor.yaml --table\n"
        "  renda rules evaluate RECORD/polls/p3/rules.json RECORD/outcomes.json --poll p3",
    )
    ev.add_argument("rules", metavar="RULES", help="the session's rules (YAML or JSON)")
    ev.add_argument("counts", metavar="COUNTS", help="the poll's counts (YAML or JSON)")
    ev.add_argument("--table", action="store_true", help="print the count report as a table")
    ev.add_argument(
        "--poll", metavar="ID", help="the poll, when COUNTS is a record's outcomes.json"
    )
    ev.add_argument(
        "--archive",
        metavar="FILE.bel",
        help="the poll's archive (its template), when COUNTS are a record's (default: the "
        ".bel beside RULES)",
    )
    ev.add_argument(
        "--session",
        metavar="session.json",
        help="the record's session.json (name, roster; default: the record's, found from RULES)",
    )
    what = "check a rules document against the schema and the law"
    ck = sub.add_parser(
        "check",
        help=what,
        description=what,
        formatter_class=raw,
        epilog=f"example:\n  renda rules check {_EXAMPLES}/town-session.yaml",
    )
    ck.add_argument("rules", metavar="RULES", help="the session's rules (YAML or JSON)")
    what = "print the JSON Schema of rules documents"
    sub.add_parser(
        "schema",
        help=what,
        description=what,
        formatter_class=raw,
        epilog="example:\n  renda rules schema > rules.schema.json",
    )


def outcome_to_data(outcome: Outcome) -> dict[str, Any]:
    """``{"outcome": ..., "report": ...}`` as plain JSON data."""
    data: dict[str, Any] = {"outcome": to_data(replace(outcome, report=None))}
    if outcome.report is not None:
        data["report"] = report_to_data(outcome.report)
    return data


def run(
    args: argparse.Namespace,
    record: Callable[[argparse.Namespace], tuple[Outcome, dict[str, Any]] | None] | None = None,
) -> int:
    """Run ``renda rules``. ``record`` evaluates a record's rules and counts (the auditor's
    round trip, tally/cli_rules.py): the outcome and its JSON as the record publishes it, or
    None when the files are the engine's own RULES and COUNTS documents."""
    command = getattr(args, "rules_command", None)
    try:
        if command == "schema":
            print(json.dumps(schema(), ensure_ascii=False, indent=2))
            return 0
        if command == "check":
            rules = load_rules_file(args.rules)
            print(f"ok: {len(rules.polls)} poll(s), level {rules.level.value}")
            return 0
        if command == "evaluate":
            found = record(args) if record is not None else None
            if found is not None:
                outcome, published = found
                if args.table:
                    assert outcome.report is not None
                    sys.stdout.write(report_to_text(outcome.report))
                else:
                    print(json.dumps({"outcome": published}, ensure_ascii=False, indent=2))
                return 0
            rules = load_rules_file(args.rules)
            document = read_document(args.counts, "COUNTS")
            if is_sheet_counts(document):  # one ballot for several posts, counted post by post
                outcomes = evaluate_sheet(rules, document)
                if args.table:
                    for each in outcomes:
                        assert each.report is not None
                        sys.stdout.write(report_to_text(each.report))
                else:
                    data = [outcome_to_data(o) for o in outcomes]
                    print(json.dumps({"posts": data}, ensure_ascii=False, indent=2))
                return 0
            outcome = evaluate(rules, parse_counts(document))
            if args.table:
                assert outcome.report is not None
                sys.stdout.write(report_to_text(outcome.report))
            else:
                print(json.dumps(outcome_to_data(outcome), ensure_ascii=False, indent=2))
            return 0
    except RulesError as exc:
        print(f"renda rules: {exc}", file=sys.stderr)
        return 1
    print("renda rules: choose an action: evaluate, check or schema", file=sys.stderr)
    return 2
