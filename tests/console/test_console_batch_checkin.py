"""The check-in page's batch check-in (批量签到): a delegation or a list of seats, one
audit row per deputy; refused without a change when the input is wrong; secretariat only."""

from __future__ import annotations

import html
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.console.test_console_http import ROSTER, login
from tests.server.helpers import config_for
from voting.api.app import create_app
from voting.config import read_tokens

ROSTER4 = ROSTER + "4,赵六,第一代表团,004\r\n"


@pytest.fixture
def client(tmp_path: Path) -> Iterator[tuple[TestClient, dict[str, Any]]]:
    app = create_app(config_for(tmp_path / "s"))
    with TestClient(app, base_url="http://testserver") as c:
        yield c, read_tokens(tmp_path / "s")


def test_a_delegation_then_seats(client: Any) -> None:
    c, tokens = client
    csrf = login(c, tokens["secretariat"])
    api = {"Authorization": f"Bearer {tokens['secretariat']}"}
    c.post("/api/roster", json={"csv": ROSTER4}, headers=api)
    page = c.get("/console/checkin").text
    assert 'action="/console/checkin/batch"' in page
    assert '<option value="第一代表团">' in page and '<option value="第二代表团">' in page
    r = c.post("/console/checkin/batch", data={"csrf": csrf, "delegation": "第一代表团"})
    assert "代表团“第一代表团”：2 名代表签到，已记录" in html.unescape(r.text)
    att = c.get("/console/checkin/figures.json").json()
    assert (att["present"], att["absent"]) == (2, 2)
    # seats separated by 、 or spaces; one already present is named, not changed
    r = c.post("/console/checkin/batch", data={"csrf": csrf, "seats": "002、 003 004"})
    text = html.unescape(r.text)
    assert "3 个座位：2 名代表签到，已记录；未改变 1 名：004（已签到）" in text
    assert c.get("/console/checkin/figures.json").json()["present"] == 4
    audit = c.get("/console/audit.csv").content.decode("utf-8-sig")
    assert audit.count("签到") >= 4


def test_refused_without_a_change(client: Any) -> None:
    c, tokens = client
    csrf = login(c, tokens["secretariat"])
    api = {"Authorization": f"Bearer {tokens['secretariat']}"}
    c.post("/api/roster", json={"csv": ROSTER4}, headers=api)
    for data, words in (
        ({"seats": "001 099"}, "名单上没有座位号 099"),
        ({"delegation": "第九代表团"}, "名单上没有代表团“第九代表团”"),
        ({}, "二者选一"),
        ({"seats": "001", "delegation": "第一代表团"}, "二者选一"),
    ):
        r = c.post("/console/checkin/batch", data={"csrf": csrf, **data})
        assert words in html.unescape(r.text), data
        assert c.get("/console/checkin/figures.json").json()["present"] == 0
    # no CSRF token, or the chair: refused
    r = c.post("/console/checkin/batch", data={"seats": "001"}, follow_redirects=False)
    assert r.status_code in (303, 403)
    csrf = login(c, tokens["chair"])
    assert "/console/checkin/batch" not in c.get("/console/checkin").text
    r = c.post("/console/checkin/batch", data={"csrf": csrf, "seats": "001"})
    assert r.status_code == 403
    assert c.get("/console/checkin/figures.json").json()["present"] == 0
