"""The dependency rules of DESIGN §3, checked on every test run.

* the import-linter contracts in pyproject.toml (``[tool.importlinter]``): the layers
  keys ← tally ← (voting | kiosk), voting imports kiosk only from voting.demo, kiosk never
  imports voting, the rules engine's own layers, and no import cycle (function-local imports
  count) in keys/, tally/, kiosk/ and voting/; voting.api over voting.session, and the
  session's jobs in their layers;
* no module of keys/, tally/, kiosk/ and voting/ is over 800 lines.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("keys", "tally", "kiosk", "voting")
MAX_LINES = 800


def test_import_contracts_hold() -> None:
    lint = Path(sys.executable).with_name("lint-imports")
    assert lint.exists(), "import-linter is part of the dev extra: pip install -e '.[dev]'"
    run = subprocess.run(
        [str(lint), "--no-cache", "--no-logo", str(ROOT / "pyproject.toml")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "0 broken" in run.stdout, run.stdout


def test_no_module_over_800_lines() -> None:
    long = {
        str(path.relative_to(ROOT)): n
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
        if (n := len(path.read_text("utf-8").splitlines())) > MAX_LINES
    }
    assert not long, f"modules over {MAX_LINES} lines: {long}"
