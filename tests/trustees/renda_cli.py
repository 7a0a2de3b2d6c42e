"""Test helper: the ``renda`` command run in-process in a folder (faster than a new
interpreter)."""

from __future__ import annotations

import contextlib
import io
import os
import sys
from pathlib import Path

from voting.cli import main


def renda(d: Path, *args: str, stdin: str = "") -> tuple[int, str, str]:
    """``renda ARGS`` in directory ``d`` with ``stdin``: (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    cwd, old_stdin = os.getcwd(), sys.stdin
    try:
        os.chdir(d)
        sys.stdin = io.StringIO(stdin)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(list(args))
    finally:
        sys.stdin = old_stdin
        os.chdir(cwd)
    return code, out.getvalue(), err.getvalue()
