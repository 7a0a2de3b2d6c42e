"""Reading the engine's documents (rules, COUNTS) as YAML 1.2 or JSON: the only file I/O of the
rules engine apart from its command line."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from tally.rules.errors import RulesError


class _Loader(yaml.SafeLoader):
    """YAML 1.2 booleans: only true/false. YAML 1.1 would read the options yes / no (and on,
    off) as booleans, which would turn ``{yes: 30, no: 10}`` into ``{True: 30, False: 10}``."""


_Loader.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:bool"]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
for _first in "tTfF":
    _Loader.add_implicit_resolver(
        "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), [_first]
    )


def parse_document(text: str, *, source: str = "rules") -> object:
    """Parse YAML (a superset of JSON) text; a syntax error becomes a RulesError.

    Only ``true`` / ``false`` are booleans (YAML 1.2), so ``yes`` and ``no`` stay strings."""
    try:
        return yaml.load(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        raise RulesError(f"{source}: not valid YAML or JSON: {exc}") from None


def read_document(path: str | Path, what: str) -> object:
    """Read and parse a YAML or JSON file; a RulesError names it as a ``what`` file."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RulesError(f"cannot read {what} file {p}: {exc}") from None
    return parse_document(text, source=str(p))
