"""Shared test fixtures: the real belenios-tool and PostgreSQL, required in CI."""

from __future__ import annotations

import os
import shutil
import sys
import time
import uuid
from collections.abc import Generator, Iterator
from pathlib import Path

import pytest
from hypothesis import settings

from keys.group import TEST_256, Group

# No property test fails for being slow: this machine has 2 shared cores, and speed is measured
# by benchmarks, never by timed tests. Per-test @settings keep their other values.
settings.register_profile("renda", deadline=None)
settings.load_profile("renda")


def _required(var: str) -> bool:
    return os.environ.get(var, "") not in ("", "0")


@pytest.fixture(scope="session")
def belenios_tool() -> str:
    """Path of belenios-tool 2.0. Skips when absent, except in CI where it must be there."""
    path = shutil.which("belenios-tool")
    if path is None:
        if _required("RENDA_REQUIRE_BELENIOS"):
            pytest.fail("belenios-tool is required (RENDA_REQUIRE_BELENIOS is set) but missing")
        pytest.skip("belenios-tool is not installed (apt-get install belenios-tool)")
    return path


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """URL of a reachable PostgreSQL server; skips (or fails in CI) when there is none."""
    url = os.environ.get("RENDA_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1/test")
    try:
        import sqlalchemy

        engine = sqlalchemy.create_engine(url)
        with engine.connect() as conn:
            conn.execute(sqlalchemy.text("select 1"))
        engine.dispose()
    except Exception as exc:  # any failure means "no server here"
        if _required("RENDA_REQUIRE_POSTGRES"):
            pytest.fail(f"PostgreSQL is required (RENDA_REQUIRE_POSTGRES is set): {exc}")
        pytest.skip(f"no PostgreSQL server reachable at {url}: {exc}")
    yield url


@pytest.fixture
def group() -> Group:
    """The small test group for fast unit tests."""
    return TEST_256


# --- No process outlives the test run -------------------------------------------------------
#
# Every process the run starts (servers, kiosks, pool workers, multiprocessing's resource
# tracker, belenios-tool …) inherits RENDA_TEST_RUN from the environment. When the run ends (in
# the controller, after pytest-xdist has stopped its workers), any live process that carries this
# run's mark, other than pytest itself, is a leak: the run fails and names it. A process that is
# merely slow to exit gets a few seconds' grace.

_RUN_MARK = "RENDA_TEST_RUN"
_GRACE_SECONDS = 5.0


def pytest_configure(config: pytest.Config) -> None:
    if _RUN_MARK not in os.environ:  # the controller sets it; xdist workers inherit it
        os.environ[_RUN_MARK] = uuid.uuid4().hex


def _ancestors(pid: int) -> set[int]:
    seen = {pid}
    while pid > 1:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            break
        pid = int(stat.rsplit(")", 1)[1].split()[1])
        seen.add(pid)
    return seen


def _marked_processes(mark: str) -> list[tuple[int, int, str]]:
    """(pid, parent pid, command line) of every live process whose environment has the mark."""
    needle = f"{_RUN_MARK}={mark}".encode()
    mine = _ancestors(os.getpid())
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) in mine:
            continue
        try:
            if needle not in (entry / "environ").read_bytes().split(b"\0"):
                continue
            stat = (entry / "stat").read_text()
            if stat.rsplit(")", 1)[1].split()[0] == "Z":  # a zombie has already ended
                continue
            cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:  # gone meanwhile, or not ours to read
            continue
        found.append((int(entry.name), int(stat.rsplit(")", 1)[1].split()[1]), cmd.strip()))
    return found


@pytest.hookimpl(wrapper=True)
def pytest_sessionfinish(session: pytest.Session) -> Generator[None, None, None]:
    yield  # after the other hooks: xdist has stopped its workers by now
    if hasattr(session.config, "workerinput") or not sys.platform.startswith("linux"):
        return None  # an xdist worker: the controller checks for the whole run
    mark = os.environ.get(_RUN_MARK, "")
    deadline = time.monotonic() + _GRACE_SECONDS
    left = _marked_processes(mark)
    while left and time.monotonic() < deadline:
        time.sleep(0.2)
        left = _marked_processes(mark)
    if left:
        lines = "\n".join(f"  pid {pid} (parent {ppid}): {cmd[:200]}" for pid, ppid, cmd in left)
        sys.stderr.write(
            f"\nERROR: {len(left)} process(es) started by the tests outlived the run:\n{lines}\n"
        )
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
    return None
