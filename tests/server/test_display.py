"""The hall's screen: attendance live, issued/received during a vote, results only after."""

from __future__ import annotations

import json
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from tally import messages as m
from tests.server.helpers import Kiosk, mid, open_motion, session, wait_state


def test_display_sees_counts_never_partial_results(tmp_path: Path, db: dict[str, Any]) -> None:
    with session(tmp_path / "s", n=3, present=2, **db) as s, ExitStack() as stack:
        kiosks = [Kiosk(s, d["enrolment_code"]) for d in s.deputies]
        ws = stack.enter_context(s.client.websocket_connect("/ws/display"))
        ws.send_text(m.dump(m.Auth(id=mid(), token=s.tokens["display"])))
        assert isinstance(m.parse_server_message(ws.receive_text()), m.Authenticated)
        att = m.parse_server_message(ws.receive_text())
        assert isinstance(att, m.Attendance) and att.present == 2 and att.quorum
        s.post(f"/api/deputies/{s.deputies[2]['deputy_id']}/checkin")
        att = m.parse_server_message(ws.receive_text())
        assert isinstance(att, m.Attendance) and att.present == 3
        for k in kiosks:
            stack.enter_context(k.connect())
        pid = open_motion(s, kiosks)
        for k in kiosks:
            assert isinstance(k.cast(pid, k.ballot(pid, [[0, 1, 0, 0]])), m.Ack)
        s.post(f"/api/polls/{pid}/close")
        wait_state(s, pid, "tallied")
        s.post(f"/api/polls/{pid}/publish")
        frames = []
        while True:
            raw = ws.receive_text()
            msg = m.parse_server_message(raw)
            frames.append((msg, raw))
            if isinstance(msg, m.ResultMsg):
                break
        statuses = [f for f, _ in frames if isinstance(f, m.PollStatus)]
        assert statuses and max(x.issued for x in statuses) == 3
        assert max(x.received for x in statuses) == 3
        # before the result message, nothing on the screen carries a count of choices
        for msg, raw in frames[:-1]:
            assert not isinstance(msg, m.ResultMsg)
            assert '"result"' not in raw and "counts" not in json.loads(raw)
        assert frames[-1][0].statement.statement["counts"]["result"] == [[0, 3, 0, 0]]
        # the display may not act
        r = s.client.post(f"/api/polls/{pid}/void", headers=s.h("display"))
        assert r.status_code == 403
