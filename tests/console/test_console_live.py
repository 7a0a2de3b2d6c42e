"""The console's live figures: /ws/display, authorised by the console's cookie."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.websockets import WebSocketDisconnect

from tally import messages as m
from tests.console.test_console_http import bearer, client, login
from tests.server.helpers import mid
from voting.web import auth

__all__ = ["client"]
ORIGIN = {"origin": "http://testserver"}


def _first(ws: Any) -> Any:
    ws.send_text(m.dump(m.Watch(id=mid(), view="presidium")))
    return m.parse_server_message(ws.receive_text())


def test_the_console_follows_the_presidium_feed_with_its_cookie_only(client: Any) -> None:
    c, tokens = client
    csrf = login(c, tokens["chair"])
    cookie = {"cookie": f"{auth.COOKIE}={c.cookies[auth.COOKIE]}"}
    with c.websocket_connect("/ws/display", headers={**ORIGIN, **cookie}) as ws:
        first = _first(ws)  # authenticated, the attendance, then the presidium's snapshot
        while not isinstance(first, m.Attendance):
            first = m.parse_server_message(ws.receive_text())
        snap = m.parse_server_message(ws.receive_text())
        assert isinstance(snap, m.Snapshot) and snap.view == "presidium"
        c.post(
            "/api/roster", json={"csv": "name,delegation,seat\n甲,一,001\n"}, headers=bearer(tokens)
        )
        deputy = c.get("/api/deputies", headers=bearer(tokens)).json()[0]
        c.post(f"/api/deputies/{deputy['deputy_id']}/checkin", headers=bearer(tokens))
        for _ in range(20):  # the check-in arrives live
            msg = m.parse_server_message(ws.receive_text())
            if isinstance(msg, m.Attendance) and msg.present == 1:
                break
        else:
            pytest.fail("no live attendance")
    # no cookie, another site's page (a valid cookie), a logged-out cookie: refused
    value = c.cookies[auth.COOKIE]
    c.cookies.clear()
    _refused(c, ORIGIN)
    _refused(c, {"origin": "http://evil.example", **cookie})
    c.cookies.set(auth.COOKIE, value)
    c.post("/logout", data={"csrf": csrf}, follow_redirects=False)
    c.cookies.clear()
    _refused(c, {**ORIGIN, **cookie})


def _refused(c: Any, headers: dict[str, str]) -> None:
    with c.websocket_connect("/ws/display", headers=headers) as ws:
        err = _first(ws)
        assert isinstance(err, m.Error) and err.code == m.ErrorCode.UNAUTHENTICATED
        with pytest.raises(WebSocketDisconnect):
            ws.receive_text()
