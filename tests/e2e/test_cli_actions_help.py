"""The actions under a subcommand (``renda keys generate``, ``renda rules check``, ``renda bench
shuffle`` …) explain themselves as the subcommands do: what it does and a working example."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import pytest

from voting.cli import SERVER_BENCHMARKS, build_parser, main

ROOT = Path(__file__).resolve().parents[2]


def _actions() -> list[tuple[str, str]]:
    """Every (subcommand, action) of renda's parser, and the server's benchmarks."""
    found: list[tuple[str, str]] = [("bench", name) for name in SERVER_BENCHMARKS]
    top = build_parser()
    for group in top._subparsers._group_actions:  # type: ignore[union-attr]
        assert isinstance(group, argparse._SubParsersAction)
        for name, sub in group.choices.items():
            for action in sub._actions:
                if isinstance(action, argparse._SubParsersAction):
                    found += [(name, a) for a in action.choices]
    return sorted(set(found))


def _renda(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "voting.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
    )


def test_the_actions_are_found() -> None:
    actions = _actions()
    for pair in (("keys", "generate"), ("rules", "check"), ("bench", "shuffle")):
        assert pair in actions
    assert ("bench", "session") in actions


@pytest.mark.parametrize(("command", "action"), _actions())
def test_every_action_says_what_it_does_with_an_example(command: str, action: str) -> None:
    res = _renda(command, action, "--help")
    assert res.returncode == 0, res.stderr
    lines = [line for line in res.stdout.splitlines() if line.strip()]
    usage_end = next(i for i, line in enumerate(lines) if not line.startswith((" ", "usage:")))
    assert not lines[usage_end].endswith(":"), res.stdout  # a description, not "options:"
    assert "example" in res.stdout, res.stdout
    assert f"renda {command} {action}" in res.stdout.split("example", 1)[1]


def test_the_rules_examples_work() -> None:
    assert _renda("rules", "check", "tally/rules/examples/town-session.yaml").returncode == 0
    res = _renda(
        "rules",
        "evaluate",
        "tally/rules/examples/town-session.yaml",
        "tally/rules/examples/counts-vice-mayor.yaml",
        "--table",
    )
    assert res.returncode == 0 and "计票结果报告单" in res.stdout, res.stderr


def test_the_keys_examples_work(tmp_path: Path) -> None:
    res = _renda(
        "keys", "threshold", "--group", "BELENIOS-2048", "--step", "1", "--dir", "t1", cwd=tmp_path
    )
    assert res.returncode == 0, res.stderr  # the folder is made
    certs = "".join(p.read_text() for p in (tmp_path / "t1").glob("*.cert"))
    (tmp_path / "certs.txt").write_text(certs)
    res = _renda(
        "keys",
        "threshold",
        "--group",
        "BELENIOS-2048",
        "--step",
        "2",
        "--certs",
        "certs.txt",
        cwd=tmp_path,
    )
    assert res.returncode == 0 and "certificates are valid" in res.stderr, res.stderr


def test_keys_without_an_action_is_one_sentence() -> None:
    res = _renda("keys")
    assert res.returncode == 2 and "Traceback" not in res.stderr
    assert res.stderr.strip() == (
        "renda keys: choose an action: generate or threshold (renda keys --help)"
    )


class _GoneReader:
    """A stdout whose reader went away (``renda … | head``)."""

    def write(self, _text: str) -> int:
        raise BrokenPipeError(32, "Broken pipe")

    def flush(self) -> None:
        raise BrokenPipeError(32, "Broken pipe")


def test_a_closed_pipe_is_not_a_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdout", _GoneReader())
    assert main(["rules", "schema"]) == 1
