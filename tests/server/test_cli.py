"""``renda serve --init`` and ``--export-record`` on a session folder."""

from __future__ import annotations

import json
import stat
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest

from tally import messages as m
from tally.verify import verify_archive
from tests.server.helpers import Kiosk, open_motion, session, wait_state
from voting.cli import main


def test_init_and_export_record(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], db: dict[str, Any]
) -> None:
    data = tmp_path / "s"
    db_args = ["--database-url", db["database_url"], "--schema", db["schema"]] if db else []
    assert main(["serve", "--data", str(data), "--init", "--test-group", *db_args]) == 0
    out = capsys.readouterr().out
    assert "secretariat token:" in out
    for name in ("server.key", "trustee.key", "tokens.json"):
        assert stat.S_IMODE((data / name).stat().st_mode) == 0o600, name
    assert (data / "session.db").exists() == (not db)
    with session(data, n=2, **db) as s, ExitStack() as stack:
        kiosks = [Kiosk(s, d["enrolment_code"]) for d in s.deputies]
        for k in kiosks:
            stack.enter_context(k.connect())
        pid = open_motion(s, kiosks, rules={"id": "m1", "kind": "motion", "title": "议案一"})
        for k in kiosks:
            assert isinstance(k.cast(pid, k.ballot(pid, [[0, 1, 0, 0]])), m.Ack)
        s.post(f"/api/polls/{pid}/close")
        poll = wait_state(s, pid, "tallied")
        assert poll["outcome"]["verdict"] == "valid", poll["outcome"]
        s.post(f"/api/polls/{pid}/publish")
        s.post("/api/polls", {"title": "草稿", "kind": "motion", "template": poll["template"]})
    record = tmp_path / "record"
    export = ["serve", "--data", str(data), "--test-group", "--export-record", str(record)]
    assert main([*export, *db_args]) == 0
    outcomes = json.loads((record / "outcomes.json").read_text("utf-8"))
    assert [p["state"] for p in outcomes] == ["published", "draft"]
    assert outcomes[0]["statement"]["statement"]["kind"] == "result"
    issuance = json.loads((record / "issuance.json").read_text("utf-8"))
    assert sorted(x["seat"] for x in issuance[pid]) == ["001", "002"]
    folder = record / "polls" / pid
    assert [p.name for p in folder.glob("*.bel")] == [f"{poll['uuid']}.bel"]
    assert verify_archive(folder, workers=1, allow_test_group=True).ok
