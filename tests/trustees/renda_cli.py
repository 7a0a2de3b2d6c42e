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


def renda_step(
    d: Path,
    group: tuple[str, ...],
    step: int,
    *args: str,
    certs: str = "certs.jsons",
    stdin: str = "",
) -> tuple[int, str, str]:
    """Step ``step`` of ``renda keys threshold`` (the ceremony of belenios-tool's
    generate-trustee-key-threshold) with the ``group`` options; after step 1 with --certs."""
    opts = ("--certs", certs) if step > 1 else ()
    return renda(d, "keys", "threshold", *group, *opts, "--step", str(step), *args, stdin=stdin)
