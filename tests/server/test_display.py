"""The screens' websocket /ws/display: attendance live, 发出 / 已投 during a vote, the hall's
view never shows a result before publication (延时显示), the presidium's view shows it once
tallied, with the tally's steps (docs/protocol.md §7)."""

from __future__ import annotations

import json
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from tally import messages as m
from tests.server.helpers import Kiosk, mid, open_motion, session, wait_state

MOTION_RULES = {"id": "m1", "kind": "motion", "title": "议案一"}
CHOICE_KEYS = ("yes", "no", "abstain", "not_pressed", "rows", "counts", "outcome", "statement")


def _has_choice_counts(raw: str) -> bool:
    """Whether a frame carries anything of the choices (a result, a count of 赞成 …)."""

    def walk(value: Any) -> bool:
        if isinstance(value, dict):
            return any(
                (k in CHOICE_KEYS or k == "result") and v not in (None, [], {})
                for k, v in value.items()
            ) or any(walk(v) for v in value.values())
        if isinstance(value, list):
            return any(walk(v) for v in value)
        return False

    return walk(json.loads(raw))


def _published(msg: Any) -> bool:
    if isinstance(msg, m.ResultMsg):
        return True
    if isinstance(msg, m.Snapshot):
        poll = msg.state.get("poll") or {}
        return poll.get("state") == "published"
    return False


def _until(ws: Any, done: Any) -> list[tuple[Any, str]]:
    frames = []
    while True:
        raw = ws.receive_text()
        msg = m.parse_server_message(raw)
        frames.append((msg, raw))
        if done(msg, frames):
            return frames


def _next(ws: Any, kind: type) -> Any:
    return _until(ws, lambda msg, _f: isinstance(msg, kind))[-1][0]


def test_hall_sees_counts_never_partial_results(tmp_path: Path, db: dict[str, Any]) -> None:
    with session(tmp_path / "s", n=3, present=2, **db) as s, ExitStack() as stack:
        kiosks = [Kiosk(s, d["enrolment_code"]) for d in s.deputies]
        hall = stack.enter_context(s.client.websocket_connect("/ws/display"))
        hall.send_text(m.dump(m.Watch(id=mid())))  # the public hall screen: no token
        shown = stack.enter_context(s.client.websocket_connect("/ws/display"))
        shown.send_text(m.dump(m.Auth(id=mid(), token=s.tokens["display"])))
        assert isinstance(m.parse_server_message(shown.receive_text()), m.Authenticated)
        for ws in (hall, shown):
            att = m.parse_server_message(ws.receive_text())
            assert isinstance(att, m.Attendance) and att.present == 2 and att.quorum
            snap = m.parse_server_message(ws.receive_text())
            assert isinstance(snap, m.Snapshot) and snap.view == "hall"
            assert snap.state["stage"] == "idle" and snap.state["attendance"]["present"] == 2
        s.post(f"/api/deputies/{s.deputies[2]['deputy_id']}/checkin")
        for ws in (hall, shown):
            assert _next(ws, m.Attendance).present == 3
        for k in kiosks:
            stack.enter_context(k.connect())
        pid = open_motion(s, kiosks, rules=MOTION_RULES)
        # the screens show the vote (its title) before anyone casts: waited for here, since
        # snapshots are coalesced and a fast vote could otherwise close before one is sent
        before: dict[int, list[tuple[Any, str]]] = {}
        for ws in (hall, shown):
            before[id(ws)] = _until(
                ws, lambda msg, _f: isinstance(msg, m.Snapshot) and msg.state["stage"] == "vote"
            )
        for k in kiosks:
            assert isinstance(k.cast(pid, k.ballot(pid, [[0, 1, 0, 0]])), m.Ack)
        s.post(f"/api/polls/{pid}/close")
        wait_state(s, pid, "tallied")
        s.post(f"/api/polls/{pid}/publish")
        for ws in (hall, shown):
            frames = before[id(ws)] + _until(
                ws,
                lambda _msg, fs: (
                    any(isinstance(f, m.ResultMsg) for f, _ in fs)
                    and any(
                        isinstance(f, m.Snapshot) and f.state["stage"] == "result" for f, _ in fs
                    )
                ),
            )
            statuses = [f for f, _ in frames if isinstance(f, m.PollStatus)]
            assert statuses and max(x.issued for x in statuses) == 3
            assert max(x.received for x in statuses) == 3
            voting = [
                f for f, _ in frames if isinstance(f, m.Snapshot) and f.state["stage"] == "vote"
            ]
            assert voting and voting[-1].state["poll"]["title"]
            # until publication, nothing the hall receives carries anything of the choices
            first = next(i for i, (f, _) in enumerate(frames) if _published(f))
            for _msg, raw in frames[:first]:
                assert not _has_choice_counts(raw), raw
            final = next(
                f for f, _ in frames if isinstance(f, m.Snapshot) and f.state["stage"] == "result"
            )
            result = final.state["result"]
            assert result["headline"] == "通过" and result["rows"][0]["yes"] == 3
            assert result["published"] and len(result["fingerprint"]) == 64
            assert result["qr_url"] == f"/results/{pid}/qr.svg"
            assert "process" not in final.state
        # the display may not act
        r = s.client.post(f"/api/polls/{pid}/void", headers=s.h("display"))
        assert r.status_code == 403


