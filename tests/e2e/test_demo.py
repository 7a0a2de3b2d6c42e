"""``renda demo`` end to end: the CLI as a subprocess, a real server, real sockets.

Small N (9 deputies: the smallest roster that stages the tie) with the real BELENIOS-2048
group. The demo itself verifies the record with ``renda verify`` and belenios-tool; this test
also checks what it printed and what it wrote.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow


def test_demo_small_session(tmp_path: Path, belenios_tool: str) -> None:
    out = tmp_path / "record"
    env = dict(os.environ, PYTHONUNBUFFERED="1", BELENIOS_USE_URANDOM="1")
    env["PATH"] = str(Path(belenios_tool).parent) + os.pathsep + env.get("PATH", "")
    proc = subprocess.run(
        [sys.executable, "-m", "voting.cli", "demo", "--deputies", "9", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=240,
        env=env,
        cwd=tmp_path,
        check=False,
    )
    printed = proc.stdout
    assert proc.returncode == 0, printed[-3000:] + proc.stderr[-3000:]
    assert "DEMO OK" in printed
    for label in ("应到", "实到", "赞成", "反对", "弃权", "未按", "通过", "当选", "再次投票"):
        assert label in printed, label
    assert "renda verify" in printed and "FAILED" not in printed

    folders = sorted(p for p in out.iterdir() if p.is_dir())
    assert [f.name.split("-")[1] for f in folders] == ["motion", "projects", "election", "election"]
    for folder in folders:
        archives = list(folder.glob("*.bel"))
        assert len(archives) == 1
        outcome = json.loads((folder / "outcome.json").read_text("utf-8"))
        assert outcome["outcome"]["verdict"] == "valid"
        # belenios-tool accepts every poll's archive on its own
        check = subprocess.run(
            [belenios_tool, "election", "verify", "--dir", str(folder)],
            capture_output=True,
            text=True,
            env=env,
            check=False,
        )
        assert check.returncode == 0, check.stdout + check.stderr
    attendance = json.loads((out / "attendance.json").read_text("utf-8"))
    assert attendance["total"] == 9 and attendance["present"] == 8


def test_demo_refuses_too_few_deputies(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "voting.cli", "demo", "--deputies", "3", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 2 and "at least 9" in proc.stderr
