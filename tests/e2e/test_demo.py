"""``renda demo`` end to end: the CLI as a subprocess, a real server, real sockets.

Small N (9 deputies: the smallest roster that stages the tie) with the real BELENIOS-2048
group, run once for the module. The demo itself verifies the record with ``renda verify`` and
belenios-tool; these tests check what it printed and wrote, and then read every table, log and
file it left to look for a link between a deputy and a credential or a ballot.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow


@dataclass(frozen=True)
class DemoRun:
    out: Path
    work: Path
    stdout: str
    stderr: str
    returncode: int


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory, belenios_tool: str) -> DemoRun:
    base = tmp_path_factory.mktemp("demo")
    out, work = base / "record", base / "work"
    env = dict(os.environ, PYTHONUNBUFFERED="1", BELENIOS_USE_URANDOM="1")
    env["PATH"] = str(Path(belenios_tool).parent) + os.pathsep + env.get("PATH", "")
    cmd = [sys.executable, "-m", "voting.cli", "demo", "--deputies", "9"]
    proc = subprocess.run(
        [*cmd, "--out", str(out), "--work", str(work)],
        capture_output=True,
        text=True,
        timeout=240,
        env=env,
        cwd=base,
        check=False,
    )
    return DemoRun(out, work, proc.stdout, proc.stderr, proc.returncode)


def test_demo_small_session(demo_run: DemoRun, belenios_tool: str) -> None:
    printed = demo_run.stdout
    assert demo_run.returncode == 0, printed[-3000:] + demo_run.stderr[-3000:]
    assert "DEMO OK" in printed
    labels = ("应到", "实到", "赞成", "反对", "弃权", "未按", "通过", "当选", "再次投票")
    labels += ("（另选）", "有效", "无效")  # the election: a deputy written in, counted by ballot
    for label in labels:
        assert label in printed, label
    assert "renda verify" in printed and "FAILED" not in printed

    # the server's record layout (voting/session/record.py)
    polls = json.loads((demo_run.out / "outcomes.json").read_text("utf-8"))
    assert [p["kind"] for p in polls] == ["motion", "projects", "election", "election"]
    assert polls[3]["parent_id"] == polls[2]["poll_id"] and polls[3]["relation"] == "tie_revote"
    env = dict(os.environ, BELENIOS_USE_URANDOM="1")
    for poll in polls:
        assert poll["state"] == "published"
        assert poll["outcome"]["verdict"] == "valid"
        folder = demo_run.out / "polls" / poll["poll_id"]
        assert [p.name for p in folder.glob("*.bel")] == [f"{poll['uuid']}.bel"]
        assert (folder / "rules.json").is_file() and (folder / "report.json").is_file()
        check = subprocess.run(
            [belenios_tool, "election", "verify", "--dir", str(folder)],
            capture_output=True,
            text=True,
            env=env,
            check=False,
        )
        assert check.returncode == 0, check.stdout + check.stderr
    session = json.loads((demo_run.out / "session.json").read_text("utf-8"))
    assert session["total"] == 9 and session["attendance"]["present"] == 8
    issuance = json.loads((demo_run.out / "issuance.json").read_text("utf-8"))
    assert [len(issuance[p["poll_id"]]) for p in polls] == [8, 8, 8, 8]


def _deputies(work: Path) -> dict[int, set[str]]:
    """deputy id -> strings that identify that deputy (name, seat label, device id and key)."""
    db = sqlite3.connect(work / "server" / "session.db")
    who: dict[int, set[str]] = {}
    for did, name in db.execute("select id, name from deputies"):
        who[did] = {name}
    for device, did, key in db.execute("select id, deputy_id, public_key from devices"):
        who[did] |= {device, key}
    db.close()
    return who


def _secrets_of_votes(demo_run: DemoRun) -> set[str]:
    """Every public credential, tracker and ballot of the record."""
    from tally.archive import read_archive

    out: set[str] = set()
    for bel in demo_run.out.glob("polls/*/*.bel"):
        archive = read_archive(bel)
        _setup, _election, _trustees, creds = archive.setup()
        out |= {c.split(",")[0] for c in json.loads(creds)}
        for _event, raw in archive.ballots():
            ballot = json.loads(raw)
            out.add(ballot["credential"])
            from keys.hashing import hjson

            out.add(hjson(raw))
    return out


def test_no_link_between_a_deputy_and_a_credential_or_ballot(demo_run: DemoRun) -> None:
    assert demo_run.returncode == 0, demo_run.stderr[-2000:]
    who = _deputies(demo_run.work)
    # the name of the deputy a ballot wrote in (另选他人) is a result, published with every
    # person's votes (全国人大议事规则 第四十条), not a voter: it is in the poll's outcome, in
    # the poll's row next to its public credentials; that deputy's device id and key are not
    polls = json.loads((demo_run.out / "outcomes.json").read_text("utf-8"))
    written = {str(i["name"]) for p in polls for i in p["outcome"]["items"] if i.get("write_in")}
    assert written  # the demo's election writes a deputy in
    names = {s for ids in who.values() for s in ids} - written
    secret = _secrets_of_votes(demo_run)
    assert len(secret) > 20

    # every row of every table: none names a deputy and a credential/tracker/ballot together
    db = sqlite3.connect(demo_run.work / "server" / "session.db")
    tables = [r[0] for r in db.execute("select name from sqlite_master where type='table'")]
    # the scan is not vacuous: the votes' strings are in the database as written
    stored = " ".join(str(r) for r in db.execute("select tracker, credential from ballots"))
    assert sum(1 for s in secret if s in stored) >= 20
    for table in tables:
        cols = [r[1] for r in db.execute(f"pragma table_info({table})")]
        deputy_cols = [i for i, c in enumerate(cols) if c in ("deputy_id", "seat")]
        for row in db.execute(f"select * from {table}"):
            text = " ".join(str(v) for v in row)
            names_deputy = any(row[i] is not None for i in deputy_cols) or any(
                n in text for n in names
            )
            if table == "deputies" or not names_deputy:
                continue
            leaked = [s for s in secret if s in text]
            assert not leaked, f"table {table} links a deputy to {leaked[0][:20]}…: {text[:200]}"
    db.close()

    # every file the server and the record hold (the database aside): no deputy next to a
    # credential or ballot, and the public record names no deputy at all (but the written-in)
    files = [p for p in (demo_run.work / "server").rglob("*") if p.is_file()]
    files += [p for p in demo_run.out.rglob("*") if p.is_file()]
    for path in files:
        if path.name.startswith("session.db"):
            continue
        text = path.read_bytes().decode("utf-8", "replace")
        has_deputy = [n for n in names if n in text]
        if path.is_relative_to(demo_run.out):
            assert not has_deputy, f"the public record file {path.name} names a deputy"
        if has_deputy:
            assert not [s for s in secret if s in text], f"{path} links a deputy to a vote"
    # the demo's own output shows no tracker or credential
    assert not [s for s in secret if s in demo_run.stdout]
    # the server's log (renda serve --log-level info) follows the session and names no
    # deputy, no credential, no ballot
    log = (demo_run.work / "server.log").read_text("utf-8", "replace")
    for event in (
        "started (会议服务器已启动)",
        "roster imported",
        "attendance (出席)",
        "scrutineer 1 connected",
        "key ceremony done",
        "ballots received",
        "tallied (计票完成)",
        "published (结果公布)",
    ):
        assert event in log, (event, log[-3000:])
    assert not [n for n in names if n in log], "the server log names a deputy"
    assert not [s for s in secret if s in log], "the server log holds a credential or ballot"
    assert "Traceback" not in log


def test_demo_refuses_too_few_deputies(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "voting.cli", "demo", "--deputies", "3", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 2 and "at least 9" in proc.stderr