def test_presidium_sees_the_tally_and_the_result_before_publication(
    tmp_path: Path, db: dict[str, Any]
) -> None:
    with session(tmp_path / "s", n=3, **db) as s, ExitStack() as stack:
        kiosks = [Kiosk(s, d["enrolment_code"]) for d in s.deputies]
        ws = stack.enter_context(s.client.websocket_connect("/ws/display"))
        ws.send_text(m.dump(m.Auth(id=mid(), token=s.tokens["chair"])))
        assert m.parse_server_message(ws.receive_text()).role == "chair"
        snap = _next(ws, m.Snapshot)
        assert snap.view == "presidium" and snap.state["process"]["steps"] == []
        for k in kiosks:
            stack.enter_context(k.connect())
        pid = open_motion(s, kiosks, rules=MOTION_RULES)
        for k in kiosks[:2]:
            assert isinstance(k.cast(pid, k.ballot(pid, [[0, 1, 0, 0]])), m.Ack)
        s.post(f"/api/polls/{pid}/close")
        wait_state(s, pid, "tallied")
        frames = _until(
            ws,
            lambda msg, _f: isinstance(msg, m.Snapshot) and msg.state.get("result") is not None,
        )
        snap = frames[-1][0]
        assert snap.state["poll"]["state"] == "tallied"
        result = snap.state["result"]
        assert not result["published"] and result["rows"][0]["yes"] == 2
        assert result["not_pressed"] == 1  # 未按: issued 3, returned 2
        assert result["qr_url"] is None  # nothing to scan before publication
        steps = {st["key"]: st for st in snap.state["process"]["steps"]}
        assert steps["issued"]["done"] and steps["issued"]["detail"] == "3 张"
        assert steps["received"]["detail"] == "2 张"
        assert steps["result"]["done"] and not steps["published"]["done"]
        # a tally step in progress was shown on the way (not only the end)
        seen = [
            f.state["process"]["steps"]
            for f, _ in frames
            if isinstance(f, m.Snapshot) and f.state["process"]["steps"]
        ]
        assert seen
        # a new connection (a reconnect) gets the same state at once
        again = stack.enter_context(s.client.websocket_connect("/ws/display"))
        again.send_text(m.dump(m.Auth(id=mid(), token=s.tokens["chair"])))
        snap2 = _next(again, m.Snapshot)
        assert snap2.state["result"] == result


def test_display_refuses_a_bad_first_frame(tmp_path: Path) -> None:
    with session(tmp_path / "s", n=1) as s:
        with s.client.websocket_connect("/ws/display") as ws:
            ws.send_text(json.dumps({"type": "watch", "id": "x1", "view": "presidium"}))
            err = m.parse_server_message(ws.receive_text())
            assert isinstance(err, m.Error)
        with s.client.websocket_connect("/ws/display") as ws:
            ws.send_text(m.dump(m.Auth(id=mid(), token="x" * 32)))
            err = m.parse_server_message(ws.receive_text())
            assert isinstance(err, m.Error) and err.code == "unauthenticated"
