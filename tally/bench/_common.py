"""What the benchmarks share: belenios-tool and the folder to work in, commands run and
timed, the machine's description and the final table. (A leading underscore keeps this
module out of ``renda bench``'s list.)"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def tool_env() -> dict[str, str]:
    return {**os.environ, "BELENIOS_USE_URANDOM": "1"}


def run_checked(cmd: list[str], *, cwd: Path | None = None, stdin: str | None = None) -> str:
    """Run ``cmd`` (with BELENIOS_USE_URANDOM=1); its output, or RuntimeError if it fails."""
    done = subprocess.run(
        cmd, cwd=cwd, input=stdin, capture_output=True, text=True, env=tool_env(), check=False
    )
    if done.returncode != 0:
        tail = (done.stdout[-300:] + done.stderr[-400:]).strip()
        raise RuntimeError(f"{' '.join(cmd[:4])}… failed: {tail}")
    return done.stdout


def verify_commands(tool: str, folder: Path, workers: int) -> tuple[list[str], list[str]]:
    """``renda verify`` (a new process, as an auditor runs it) and ``belenios-tool election
    verify`` on ``folder``."""
    renda = [sys.executable, "-m", "voting.cli", "verify", "--quiet", "--workers", str(workers)]
    return [*renda, str(folder)], [tool, "election", "verify", "--dir", str(folder)]


def machine() -> str:
    try:
        load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        load = "?"
    return f"{os.cpu_count()} cores, load average {load}"


def tool_and_sizes(
    args: argparse.Namespace, bench: str, example: str
) -> tuple[str, list[int]] | None:
    """belenios-tool's path (``--belenios-tool`` or PATH) and the ``--sizes``; None after a
    message on stderr if either is missing or wrong."""
    tool = args.belenios_tool or shutil.which("belenios-tool")
    if tool is None:
        print(f"renda bench {bench}: belenios-tool is not installed", file=sys.stderr)
        return None
    try:
        sizes = [int(x) for x in str(args.sizes).split(",") if x.strip()]
    except ValueError:
        print(f"renda bench {bench}: --sizes must be numbers like {example}", file=sys.stderr)
        return None
    if any(s < 1 for s in sizes):
        print(f"renda bench {bench}: sizes must be positive", file=sys.stderr)
        return None
    return tool, sizes


@contextmanager
def workdir(args: argparse.Namespace, prefix: str) -> Iterator[Path]:
    """``--workdir`` (made if needed, kept), or a temporary folder removed at the end."""
    if args.workdir:
        folder = Path(args.workdir)
        folder.mkdir(parents=True, exist_ok=True)
        yield folder
        return
    with tempfile.TemporaryDirectory(prefix=prefix) as temp:
        yield Path(temp)
