"""An auditor's install (``pip install .``, no extras) verifies records; the server parts say
which extra they need instead of a traceback."""

from __future__ import annotations

from pathlib import Path

from tally.simulate import simulate
from tests.auditor import run_as_auditor
from tests.record.test_simulate import FORCED


def test_the_blocker_blocks(tmp_path: Path) -> None:
    res = run_as_auditor(tmp_path / "site", "serve", "--data", str(tmp_path / "s"))
    assert res.returncode == 2
    assert "pip install 'renda[server]'" in res.stderr
    assert "Traceback" not in res.stderr


def test_verify_needs_no_server_package(tmp_path: Path) -> None:
    sim = simulate(tmp_path / "poll", FORCED, 9, test_group=True, workers=1)
    res = run_as_auditor(tmp_path / "site", "verify", "--test-group", str(sim.path.parent))
    assert res.returncode == 0, res.stdout + res.stderr
    assert "VERIFIED" in res.stdout
    assert "Traceback" not in res.stderr


def test_help_lists_every_subcommand_without_server_packages(tmp_path: Path) -> None:
    res = run_as_auditor(tmp_path / "site", "--help")
    assert res.returncode == 0, res.stderr
    for name in ("verify", "simulate", "rules", "keys", "serve", "kiosk", "trustee", "demo"):
        assert name in res.stdout
    res = run_as_auditor(tmp_path / "site", "kiosk", "--dir", str(tmp_path / "k"))
    assert res.returncode == 2 and "renda[client]" in res.stderr, res.stderr
    res = run_as_auditor(tmp_path / "site", "bench", "session")
    assert res.returncode == 2 and "renda[server]" in res.stderr, res.stderr
