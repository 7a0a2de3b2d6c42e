"""Worker processes that die with their parent, whatever kills it.

A ``ProcessPoolExecutor``'s workers outlive a parent killed by SIGKILL (``renda serve`` under
``kill -9``, a verifier stopped by the OOM killer): they wait on their queue for ever, holding
memory, and the multiprocessing resource tracker waits for them. :func:`die_with_parent`, as a
pool initializer, makes a worker follow its parent:

- on Linux, ``prctl(PR_SET_PDEATHSIG, SIGKILL)``: the kernel kills the worker when the thread
  that started it ends (pools here are started from the main thread or the event loop's);
- everywhere, a daemon thread that checks every ``interval`` seconds that the parent is still
  the one that started the worker (``os.getppid()`` changes when a process is re-parented)
  and ends the worker if not — this also covers the moment between fork and prctl.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import threading
import time
from concurrent.futures import ProcessPoolExecutor

PR_SET_PDEATHSIG = 1
_started = False


def _set_pdeathsig() -> bool:
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return int(libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)) == 0
    except (OSError, AttributeError):
        return False


def die_with_parent(parent: int | None = None, interval: float = 1.0) -> None:
    """Make this process end when its parent does (a pool ``initializer``; idempotent).

    ``parent``: the parent's pid, taken by the parent before it starts the worker
    (``initargs=(os.getpid(),)``). Without it the parent is whatever ``getppid()`` says when
    this runs, which is already init (or a subreaper) if the parent died in between: a worker
    forked or spawned just before a ``kill -9`` would then wait for ever."""
    global _started
    if _started:
        return
    _started = True
    expected = os.getppid() if parent is None else parent
    _set_pdeathsig()
    if os.getppid() != expected:  # the parent died before the prctl
        os._exit(1)

    def watch() -> None:
        while True:
            time.sleep(interval)
            if os.getppid() != expected:
                os._exit(1)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def worker_pool(workers: int) -> ProcessPoolExecutor:
    """A process pool (the default context) whose workers die with this process."""
    return ProcessPoolExecutor(workers, initializer=die_with_parent, initargs=(os.getpid(),))
