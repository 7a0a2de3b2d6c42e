"""The list of public credentials (spec §4.8), as belenios-tool writes and reads it.

Each item is a string: the public credential ``g^secret`` in base 10, optionally followed by
a comma and the voter's weight. belenios-tool writes the list sorted by the numeric value of
the credential (an OCaml map keyed by the group element), and writes weights only when some
were given explicitly.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from gmpy2 import mpz

from keys.group import Group, GroupError
from tally.errors import RecordError
from tally.json_format import compact, parse_json

_WEIGHT = re.compile(r"(?:0|[1-9][0-9]{0,30})\Z")


@dataclass(frozen=True)
class PublicCredential:
    key: mpz
    weight: int = 1

    def to_str(self, with_weight: bool) -> str:
        key = self.key.digits(10) if isinstance(self.key, type(mpz(0))) else str(self.key)
        return f"{key},{self.weight}" if with_weight else key


def parse_public_credential(
    group: Group, item: object, what: str = "public credential"
) -> PublicCredential:
    """One item ``"<credential>"`` or ``"<credential>,<weight>"``."""
    if not isinstance(item, str):
        raise RecordError(f"{what} must be a string")
    key_text, sep, weight_text = item.partition(",")
    weight = 1
    if sep:
        if not _WEIGHT.match(weight_text):
            raise RecordError(f"{what} has an invalid weight {weight_text[:40]!r}")
        weight = int(weight_text)
    try:
        key = group.parse_element(key_text, what)
    except GroupError as exc:
        raise RecordError(str(exc)) from None
    return PublicCredential(key, weight)


def parse_public_credentials(group: Group, raw: str) -> tuple[PublicCredential, ...]:
    """The JSON list of public credentials; RecordError on bad items or duplicates."""
    items = parse_json(raw, "public credentials")
    if not isinstance(items, list):
        raise RecordError("public credentials must be a JSON list of strings")
    creds = tuple(
        parse_public_credential(group, item, f"public credential {i + 1}")
        for i, item in enumerate(items)
    )
    seen: set[mpz] = set()
    for i, cred in enumerate(creds):
        if cred.key in seen:
            raise RecordError(f"public credential {i + 1} appears twice")
        seen.add(cred.key)
    return creds


def has_explicit_weights(raw: str) -> bool:
    """True when the items of the raw list carry weights (``,w``)."""
    items = parse_json(raw, "public credentials")
    return isinstance(items, list) and any(isinstance(x, str) and "," in x for x in items)


def sort_public_credentials(creds: Iterable[PublicCredential]) -> list[PublicCredential]:
    """In belenios-tool's order: increasing numeric value of the credential."""
    return sorted(creds, key=lambda c: c.key)


def serialize_public_credentials(
    creds: Sequence[PublicCredential], *, with_weights: bool | None = None
) -> str:
    """The JSON list, sorted as belenios-tool writes it.

    ``with_weights=None`` writes weights only if some weight is not 1 (belenios-tool writes
    them when the voter list gave weights explicitly; pass True to force them).
    """
    if with_weights is None:
        with_weights = any(c.weight != 1 for c in creds)
    keys = [c.key for c in creds]
    if len(set(keys)) != len(keys):
        raise ValueError("the same public credential appears twice")
    return compact([c.to_str(with_weights) for c in sort_public_credentials(creds)])


def total_weight(creds: Iterable[PublicCredential]) -> int:
    return sum(c.weight for c in creds)


def strip_ids(raw_with_ids: str) -> str:
    """``archive init``'s treatment of a ``.pubcreds`` file: drop the voter ids, keep order.

    Items are ``cred``, ``cred,weight``, ``cred,,id`` or ``cred,weight,id``.
    """
    items = parse_json(raw_with_ids, "public credentials")
    if not isinstance(items, list) or not all(isinstance(x, str) for x in items):
        raise RecordError("public credentials must be a JSON list of strings")
    out = []
    for item in items:
        parts = item.split(",")
        if len(parts) <= 2:
            out.append(item)
        elif len(parts) == 3:
            out.append(parts[0] if parts[1] == "" else f"{parts[0]},{parts[1]}")
        else:
            raise RecordError(f"invalid line in public credentials: {item[:60]!r}")
    return compact(out)
