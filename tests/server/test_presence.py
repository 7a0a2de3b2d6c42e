"""Issue 13, item 7: 实到 from check-in. 实到 is every deputy checked in, whether or not their
tablet works; a poll's count uses the figure its opening check used; opening warns when present
deputies have no working tablet (they get no ballot and the secretariat must act)."""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path
from typing import Any

from tally import messages as m
from tests.server.helpers import MOTION, Kiosk, session, wait_state

RULES = {"id": "m1", "kind": "motion", "title": "关于议程的决定"}


def test_present_counts_every_deputy_checked_in(tmp_path: Path, db: dict[str, Any]) -> None:
    # 6 deputies checked in; the sixth has no enrolled tablet
    with session(tmp_path / "s", n=6, **db) as s, ExitStack() as stack:
        kiosks = [Kiosk(s, d["enrolment_code"]) for d in s.deputies[:5]]
        for k in kiosks:
            stack.enter_context(k.connect())
        body = {"title": "议案一", "kind": "motion", "template": MOTION, "rules": RULES}
        pid = s.post("/api/polls", body)["poll_id"]
        opened = s.post(f"/api/polls/{pid}/open")
        (warning,) = opened["warnings"]
        seat = s.deputies[5]["seat"]
        assert "1 deputy(ies) checked in have no enrolled tablet" in warning
        assert seat in warning and "实到" in warning
        for k in kiosks:
            k.answer_request(k.recv_until(m.CredentialRequest))
        for k in kiosks:
            k.ready(pid)
        for k in kiosks:
            assert isinstance(k.cast(pid, k.ballot(pid, [[0, 1, 0, 0]])), m.Ack)
        s.post(f"/api/polls/{pid}/close")
        done = wait_state(s, pid, "tallied", tries=2000)
    counts = done["counts"]
    assert counts["present"] == 6 and counts["issued"] == 5 and counts["received"] == 5
    outcome = done["outcome"]
    assert outcome["present"] == 6 and outcome["report"]["present"] == 6
    assert outcome["report"]["not_returned"] == 0


def test_no_warning_when_every_deputy_present_has_a_connected_tablet(
    tmp_path: Path, db: dict[str, Any]
) -> None:
    with session(tmp_path / "s", n=3, **db) as s, ExitStack() as stack:
        for d in s.deputies:
            stack.enter_context(Kiosk(s, d["enrolment_code"]).connect())
        pid = s.post("/api/polls", {"title": "议案", "kind": "motion", "template": MOTION})[
            "poll_id"
        ]
        assert "warnings" not in s.post(f"/api/polls/{pid}/open")
