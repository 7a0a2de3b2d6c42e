"""JSON exactly as Belenios writes it (Yojson / atdgen compact output), and strict reading.

Belenios hashes serialized JSON (election fingerprint, ballot signature hash, tracker), so
one value must have exactly one serialization. Yojson writes objects and arrays without any
white space, keeps field order, writes non-ASCII characters as raw UTF-8, and escapes in
strings only ``"``, ``\\``, the control characters U+0000–U+001F and U+007F: ``\\b \\f \\n
\\r \\t`` by name, the others as ``\\u00xx`` with lower-case hex digits. ``/`` is not escaped.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

from gmpy2 import mpz

from tally.errors import RecordError

_ESCAPE_RE = re.compile(r'[\x00-\x1f"\\\x7f]')
_NAMED = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape_char(match: re.Match[str]) -> str:
    c = match.group(0)
    named = _NAMED.get(c)
    return named if named is not None else f"\\u{ord(c):04x}"


def compact_string(text: str) -> str:
    """A JSON string literal as Yojson writes it."""
    return '"' + _ESCAPE_RE.sub(_escape_char, text) + '"'


def _float(x: float) -> str:
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "Infinity" if x > 0 else "-Infinity"
    s = f"{x:.16g}"
    if float(s) != x:
        s = f"{x:.17g}"
    if all(c in "0123456789-" for c in s):
        s += ".0"
    return s


def compact(obj: Any) -> str:
    """Serialize ``obj`` as Belenios does: compact, fields in the order given."""
    parts: list[str] = []
    _write(obj, parts)
    return "".join(parts)


def _write(obj: Any, out: list[str]) -> None:
    if isinstance(obj, str):
        out.append(compact_string(obj))
    elif obj is None:
        out.append("null")
    elif obj is True:
        out.append("true")
    elif obj is False:
        out.append("false")
    elif isinstance(obj, int):
        out.append(str(obj))
    elif isinstance(obj, type(mpz(0))):
        out.append(obj.digits(10))
    elif isinstance(obj, float):
        out.append(_float(obj))
    elif isinstance(obj, Mapping):
        out.append("{")
        first = True
        for key, value in obj.items():
            if not isinstance(key, str):
                raise TypeError("JSON object keys must be strings")
            if not first:
                out.append(",")
            first = False
            out.append(compact_string(key))
            out.append(":")
            _write(value, out)
        out.append("}")
    elif isinstance(obj, Sequence):
        out.append("[")
        for i, value in enumerate(obj):
            if i:
                out.append(",")
            _write(value, out)
        out.append("]")
    else:
        raise TypeError(f"cannot serialize {type(obj).__name__} as JSON")


class _DuplicateKey(ValueError):
    pass


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _DuplicateKey(key)
        result[key] = value
    return result


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not allowed in JSON")


def parse_json(raw: str, what: str = "JSON document") -> Any:
    """Parse JSON text strictly: no NaN/Infinity, no duplicate keys; RecordError otherwise."""
    if not isinstance(raw, str):
        raise RecordError(f"{what} must be text")
    try:
        return json.loads(raw, object_pairs_hook=_no_duplicates, parse_constant=_no_constant)
    except _DuplicateKey as exc:
        raise RecordError(f"{what} has a duplicate field {exc.args[0]!r}") from None
    except RecursionError:
        raise RecordError(f"{what} is nested too deeply") from None
    except ValueError as exc:
        raise RecordError(f"{what} is not valid JSON: {exc}") from None


def parse_canonical_json(raw: str, what: str = "JSON document") -> Any:
    """Parse JSON text that must be exactly Belenios's compact serialization of its value."""
    value = parse_json(raw, what)
    try:
        canonical = compact(value)
    except (TypeError, ValueError):
        canonical = None
    if canonical != raw:
        raise RecordError(
            f"{what} is not in canonical form (compact JSON as Belenios writes it, "
            "no spaces, no needless escapes)"
        )
    return value
