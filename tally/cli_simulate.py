"""``renda simulate``: a whole election offline into ``DIR/<uuid>.bel``."""

from __future__ import annotations

import argparse
import sys
import time

from keys.group import GroupError
from tally.errors import RecordError

HELP = "simulate a whole election offline (setup, N ballots, tally, decryption, result)"
EXAMPLES = """examples:
  renda simulate --out /tmp/practice --voters 20 --template tally/templates/town-motion.json
  renda simulate --out /tmp/election --voters 20 --template tally/templates/town-election.json
  renda verify /tmp/practice                     # then check it as an auditor would"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", required=True, metavar="DIR", help="folder for <uuid>.bel")
    parser.add_argument("--voters", required=True, type=int, metavar="N", help="number of voters")
    parser.add_argument(
        "--template",
        required=True,
        metavar="QUESTIONS.json",
        help="belenios-tool election template (description, name, questions)",
    )
    parser.add_argument(
        "--trustees",
        default="1",
        metavar="1|K-of-N",
        help="1: one single trustee (default); K-of-N: server key plus a K-of-N threshold group",
    )
    parser.add_argument("--seed", type=int, default=None, help="seed for the voters' choices")
    parser.add_argument("--workers", type=int, default=2, help="processes making ballots")
    parser.add_argument("--uuid", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--test-group", action="store_true", help=argparse.SUPPRESS)


def run(args: argparse.Namespace) -> int:
    from tally.simulate import TrusteeSpec, load_template, simulate

    try:
        spec = TrusteeSpec.parse(args.trustees)
        if args.voters < 0:
            raise ValueError("--voters must be 0 or more")
        template = load_template(args.template)
        start = time.perf_counter()
        sim = simulate(
            args.out,
            template,
            args.voters,
            trustees=spec,
            seed=args.seed,
            test_group=args.test_group,
            workers=max(1, args.workers),
            uuid=args.uuid,
        )
    except (ValueError, RecordError, GroupError) as exc:
        print(f"renda simulate: {exc}", file=sys.stderr)
        return 2
    elapsed = time.perf_counter() - start
    print(f"election {sim.election.uuid}: {sim.ballots} ballot(s) in {elapsed:.1f} s")
    print(f"archive: {sim.path}")
    print(f"result: {sim.result_raw}")
    return 0
