"""Plain JSON data from the engine's frozen dataclasses (enums as their values, no None)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from enum import Enum
from typing import Any


def to_data(obj: Any) -> Any:
    """Dataclasses become objects (field order kept, None fields left out), tuples lists,
    enums their value."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        out: dict[str, Any] = {}
        for f in dataclasses.fields(obj):
            value = getattr(obj, f.name)
            if value is None:
                continue
            out[f.name] = to_data(value)
        return out
    if isinstance(obj, Enum):
        return obj.value
    if isinstance(obj, Mapping):
        return {str(k): to_data(v) for k, v in obj.items()}
    if isinstance(obj, tuple | list | frozenset | set):
        items = sorted(obj) if isinstance(obj, frozenset | set) else obj
        return [to_data(v) for v in items]
    return obj
