"""renda bench: the dispatcher and a tiny run of bench verify (not a timing test)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tally.bench.cli import available
from voting.cli import main


def test_dispatcher_lists_benchmark_modules() -> None:
    names = available()
    assert "verify" in names and "cli" not in names


def test_bench_without_name(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench"]) == 2
    assert "verify" in capsys.readouterr().err


@pytest.mark.belenios
def test_bench_verify_tiny_run(
    belenios_tool: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        [
            "bench",
            "verify",
            "--sizes",
            "2",
            "--creations",
            "1",
            "--workdir",
            str(tmp_path),
            "--belenios-tool",
            belenios_tool,
        ]
    )
    assert code == 0
    out = capsys.readouterr().out
    assert "| verify, 2 ballots |" in out and "| create one ballot |" in out
