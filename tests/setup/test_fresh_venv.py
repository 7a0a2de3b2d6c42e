"""A newcomer's set-up, for real: fresh venvs made from the working tree, as the README says.

* ``./run.sh demo --help`` on a copy of the tree sets up ``.venv`` (``-e '.[server,dev]'``)
  printing its one line and nothing else, and a second run prints nothing of its own;
* an auditor's ``pip install .`` (no extra) gives ``renda verify`` and no server package.

Neither may show a warning of the project's own (setuptools about pyproject.toml, the editable
install, …). Packages come from pip's configuration (``/etc/pip.conf``, ``$PIP_*``: the index
CI uses), nothing else. Each test takes a minute or two on an idle machine (more on a busy
one): ``-m "not setup"`` leaves them out of a local run.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.setup, pytest.mark.timeout(1500)]

# Lines with "warning" that are not the project's: pip's own about this machine's configured
# indexes, and setuptools saying byte-compiling is off when $PYTHONDONTWRITEBYTECODE is set.
_NOT_OURS = (
    re.compile(r"WARNING: Location '.*' is ignored"),
    re.compile(r"warning: \w+: byte-compiling is disabled, skipping"),
)


def project_warnings(text: str) -> list[str]:
    """The lines of a set-up's output that warn, except the environment's own."""
    return [
        line
        for line in text.splitlines()
        if "warn" in line.lower() and not any(p.search(line) for p in _NOT_OURS)
    ]


def _files() -> list[str]:
    """The working tree's files (tracked and new, not ignored), as a fresh clone plus edits."""
    try:
        out = subprocess.run(
            ["git", "ls-files", "-co", "--exclude-standard", "-z"],
            cwd=ROOT,
            capture_output=True,
            check=True,
            text=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git working tree")
    return [f for f in out.split("\0") if f and (ROOT / f).is_file()]


@pytest.fixture
def tree(tmp_path: Path) -> Iterator[Path]:
    """A copy of the working tree (no .venv, no build leftovers), removed afterwards."""
    copy = tmp_path / "renda"
    for name in _files():
        if name.startswith(".venv") or ".egg-info/" in name or "__pycache__" in name:
            continue
        target = copy / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, target)
    try:
        yield copy
    finally:
        shutil.rmtree(tmp_path, ignore_errors=True)


def _env() -> dict[str, str]:
    """The caller's environment (pip's configuration included), minus this test run's venv."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "RENDA_VENV")
    }
    venv_bin = str(Path(sys.prefix) / "bin")
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if p != venv_bin)
    return env


def _run(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, text=True, timeout=1400, check=False
    )


def _base_python() -> str:
    return getattr(sys, "_base_executable", None) or sys.executable


def test_the_readme_set_up_prints_one_line(tree: Path) -> None:
    env = {**_env(), "PYTHON": _base_python()}
    first = _run(["./run.sh", "demo", "--help"], tree, env)
    log = (tree / ".venv" / "setup.log").read_text(errors="replace")
    assert first.returncode == 0, first.stderr + log
    assert first.stderr.splitlines() == [
        "run.sh: setting up .venv (Renda with its server and test tools; pip's log: "
        ".venv/setup.log)"
    ], first.stderr
    assert first.stdout.startswith("usage: renda demo"), first.stdout
    assert project_warnings(log) == []
    again = _run(["./run.sh", "demo", "--help"], tree, env)  # set up already: nothing of ours
    assert again.returncode == 0 and again.stderr == "", again.stderr
    renda = str(tree / ".venv" / "bin" / "renda")
    for args in ([renda, "--help"], [renda, "verify", "--help"], [renda, "serve", "--help"]):
        res = _run(args, tree, env)
        assert res.returncode == 0 and res.stderr == "", (args, res.stderr)
        assert "usage: renda" in res.stdout


def test_an_auditors_pip_install_verifies_without_the_server(tree: Path) -> None:
    env = _env()
    venv = tree.parent / "auditor"
    made = _run([_base_python(), "-m", "venv", str(venv)], tree, env)
    assert made.returncode == 0, made.stderr
    # -v: the build backend's own output (setuptools' warnings about pyproject.toml) is shown
    pip = _run([str(venv / "bin" / "pip"), "install", "-v", "."], tree, env)
    assert pip.returncode == 0, pip.stdout[-3000:] + pip.stderr
    assert project_warnings(pip.stdout + pip.stderr) == []
    renda = str(venv / "bin" / "renda")
    for args in ([renda, "--help"], [renda, "verify", "--help"]):
        res = _run(args, tree.parent, env)
        assert res.returncode == 0 and res.stderr == "", (args, res.stderr)
        assert "usage: renda" in res.stdout
    server = _run([str(venv / "bin" / "python"), "-c", "import fastapi"], tree.parent, env)
    assert server.returncode != 0  # the server's packages are an extra
    record = tree.parent / "poll"
    template = str(tree / "tally" / "templates" / "town-motion.json")
    simulate = [renda, "simulate", "--test-group", "--voters", "3", "--workers", "1"]
    sim = _run([*simulate, "--template", template, "--out", str(record)], tree.parent, env)
    assert sim.returncode == 0, sim.stderr
    verified = _run([renda, "verify", "--test-group", str(record)], tree.parent, env)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "验证通过 (VERIFIED)" in verified.stdout
    refused = _run([renda, "serve", "--data", str(tree.parent / "s")], tree.parent, env)
    assert refused.returncode == 2 and "pip install 'renda[server]'" in refused.stderr


def test_warnings_of_the_environment_are_told_apart() -> None:
    text = (
        "WARNING: Location 'file:///opt/x/simple/pip/' is ignored: it is neither a file nor a "
        "directory.\n  warning: build_py: byte-compiling is disabled, skipping.\n"
        "SetuptoolsDeprecationWarning: `project.license` as a TOML table is deprecated\n"
    )
    assert project_warnings(text) == [
        "SetuptoolsDeprecationWarning: `project.license` as a TOML table is deprecated"
    ]
