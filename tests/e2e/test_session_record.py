"""``renda verify RECORD/`` on a whole session record (tally.session_record).

One small real session for the module (``renda demo --deputies 9``, real group, a motion,
projects, an election with a tie and its re-vote; about 20 s), then copies of its record with
one thing changed: each must be refused with a plain message naming the poll. The archives'
own checks run once (the untouched record); the tamper tests skip them (``check_archives``)
since they change only the files around the archives.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tally.session_record import is_session_record, verify_session
from tally.statements import BALLOT_ISSUED, generate_key, make_statement
from tests.auditor import run_as_auditor

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def record(tmp_path_factory: pytest.TempPathFactory, belenios_tool: str) -> Path:
    base = tmp_path_factory.mktemp("session")
    out = base / "record"
    env = dict(os.environ, PYTHONUNBUFFERED="1", BELENIOS_USE_URANDOM="1")
    env["PATH"] = str(Path(belenios_tool).parent) + os.pathsep + env.get("PATH", "")
    cmd = [sys.executable, "-m", "voting.cli", "demo", "--deputies", "9", "--quiet"]
    proc = subprocess.run(
        [*cmd, "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=240,
        env=env,
        cwd=base,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return out


def _read(path: Path) -> Any:
    return json.loads(path.read_text("utf-8"))


def _write(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2), "utf-8")


def _tampered(record: Path, tmp_path: Path, change: Callable[[Path], None]) -> str:
    """The first failure's message on a copy of the record changed by ``change``."""
    copy = tmp_path / "record"
    shutil.copytree(record, copy)
    change(copy)
    report = verify_session(copy, workers=1, check_archives=False)
    failure = report.first_failure
    assert failure is not None and not report.ok, [(c.name, c.status) for c in report.checks]
    return f"{failure.name}: {failure.detail}"


def _poll(record: Path, kind: str, n: int = 0) -> dict[str, Any]:
    polls = [p for p in _read(record / "outcomes.json") if p["kind"] == kind]
    return dict(polls[n])


