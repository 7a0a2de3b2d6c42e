"""A 人大 election with write-ins, end to end in renda simulate; both verifiers accept it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tally.election_ballot import ElectionLayout, decode_ballot, question_json
from tally.simulate import simulate
from tally.verify import verify_archive
from tests.belenios import run


@pytest.mark.belenios
def test_election_with_write_ins_end_to_end(belenios_tool: str, tmp_path: Path) -> None:
    layout = ElectionLayout(("张三", "李四", "王五"), 2, 400)
    template = {
        "description": "副镇长选举",
        "name": "第十八届人民代表大会第一次会议",
        "questions": [
            question_json(layout, "副镇长"),
            {"answers": ["赞成", "反对", "弃权"], "min": 1, "max": 1, "question": "议案"},
        ],
    }
    sim = simulate(tmp_path, template, 5, seed=7, workers=1)
    report = verify_archive(tmp_path)
    assert report.ok, report.first_failure
    run(belenios_tool, tmp_path, "election", "verify")
    result = json.loads(sim.result_raw)["result"]
    ballots = [decode_ballot(layout, v) for v in result[0]]
    assert len(ballots) == 5 and all(b.well_formed for b in ballots)
    assert sum(result[1]) == 5
