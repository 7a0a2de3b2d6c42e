"""The run's own leak check (tests/conftest.py) fails a run that leaves a process behind."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

_LEAKY = """
import subprocess, sys

def test_leaves_a_process_behind(tmp_path):
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    (tmp_path.parent.parent / "leaked.pid").write_text(str(proc.pid))
"""

_TIDY = """
import subprocess, sys

def test_ends_its_process():
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    proc.terminate()
    proc.wait()
"""


def _run(tmp_path: Path, source: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "conftest.py").write_text(
        "from tests.conftest import pytest_configure, pytest_sessionfinish  # noqa: F401\n"
    )
    (tmp_path / "test_inner.py").write_text(source)
    env = {k: v for k, v in os.environ.items() if k != "RENDA_TEST_RUN"}  # a run of its own
    env["PYTHONPATH"] = str(ROOT)
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "--basetemp",
            str(tmp_path / "base"),
            str(tmp_path / "test_inner.py"),
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_a_leaked_process_fails_the_run(tmp_path: Path) -> None:
    res = _run(tmp_path, _LEAKY)
    pid_file = tmp_path / "leaked.pid"
    try:
        assert res.returncode == 1, res.stdout + res.stderr
        assert "1 passed" in res.stdout
        assert "outlived the run" in res.stderr and "time.sleep(60)" in res.stderr
    finally:
        if pid_file.exists():
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(pid_file.read_text()), signal.SIGKILL)


def test_a_tidy_run_passes(tmp_path: Path) -> None:
    res = _run(tmp_path, _TIDY)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "outlived" not in res.stderr
