"""One error shape for every refusal on every route (generated from the app's OpenAPI schema)
and on every websocket; never a 500 for bad input. And the connections a tablet may hold."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from starlette.websockets import WebSocketDisconnect

from tally import messages as m
from tally import statements as st
from tests.server.helpers import Kiosk, session

BAD_BODIES: list[tuple[str, bytes]] = [
    ("not json", b"{nope"),
    ("not utf-8", b'{"a": "\xff"}'),
    ("lone surrogate", b'{"name": "\\ud800", "csv": "\\udfff", "code": "\\ud83d"}'),
    ("surrogate key", b'{"\\ud800": 1}'),
    ("nul", b'{"name": "a\\u0000"}'),
    ("wrong types", b'{"name": 5, "csv": [], "threshold": "x", "title": null}'),
    ("a list", b"[1, 2, 3]"),
    ("deep", b"[" * 50000 + b"]" * 50000),
    ("empty", b""),
]
PATH_VALUES = ["1", "0", "-1", "99999999999999999999", "%ED%A0%80", "p1", "x" * 300, "%00"]


def _shape(r: Any, where: str) -> None:
    assert r.status_code < 500, f"{where}: HTTP {r.status_code} {r.text[:300]}"
    if r.status_code >= 400:
        body = r.json()
        assert set(body) == {"detail"}, f"{where}: {body}"
        assert set(body["detail"]) == {"code", "message"}, f"{where}: {body}"
        assert isinstance(body["detail"]["code"], str) and body["detail"]["message"]


def _routes(app: Any) -> list[tuple[str, str]]:
    schema = app.openapi()
    return [
        (method.upper(), path)
        for path, item in schema["paths"].items()
        for method in item
        if method in ("get", "post", "put", "patch", "delete")
    ]


def test_every_route_refuses_in_the_error_shape(tmp_path: Path) -> None:
    with session(tmp_path / "s", n=2) as s:
        routes = _routes(s.client.app)
        assert len(routes) >= 15
        for method, template in routes:
            for value in PATH_VALUES:
                path = re.sub(r"\{[^}]+\}", value, template)
                for who in ({}, s.h("display"), s.h("secretariat")):
                    for name, body in BAD_BODIES if method == "POST" else [("none", b"")]:
                        r = s.client.request(
                            method,
                            path,
                            content=body,
                            headers={**who, "content-type": "application/json"},
                        )
                        _shape(r, f"{method} {path} ({name}, {sorted(who)})")
            other = "DELETE" if method != "DELETE" else "PUT"
            _shape(s.client.request(other, re.sub(r"\{[^}]+\}", "1", template)), other)
        for path in ("/nowhere", "/api/nowhere", "/api/polls/p1/nowhere/deeper"):
            r = s.client.get(path, headers=s.h())
            assert r.status_code == 404
            _shape(r, path)


def test_validation_error_names_the_field_and_not_the_input(tmp_path: Path) -> None:
    with session(tmp_path / "s", n=1) as s:
        secret = "秘" * 3000
        r = s.client.post("/api/scrutineers", json={"name": secret}, headers=s.h())
        assert r.status_code == 422
        detail = r.json()["detail"]
        assert detail["code"] == "bad_message" and "name" in detail["message"]
        assert secret[:50] not in r.text
        r = s.client.post(
            "/api/enrol",
            content=b'{"code": "\\ud800", "device_public_key": "00"}',
            headers={"content-type": "application/json"},
        )
        assert r.status_code == 422 and r.json()["detail"]["code"] == "bad_message"


@pytest.mark.parametrize(
    "frame",
    [
        "{nope",
        '{"type": "hello"}',
        '{"type": "nothing", "id": "x"}',
        '{"type": "hello", "id": "\\ud800", "device_id": "a", "signature": "0"}',
        "[]",
        json.dumps({"type": "hello", "id": "h", "device_id": "x" * 10, "signature": "0" * 128}),
    ],
)
def test_websocket_refusals_are_error_messages(tmp_path: Path, frame: str) -> None:
    with session(tmp_path / "s", n=1) as s:
        with s.client.websocket_connect("/ws/kiosk") as ws:
            assert isinstance(m.parse_server_message(ws.receive_text()), m.Challenge)
            ws.send_text(frame)
            err = m.parse_server_message(ws.receive_text())
            assert isinstance(err, m.Error) and err.code != m.ErrorCode.INTERNAL, err
            with pytest.raises(WebSocketDisconnect) as info:
                ws.receive_text()
            assert info.value.code == 4401
        for endpoint in ("/ws/trustee", "/ws/display"):
            with s.client.websocket_connect(endpoint) as ws:
                ws.send_text(frame)
                err = m.parse_server_message(ws.receive_text())
                assert isinstance(err, m.Error) and err.code != m.ErrorCode.INTERNAL, err


def test_a_third_connection_of_a_tablet_closes_the_oldest(tmp_path: Path) -> None:
    with session(tmp_path / "s", n=1) as s:
        k = Kiosk(s, s.deputies[0]["enrolment_code"])

        def hello(ws: Any) -> None:
            ch = m.parse_server_message(ws.receive_text())
            sig = st.sign(k.key, st.hello_payload(k.device_id, ch.nonce))
            ws.send_text(m.dump(m.Hello(id="h", device_id=k.device_id, signature=sig)))
            assert isinstance(m.parse_server_message(ws.receive_text()), m.Welcome)

        with s.client.websocket_connect("/ws/kiosk") as first:
            hello(first)
            with s.client.websocket_connect("/ws/kiosk") as second:
                hello(second)
                with s.client.websocket_connect("/ws/kiosk") as third:
                    hello(third)
                    with pytest.raises(WebSocketDisconnect) as info:
                        first.receive_text()
                    assert info.value.code == 4409
                    for ws in (second, third):  # the two newest stay
                        ws.send_text(m.dump(m.Ping(id="p")))
                        assert isinstance(m.parse_server_message(ws.receive_text()), m.Pong)
