"""``renda bench session`` end to end at a tiny size: every ballot acknowledged and counted, the
summary with its docs/benchmarks.md row, and no process left behind."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from voting.demo.bench import TABLE_HEAD, summary, table_row


def test_bench_session_small(tmp_path: Path) -> None:
    keep = tmp_path / "bench"
    run = subprocess.run(
        [
            *(sys.executable, "-m", "voting.cli", "bench", "session", "--deputies", "4"),
            *("--group", "RENDA-TEST-256", "--workers", "1", "--json", "--keep", str(keep)),
        ],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    f = json.loads(run.stdout)
    assert f["deputies"] == 4 and f["received"] == 4 and f["reconnects"] == 0
    assert sum(f["result"][0]) == 4  # every ballot counted (blank, 赞成, 反对, 弃权)
    assert f["kiosk_errors"] == []
    assert f["api_max_s"] is not None and f["api_max_connecting_s"] > 0
    lo, hi = f["load_average_during"]
    assert 0 <= lo <= hi
    assert f["scrutineers_nice"] == 10 and f["kiosks_nice"] == 5
    text = summary(f)
    assert TABLE_HEAD in text and table_row(f) in text
    assert table_row(f).count("|") == TABLE_HEAD.splitlines()[0].count("|")
    # nothing of the run is left: no server, scrutineer or kiosk process of that folder
    leftovers = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes()
        except OSError:
            continue
        if str(keep).encode() in cmdline:
            leftovers.append(cmdline.replace(b"\0", b" ").decode(errors="replace"))
    assert leftovers == []


def test_the_benchmarks_scrutineers_run_at_a_lower_priority(tmp_path: Path) -> None:
    """The scrutineers stand in for machines of their own: the server's cores go to it first."""
    import os

    from voting.demo.harness import ServerProcess

    server = ServerProcess(tmp_path / "s", tmp_path / "log", trustee_nice=7)
    proc = server.trustee("--help")
    try:
        assert os.getpriority(os.PRIO_PROCESS, proc.pid) == 7
    finally:
        proc.wait(60)
    plain = ServerProcess(tmp_path / "s", tmp_path / "log").trustee("--help")
    try:
        assert os.getpriority(os.PRIO_PROCESS, plain.pid) == os.getpriority(os.PRIO_PROCESS, 0)
    finally:
        plain.wait(60)
