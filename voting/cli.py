"""The ``renda`` command: one entry point, one subcommand per job.

Each subcommand lives in its own module, imported only when that subcommand runs, so that an
auditor's ``renda verify`` never loads the server. A subcommand module provides::

    HELP: str
    def add_arguments(parser: argparse.ArgumentParser) -> None: ...
    def run(args: argparse.Namespace) -> int: ...
"""

from __future__ import annotations

import argparse
import importlib
import sys
from types import ModuleType

# name -> module implementing it. Modules under tally/ and keys/ need no server packages.
SUBCOMMANDS: dict[str, str] = {
    "verify": "tally.cli_verify",
    "simulate": "tally.cli_simulate",
    "rules": "tally.cli_rules",
    "bench": "tally.bench.cli",
    "keys": "keys.cli",
    "serve": "voting.cli_serve",
    "demo": "voting.demo.town",
    "trustee": "voting.cli_trustee",
    "kiosk": "kiosk.cli",
}


# ``renda bench NAME`` benchmarks that need the server or the kiosk: they live in voting/
# (tally/ must not import voting/), so the dispatcher routes them here.
SERVER_BENCHMARKS: dict[str, str] = {"session": "voting.demo.bench"}


def _load(name: str) -> ModuleType:
    return importlib.import_module(SUBCOMMANDS[name])


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="renda",
        description="Renda: verifiable electronic voting for People's Congress sessions.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in SUBCOMMANDS:
        if only is not None and only != name:
            continue
        module = _load(name)
        p = sub.add_parser(name, help=getattr(module, "HELP", None))
        module.add_arguments(p)
        p.set_defaults(_module=module)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) >= 2 and argv[0] == "bench" and argv[1] in SERVER_BENCHMARKS:
        bench = importlib.import_module(SERVER_BENCHMARKS[argv[1]])
        bench_parser = argparse.ArgumentParser(
            prog=f"renda bench {argv[1]}", description=bench.HELP
        )
        bench.add_arguments(bench_parser)
        code: int = bench.run(bench_parser.parse_args(argv[2:]))
        return code
    first = argv[0] if argv and argv[0] in SUBCOMMANDS else None
    parser = build_parser(first)
    args = parser.parse_args(argv)
    module = getattr(args, "_module", None)
    if module is None:
        parser.print_help()
        return 2
    result: int = module.run(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
