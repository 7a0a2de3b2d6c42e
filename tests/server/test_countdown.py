"""The preset voting time (GB 50799 §6.2.2-4): set in a draft, signed in the poll's setup for
the tablets, the poll closes by itself at the deadline (or earlier by the chair), a restart
closes at once a poll whose time ran out while the server was down, and the record says how
each poll was closed — checked by the verifier, also against a record that lies about it."""

from __future__ import annotations

import asyncio
import json
import time
from contextlib import ExitStack
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from tally import messages as m
from tally import statements as st
from tally.session_record import verify_session
from tests.server.helpers import (
    MOTION,
    config_for,
    connect_kiosks,
    db_tables,
    open_motion,
    session,
    wait_state,
)
from voting.api.app import create_app
from voting.config import read_tokens
from voting.session.record import export_record

RULES = {"id": "m1", "kind": "motion", "title": "议案一"}


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _audit(data: Path) -> list[dict[str, Any]]:
    cols, rows = db_tables(data, {})["audit_log"]
    return [dict(zip(cols, row, strict=True)) for row in rows]


def test_a_poll_closes_by_itself_at_its_deadline_signed_for_the_kiosks(tmp_path: Path) -> None:
    with session(tmp_path / "s", n=3) as s, ExitStack() as stack:
        kiosks = connect_kiosks(s, stack)
        pid = s.post(
            "/api/polls",
            {
                "title": "议案一",
                "kind": "motion",
                "template": MOTION,
                "rules": RULES,
                "duration": 2,
            },
        )["poll_id"]
        assert s.get(f"/api/polls/{pid}")["duration"] == 2
        s.post(f"/api/polls/{pid}/open")
        for k in kiosks:
            k.answer_request(k.recv_until(m.CredentialRequest))
        readies = [k.ready(pid) for k in kiosks]
        poll = s.get(f"/api/polls/{pid}")
        deadline = poll["deadline"]
        assert deadline and poll["closed_by"] is None
        # the deadline is in the setup the server signed for every kiosk
        for ready in readies:
            assert ready.setup is not None
            payload = st.verify_statement(
                ready.setup, expected_signer=kiosks[0].server_key, kind=st.POLL_SETUP
            )
            assert payload["deadline"] == deadline
        assert isinstance(kiosks[0].cast(pid, kiosks[0].ballot(pid, [[0, 1, 0, 0]])), m.Ack)
        closed = wait_state(s, pid, "tallied", tries=400)
        assert closed["closed_by"] == "timer"
        assert _time(closed["closed_at"]) >= _time(deadline)
        assert _time(closed["closed_at"]) - _time(deadline) < timedelta(seconds=1.5)
        # a ballot after the deadline is refused
        late = kiosks[1].cast(pid, kiosks[1].ballot(pid, [[1, 0, 0, 0]]))
        assert isinstance(late, m.Error) and late.code == m.ErrorCode.POLL_NOT_OPEN
        rows = [r for r in _audit(s.data) if r["action"] == "poll_close"]
        assert rows[-1]["role"] == "timer" and "预设投票时间到" in rows[-1]["detail"]
        assert closed["counts"]["received"] == 1
        # the chair closes another one early: closed by the chair
        other = open_motion(s, kiosks, rules=RULES, duration=600)
        s.post(f"/api/polls/{other}/close", role="chair")
        early = wait_state(s, other, "tallied", tries=400)
        assert early["closed_by"] == "chair" and _time(early["closed_at"]) < _time(
            early["deadline"]
        )
        s.post(f"/api/polls/{pid}/publish", role="chair")
        service = s.client.app.state.service  # type: ignore[attr-defined]
        record = asyncio.run(export_record(service, tmp_path / "record"))

    outcomes = json.loads((record / "outcomes.json").read_text("utf-8"))
    by_id = {p["poll_id"]: p for p in outcomes}
    assert by_id[pid]["closing"]["by"] == "timer"
    assert by_id[pid]["closing"]["deadline"] == deadline
    assert by_id[pid]["statement"]["statement"]["closing"] == by_id[pid]["closing"]
    assert by_id[other]["closing"]["by"] == "chair"
    report = verify_session(record, workers=1, allow_test_group=True)
    assert report.ok, [(c.name, c.status, c.detail) for c in report.checks]
    details = {c.name: (c.status, c.detail) for c in report.checks}
    line = details["how each poll's voting ended (preset voting time)"]
    assert line[0] == "pass" and "closed by its preset voting time" in line[1], line

    # a record that says the chair closed the timed-out poll is refused
    lie = [dict(p) for p in outcomes]
    for p in lie:
        if p["poll_id"] == other:
            p["closing"] = {**p["closing"], "at": p["closing"]["deadline"]}
    (record / "outcomes.json").write_text(json.dumps(lie, ensure_ascii=False), "utf-8")
    report = verify_session(record, workers=1, allow_test_group=True)
    details = {c.name: (c.status, c.detail) for c in report.checks}
    status, detail = details["how each poll's voting ended (preset voting time)"]
    assert status == "fail" and "after its time ran out" in detail, detail

    # a record whose deadline is not the one signed for the tablets is refused
    lie = [dict(p) for p in outcomes]
    for p in lie:
        if p["poll_id"] == pid:
            later = (_time(deadline) + timedelta(minutes=5)).isoformat().replace("+00:00", "Z")
            p["closing"] = {**p["closing"], "deadline": later}
    (record / "outcomes.json").write_text(json.dumps(lie, ensure_ascii=False), "utf-8")
    report = verify_session(record, workers=1, allow_test_group=True)
    details = {c.name: (c.status, c.detail) for c in report.checks}
    status, detail = details["how each poll's voting ended (preset voting time)"]
    assert status == "fail" and "signed for the tablets" in detail, detail


