"""``renda verify`` as an auditor sees it: Chinese first, one line for a path that is not a
record, "did you mean the folder?" for a file of one, progress on stderr on request."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tally.simulate import simulate
from tests.record.test_simulate import FORCED
from voting.cli import main


def _verify(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "voting.cli", "verify", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=env,
    )


def test_chinese_first_with_the_english_words(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sim = simulate(tmp_path, FORCED, 3, test_group=True, workers=1)
    assert main(["verify", "--test-group", "--workers", "1", str(sim.path)]) == 0
    out = capsys.readouterr().out
    assert "[通过 ok  ] 存档文件完好 (archive file is a well-formed Belenios archive)" in out
    assert "选票：格式、凭证、证明与签名 (ballots: " in out
    assert out.rstrip().endswith("验证通过 (VERIFIED): 全部检查通过 (all checks passed)")


def test_a_missing_path_is_one_line(tmp_path: Path) -> None:
    res = _verify(str(tmp_path / "nowhere"))
    assert res.returncode == 2
    assert res.stdout == ""
    assert res.stderr.count("\n") == 1 and "找不到 (not found)" in res.stderr


def test_an_empty_folder_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    res = _verify(str(tmp_path / "empty"))
    assert res.returncode == 2 and res.stdout == ""
    assert res.stderr.count("\n") == 1 and "the folder is empty" in res.stderr


def _fake_record(root: Path) -> Path:
    (root / "polls" / "p1").mkdir(parents=True)
    (root / "session.json").write_text(json.dumps({"session": "s"}))
    (root / "outcomes.json").write_text("[]")
    (root / "polls" / "p1" / "rules.json").write_text("{}")
    return root


@pytest.mark.parametrize("name", ["outcomes.json", "polls/p1/rules.json", "session.json"])
def test_a_file_of_a_record_asks_for_the_folder(tmp_path: Path, name: str) -> None:
    record = _fake_record(tmp_path / "record")
    res = _verify(str(record / name))
    assert res.returncode == 2 and res.stdout == ""
    assert "did you mean the folder?" in res.stderr
    assert f"renda verify {record}" in res.stderr
    assert "Traceback" not in res.stderr


def test_a_subfolder_of_a_record_names_the_record(tmp_path: Path) -> None:
    record = _fake_record(tmp_path / "record")
    res = _verify(str(record / "polls"))
    assert res.returncode == 2
    assert f"did you mean the record?) renda verify {record}" in res.stderr


def test_progress_on_stderr_when_asked(tmp_path: Path) -> None:
    sim = simulate(tmp_path, FORCED, 12, test_group=True, workers=1)
    env = dict(os.environ, RENDA_PROGRESS="1")
    res = _verify("--test-group", "--workers", "2", str(sim.path), env=env)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "核验选票 (checking ballots)" in res.stderr and "/12 [" in res.stderr
    assert "checking ballots" not in res.stdout  # stdout keeps the checks and the verdict
    quiet = _verify("--test-group", str(sim.path))  # not a terminal: no bar
    assert "checking ballots" not in quiet.stderr
