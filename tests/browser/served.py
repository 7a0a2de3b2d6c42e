"""A real ``renda serve`` process for the browser tests: start, restart, stop, call its API."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from voting.config import read_tokens
from voting.demo.harness import free_port

RENDA = [sys.executable, "-m", "voting.cli"]


def wait_for(
    what: str, check: Callable[[], Any], timeout: float = 120, logs: Path | None = None
) -> Any:
    """Poll ``check`` until it returns something true; a generous bound, not a timing claim."""
    end = time.monotonic() + timeout
    while True:
        try:
            value = check()
            if value:
                return value
        except (httpx.HTTPError, OSError, ValueError, KeyError):
            pass
        if time.monotonic() > end:
            tail = logs.read_text("utf-8", "replace")[-1500:] if logs and logs.exists() else ""
            raise AssertionError(f"timed out waiting for {what}; server log: {tail}")
        time.sleep(0.2)


class Served:
    """``renda serve --test-group`` on a free port over ``data``; restartable on the same port."""

    def __init__(self, data: Path, *extra: str) -> None:
        self.data = data
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.extra = list(extra)
        self.log = data.parent / f"serve-{self.port}.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.tokens: dict[str, str] = {}

    def start(self) -> None:
        if not (self.data / "tokens.json").exists():  # renda serve needs a folder --init made
            subprocess.run(
                [*RENDA, "serve", "--data", str(self.data), "--init", "--test-group", *self.extra],
                check=True,
                capture_output=True,
            )
        args = ["serve", "--data", str(self.data), "--port", str(self.port), "--test-group"]
        with open(self.log, "ab") as f:
            self.proc = subprocess.Popen(
                [*RENDA, *args, "--workers", "0", "--collect-timeout", "0", *self.extra],
                stdout=f,
                stderr=subprocess.STDOUT,
                env=dict(os.environ),
            )
        wait_for(
            "renda serve",
            lambda: httpx.get(self.url + "/", timeout=2).status_code == 200,
            logs=self.log,
        )
        self.tokens = read_tokens(self.data)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def h(self, role: str = "secretariat") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}

    def post(self, path: str, body: Any = None, role: str = "secretariat") -> Any:
        r = httpx.post(self.url + path, json=body, headers=self.h(role), timeout=60)
        assert r.status_code == 200, (path, r.status_code, r.text)
        return r.json()

    def get(self, path: str, role: str = "secretariat") -> Any:
        r = httpx.get(self.url + path, headers=self.h(role), timeout=60)
        assert r.status_code == 200, (path, r.status_code, r.text)
        return r.json()
