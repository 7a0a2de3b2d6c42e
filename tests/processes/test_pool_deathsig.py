"""Pool workers die with their parent whatever kills it (tally/workers.py): kill -9 of a
parent process leaves none of its workers (nor the resource tracker) running."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
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


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="uses /proc")
@pytest.mark.parametrize("kind", ["server", "verifier"])
def test_workers_die_after_kill_9_of_the_parent(tmp_path: Path, kind: str) -> None:
    script = tmp_path / "parent.py"
    script.write_text(PARENT)
    proc = subprocess.Popen(
        [sys.executable, str(script), kind],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    try:
        assert proc.stdout is not None
        workers = [int(x) for x in proc.stdout.readline().split()]
        assert workers and all(alive(w) for w in workers)
        everyone = set(children(proc.pid)) | set(workers)  # the resource tracker too
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(alive(p) for p in everyone):
        time.sleep(0.1)
    left = [p for p in everyone if alive(p)]
    for p in left:  # do not leave them behind even when the test fails
        os.kill(p, signal.SIGKILL)
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
    script = tmp_path / "parent.py"
    script.write_text(SLOW_START)
    proc = subprocess.Popen(
        [sys.executable, str(script)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    try:
        assert proc.stdout is not None
        workers = [int(x) for x in proc.stdout.readline().split()]
        assert workers and all(alive(w) for w in workers)
    finally:
        os.kill(proc.pid, signal.SIGKILL)  # before the worker's initializer has run
        proc.wait()
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and any(alive(p) for p in workers):
        time.sleep(0.1)
    left = [p for p in workers if alive(p)]
    for p in left:
        os.kill(p, signal.SIGKILL)
    assert not left, f"still running after kill -9 of their parent: {left}"
