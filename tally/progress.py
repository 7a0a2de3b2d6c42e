"""Progress of long work (checking or making many ballots, shuffles) as a bar on stderr.

Off unless a command turns it on (``renda`` does when stderr is a terminal, or when
``RENDA_PROGRESS=1``): library calls and tests stay silent. The bar is tqdm's, on stderr, so
that stdout keeps only the checks and the verdict.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

ENV = "RENDA_PROGRESS"
_enabled = False


def configure(enabled: bool | None = None) -> None:
    """Turn bars on or off; ``None``: on when stderr is a terminal or ``$RENDA_PROGRESS=1``."""
    global _enabled
    if enabled is None:
        flag = os.environ.get(ENV)
        enabled = flag == "1" if flag in ("0", "1") else sys.stderr.isatty()
    _enabled = enabled


@contextmanager
def progress(total: int, what: str, unit: str = "ballot") -> Iterator[Callable[[int], object]]:
    """``advance(n)`` for ``total`` steps of ``what``; a no-op when bars are off or total is 0."""
    if not _enabled or total <= 0:
        yield lambda _n: None
        return
    from tqdm import tqdm

    with tqdm(
        total=total, desc=what, unit=unit, file=sys.stderr, leave=False, dynamic_ncols=True
    ) as bar:
        yield bar.update
