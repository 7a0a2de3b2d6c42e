"""Pool workers die with their parent whatever kills it (tally/workers.py): kill -9 of a
parent process leaves none of its workers (nor the resource tracker) running."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterable
from pathlib import Path

import pytest

PARENT = r"""
import multiprocessing, os, sys, time
from concurrent.futures import ProcessPoolExecutor
from voting.session.tally_jobs import warm_up
from tally.workers import die_with_parent

def pid() -> int:
    return os.getpid()

if __name__ == "__main__":
    kind = sys.argv[1]
    if kind == "server":  # as renda serve builds its pool
        pool = ProcessPoolExecutor(
            2,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=warm_up,
            initargs=(os.getpid(),),
        )
    else:  # as the verifier builds its pools (fork)
        pool = ProcessPoolExecutor(2, initializer=die_with_parent, initargs=(os.getpid(),))
    pids = {pool.submit(pid).result() for _ in range(8)}
    print(" ".join(map(str, sorted(pids))), flush=True)
    time.sleep(600)
"""


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ")[1][0] != "Z"
    except FileNotFoundError:
        return False


def children(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True)
    return [int(x) for x in out.stdout.split()]


def start_parent(tmp_path: Path, source: str, *args: str) -> subprocess.Popen[str]:
    """``source`` run as a parent process from the project's folder; it prints its workers."""
    script = tmp_path / "parent.py"
    script.write_text(source)
    return subprocess.Popen(
        [sys.executable, str(script), *args],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
    )


def survivors(pids: Iterable[int], timeout: float) -> list[int]:
    """Those of ``pids`` still running after ``timeout`` seconds; killed, so that none is left
    behind even when the test fails."""
    pids = list(pids)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and any(alive(p) for p in pids):
        time.sleep(0.1)
    left = [p for p in pids if alive(p)]
    for p in left:
        os.kill(p, signal.SIGKILL)
    return left


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="uses /proc")
@pytest.mark.parametrize("kind", ["server", "verifier"])
def test_workers_die_after_kill_9_of_the_parent(tmp_path: Path, kind: str) -> None:
    proc = start_parent(tmp_path, PARENT, kind)
    try:
        assert proc.stdout is not None
        workers = [int(x) for x in proc.stdout.readline().split()]
        assert workers and all(alive(w) for w in workers)
        everyone = set(children(proc.pid)) | set(workers)  # the resource tracker too
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    left = survivors(everyone, 10)
    assert not left, f"still running after kill -9 of their parent: {left}"


SLOW_START = r"""
import multiprocessing, os, sys, time
from concurrent.futures import ProcessPoolExecutor
from tally.workers import die_with_parent

def slow_start(parent: int) -> None:  # a loaded machine: the worker is slow to start
    time.sleep(1.5)
    die_with_parent(parent)

if __name__ == "__main__":
    pool = ProcessPoolExecutor(1, initializer=slow_start, initargs=(os.getpid(),))
    pool.submit(os.getpid)
    time.sleep(0.3)
    print(" ".join(str(p.pid) for p in multiprocessing.active_children()), flush=True)
    time.sleep(600)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="uses /proc")
def test_a_worker_started_just_before_kill_9_of_its_parent_dies_too(tmp_path: Path) -> None:
    """The parent dies between the worker's start and its initializer: the worker, re-parented
    by then, must still see that its parent is gone (the pid given by the parent)."""
    proc = start_parent(tmp_path, SLOW_START)
    try:
        assert proc.stdout is not None
        workers = [int(x) for x in proc.stdout.readline().split()]
        assert workers and all(alive(w) for w in workers)
    finally:
        os.kill(proc.pid, signal.SIGKILL)  # before the worker's initializer has run
        proc.wait()
    left = survivors(workers, 15)
    assert not left, f"still running after kill -9 of their parent: {left}"
