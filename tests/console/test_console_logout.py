"""Logging out of the console survives a restart of the server (the revocation is stored)."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from tests.console.test_console_http import login
from tests.server.helpers import config_for
from voting.api.app import create_app
from voting.config import read_tokens
from voting.web import auth


def test_a_logged_out_cookie_is_refused_after_a_restart(tmp_path: Path) -> None:
    data = tmp_path / "s"
    with TestClient(create_app(config_for(data)), base_url="http://testserver") as c:
        tokens = read_tokens(data)
        csrf = login(c, tokens["secretariat"])
        gone = c.cookies[auth.COOKIE]
        c.cookies.clear()
        login(c, tokens["chair"])
        kept = c.cookies[auth.COOKIE]
        c.cookies.clear()
        c.cookies.set(auth.COOKIE, gone)
        r = c.post("/logout", data={"csrf": csrf}, follow_redirects=False)
        assert r.status_code == 303
        c.cookies.clear()
        c.cookies.set(auth.COOKIE, gone)
        assert c.get("/console", follow_redirects=False).status_code == 303
    # a new server process on the same folder: the logged-out cookie stays refused, the other
    # session (never logged out) still works
    with TestClient(create_app(config_for(data)), base_url="http://testserver") as c:
        c.cookies.set(auth.COOKIE, gone)
        r = c.get("/console", follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/login")
        c.cookies.clear()
        c.cookies.set(auth.COOKIE, kept)
        page = c.get("/console", follow_redirects=False)
        assert page.status_code == 200 and "会议主持人" in page.text
        log = c.get("/console/audit").text
        assert "退出控制台" in log
