"""The console's 投票时间 and 结果显示 (GB 50799 §6.2.2-4, -5), the presidium screen's login by the
console's cookie (and an attack on it from another site), and ``--public-url`` in QR codes."""

from __future__ import annotations

import argparse
import re
from types import SimpleNamespace
from typing import Any

import pytest
from starlette.requests import Request

from tally import messages as m
from tally.poll_description import DescriptionError
from tests.console.test_console_http import bearer, client, login
from voting.cli_serve import public_url
from voting.web.console.timing import duration_words, minutes_text, parse_duration
from voting.web.render import public_base

__all__ = ["client"]  # the fixture


@pytest.mark.parametrize(
    ("typed", "seconds"),
    [("3", 180), ("2.5", 150), ("1:30", 90), ("1：05", 65), (":45", 45), (" ", None), ("", None)],
)
def test_the_voting_time_is_typed_in_minutes(typed: str, seconds: int | None) -> None:
    assert parse_duration(typed) == seconds


@pytest.mark.parametrize("typed", ["abc", "0", "-1", "1:60", "1:x", "1441", "1e9", "nan"])
def test_a_wrong_voting_time_is_refused_in_words(typed: str) -> None:
    with pytest.raises(DescriptionError, match="投票时间应填写分钟数"):
        parse_duration(typed)


def test_the_voting_time_in_words() -> None:
    assert duration_words(180) == "3分钟" and duration_words(90) == "1分30秒"
    assert duration_words(45) == "45秒" and duration_words(None) == ""
    assert minutes_text(90) == "1:30" and minutes_text(180) == "3"


def test_the_poll_form_and_page_set_the_time_and_the_display(client: Any) -> None:
    c, tokens = client
    csrf = login(c, tokens["secretariat"])
    form = {"csrf": csrf, "title": "关于工作报告的决议", "duration": "1:30"}
    r = c.post("/console/polls/new/motion", data={**form, "result_display": "immediate"})
    assert r.status_code == 200 and "已保存为草稿（p1）" in r.text
    poll = c.get("/api/polls/p1", headers=bearer(tokens)).json()
    assert poll["duration"] == 90 and poll["result_display"] == "immediate"
    assert "1分30秒" in r.text and "直接显示" in r.text  # the poll's page says so
    r = c.post("/console/polls/new/motion", data={**form, "duration": "abc"})
    assert r.status_code == 422 and "投票时间应填写分钟数" in r.text
    assert c.get("/api/polls", headers=bearer(tokens)).json()[-1]["poll_id"] == "p1"
    r = c.post(
        "/console/polls/p1/settings",
        data={"csrf": csrf, "duration": "5", "result_display": ""},
    )
    assert "已保存：投票时间 5分钟" in r.text
    poll = c.get("/api/polls/p1", headers=bearer(tokens)).json()
    assert poll["duration"] == 300 and poll["result_display"] is None
    r = c.post("/console/polls/p1/settings", data={"duration": "5", "result_display": ""})
    assert r.status_code == 403  # no CSRF token: nothing changed
    r = c.post("/console/result_display", data={"csrf": csrf, "result_display": "immediate"})
    assert "本次会议的结果显示已设为直接显示" in r.text
    assert "当前：<strong>直接显示</strong>" in r.text


def test_the_presidium_screen_by_the_consoles_login(client: Any) -> None:
    c, tokens = client
    page = c.get("/screen/presidium")
    assert "用控制台账号登录" in page.text
    origin = {"origin": "http://testserver"}
    with c.websocket_connect("/ws/display", headers=origin) as ws:  # not logged in
        ws.send_text(m.dump(m.Watch(id="w1", view="presidium")))
        reply = m.parse_server_message(ws.receive_text())
        assert isinstance(reply, m.Error) and reply.code == m.ErrorCode.UNAUTHENTICATED
    login(c, tokens["chair"])
    assert tokens["chair"] not in c.get("/screen/presidium").text
    with c.websocket_connect("/ws/display", headers=origin) as ws:
        ws.send_text(m.dump(m.Watch(id="w2", view="presidium")))
        reply = m.parse_server_message(ws.receive_text())
        assert isinstance(reply, m.Authenticated) and reply.role == "chair"
        m.parse_server_message(ws.receive_text())  # attendance
        snap = m.parse_server_message(ws.receive_text())
        assert isinstance(snap, m.Snapshot) and snap.view == "presidium"
        assert "process" in snap.state
    # a page of another site, in the same browser (the cookie would go with it): refused
    with c.websocket_connect("/ws/display", headers={"origin": "http://evil.example"}) as ws:
        ws.send_text(m.dump(m.Watch(id="w3", view="presidium")))
        reply = m.parse_server_message(ws.receive_text())
        assert isinstance(reply, m.Error) and reply.code == m.ErrorCode.UNAUTHENTICATED
    # the hall's watch is unchanged, logged in or not
    with c.websocket_connect("/ws/display") as ws:
        ws.send_text(m.dump(m.Watch(id="w4")))
        m.parse_server_message(ws.receive_text())
        snap = m.parse_server_message(ws.receive_text())
        assert isinstance(snap, m.Snapshot) and snap.view == "hall" and "process" not in snap.state


def _request(public: str | None) -> Request:
    app = SimpleNamespace(
        state=SimpleNamespace(service=SimpleNamespace(config=SimpleNamespace(public_url=public)))
    )
    scope = {
        "type": "http",
        "app": app,
        "scheme": "http",
        "server": ("127.0.0.1", 8750),
        "path": "/results/p1/qr.svg",
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"127.0.0.1:8750")],
    }
    return Request(scope)


def test_public_url_goes_into_qr_codes_and_links() -> None:
    assert public_base(_request(None)) == "http://127.0.0.1:8750"
    assert public_base(_request("http://10.0.0.5:8750")) == "http://10.0.0.5:8750"
    assert public_url("https://renda.example.gov.cn/ ") == "https://renda.example.gov.cn"
    for wrong in ("10.0.0.5:8750", "ftp://x", "http://", "http://x/?a=1", "http://x/#y"):
        with pytest.raises(argparse.ArgumentTypeError, match="is not an address"):
            public_url(wrong)


def test_serve_help_names_public_url(capsys: pytest.CaptureFixture[str]) -> None:
    from voting.cli import main

    with pytest.raises(SystemExit):
        main(["serve", "--help"])
    out = re.sub(r"\s+", " ", capsys.readouterr().out)
    assert "--public-url URL" in out and "QR codes" in out
