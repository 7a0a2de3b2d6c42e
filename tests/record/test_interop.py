"""renda's archives pass belenios-tool 2.0; belenios-tool's archives pass renda verify."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from tally.archive import read_archive
from tally.simulate import simulate
from tally.verify import verify_archive
from tests.belenios import belenios_verify, demo_election
from tests.record.builder import Step, step_index, steps_of, write_steps

pytestmark = pytest.mark.belenios

MIXED: dict[str, Any] = {
    "description": "第一次会议的表决",
    "name": "关于批准预算的决议（草案）",
    "questions": [
        {"answers": ["赞成", "反对", "弃权"], "min": 1, "max": 1, "question": "表决"},
        {
            "answers": ["项目一", "项目二", "项目三", "项目四"],
            "blank": True,
            "min": 1,
            "max": 3,
            "question": "民生实事项目",
        },
        {"answers": ["A", "B"], "min": 0, "max": 2, "question": "Optional?"},
        {"answers": ["甲", "乙", "丙"], "blank": True, "min": 2, "max": 2, "question": "两人"},
    ],
}
NH: dict[str, Any] = {
    "description": "d",
    "name": "write-ins",
    "questions": [
        {"answers": ["赞成", "反对"], "min": 1, "max": 1, "question": "q1"},
        {"type": "NonHomomorphic", "value": {"answers": ["x", "y", "z"], "question": "排名"}},
    ],
}


@pytest.mark.parametrize(
    ("template", "trustees", "voters"),
    [(MIXED, "1", 5), (MIXED, "2-of-3", 4), (NH, "1", 3)],
    ids=["homomorphic-single", "homomorphic-2of3", "non-homomorphic"],
)
def test_simulated_archive_passes_belenios(
    belenios_tool: str, tmp_path: Path, template: dict[str, Any], trustees: str, voters: int
) -> None:
    sim = simulate(tmp_path, template, voters, trustees=trustees, seed=7, workers=1)
    done = belenios_verify(belenios_tool, tmp_path)
    assert done.returncode == 0, done.stderr
    assert "all checks passed" in done.stderr
    report = verify_archive(tmp_path, workers=1)
    assert report.ok, report.first_failure
    assert sum(json.loads(sim.result_raw)["result"][0]) == voters  # exactly one choice each


@pytest.mark.parametrize("threshold", [False, True], ids=["single", "threshold"])
def test_belenios_archive_passes_renda(belenios_tool: str, tmp_path: Path, threshold: bool) -> None:
    path = demo_election(belenios_tool, tmp_path / "e", threshold=threshold)
    report = verify_archive(path, workers=1)
    assert report.ok, report.first_failure
    statuses = {c.name: c.status for c in report.checks}
    assert list(statuses.values()).count("pass") == 13
    tallied = next(c for c in report.checks if c.name.startswith("tallied"))
    assert "3 tallied ballot(s)" in tallied.detail and "replaced" in tallied.detail


def test_stored_tally_belenios_ignores_is_refused(belenios_tool: str, tmp_path: Path) -> None:
    """belenios-tool recomputes the tally and never reads the stored one: an archive whose
    stored tally is wrong passes belenios-tool but not renda verify."""
    path = demo_election(belenios_tool, tmp_path / "e", revote=False)
    archive = read_archive(path)
    steps = steps_of(archive)
    k = step_index(steps, "EncryptedTally")
    raw, n, w = steps[k].items
    rows = json.loads(raw)
    rows[0][0], rows[0][1] = rows[0][1], rows[0][0]
    steps[k] = Step("EncryptedTally", (json.dumps(rows, separators=(",", ":")), n, w))
    write_steps(path, steps, archive.timestamp)
    assert belenios_verify(belenios_tool, path.parent).returncode == 0
    report = verify_archive(path, workers=1)
    failure = report.first_failure
    assert failure is not None and "encrypted tally" in failure.name


def test_belenios_refuses_what_renda_refuses(belenios_tool: str, tmp_path: Path) -> None:
    """A wrong result, with the chain rebuilt, is refused by both."""
    sim = simulate(tmp_path / "a", MIXED, 3, seed=1, workers=1)
    archive = read_archive(sim.path)
    steps = steps_of(archive)
    obj = json.loads(steps[-1].items[0])
    obj["result"][0][0] += 1
    steps[-1] = Step("Result", (json.dumps(obj, separators=(",", ":")),))
    write_steps(sim.path, steps, archive.timestamp)
    assert belenios_verify(belenios_tool, sim.path.parent).returncode != 0
    assert not verify_archive(sim.path, workers=1).ok
    shutil.rmtree(tmp_path / "a")
