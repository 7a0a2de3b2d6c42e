"""The ``renda`` command: one entry point, one subcommand per job.

Each subcommand lives in its own module, imported only when that subcommand runs, so that an
auditor's ``renda verify`` never loads the server. A subcommand module provides::

    HELP: str
    def add_arguments(parser: argparse.ArgumentParser) -> None: ...
    def run(args: argparse.Namespace) -> int: ...
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import sys
from collections.abc import Callable
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


# Packages of the optional extras (pyproject.toml): an auditor's ``pip install .`` has none of
# them; a subcommand that needs one says which extra to install instead of a traceback.
EXTRA_PACKAGES: dict[str, str] = {
    "fastapi": "server",
    "starlette": "server",
    "uvicorn": "server",
    "sqlalchemy": "server",
    "alembic": "server",
    "psycopg": "server",
    "qrcode": "server",
    "jinja2": "server",
    "multipart": "server",
    "python_multipart": "server",
    "fpdf": "server",
    "websockets": "client",
    "httpx": "client",
}


def _load(name: str) -> ModuleType:
    return importlib.import_module(SUBCOMMANDS[name])


def missing_extra(exc: ModuleNotFoundError) -> str | None:
    """The extra that would provide the module ``exc`` could not find, if it is one of ours."""
    top = (exc.name or "").split(".")[0]
    return EXTRA_PACKAGES.get(top)


# The extra each subcommand needs whole (a package of `client` is also in `server`).
COMMAND_EXTRA: dict[str, str] = {
    "serve": "server",
    "demo": "server",
    "bench session": "server",
    "kiosk": "client",
    "trustee": "client",
}


def _missing_message(command: str, exc: ModuleNotFoundError, extra: str) -> str:
    extra = COMMAND_EXTRA.get(command, extra)
    return (
        f"renda {command}: this installation lacks the Python package {exc.name!r}; "
        f"install it with: pip install 'renda[{extra}]'"
    )


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="renda",
        description="Renda: verifiable electronic voting for People's Congress sessions.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in SUBCOMMANDS:
        if only is not None and only != name:
            continue
        try:
            module = _load(name)
        except ModuleNotFoundError as exc:
            extra = missing_extra(exc)
            if extra is None:
                raise
            extra = COMMAND_EXTRA.get(name, extra)
            p = sub.add_parser(name, help=f"(not installed: pip install 'renda[{extra}]')")
            continue
        p = sub.add_parser(
            name,
            help=getattr(module, "HELP", None),
            description=getattr(module, "DESCRIPTION", None) or getattr(module, "HELP", None),
            epilog=getattr(module, "EXAMPLES", None),
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        module.add_arguments(p)
        p.set_defaults(_module=module)
    return parser


def main(argv: list[str] | None = None) -> int:
    try:
        return _main(argv)
    except BrokenPipeError:  # ``renda verify … | head``: the reader went away, not a mistake
        with contextlib.suppress(OSError, ValueError, AttributeError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


def _main(argv: list[str] | None) -> int:
    from tally import progress

    progress.configure()  # bars on stderr at a terminal (or RENDA_PROGRESS=1)
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) >= 2 and argv[0] == "bench" and argv[1] in SERVER_BENCHMARKS:
        try:
            bench = importlib.import_module(SERVER_BENCHMARKS[argv[1]])
        except ModuleNotFoundError as exc:
            extra = missing_extra(exc)
            if extra is None:
                raise
            print(_missing_message(f"bench {argv[1]}", exc, extra), file=sys.stderr)
            return 2
        bench_parser = argparse.ArgumentParser(
            prog=f"renda bench {argv[1]}",
            description=bench.HELP,
            epilog=getattr(bench, "EXAMPLES", None),
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        bench.add_arguments(bench_parser)
        return _guarded(f"bench {argv[1]}", bench.run, bench_parser.parse_args(argv[2:]))
    first = argv[0] if argv and argv[0] in SUBCOMMANDS else None
    if first is not None:
        try:
            _load(first)
        except ModuleNotFoundError as exc:
            extra = missing_extra(exc)
            if extra is None:
                raise
            print(_missing_message(first, exc, extra), file=sys.stderr)
            return 2
    parser = build_parser(first)
    args = parser.parse_args(argv)
    module = getattr(args, "_module", None)
    if module is None:
        parser.print_help()
        return 2
    return _guarded(args.command, module.run, args)


def _guarded(
    command: str, run: Callable[[argparse.Namespace], int], args: argparse.Namespace
) -> int:
    try:
        return run(args)
    except ModuleNotFoundError as exc:  # a subcommand that imports its server parts late
        extra = missing_extra(exc)
        if extra is None:
            raise
        print(_missing_message(command, exc, extra), file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
