"""renda verify on archives at every stage, with revotes and weights, and its command line."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tally.verify import verify_archive
from tests.record.builder import build, write_steps
from voting.cli import main

VOTES = [[[1, 0, 0], [0, 1, 1, 0]], [[0, 1, 0], [1, 0, 0, 0]], [[0, 0, 1], [0, 0, 1, 0]]]


def _statuses(path: Path) -> dict[str, str]:
    report = verify_archive(path, workers=1, allow_test_group=True)
    return {c.name.split(":")[0]: c.status for c in report.checks}


def test_archive_during_voting_passes_with_skips(tmp_path: Path) -> None:
    built = build(tmp_path, VOTES, stop_after="Ballot")
    report = verify_archive(built.path, workers=1, allow_test_group=True)
    assert report.ok, report.first_failure
    skipped = [c.name for c in report.checks if c.status == "skip"]
    assert len(skipped) == 4  # tally, shuffles, decryptions, result: not yet


def test_revote_counts_only_the_last_ballot(tmp_path: Path) -> None:
    built = build(tmp_path, VOTES, revotes=[(0, [[0, 0, 1], [1, 0, 0, 0]])])
    report = verify_archive(built.path, workers=1, allow_test_group=True)
    assert report.ok, report.first_failure
    result = json.loads(built.steps[-1].items[0])["result"]
    assert result[0] == [0, 1, 2]  # voter 1 changed from the first answer to the third


def test_weights_are_applied(tmp_path: Path) -> None:
    built = build(tmp_path, VOTES, weights=[3, 1, 2])
    report = verify_archive(built.path, workers=1, allow_test_group=True)
    assert report.ok, report.first_failure
    assert json.loads(built.steps[-1].items[0])["result"][0] == [3, 1, 2]
    tallied = next(c for c in report.checks if c.name.startswith("tallied"))
    assert "total weight 6" in tallied.detail


def test_threshold_archive(tmp_path: Path) -> None:
    built = build(tmp_path, VOTES, trustees="2-of-3")
    report = verify_archive(built.path, workers=1, allow_test_group=True)
    assert report.ok, report.first_failure


def test_ballot_checks_in_a_process_pool(tmp_path: Path) -> None:
    votes = VOTES * 3  # 9 ballots: enough to use the pool
    built = build(tmp_path, votes)
    report = verify_archive(built.path, workers=2, allow_test_group=True)
    assert report.ok, report.first_failure
    ballots = next(c for c in report.checks if c.name.startswith("ballots"))
    assert "9 ballot(s)" in ballots.detail


def test_test_group_is_refused_without_the_option(tmp_path: Path) -> None:
    built = build(tmp_path, VOTES[:1])
    report = verify_archive(built.path, workers=1)
    assert not report.ok
    assert "unknown group" in (report.first_failure.detail if report.first_failure else "")


def test_missing_file(tmp_path: Path) -> None:
    report = verify_archive(tmp_path / "none.bel")
    assert not report.ok
    assert report.first_failure is not None
    assert "does not exist" in report.first_failure.detail
    assert [c.status for c in report.checks[1:]] == ["not run"] * 13


def test_cli_exit_codes_and_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    built = build(tmp_path, VOTES)
    assert main(["verify", "--test-group", "--workers", "1", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "VERIFIED" in out and "[通过 ok  ] 选票" in out
    blob = bytearray(built.path.read_bytes())
    blob[-600] ^= 1  # inside the last members
    built.path.write_bytes(bytes(blob))
    assert main(["verify", "--test-group", str(built.path)]) == 1
    out = capsys.readouterr().out
    assert "REFUSED" in out and "[失败 FAIL]" in out


def test_previous_copy_must_be_a_prefix(tmp_path: Path) -> None:
    built = build(tmp_path, VOTES, stop_after="Ballot")
    earlier = tmp_path / "earlier"
    earlier.mkdir()
    shutil.copy(built.path, earlier / "copy.bel")
    # the same archive, grown by one more ballot (a resend): passes
    write_steps(built.path, [*built.steps, built.steps[-1]])
    report = verify_archive(built.path, workers=1, allow_test_group=True, previous=earlier)
    assert report.ok, report.first_failure
    assert any("prefix" in c.name and c.status == "pass" for c in report.checks)
    # a ballot removed since the earlier copy: refused
    write_steps(built.path, built.steps[:-1])
    report = verify_archive(built.path, workers=1, allow_test_group=True, previous=earlier)
    assert report.first_failure is not None
    assert "removed or changed" in report.first_failure.detail
