"""Progress of long work (checking or making many ballots, shuffles, decryptions).

Two ways to show it, both counting steps (ballots, ciphertexts, runs) with ``advance(n)``:

* :func:`progress`: a bar on stderr (tqdm's). Off unless a command turns it on (``renda``
  does when stderr is a terminal, or when ``RENDA_PROGRESS=1``; ``renda serve`` never, it
  logs): library calls and tests stay silent, and stdout keeps only the checks and verdicts.
* :func:`logged`: lines in a log (the server's operator log), at most one every ``every``
  seconds, then one when the work is done, with its time.

:func:`counter` is the bar for work that is watched rather than done here (a benchmark
waiting for its kiosks): it takes the number reached so far instead of a step.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

ENV = "RENDA_PROGRESS"
_enabled = False

Advance = Callable[[int], object]


def configure(enabled: bool | None = None) -> None:
    """Turn bars on or off; ``None``: on when stderr is a terminal or ``$RENDA_PROGRESS=1``."""
    global _enabled
    if enabled is None:
        flag = os.environ.get(ENV)
        enabled = flag == "1" if flag in ("0", "1") else sys.stderr.isatty()
    _enabled = enabled


def enabled() -> bool:
    return _enabled


@contextmanager
def progress(total: int, what: str, unit: str = "ballot") -> Iterator[Advance]:
    """``advance(n)`` for ``total`` steps of ``what``; a no-op when bars are off or total is 0."""
    if not _enabled or total <= 0:
        yield lambda _n: None
        return
    from tqdm import tqdm

    with tqdm(
        total=total, desc=what, unit=unit, file=sys.stderr, leave=False, dynamic_ncols=True
    ) as bar:
        yield bar.update


@contextmanager
def counter(total: int, what: str, unit: str) -> Iterator[Callable[[int], None]]:
    """``reached(k)``: ``k`` of ``total`` are done so far (never goes back); a bar as above."""
    with progress(total, what, unit) as advance:
        shown = 0

        def reached(k: int) -> None:
            nonlocal shown
            k = min(k, total)
            if k > shown:
                advance(k - shown)
                shown = k

        yield reached


@contextmanager
def logged(
    logger: logging.Logger,
    total: int,
    what: str,
    unit: str = "ciphertext",
    every: float = 10.0,
    clock: Callable[[], float] = time.monotonic,
) -> Iterator[Advance]:
    """``advance(n)`` that logs ``what``: its start, ``k of total`` at most every ``every``
    seconds, and its end with the time it took (at level INFO)."""
    start = last = clock()
    done = 0
    logger.info("%s: %d %s(s) ...", what, total, unit)

    def advance(n: int) -> None:
        nonlocal done, last
        done += n
        now = clock()
        if now - last >= every and done < total:
            last = now
            share = 100 * done // max(1, total)
            logger.info(
                "%s: %d of %d %s(s) (%d%%), %.0f s", what, done, total, unit, share, now - start
            )

    yield advance
    logger.info("%s: done, %d %s(s) in %.1f s", what, total, unit, clock() - start)


@contextmanager
def timed(
    logger: logging.Logger, what: str, clock: Callable[[], float] = time.monotonic
) -> Iterator[None]:
    """Log ``what ...`` now and ``what: done in x s`` when the block ends (INFO); a block that
    fails logs nothing more (its error is logged where it is handled)."""
    start = clock()
    logger.info("%s ...", what)
    yield
    logger.info("%s: done in %.1f s", what, clock() - start)