def test_the_voting_time_is_set_in_a_draft_only_and_checked(tmp_path: Path) -> None:
    with session(tmp_path / "s", n=3) as s, ExitStack() as stack:
        kiosks = connect_kiosks(s, stack)
        body = {"title": "议案一", "kind": "motion", "template": MOTION, "rules": RULES}
        for bad in (0, -5, 86401, "10", 1.5):
            r = s.client.post("/api/polls", json={**body, "duration": bad}, headers=s.h())
            assert r.status_code == 422, (bad, r.text)
        pid = s.post("/api/polls", body)["poll_id"]
        put = s.client.put
        r = put(f"/api/polls/{pid}/settings", json={"duration": 90}, headers=s.h())
        assert r.status_code == 200 and r.json()["duration"] == 90
        r = put(f"/api/polls/{pid}/settings", json={"duration": 90}, headers=s.h("chair"))
        assert r.status_code == 403, r.text  # the chair sets the display, not the time
        r = put(f"/api/polls/{pid}/settings", json={"result_display": "now"}, headers=s.h())
        assert r.status_code == 422
        r = put(
            f"/api/polls/{pid}/settings",
            json={"result_display": "immediate"},
            headers=s.h("chair"),
        )
        assert r.status_code == 200 and r.json()["result_display"] == "immediate"
        assert r.json()["duration"] == 90  # left as it was
        r = put(f"/api/polls/{pid}/settings", json={"result_display": None}, headers=s.h())
        assert r.json()["result_display"] is None
        r = put(f"/api/polls/{pid}/settings", json={"duration": None}, headers=s.h())
        assert r.json()["duration"] is None
        s.client.put(f"/api/polls/{pid}/settings", json={"duration": 60}, headers=s.h())
        s.post(f"/api/polls/{pid}/open")
        r = put(f"/api/polls/{pid}/settings", json={"duration": 30}, headers=s.h())
        assert r.status_code == 409 and r.json()["detail"]["code"] == "bad_state"
        assert s.get(f"/api/polls/{pid}")["duration"] == 60
        r = put(f"/api/polls/{pid}/settings", json={"duration": 30}, headers=s.h("display"))
        assert r.status_code == 403
        r = s.client.put("/api/session/result_display", json={"result_display": "x"}, headers=s.h())
        assert r.status_code == 422
        r = s.client.put(
            "/api/session/result_display",
            json={"result_display": "immediate"},
            headers=s.h("chair"),
        )
        assert r.status_code == 200 and r.json() == {"result_display": "immediate"}
        del kiosks
        actions = [r["action"] for r in _audit(s.data)]
        assert "poll_settings" in actions and "session_result_display" in actions


def test_a_restart_closes_at_once_a_poll_whose_time_ran_out_meanwhile(tmp_path: Path) -> None:
    data = tmp_path / "s"
    with session(data, n=3) as s, ExitStack() as stack:
        kiosks = connect_kiosks(s, stack)
        pid = open_motion(s, kiosks, rules=RULES, duration=3)
        assert isinstance(kiosks[0].cast(pid, kiosks[0].ballot(pid, [[0, 1, 0, 0]])), m.Ack)
        deadline = s.get(f"/api/polls/{pid}")["deadline"]
        stack.close()  # the server stops before the time runs out
    left = (_time(deadline) - datetime.now(_time(deadline).tzinfo)).total_seconds()
    assert left > 0, "the first server ran past the deadline: the test proves nothing"
    time.sleep(left + 0.5)
    with TestClient(create_app(config_for(data))) as client:
        tokens = read_tokens(data)
        h = {"Authorization": f"Bearer {tokens['secretariat']}"}
        for _ in range(400):
            poll = client.get(f"/api/polls/{pid}", headers=h).json()
            if poll["state"] == "tallied":
                break
            time.sleep(0.05)
        assert poll["state"] == "tallied" and poll["closed_by"] == "timer", poll
        assert poll["counts"]["received"] == 1
        rows = _audit(data)
        close = [r for r in rows if r["action"] == "poll_close"][-1]
        assert close["role"] == "timer" and "重启后立即结束" in close["detail"], close
