"""The count report (§8.3) and `renda rules evaluate`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tally.rules.report import report_to_text, width
from voting.cli import main

from .helpers import committee_tie, counts, election, rules, run, yes_totals

EXAMPLES = Path(__file__).parents[2] / "tally" / "rules" / "examples"
RULES = EXAMPLES / "town-session.yaml"


def test_report_has_every_field_of_the_record() -> None:
    poll = election("vm", seats=3, cands=list("ABCD"))
    ballots = (
        [{"marks": ["yes", "yes", "yes", "no"]}] * 30
        + [{"marks": ["yes", "no", "abstain", "abstain"], "write_ins": ["X"]}] * 10
        + [{"marks": ["yes", "yes", "yes", "yes"]}] * 2
    )
    c = counts(
        "vm",
        present=44,
        issued=43,
        returned=42,
        ballots=ballots,
        signatories={"chief": "周", "scrutineers": ["吴", "郑"], "counters": ["孙"]},
    )
    o = run(rules(poll), c)
    rep = o.report
    assert rep is not None
    assert (rep.post, rep.seats, rep.total, rep.present) == ("vm", 3, 45, 44)
    assert (rep.issued, rep.returned, rep.not_returned) == (43, 42, 1)
    assert (rep.valid, rep.void) == (40, 2)
    assert [(v.reason, v.count) for v in rep.void_reasons] == [("overvote", 2)]
    rows = {r.id: r for r in rep.rows}
    assert (rows["A"].yes, rows["B"].no, rows["B"].yes, rows["C"].abstain) == (40, 10, 30, 10)
    assert rows["X"].write_in and rows["X"].yes == 10
    assert rep.decided == ("A", "B", "C") and rep.verdict_label == "有效"
    assert rep.unmarked_read_as == "弃权"
    assert [s.role for s in rep.signatures] == ["总监票人", "监票人", "监票人", "计票人"]
    text = report_to_text(rep)
    for label in (
        "计票结果报告单",
        "应选人数",
        "应到代表",
        "实到代表",
        "发出票数",
        "收回票数",
        "有效票",
        "无效票",
        "所选人数多于应选人数",
        "赞成",
        "反对",
        "弃权",
        "（另选）",
        "当选",
        "总监票人",
        "监票人",
        "计票人",
        "本次投票",
    ):
        assert label in text
    # each table's lines line up in display columns (CJK characters are two columns wide)
    for block in text.split("\n\n"):
        table = [ln for ln in block.splitlines() if ln.startswith(("|", "+"))]
        if table:
            assert len({width(ln) for ln in table}) == 1, block


def test_report_of_a_tie_and_of_an_invalid_vote() -> None:
    o = committee_tie()
    assert o.report is not None and o.report.tied == ("M7", "M8")
    assert "再次投票" in report_to_text(o.report)
    o = committee_tie(issued=100, returned=101)
    assert o.report is not None and "收回票数多于发出票数" in o.report.summary


def _write(tmp: Path, name: str, data: object) -> str:
    p = tmp / name
    p.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return str(p)


def test_cli_evaluate_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    c = _write(
        tmp_path,
        "c.json",
        {
            "poll": "vice-mayor",
            "present": 45,
            "issued": 45,
            "returned": 45,
            "totals": yes_totals({"A": 30, "B": 25, "C": 23, "D": 20}, 45),
        },
    )
    assert main(["rules", "evaluate", str(RULES), c]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["outcome"]["verdict"] == "valid"
    assert [i["id"] for i in out["outcome"]["items"] if i["status"] == "elected"] == ["A", "B", "C"]
    assert out["report"]["total"] == 45  # from the rules' total_deputies


def test_cli_evaluate_table_and_next_poll(capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(["rules", "evaluate", str(RULES), str(EXAMPLES / "counts-vice-mayor.yaml"), "--table"])
        == 0
    )
    out = capsys.readouterr().out
    assert "计票结果报告单" in out and "另行选举" in out and "张伟" in out
    assert main(["rules", "evaluate", str(RULES), str(EXAMPLES / "counts-vice-mayor.yaml")]) == 0
    data = json.loads(capsys.readouterr().out)
    (nxt,) = data["outcome"]["next_polls"]
    assert nxt["kind"] == "supplementary" and nxt["spec"]["seats"] == 2
    assert [c["id"] for c in nxt["spec"]["candidates"]] == ["B", "C", "D"]


def test_cli_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad_rules = _write(
        tmp_path,
        "r.json",
        {
            "session": {"level": "township"},
            "polls": [election("vm", seats=3, cands=["A", "B", "C"])],
        },
    )
    c = _write(
        tmp_path, "c.json", {"poll": "vm", "present": 1, "issued": 1, "returned": 1, "totals": {}}
    )
    assert main(["rules", "evaluate", bad_rules, c]) == 1
    assert "地方组织法 第二十七条第一款" in capsys.readouterr().err
    assert main(["rules", "check", bad_rules]) == 1
    capsys.readouterr()
    c2 = _write(
        tmp_path,
        "c2.json",
        {"poll": "nope", "present": 1, "issued": 1, "returned": 1, "totals": {}},
    )
    assert main(["rules", "evaluate", str(RULES), c2]) == 1
    assert "no poll 'nope'" in capsys.readouterr().err
    c3 = _write(tmp_path, "c3.json", ["not", "an", "object"])
    assert main(["rules", "evaluate", str(RULES), c3]) == 1
    assert main(["rules", "check", str(RULES)]) == 0
    assert main(["rules"]) == 2


def test_cli_schema_and_subprocess() -> None:
    renda = [sys.executable, "-m", "voting.cli"]
    res = subprocess.run([*renda, "rules", "schema"], capture_output=True, text=True, check=True)
    assert json.loads(res.stdout)["title"].startswith("Renda session rules")
    res = subprocess.run(
        [*renda, "rules", "evaluate", str(RULES), str(EXAMPLES / "counts-agenda.json"), "--table"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "通过" in res.stdout and "未按" in res.stdout
    res = subprocess.run(
        [*renda, "rules", "evaluate", str(RULES), str(RULES)], capture_output=True, text=True
    )
    assert res.returncode == 1 and "COUNTS" in res.stderr
