"""The web base: the index page, static files, HTML errors for people and JSON for programs."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from fastapi.testclient import TestClient

from tests.server.helpers import config_for, session
from voting.api.app import create_app
from voting.web.base import STATIC_DIR, static_url

HTML = {"accept": "text/html,application/xhtml+xml"}


def test_index_is_a_chinese_page_linking_every_screen(tmp_path: Path) -> None:
    with session(tmp_path, n=2) as s:
        r = s.client.get("/", headers=HTML)
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/html")
        html = r.text
        assert '<html lang="zh-CN">' in html
        assert "<title>首页 · " in html
        assert 'class="skip-link" href="#main"' in html
        assert 'id="reconnect-banner"' in html and "正在重新连接…" in html
        for href in ("/screen/hall", "/screen/presidium", "/console", "/results"):
            assert f'href="{href}"' in html
        for ref in re.findall(r'(?:href|src)="(/static/[^"]+)"', html):
            assert s.client.get(ref).status_code == 200


def test_session_name_is_escaped(tmp_path: Path) -> None:
    config = dataclasses.replace(
        config_for(tmp_path), session_name="<script>alert(1)</script>县人大"
    )
    with TestClient(create_app(config)) as client:
        html = client.get("/").text
        assert "<script>alert(1)" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;县人大" in html


def test_static_files_are_served_with_a_content_hash(tmp_path: Path) -> None:
    with session(tmp_path, n=1) as s:
        for name in ("renda.css", "live.js"):
            url = static_url(name)
            assert re.fullmatch(rf"/static/{re.escape(name)}\?v=[0-9a-f]{{12}}", url)
            r = s.client.get(url)
            assert r.status_code == 200
            assert r.content == (STATIC_DIR / name).read_bytes()
        assert s.client.get("/static/../voting/app.py").status_code == 404


def test_stylesheet_fetches_nothing_from_elsewhere() -> None:
    css = (STATIC_DIR / "renda.css").read_text("utf-8")
    assert "@import" not in css and "url(" not in css and "@font-face" not in css
    assert '"Noto Sans CJK SC"' in css and '"Microsoft YaHei"' in css and '"PingFang SC"' in css
    js = (STATIC_DIR / "live.js").read_text("utf-8")
    assert "http://" not in js and "https://" not in js


def test_unknown_page_is_a_chinese_page_for_people_and_json_for_programs(tmp_path: Path) -> None:
    with session(tmp_path, n=1) as s:
        r = s.client.get("/no/such/page", headers=HTML)
        assert r.status_code == 404
        assert r.headers["content-type"].startswith("text/html")
        assert "页面不存在" in r.text and 'href="/"' in r.text
        r = s.client.get("/no/such/page")
        assert r.status_code == 404  # the API's one error shape (docs/protocol.md §4)
        assert r.json() == {"detail": {"code": "not_found", "message": "Not Found"}}
        r = s.client.get("/api/polls/nope/x", headers=HTML)
        assert r.headers["content-type"].startswith("application/json")
        r = s.client.post("/api/polls/x/nope", headers=s.h())
        assert r.status_code == 404
        assert r.json()["detail"]["code"] == "not_found"


def test_api_documentation_pages_are_off(tmp_path: Path) -> None:
    """FastAPI's /docs and /redoc load their scripts from a CDN (blank on a closed network):
    they are off (docs/decisions.md); /openapi.json stays for programs."""
    with session(tmp_path, n=1) as s:
        for path in ("/docs", "/redoc"):
            r = s.client.get(path, headers=HTML)
            assert r.status_code == 404 and "页面不存在" in r.text
            assert "cdn" not in r.text.lower()
        assert s.client.get("/openapi.json").json()["info"]["title"] == "Renda session server"
