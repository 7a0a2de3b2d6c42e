"""Shared helpers for the browser tests: Debian's chromium through Playwright, axe-core checks.

Every screen test uses these; nothing here downloads a browser or fetches from the network.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCREENS_DIR = ROOT / "docs" / "screens"

# Flags for headless Debian chromium as root on a machine with a closed network: no sandbox (root),
# no background networking (its connections are refused here), a fresh profile per launch.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]

# WCAG 2.x levels A and AA: what "no violations at level AA" means for axe-core.
AXE_AA_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


def required() -> bool:
    """Whether a missing browser is a failure (CI sets RENDA_REQUIRE_BROWSER=1)."""
    return os.environ.get("RENDA_REQUIRE_BROWSER", "") not in ("", "0")


def chromium_path() -> str | None:
    """Debian's chromium (or RENDA_CHROMIUM), or None when it is not installed."""
    explicit = os.environ.get("RENDA_CHROMIUM")
    if explicit:
        return explicit if Path(explicit).exists() else None
    for name in ("/usr/bin/chromium", "chromium"):
        found = shutil.which(name)
        if found:
            return found
    return None


def cjk_fonts_installed() -> bool:
    """Whether Noto CJK (Debian's fonts-noto-cjk) is there, so Chinese text renders."""
    try:
        out = subprocess.run(
            ["fc-list", ":lang=zh"], capture_output=True, text=True, timeout=30, check=False
        ).stdout
    except (OSError, subprocess.TimeoutExpired):
        return False
    return "Noto Sans CJK" in out or "Noto Serif CJK" in out


def missing(reason: str) -> None:
    """Skip, or fail when the browser tests are required."""
    if required():
        pytest.fail(f"browser tests are required (RENDA_REQUIRE_BROWSER is set): {reason}")
    pytest.skip(reason)


def check_axe(page: Any, *, context: Any = None, disable: tuple[str, ...] = ()) -> None:
    """Run axe-core (from the installed axe-playwright-python) and fail on any AA violation.

    ``disable`` names rules switched off for this page, each with a reason in the caller.
    """
    from axe_playwright_python.sync_playwright import Axe

    options: dict[str, Any] = {
        "runOnly": {"type": "tag", "values": AXE_AA_TAGS},
        "resultTypes": ["violations"],
    }
    if disable:
        options["rules"] = {rule: {"enabled": False} for rule in disable}
    results = Axe().run(page, context=context, options=options)
    if results.violations_count:
        pytest.fail("axe-core found accessibility violations:\n" + results.generate_report())


def save_screenshot(page: Any, relative: str, tmp_dir: Path) -> Path:
    """Take a screenshot; kept under docs/screens/ when RENDA_SCREENSHOTS=1, else in tmp_dir.

    The test run never changes the repository unless asked: set RENDA_SCREENSHOTS=1 to refresh
    the screenshots that the README shows.
    """
    if os.environ.get("RENDA_SCREENSHOTS", "") not in ("", "0"):
        path = SCREENS_DIR / relative
    else:
        path = tmp_dir / "screens" / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path), full_page=False)
    return path
