"""``renda bench NAME``: dispatch to the benchmark module ``tally.bench.<NAME>``.

Benchmarks are found by listing this package, so a new one (``shuffle``, ``session``, ...) is
added by dropping a module here that provides ``HELP``, ``add_arguments(parser)`` and
``run(args) -> int``. A benchmark module that fails to import is listed with the reason
instead of breaking the others.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from types import ModuleType

HELP = "benchmarks: verify and shuffle against belenios-tool; session (a live server, in voting/)"
EXAMPLES = """examples:
  renda bench verify --sizes 100            # renda verify against belenios-tool
  renda bench session --deputies 45         # a live session (needs the server extra)
Figures and the commands that measured them: docs/benchmarks.md."""

_NOT_BENCHMARKS = {"cli"}


def available() -> list[str]:
    import tally.bench as package

    return sorted(
        m.name
        for m in pkgutil.iter_modules(package.__path__)
        if not m.name.startswith("_") and m.name not in _NOT_BENCHMARKS
    )


def _load(name: str) -> ModuleType | str:
    try:
        module = importlib.import_module(f"tally.bench.{name}")
    except ImportError as exc:
        return f"cannot load ({exc})"
    if not all(hasattr(module, x) for x in ("HELP", "add_arguments", "run")):
        return "not a benchmark module"
    return module


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="benchmark", metavar="BENCHMARK")
    for name in available():
        module = _load(name)
        if isinstance(module, str):
            sub.add_parser(name, help=f"(unavailable: {module})")
            continue
        p = sub.add_parser(
            name,
            help=module.HELP,
            description=module.HELP,
            epilog=getattr(module, "EXAMPLES", None),
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        module.add_arguments(p)
        p.set_defaults(_benchmark=module)


def run(args: argparse.Namespace) -> int:
    module = getattr(args, "_benchmark", None)
    if module is None:
        if args.benchmark:
            print(f"renda bench: {args.benchmark} is unavailable", file=sys.stderr)
            return 2
        names = [*available(), "session"]
        print("renda bench BENCHMARK; available: " + ", ".join(names), file=sys.stderr)
        return 2
    result: int = module.run(args)
    return result
