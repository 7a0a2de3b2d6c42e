"""NUL characters (U+0000) in any input are refused the same way on SQLite and PostgreSQL.

PostgreSQL text cannot hold NUL while SQLite can: before the fix, the PostgreSQL server failed
with an internal error (HTTP 500, or a dropped websocket) where SQLite stored or looked up the
text."""

from __future__ import annotations

import json
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tally import messages as m
from tests.server.helpers import MOTION, Kiosk, open_motion, session
from voting.api.bodies import has_nul

NUL = "\x00"


def test_has_nul_looks_everywhere() -> None:
    assert not has_nul({"a": ["b", 1, None, {"c": ("d",)}]})
    assert has_nul({"a": ["b", {"c": ("d" + NUL,)}]})
    assert has_nul({"k" + NUL: 1})
    token = "t" * 20
    assert has_nul(m.Auth(id="a1", token=token + NUL)) and not has_nul(m.Auth(id="a1", token=token))


def test_http_input_with_nul_is_refused(tmp_path: Path, db: dict[str, Any]) -> None:
    with session(tmp_path / "s", n=2, **db) as s:
        # a server fault would raise here instead of answering
        c = TestClient(s.client.app, raise_server_exceptions=True)
        before = s.get("/api/polls")
        deputies = s.get("/api/deputies")
        cases = [
            ("/api/enrol", {"code": "AB" + NUL, "device_public_key": "a" * 64}, {}),
            ("/api/polls", {"title": "a" + NUL, "kind": "motion", "template": MOTION}, s.h()),
            ("/api/polls", {"title": "a", "kind": "motion", "template": {"x": NUL}}, s.h()),
            ("/api/roster", {"csv": f"name,delegation,seat\n代{NUL}表,d,9\n"}, s.h()),
            ("/api/scrutineers", {"name": "x" + NUL}, s.h()),
        ]
        for path, body, headers in cases:
            r = c.post(path, json=body, headers=headers)
            assert r.status_code == 422, (path, r.status_code, r.text)
            assert "NUL" in r.text
        for path in ("/api/polls/p%001", "/api/polls/p1%00/open", "/record/polls/p%00/x.bel"):
            r = c.request("GET" if "open" not in path else "POST", path, headers=s.h())
            assert r.status_code == 422, (path, r.status_code, r.text)
            assert r.json()["detail"]["code"] == "bad_message"
        r = c.get("/api/polls", params={"q": NUL}, headers=s.h())
        assert r.status_code == 422
        # nothing was stored
        assert s.get("/api/polls") == before
        assert s.get("/api/deputies") == deputies


def test_websocket_frames_with_nul_are_refused(tmp_path: Path, db: dict[str, Any]) -> None:
    with session(tmp_path / "s", n=2, **db) as s, ExitStack() as stack:
        kiosks = [Kiosk(s, d["enrolment_code"]) for d in s.deputies]
        # a hello from a device id holding a NUL: refused, not a server fault
        with s.client.websocket_connect("/ws/kiosk") as ws:
            m.parse_server_message(ws.receive_text())
            hello = {"type": "hello", "id": "h1", "device_id": "d" + NUL, "signature": "0" * 128}
            ws.send_text(json.dumps(hello))
            err = m.parse_server_message(ws.receive_text())
            assert isinstance(err, m.Error) and err.code == m.ErrorCode.BAD_MESSAGE, err
        for k in kiosks:
            stack.enter_context(k.connect())
        pid = open_motion(s, kiosks)
        k = kiosks[0]
        raw = k.ballot(pid, [[0, 1, 0, 0]])
        frame = json.dumps({"type": "cast", "id": "n1", "poll_id": pid + NUL, "ballot": raw})
        k.ws.send_text(frame)
        err = k.recv_until(m.Error)
        assert err.code == m.ErrorCode.BAD_MESSAGE and err.reply_to == "n1", err
        # a NUL inside the ballot text
        bad = raw.replace('"', '"' + NUL, 1)
        k.ws.send_text(json.dumps({"type": "cast", "id": "n2", "poll_id": pid, "ballot": bad}))
        err = k.recv_until(m.Error)
        assert err.code == m.ErrorCode.BAD_MESSAGE and err.reply_to == "n2", err
        assert NUL in err.message or "NUL" in err.message
        assert s.get(f"/api/polls/{pid}")["received"] == 0
        # the connection still works
        assert isinstance(k.cast(pid, raw), m.Ack)
        assert s.get(f"/api/polls/{pid}")["received"] == 1


@pytest.mark.parametrize("endpoint", ["display", "trustee"])
def test_staff_auth_with_nul_is_refused(tmp_path: Path, db: dict[str, Any], endpoint: str) -> None:
    with (
        session(tmp_path / "s", n=1, **db) as s,
        s.client.websocket_connect(f"/ws/{endpoint}") as ws,
    ):
        ws.send_text(json.dumps({"type": "auth", "id": "a1", "token": "t" * 20 + NUL}))
        err = m.parse_server_message(ws.receive_text())
        assert isinstance(err, m.Error) and err.code == m.ErrorCode.BAD_MESSAGE, err
        assert "NUL" in err.message
