"""Bounded resources of a real ``renda serve`` (voting/limits.py, voting/http_guard.py): what a
client without a token can send is refused early, in the error shape, and the server stays up."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from tests.server.test_crash import free_port

MAX_CONNECTIONS = 40
DEADLINE = 1.5


class LimitedServer:
    def __init__(self, data: Path) -> None:
        self.port = free_port()
        self.data = data
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = data.parent / "server.log"
        subprocess.run(  # a session folder is made by --init (renda serve refuses any other)
            [
                sys.executable,
                "-m",
                "voting.cli",
                "serve",
                "--data",
                str(data),
                "--init",
                "--test-group",
            ],
            check=True,
            capture_output=True,
        )
        self.proc = subprocess.Popen(
            [
                *(sys.executable, "-m", "voting.cli", "serve", "--data", str(data)),
                *("--port", str(self.port), "--test-group", "--workers", "0"),
                *("--max-connections", str(MAX_CONNECTIONS), "--header-timeout", str(DEADLINE)),
            ],
            stdout=subprocess.DEVNULL,
            stderr=open(self.log, "ab"),  # noqa: SIM115
        )
        for _ in range(300):
            try:
                httpx.get(self.url + "/record/index.json", timeout=1)
                return
            except httpx.HTTPError:
                time.sleep(0.1)
        raise AssertionError("the server did not start")

    def alive(self) -> bool:
        r = httpx.get(self.url + "/record/index.json", timeout=5)
        return r.status_code == 200

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=20)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LimitedServer]:
    srv = LimitedServer(tmp_path_factory.mktemp("limits") / "data")
    try:
        yield srv
    finally:
        srv.stop()
    assert "Traceback" not in srv.log.read_text("utf-8", "replace")


def raw(server: LimitedServer, data: bytes, timeout: float = 10) -> bytes:
    """Send raw bytes, read until the server closes."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=timeout) as s:
        s.sendall(data)
        out = b""
        while chunk := s.recv(65536):
            out += chunk
        return out


def shape_of(response: bytes) -> tuple[int, dict[str, str]]:
    head, _, body = response.partition(b"\r\n\r\n")
    status = int(head.split(b" ")[1])
    detail = json.loads(body)["detail"]
    assert set(detail) == {"code", "message"}, detail
    return status, detail


def test_chunked_body_above_the_limit_is_refused(server: LimitedServer) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(80):  # 5 MiB in 64 KiB chunks, no Content-Length
            yield b"x" * 65536

    r = httpx.post(server.url + "/api/enrol", content=chunks(), timeout=30)
    assert r.status_code == 413
    assert r.json()["detail"]["code"] == "too_large"
    assert server.alive()


def test_content_length_above_the_limit_is_refused_unread(server: LimitedServer) -> None:
    head = b"POST /api/enrol HTTP/1.1\r\nhost: x\r\ncontent-length: 99999999\r\n\r\n"
    status, detail = shape_of(raw(server, head))
    assert (status, detail["code"]) == (413, "too_large")


def test_slow_headers_are_closed_at_the_deadline(server: LimitedServer) -> None:
    t = time.monotonic()
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as s:
        s.sendall(b"GET /record/index.json HTTP/1.1\r\nhost: x\r\n")  # never finished
        out = b""
        while chunk := s.recv(65536):
            out += chunk
    waited = time.monotonic() - t
    assert DEADLINE * 0.8 < waited < DEADLINE + 5
    status, detail = shape_of(out)
    assert (status, detail["code"]) == (408, "timeout")


def test_idle_connection_is_closed_at_the_deadline(server: LimitedServer) -> None:
    t = time.monotonic()
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as s:
        while s.recv(65536):
            pass
    assert DEADLINE * 0.8 < time.monotonic() - t < DEADLINE + 5


def test_websocket_that_sends_nothing_is_closed(server: LimitedServer) -> None:
    t = time.monotonic()
    url = server.url.replace("http", "ws") + "/ws/display"
    with connect(url, open_timeout=5) as ws, pytest.raises(ConnectionClosed) as info:
        while True:
            ws.recv(timeout=10)
    assert time.monotonic() - t < DEADLINE + 5
    assert info.value.rcvd is not None and info.value.rcvd.code == 1008


