"""Run ``renda`` as an auditor's ``pip install .`` would: without the server's packages.

A ``sitecustomize`` on PYTHONPATH installs a meta-path hook that refuses to import any package of
the optional extras (fastapi, sqlalchemy, uvicorn, websockets, httpx, …), as if they were not
installed. A command that tries to import one fails with ModuleNotFoundError.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from voting.cli import EXTRA_PACKAGES

ROOT = Path(__file__).resolve().parents[1]

_SITECUSTOMIZE = """
import importlib.abc, sys

BLOCKED = {blocked!r}


class _NotInstalled(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {{name!r}} (blocked)", name=name)
        return None


sys.meta_path.insert(0, _NotInstalled())
"""


def auditor_env(folder: Path) -> dict[str, str]:
    """An environment whose Python cannot import the server's packages."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "sitecustomize.py").write_text(_SITECUSTOMIZE.format(blocked=sorted(EXTRA_PACKAGES)))
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(folder), str(ROOT)])
    return env


def run_as_auditor(
    folder: Path, *args: str, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """``renda ARGS`` with the server's packages blocked."""
    return subprocess.run(
        [sys.executable, "-m", "voting.cli", *args],
        env=auditor_env(folder),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
