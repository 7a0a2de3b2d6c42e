"""The one harness of ``renda demo`` and ``renda bench session``: a free loopback port, ``renda
serve`` as a subprocess, ``renda trustee`` subprocesses, and the secretariat's HTTP client.

Everything here talks to the server the way its users do: over real sockets, through the
``renda`` command line and the HTTP API (docs/protocol.md §4).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import subprocess
import sys
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx


class DemoError(RuntimeError):
    """The demo or benchmark could not go on; the message says where and why."""


def free_port() -> int:
    """A loopback TCP port nobody listens on right now (bound to port 0, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


async def wait_until(
    what: str, check: Callable[[], Awaitable[bool]], timeout: float, interval: float = 0.1
) -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not await check():
        if loop.time() > end:
            raise DemoError(f"timed out after {timeout:.0f} s waiting for {what}")
        await asyncio.sleep(interval)


def renda(*args: str) -> list[str]:
    """The command line of ``renda ARGS`` run by this interpreter."""
    return [sys.executable, "-m", "voting.cli", *args]


@dataclass
class ServerProcess:
    """``renda serve`` on 127.0.0.1 as a subprocess, and the ``renda trustee`` processes started
    for it; all their output goes to ``log_path``. ``options`` are extra ``renda serve`` options
    (``--group``, ``--workers``, ``--session-name`` ...)."""

    data_dir: Path
    log_path: Path
    options: Sequence[str] = ()
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None
    trustees: list[subprocess.Popen[bytes]] = field(default_factory=list)
    # the niceness of the scrutineers' processes (renda bench: they stand in for machines of
    # their own, so the server's cores go to the server first)
    trustee_nice: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _serve(self) -> list[str]:
        return renda("serve", "--data", str(self.data_dir), *self.options)

    def init(self) -> None:
        """``renda serve --init``: create the session folder (keys, tokens) and stop."""
        subprocess.run([*self._serve(), "--init"], check=True, capture_output=True)

    def _popen(self, cmd: list[str], env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
        log = open(self.log_path, "ab")  # noqa: SIM115 - the child holds its own copy
        try:
            full_env = {**os.environ, **env} if env else None
            return subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=full_env)
        finally:
            log.close()

    def start(self) -> None:
        if not (self.data_dir / "tokens.json").exists():  # renda serve needs a --init folder
            self.init()
        self.proc = self._popen([*self._serve(), "--host", "127.0.0.1", "--port", str(self.port)])

    async def ready(self, timeout: float = 180) -> dict[str, Any]:
        """Wait for the server to answer; return the staff tokens it wrote. A server that does
        not answer in time is stopped before the error is raised (no process left behind)."""
        tokens_path = self.data_dir / "tokens.json"

        async def up() -> bool:
            if self.proc is not None and self.proc.poll() is not None:
                tail = self.log_path.read_text("utf-8", "replace")[-2000:]
                raise DemoError(f"renda serve exited with code {self.proc.returncode}:\n{tail}")
            if not tokens_path.exists():
                return False
            try:
                tokens = json.loads(tokens_path.read_text("utf-8"))
                async with httpx.AsyncClient(timeout=2) as c:
                    r = await c.get(
                        self.url + "/api/session",
                        headers={"Authorization": f"Bearer {tokens['secretariat']}"},
                    )
                return r.status_code == 200
            except (httpx.HTTPError, ValueError, KeyError):
                return False

        try:
            await wait_until("the server to start", up, timeout, 0.2)
        except BaseException:
            await asyncio.to_thread(self.stop)
            raise
        tokens: dict[str, Any] = json.loads(tokens_path.read_text("utf-8"))
        return tokens

    def trustee(self, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
        """A ``renda trustee ARGS`` process (stopped with the server); ``env``: its token and
        key file passphrase (never on the command line)."""
        proc = self._popen(renda("trustee", *args), env)
        self.trustees.append(proc)
        if self.trustee_nice:
            lower_priority(proc.pid, self.trustee_nice)
        return proc

    def stop(self) -> None:
        procs = [*self.trustees, *([self.proc] if self.proc is not None else [])]
        for proc in procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


class Api:
    """The secretariat's HTTP calls (docs/protocol.md §4). ``get``/``post`` raise
    :class:`DemoError` on an HTTP error; ``client`` is the raw client for the status codes."""

    def __init__(self, url: str, token: str, timeout: float = 120) -> None:
        self.url = url
        self.client = httpx.AsyncClient(
            base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=timeout
        )

    async def close(self) -> None:
        await self.client.aclose()

    async def call(self, method: str, path: str, body: Any = None) -> Any:
        r = await self.client.request(method, path, json=body)
        if r.status_code >= 400:
            try:
                detail = r.json().get("detail")
            except ValueError:
                detail = r.text[:300]
            raise DemoError(f"{method} {path}: HTTP {r.status_code}: {detail}")
        return r.json() if r.content else None

    async def get(self, path: str) -> Any:
        return await self.call("GET", path)

    async def post(self, path: str, body: Any = None) -> Any:
        return await self.call("POST", path, body if body is not None else {})


def lower_priority(pid: int, nice: int) -> None:
    """Run process ``pid`` at niceness ``nice`` (it may have ended already)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.setpriority(os.PRIO_PROCESS, pid, nice)


async def trustee_ceremony(
    server: ServerProcess,
    api: Api,
    names: Sequence[str],
    threshold: int,
    workers: int | None = None,
) -> None:
    """Scrutineers as ``renda trustee`` processes: each is added, runs the key ceremony
    (``threshold`` of ``len(names)``), then stays connected to decrypt (``renda trustee
    --workers`` when ``workers`` is given: the processes of its archive check)."""
    keys = []
    ceremony = []
    envs: list[dict[str, str]] = []
    for i, name in enumerate(names, 1):
        token = (await api.post("/api/scrutineers", {"name": name}))["token"]
        key = server.data_dir / f"scrutineer-{i}.json"
        keys.append(key)
        secrets_env = {
            "RENDA_TRUSTEE_TOKEN": token,
            "RENDA_TRUSTEE_PASSPHRASE": f"demo-scrutineer-{i}-{key.parent.name}",
        }
        envs.append(secrets_env)
        ceremony.append(
            server.trustee("ceremony", "--server", server.url, "--key", str(key), env=secrets_env)
        )
    state: dict[str, Any] = {}
    for _ in range(120):  # (re)started until every scrutineer is connected
        r = await api.client.post("/api/ceremony", json={"threshold": threshold})
        if r.status_code == 409 and "not_connected" in r.text:
            await asyncio.sleep(0.5)
            continue
        if r.status_code == 409 and "already done" in r.text:
            state = {"state": "done"}
            break
        if r.status_code != 200:
            raise DemoError(f"the key ceremony did not start: {r.text[:300]}")
        for _ in range(1200):
            state = (await api.client.get("/api/ceremony")).json()
            if state["state"] in ("done", "failed"):
                break
            await asyncio.sleep(0.1)
        if state["state"] == "done" or "not connected" not in str(state.get("message")):
            break
        await asyncio.sleep(0.5)
    if state["state"] != "done":
        raise DemoError(f"the key ceremony did not finish: {state.get('message')}")
    for proc in ceremony:
        await asyncio.to_thread(proc.wait, 60)
    pool = [] if workers is None else ["--workers", str(workers)]
    for key, secrets_env in zip(keys, envs, strict=True):
        server.trustee("--key", str(key), *pool, env=secrets_env)
