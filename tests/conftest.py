"""Shared test fixtures: the real belenios-tool and PostgreSQL, required in CI."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator

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