@pytest.mark.parametrize("path", ["/ws/kiosk", "/ws/trustee", "/ws/display"])
def test_large_frame_before_authentication_is_refused(server: LimitedServer, path: str) -> None:
    with connect(server.url.replace("http", "ws") + path, max_size=2**22) as ws:
        if path == "/ws/kiosk":
            ws.recv(timeout=5)  # the challenge
        ws.send("x" * (200 * 1024))  # below the kiosk's limit, far above a hello
        with pytest.raises(ConnectionClosed) as info:
            ws.recv(timeout=10)
    assert info.value.rcvd is not None and info.value.rcvd.code == 1009
    assert server.alive()


def test_connection_limit(server: LimitedServer) -> None:
    with ExitStack() as stack:
        held = []
        for _ in range(MAX_CONNECTIONS):
            s = stack.enter_context(socket.create_connection(("127.0.0.1", server.port)))
            held.append(s)
        time.sleep(0.3)
        status, detail = shape_of(raw(server, b""))
        assert (status, detail["code"]) == (503, "too_many_connections")
    time.sleep(DEADLINE + 0.5)  # the held ones were closed by their deadline or by us
    assert server.alive()


@pytest.mark.parametrize(
    "body",
    [
        b'{"code": "\\ud800", "device_public_key": "00"}',
        b'{"code": "A", "\\udfff": 1}',
        b'{"code": "\\u0000"}',
        b'{"code": "\xff\xfe"}',
        b'{"code": ',
        b"[" * 100000,
    ],
)
def test_bad_bodies_get_the_error_shape(server: LimitedServer, body: bytes) -> None:
    r = httpx.post(
        server.url + "/api/enrol", content=body, headers={"content-type": "application/json"}
    )
    assert 400 <= r.status_code < 500, r.text
    detail = r.json()["detail"]
    assert set(detail) == {"code", "message"}
    assert "\\ud800" not in detail["message"] and "udfff" not in detail["message"]


def test_validation_does_not_echo_the_input(server: LimitedServer) -> None:
    secret = "S" * 5000
    r = httpx.post(server.url + "/api/enrol", json={"code": secret, "device_public_key": "zz"})
    assert r.status_code == 422
    assert secret[:100] not in r.text and len(r.text) < 1000


def test_unparsable_request_gets_the_error_shape(server: LimitedServer) -> None:
    status, detail = shape_of(raw(server, b"\x16\x03\x01 garbage\r\n\r\n"))
    assert status == 400 and detail["code"] == "bad_request"


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [("GET", "/nowhere", 404), ("DELETE", "/api/enrol", 405), ("GET", "/api/polls/%ff", 401)],
)
def test_router_refusals_get_the_error_shape(
    server: LimitedServer, method: str, path: str, status: int
) -> None:
    r = httpx.request(method, server.url + path)
    assert r.status_code == status
    assert set(r.json()["detail"]) == {"code", "message"}


def test_kiosk_frame_limit_rises_after_hello(server: LimitedServer) -> None:
    """After a good hello, a frame of 100 KiB is read (and refused as a bad message, the
    connection open): the 16 KiB limit holds only before authentication."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from tally import messages as m
    from tally import statements as st
    from voting.config import read_tokens

    tokens = read_tokens(server.data)
    staff = {"Authorization": f"Bearer {tokens['secretariat']}"}
    r = httpx.post(
        server.url + "/api/roster",
        json={"csv": "name,delegation,seat\n甲,一组,901\n"},
        headers=staff,
    )
    code = r.json()["deputies"][0]["enrolment_code"]
    key = Ed25519PrivateKey.generate()
    info = httpx.post(
        server.url + "/api/enrol", json={"code": code, "device_public_key": st.public_key_hex(key)}
    ).json()
    with connect(server.url.replace("http", "ws") + "/ws/kiosk", max_size=2**26) as ws:
        ch = m.parse_server_message(ws.recv(timeout=10))
        sig = st.sign(key, st.hello_payload(info["device_id"], ch.nonce))
        ws.send(m.dump(m.Hello(id="h1", device_id=info["device_id"], signature=sig)))
        assert isinstance(m.parse_server_message(ws.recv(timeout=10)), m.Welcome)
        ws.send(json.dumps({"type": "cast", "id": "c1", "poll_id": "p9", "ballot": "x" * 100_000}))
        reply = m.parse_server_message(ws.recv(timeout=10))
        assert isinstance(reply, m.Error) and reply.reply_to == "c1"
        ws.send(m.dump(m.Ping(id="p1")))
        assert isinstance(m.parse_server_message(ws.recv(timeout=10)), m.Pong)
