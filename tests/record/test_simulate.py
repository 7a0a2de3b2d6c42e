"""renda simulate: whole elections in the test group, results checked from the template."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tally.simulate import TrusteeSpec, simulate
from tally.verify import verify_archive
from voting.cli import main

FORCED = {
    "description": "d",
    "name": "n",
    "questions": [
        {"answers": ["a", "b", "c"], "min": 3, "max": 3, "question": "all three"},
        {"answers": ["x", "y"], "min": 0, "max": 0, "question": "none"},
    ],
}


def test_forced_choices_give_a_known_result(tmp_path: Path) -> None:
    sim = simulate(tmp_path, FORCED, 4, test_group=True, workers=1)
    assert json.loads(sim.result_raw) == {"result": [[4, 4, 4], [0, 0]]}
    assert sim.path.parent == tmp_path and sim.path.name == f"{sim.election.uuid}.bel"
    assert verify_archive(sim.path, workers=1, allow_test_group=True).ok


def test_zero_voters(tmp_path: Path) -> None:
    sim = simulate(tmp_path, FORCED, 0, test_group=True, workers=1)
    assert json.loads(sim.result_raw) == {"result": [[0, 0, 0], [0, 0]]}
    assert verify_archive(sim.path, workers=1, allow_test_group=True).ok


def test_seed_makes_choices_reproducible(tmp_path: Path) -> None:
    template = {
        "description": "d",
        "name": "n",
        "questions": [
            {"answers": ["a", "b", "c", "d"], "blank": True, "min": 1, "max": 3, "question": "q"}
        ],
    }
    a = simulate(tmp_path / "a", template, 6, seed=42, test_group=True, workers=1)
    b = simulate(tmp_path / "b", template, 6, seed=42, test_group=True, workers=1)
    assert a.result_raw == b.result_raw
    assert a.election.uuid != b.election.uuid


@pytest.mark.parametrize(
    ("text", "expected"),
    [("1", TrusteeSpec(None, 1)), ("2-of-3", TrusteeSpec(2, 3)), ("3of5", TrusteeSpec(3, 5))],
)
def test_trustee_spec(text: str, expected: TrusteeSpec) -> None:
    assert TrusteeSpec.parse(text) == expected


@pytest.mark.parametrize("text", ["0", "4-of-3", "0-of-2", "two", "2-of-99"])
def test_bad_trustee_spec(text: str) -> None:
    with pytest.raises(ValueError, match="trustees"):
        TrusteeSpec.parse(text)


def test_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    template = tmp_path / "q.json"
    template.write_text(json.dumps(FORCED), encoding="utf-8")
    out = tmp_path / "out"
    code = main(
        [
            "simulate",
            "--out",
            str(out),
            "--voters",
            "3",
            "--template",
            str(template),
            "--trustees",
            "2-of-3",
            "--test-group",
            "--seed",
            "1",
        ]
    )
    assert code == 0
    text = capsys.readouterr().out
    assert '{"result":[[3,3,3],[0,0]]}' in text
    assert len(list(out.glob("*.bel"))) == 1


def test_cli_bad_template(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "q.json"
    bad.write_text('{"questions": [', encoding="utf-8")
    code = main(["simulate", "--out", str(tmp_path), "--voters", "1", "--template", str(bad)])
    assert code == 2
    assert "not valid JSON" in capsys.readouterr().err
    missing = main(
        [
            "simulate",
            "--out",
            str(tmp_path),
            "--voters",
            "1",
            "--template",
            str(tmp_path / "nope.json"),
        ]
    )
    assert missing == 2