def test_the_untouched_record_verifies(record: Path, tmp_path: Path) -> None:
    assert is_session_record(record) and not is_session_record(record / "polls")
    # as an auditor's `pip install .` runs it: no server package can be imported
    proc = run_as_auditor(tmp_path / "site", "verify", str(record), timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "VERIFIED" in proc.stdout
    for name in (
        "表决存档 (archive of poll p1",
        "发出选票的签名声明 (issuance statements)",
        "按表决规则重算结果 (rules outcomes re-evaluated)",
    ):
        assert f"[通过 ok  ] {name}" in proc.stdout, proc.stdout
    assert "2 needed" in proc.stdout and "(linked polls): 1 linked poll" in proc.stdout
    # which polls were checked, by name
    polls = _read(record / "outcomes.json")
    with_archive = [p for p in polls if p.get("archive")]
    assert f"已核验的表决 (polls checked): {len(with_archive)}" in proc.stdout
    for p in with_archive:
        assert f"  poll {p['poll_id']} ({p['title']})" in proc.stdout
    assert "the session's trustees, signed by the scrutineers" in proc.stdout, proc.stdout
    assert "all in the record" in proc.stdout, proc.stdout
    # one poll's folder still verifies alone (the archive checks only)
    poll = _poll(record, "motion")
    one = subprocess.run(
        [sys.executable, "-m", "voting.cli", "verify", str(record / "polls" / poll["poll_id"])],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert one.returncode == 0 and "issuance" not in one.stdout, one.stdout


def test_a_refusal_names_the_poll_and_lists_what_was_not_checked(
    record: Path, tmp_path: Path
) -> None:
    copy = tmp_path / "record"
    shutil.copytree(record, copy)
    election = _poll(copy, "election")
    (copy / election["archive"]).write_bytes(b"not an archive")
    proc = subprocess.run(
        [sys.executable, "-m", "voting.cli", "verify", str(copy)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    name = f"poll {election['poll_id']} ({election['title']})"
    refusal = next(line for line in proc.stdout.splitlines() if line.startswith("拒绝 (REFUSED)"))
    assert name in refusal
    assert "未能核验的表决 (polls not checked)" in proc.stdout
    assert f"  {name}: 被拒绝 (refused, see below)" in proc.stdout
    assert "docs/auditing.md" in proc.stdout


def test_an_outcome_electing_someone_else_is_refused(record: Path, tmp_path: Path) -> None:
    election = _poll(record, "election")

    def change(copy: Path) -> None:
        polls = _read(copy / "outcomes.json")
        for p in polls:
            if p["poll_id"] == election["poll_id"]:
                items = p["outcome"]["items"]
                elected = next(i for i in items if i["status"] == "elected")
                other = next(i for i in items if i["status"] != "elected")
                elected["status"], other["status"] = other["status"], "elected"
        _write(copy / "outcomes.json", polls)

    message = _tampered(record, tmp_path, change)
    assert message.startswith("rules outcomes re-evaluated"), message
    assert f"poll {election['poll_id']}" in message and "status" in message, message


def test_a_forged_issuance_statement_is_refused(record: Path, tmp_path: Path) -> None:
    poll = _poll(record, "projects")

    def change(copy: Path) -> None:
        issuance = _read(copy / "issuance.json")
        entry = issuance[poll["poll_id"]][0]
        forged = make_statement(generate_key(), BALLOT_ISSUED, **{
            k: v for k, v in entry["statement"]["statement"].items() if k != "kind"
        })  # fmt: skip
        entry["statement"] = forged.model_dump()
        _write(copy / "issuance.json", issuance)

    message = _tampered(record, tmp_path, change)
    assert message.startswith("issuance statements"), message
    assert f"poll {poll['poll_id']}" in message and "another key" in message, message


def test_an_altered_issuance_statement_is_refused(record: Path, tmp_path: Path) -> None:
    poll = _poll(record, "motion")

    def change(copy: Path) -> None:
        issuance = _read(copy / "issuance.json")
        issuance[poll["poll_id"]][1]["statement"]["statement"]["issued_at"] = "2000-01-01"
        _write(copy / "issuance.json", issuance)

    message = _tampered(record, tmp_path, change)
    assert f"poll {poll['poll_id']}" in message and "does not check" in message, message


def test_issuance_count_disagreeing_with_the_credentials_is_refused(
    record: Path, tmp_path: Path
) -> None:
    poll = _poll(record, "election", 1)

    def change(copy: Path) -> None:
        issuance = _read(copy / "issuance.json")
        issuance[poll["poll_id"]].pop()
        _write(copy / "issuance.json", issuance)
        polls = _read(copy / "outcomes.json")
        for p in polls:
            if p["poll_id"] == poll["poll_id"]:
                p["issued"] -= 1
                p["counts"]["issued"] -= 1
        _write(copy / "outcomes.json", polls)

    message = _tampered(record, tmp_path, change)
    assert message.startswith("issuance statements"), message
    assert f"poll {poll['poll_id']}" in message and "7 ballot(s) issued" in message, message
    assert "8 public credential(s)" in message, message


@pytest.mark.parametrize("field", ["result", "received"])
def test_a_count_disagreeing_with_the_archive_is_refused(
    record: Path, tmp_path: Path, field: str
) -> None:
    poll = _poll(record, "motion")

    def change(copy: Path) -> None:
        polls = _read(copy / "outcomes.json")
        for p in polls:
            if p["poll_id"] == poll["poll_id"]:
                if field == "result":
                    p["counts"]["result"][0][0] += 1
                else:
                    p["counts"]["received"] -= 1
        _write(copy / "outcomes.json", polls)

    message = _tampered(record, tmp_path, change)
    assert message.startswith("published counts against the archives"), message
    assert f"poll {poll['poll_id']}" in message and f"published {field} count" in message


def test_removed_report_signatures_are_refused(record: Path, tmp_path: Path) -> None:
    poll = _poll(record, "projects")
    folder = Path("polls") / poll["poll_id"]

    def drop_one_from_the_file(copy: Path) -> None:
        report = _read(copy / folder / "report.json")
        report["signatures"].pop()
        _write(copy / folder / "report.json", report)

    message = _tampered(record, tmp_path / "one", drop_one_from_the_file)
    assert message.startswith("the scrutineers' count report signatures"), message
    assert f"poll {poll['poll_id']}" in message and "differs" in message, message

    def below_k(copy: Path) -> None:
        report = _read(copy / folder / "report.json")
        needed = report["needed"]
        report["signatures"] = report["signatures"][: needed - 1]
        _write(copy / folder / "report.json", report)
        polls = _read(copy / "outcomes.json")
        for p in polls:
            if p["poll_id"] == poll["poll_id"]:
                p["report"] = report
        _write(copy / "outcomes.json", polls)

    message = _tampered(record, tmp_path / "k", below_k)
    assert f"poll {poll['poll_id']}" in message and "not confirmed" in message, message


def test_a_link_to_a_missing_poll_is_refused(record: Path, tmp_path: Path) -> None:
    def change(copy: Path) -> None:
        polls = _read(copy / "outcomes.json")
        polls[-1]["parent_id"] = "p99"
        _write(copy / "outcomes.json", polls)

    message = _tampered(record, tmp_path, change)
    # the server's signed list of polls names the poll's real parent
    assert message.startswith("the server's signed list of polls"), message
    assert "is not as the server's signed list names it" in message, message


def _remove_poll(copy: Path, poll_id: str) -> None:
    """A whole vote left out: its outcome, its issuance and its archive folder."""
    _write(
        copy / "outcomes.json",
        [p for p in _read(copy / "outcomes.json") if p["poll_id"] != poll_id],
    )
    issuance = _read(copy / "issuance.json")
    issuance.pop(poll_id, None)
    _write(copy / "issuance.json", issuance)
    shutil.rmtree(copy / "polls" / poll_id, ignore_errors=True)


@pytest.mark.parametrize("which", ["motion", "tie re-vote"])
def test_a_record_leaving_a_vote_out_is_refused(record: Path, tmp_path: Path, which: str) -> None:
    polls = _read(record / "outcomes.json")
    if which == "motion":
        poll = _poll(record, "motion")
    else:  # the re-vote that decided the tied seat
        poll = next(p for p in polls if p.get("relation") == "tie_revote")
    message = _tampered(record, tmp_path, lambda copy: _remove_poll(copy, poll["poll_id"]))
    assert message.startswith("the server's signed list of polls"), message
    assert f"poll {poll['poll_id']} of the server's signed list" in message, message


def test_a_record_not_encrypted_to_the_ceremony_is_refused(record: Path, tmp_path: Path) -> None:
    def other_trustees(copy: Path) -> None:
        session = _read(copy / "session.json")
        trustees = json.loads(session["trustees"])
        session["trustees"] = json.dumps(trustees[:1], separators=(",", ":"))  # server only
        _write(copy / "session.json", session)

    message = _tampered(record, tmp_path / "t", other_trustees)
    assert message.startswith("the session's trustees"), message
    assert "is not encrypted to the session's trustees" in message, message

    def unsigned(copy: Path) -> None:
        session = _read(copy / "session.json")
        session["trustees_signatures"] = session["trustees_signatures"][:1]
        _write(copy / "session.json", session)

    message = _tampered(record, tmp_path / "s", unsigned)
    assert "only 1 of the 2 scrutineers needed signed" in message, message


def test_issuance_for_a_poll_not_in_the_record_is_refused(record: Path, tmp_path: Path) -> None:
    poll = _poll(record, "motion")

    def change(copy: Path) -> None:
        issuance = _read(copy / "issuance.json")
        issuance["p99"] = issuance[poll["poll_id"]]
        _write(copy / "issuance.json", issuance)

    message = _tampered(record, tmp_path, change)
    assert message.startswith("issuance statements") and "poll p99" in message, message
