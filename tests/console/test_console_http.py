"""The console over HTTP (no browser): login, the cookie, CSRF, roles, and each page answers."""

from __future__ import annotations

import html
import io
import re
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.console import pdf_text
from tests.server.helpers import config_for
from voting.api.app import create_app
from voting.config import read_tokens
from voting.web import auth

ROSTER = (
    "序号,姓名,代表团,座位号\r\n1,张三,第一代表团,001\r\n"
    "2,李四,第二代表团,002\r\n3,王五,第二代表团,003\r\n"
)


@pytest.fixture
def client(tmp_path: Path) -> Iterator[tuple[TestClient, dict[str, Any]]]:
    app = create_app(config_for(tmp_path / "s"))
    with TestClient(app, base_url="http://testserver") as c:
        yield c, read_tokens(tmp_path / "s")


def bearer(tokens: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens['secretariat']}"}


def login(c: TestClient, token: str) -> str:
    r = c.post("/login", data={"token": token, "next": "/console"}, follow_redirects=False)
    assert r.status_code == 303, r.text
    page = c.get("/console")
    assert page.status_code == 200
    return re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]


def test_a_page_needs_a_login_and_comes_back_after(client: Any) -> None:
    c, tokens = client
    r = c.get("/console/checkin?q=1", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login?next=/console/checkin%3Fq%3D1"
    r = c.post(
        "/login",
        data={"token": tokens["secretariat"], "next": "/console/checkin?q=1"},
        follow_redirects=False,
    )
    assert r.headers["location"] == "/console/checkin?q=1"
    cookie = r.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie.replace("Strict", "strict")
    # an absolute URL is never a place to go back to
    r = c.post(
        "/login",
        data={"token": tokens["secretariat"], "next": "//evil.example/"},
        follow_redirects=False,
    )
    assert r.headers["location"] == "/console"


def test_display_and_scrutineer_tokens_and_wrong_tokens_cannot_log_in(client: Any) -> None:
    c, tokens = client
    r = c.post("/login", data={"token": tokens["display"]}, follow_redirects=False)
    assert r.status_code == 403 and "会场大屏" in r.text and "set-cookie" not in r.headers
    r = c.post("/login", data={"token": "x" * 43}, follow_redirects=False)
    assert r.status_code == 401 and "令牌不正确" in r.text
    assert c.get("/console", follow_redirects=False).status_code == 303


def test_forged_or_expired_cookie_is_no_session(client: Any, tmp_path: Path) -> None:
    c, _tokens = client
    secret = auth._secret(tmp_path / "s")
    good = auth.make_cookie(secret, auth.WebRole.SECRETARIAT, "x")
    assert auth.read_cookie(secret, good) is not None
    payload, mac = good.split(".")
    assert auth.read_cookie(secret, payload + "." + mac[:-2] + "AA") is None
    forged = auth.make_cookie(b"k" * 32, auth.WebRole.SECRETARIAT, "x")
    assert auth.read_cookie(secret, forged) is None
    old = auth.make_cookie(secret, auth.WebRole.SECRETARIAT, "x", now=1.0)
    assert auth.read_cookie(secret, old) is None
    c.cookies.set(auth.COOKIE, forged)
    assert c.get("/console", follow_redirects=False).status_code == 303


def test_every_form_post_needs_the_csrf_token(client: Any) -> None:
    c, tokens = client
    csrf = login(c, tokens["secretariat"])
    files = {"file": ("r.csv", ROSTER.encode("gbk"), "text/csv")}
    assert c.post("/console/roster/preview", files=files).status_code == 403
    r = c.post(
        "/console/roster/preview",
        data={"csrf": csrf},
        files=files,
        headers={"Origin": "http://evil.example"},
    )
    assert r.status_code == 403
    r = c.post("/console/roster/preview", data={"csrf": csrf}, files=files)
    assert r.status_code == 200 and "导入这 3 名代表" in r.text and "GBK" in r.text
    roster = html.unescape(re.search(r'name="roster" value="([^"]*)"', r.text).group(1))  # type: ignore[union-attr]
    assert c.post("/console/roster/import", data={"roster": roster}).status_code == 403
    assert c.get("/api/deputies", headers=bearer(tokens)).json() == []
    r = c.post("/console/roster/import", data={"csrf": csrf, "roster": roster})
    assert r.status_code == 200 and "已导入 3 名代表" in r.text
    # logging out ends the session
    assert c.post("/logout", data={"csrf": csrf}, follow_redirects=False).status_code == 303
    assert c.get("/console", follow_redirects=False).status_code == 303


def test_the_chair_sees_but_does_not_import_or_check_in(client: Any) -> None:
    c, tokens = client
    csrf = login(c, tokens["chair"])
    assert c.get("/console/roster").status_code == 403
    files = {"file": ("r.csv", ROSTER.encode(), "text/csv")}
    assert c.post("/console/roster/preview", data={"csrf": csrf}, files=files).status_code == 403
    assert c.post("/console/checkin/1/checkin", data={"csrf": csrf}).status_code == 403
    assert c.get("/console/polls/new/motion").status_code == 403
    page = c.get("/console/checkin")
    assert page.status_code == 200 and "名册与登记卡" not in page.text
    for path in ("/console/polls", "/console/documents", "/console/audit", "/console/scrutineers"):
        assert c.get(path).status_code == 200, path


def test_desk_actions_and_the_audit_log(client: Any) -> None:
    c, tokens = client
    csrf = login(c, tokens["secretariat"])
    api = {"Authorization": f"Bearer {tokens['secretariat']}"}
    c.post("/api/roster", json={"csv": ROSTER}, headers=api)
    r = c.get("/console/checkin?q=002")
    assert "李四" in r.text and "张三" not in r.text
    r = c.get("/console/checkin?q=王")
    assert "王五" in r.text and "李四" not in r.text
    ids = {d["seat"]: d["deputy_id"] for d in c.get("/api/deputies", headers=api).json()}
    r = c.post(f"/console/checkin/{ids['002']}/checkin", data={"csrf": csrf, "q": "002"})
    assert "李四（座位 002）：签到，已记录" in r.text
    r = c.post(f"/console/checkin/{ids['002']}/return", data={"csrf": csrf})
    assert "不能返回会场" in r.text
    c.post(f"/console/checkin/{ids['002']}/depart", data={"csrf": csrf})
    c.post(f"/console/checkin/{ids['002']}/return", data={"csrf": csrf})
    c.post(f"/console/checkin/{ids['001']}/leave", data={"csrf": csrf})
    att = c.get("/console/checkin/figures.json").json()
    assert (att["present"], att["on_leave"], att["absent"], att["not_connected"]) == (1, 1, 1, 1)
    r = c.get("/console/audit?action=attendance_left")
    assert r.text.count("中途退场") >= 2 and "签到</td>" not in r.text
    csv = c.get("/console/audit.csv").content.decode("utf-8-sig")
    assert "返回会场" in csv and "登录控制台" in csv
    assert tokens["secretariat"] not in csv
    sheet = c.get("/console/attendance.pdf")
    assert sheet.headers["content-type"] == "application/pdf"
    text = pdf_text(sheet.content)
    assert "应到3人，实到1人，请假1人" in text and "中途退场" in text and "李四" in text


def test_polls_from_forms_refused_with_the_law(client: Any) -> None:
    c, tokens = client
    csrf = login(c, tokens["secretariat"])
    base = {
        "csrf": csrf,
        "title": "副镇长选举",
        "post": "副镇长",
        "post_type": "deputy",
        "organ": "government",
        "seats": "2",
        "round": "regular",
    }
    r = c.post("/console/polls/new/election", data={**base, "candidates": "甲\n乙\n丙"})
    assert r.status_code == 422 and "请先导入代表名册" in r.text  # write-ins by seat number
    c.post("/api/roster", json={"csv": ROSTER}, headers=bearer(tokens))
    r = c.post("/console/polls/new/election", data={**base, "candidates": "甲\n乙"})
    assert (
        r.status_code == 422
        and "地方组织法 第二十七条第一款" in r.text
        and "多一人至三人" in r.text
    )
    assert "甲\n乙" in html.unescape(r.text)  # the form keeps what was typed
    r = c.post("/console/polls/new/election", data={**base, "candidates": "甲\n乙\n丙"})
    assert r.status_code == 200 and "已保存为草稿（p1）" in r.text
    poll = c.get("/api/polls/p1", headers=bearer(tokens)).json()
    (question,) = poll["template"]["questions"]  # the 人大 election ballot
    assert question["value"]["answers"][:3] == ["甲", "乙", "丙"]
    assert question["extra"]["seats"] == 2 and question["extra"]["roster_max"] == 3
    assert [x["name"] for x in poll["rules"]["polls"][0]["candidates"]] == ["甲", "乙", "丙"]
    projects = "\n".join(f"项目{i}" for i in range(1, 13))
    form = {"csrf": csrf, "title": "民生实事", "projects": projects, "select": "10"}
    r = c.post("/console/polls/new/projects", data={**form, "form": "B", "competitive": "1"})
    assert "已保存为草稿（p2）" in r.text
    r = c.post("/console/polls/new/motion", data={"csrf": csrf, "title": "关于工作报告的决议"})
    assert "已保存为草稿（p3）" in r.text
    r = c.get("/console/polls/p3/confirm/open")
    assert "冻结本次的选民名单" in r.text and "未达到法定人数" in r.text
    r = c.post("/console/polls/p3/open", data={"csrf": csrf})
    assert "未能开始投票" in r.text
    rec = c.get("/console/record.tar.gz")
    with tarfile.open(fileobj=io.BytesIO(rec.content)) as tar:
        names = tar.getnames()
    assert "record/session.json" in names and "record/outcomes.json" in names


def test_the_rules_document_imported_once(client: Any) -> None:
    import yaml

    c, tokens = client
    csrf = login(c, tokens["secretariat"])
    doc = yaml.safe_load(Path("tally/rules/examples/town-session.yaml").read_text("utf-8"))
    text = yaml.safe_dump(doc, allow_unicode=True).encode()  # its project vote is form A
    c.post("/api/roster", json={"csv": ROSTER}, headers=bearer(tokens))  # elections need it
    r = c.post("/console/polls/import", data={"csrf": csrf}, files={"file": ("a.yaml", text, "x")})
    assert f"已从选举办法保存 {len(doc['polls'])} 个草稿" in r.text
    polls = c.get("/api/polls", headers=bearer(tokens)).json()
    assert [p["rules"]["poll"] for p in polls] == [e["id"] for e in doc["polls"]]
    vice = next(p for p in polls if p["rules"]["poll"] == "vice-mayor")
    assert vice["template"]["questions"][0]["value"]["answers"][:4] == [
        "张伟",
        "刘芳",
        "陈静",
        "赵磊",
    ]
