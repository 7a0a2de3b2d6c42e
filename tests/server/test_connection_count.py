"""The connection limit counts open sockets only: a connection cut at any phase (before its
headers, during the websocket handshake, before or after ``hello``, at the first-frame deadline,
refused at the limit) leaves the count, so the server's full capacity comes back.

The probe: with ``MAX_CONNECTIONS - 1`` idle sockets held, one more request is served; with
``MAX_CONNECTIONS`` held, it is refused (503). A leak of even one socket fails the first."""

from __future__ import annotations

import os
import socket
import struct
import time
from collections.abc import Iterator

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from websockets.sync.client import connect

from tally import messages as m
from tally import statements as st
from tests.server.helpers import mid
from tests.server.test_limits import DEADLINE, MAX_CONNECTIONS, LimitedServer
from voting.config import read_tokens

UPGRADE = (
    b"GET /ws/kiosk HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
)
GET = b"GET /record/index.json HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LimitedServer]:
    srv = LimitedServer(tmp_path_factory.mktemp("count") / "data")
    try:
        yield srv
    finally:
        srv.stop()
    assert "Traceback" not in srv.log.read_text("utf-8", "replace")


def reset(s: socket.socket) -> None:
    """Close with a TCP reset (SO_LINGER 0): the peer sees an error, not an end of file."""
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()


def masked_text(payload: bytes) -> bytes:
    mask = os.urandom(4)
    assert len(payload) < 126
    body = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return bytes([0x81, 0x80 | len(payload)]) + mask + body


def status_line(server: LimitedServer, held: int) -> bytes:
    """Hold ``held`` idle sockets, then send one request; its status line."""
    sockets = []
    try:
        for _ in range(held):
            sockets.append(socket.create_connection(("127.0.0.1", server.port)))
        time.sleep(0.3)
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as s:
            s.settimeout(1.0)
            try:  # refused at the limit: the 503 comes at once, unasked
                out = s.recv(65536)
            except TimeoutError:
                s.settimeout(10)
                s.sendall(GET)
                out = b""
                while chunk := s.recv(65536):
                    out += chunk
            return out.split(b"\r\n")[0]
    finally:
        for s in sockets:
            s.close()


def assert_count_back_to_zero(server: LimitedServer) -> None:
    time.sleep(DEADLINE + 1)  # every cut connection gone; the held ones of a probe too
    assert status_line(server, MAX_CONNECTIONS - 1).endswith(b"200 OK")
    time.sleep(DEADLINE + 1)
    assert b" 503 " in status_line(server, MAX_CONNECTIONS)
    time.sleep(DEADLINE + 1)


@pytest.fixture(scope="module")
def kiosk(server: LimitedServer) -> tuple[Ed25519PrivateKey, str]:
    tokens = read_tokens(server.data)
    staff = {"Authorization": f"Bearer {tokens['secretariat']}"}
    r = httpx.post(
        server.url + "/api/roster",
        json={"csv": "name,delegation,seat\n乙,一组,902\n"},
        headers=staff,
    )
    code = r.json()["deputies"][0]["enrolment_code"]
    key = Ed25519PrivateKey.generate()
    info = httpx.post(
        server.url + "/api/enrol", json={"code": code, "device_public_key": st.public_key_hex(key)}
    ).json()
    return key, str(info["device_id"])


def cut(server: LimitedServer, phase: str, kiosk: tuple[Ed25519PrivateKey, str]) -> None:
    """One connection, cut at ``phase``."""
    s = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    if phase == "connected":
        s.close()
    elif phase == "reset":
        reset(s)
    elif phase == "half headers":
        s.sendall(b"GET /record/index.json HTTP/1.1\r\nhost: x\r\n")
        reset(s)
    elif phase == "upgrade sent":
        s.sendall(UPGRADE)
        s.close()
    elif phase == "upgrade sent, reset":
        s.sendall(UPGRADE)
        reset(s)
    elif phase == "challenge received":
        s.sendall(UPGRADE)
        s.recv(65536)
        reset(s)
    elif phase == "bad hello":
        s.sendall(UPGRADE)
        s.recv(65536)
        s.sendall(masked_text(b'{"type": "hello"}'))
        time.sleep(0.02)
        reset(s)
    else:
        raise AssertionError(phase)


PHASES = [
    "connected",
    "reset",
    "half headers",
    "upgrade sent",
    "upgrade sent, reset",
    "challenge received",
    "bad hello",
]


def test_connections_cut_at_every_phase_leave_the_count(
    server: LimitedServer, kiosk: tuple[Ed25519PrivateKey, str]
) -> None:
    for phase in PHASES:
        for _ in range(2 * MAX_CONNECTIONS):  # more than the limit: a leak would show
            cut(server, phase, kiosk)
    assert_count_back_to_zero(server)


def test_authenticated_kiosks_cut_and_deadlines_leave_the_count(
    server: LimitedServer, kiosk: tuple[Ed25519PrivateKey, str]
) -> None:
    key, device_id = kiosk
    url = server.url.replace("http", "ws") + "/ws/kiosk"
    for i in range(2 * MAX_CONNECTIONS):  # after the welcome: closed cleanly, or reset
        with connect(url, max_size=2**26) as ws:
            ch = m.parse_server_message(ws.recv(timeout=10))
            sig = st.sign(key, st.hello_payload(device_id, ch.nonce))
            ws.send(m.dump(m.Hello(id=mid(), device_id=device_id, signature=sig)))
            assert isinstance(m.parse_server_message(ws.recv(timeout=10)), m.Welcome)
            if i % 2:
                reset(ws.socket)
    silent: list[socket.socket] = []  # handshakes that never send a frame: closed at the deadline
    for _ in range(MAX_CONNECTIONS // 2):
        s = socket.create_connection(("127.0.0.1", server.port), timeout=10)
        s.sendall(UPGRADE)
        s.recv(65536)
        silent.append(s)
    time.sleep(DEADLINE + 1)
    for s in silent:
        s.settimeout(10)
        data = b""
        while chunk := s.recv(65536):  # the close frame (1008), then the end
            data += chunk
        assert b"\x03\xf0no message in time" in data, data[-40:]
        s.close()
    assert_count_back_to_zero(server)


def test_refused_connections_leave_the_count(server: LimitedServer) -> None:
    opened: list[socket.socket] = []
    for _ in range(MAX_CONNECTIONS * 2):  # half of them refused at the limit
        opened.append(socket.create_connection(("127.0.0.1", server.port), timeout=10))
    time.sleep(0.5)
    for s in opened:
        s.close()
    assert_count_back_to_zero(server)
    log = server.log.read_text("utf-8", "replace")
    lines = [x for x in log.splitlines() if "at the connection limit" in x]
    assert 1 <= len(lines) < MAX_CONNECTIONS, "refusals are logged at most once a second"


def test_the_probe_sees_a_leak(server: LimitedServer) -> None:
    """The probe itself: one socket held aside, and the full-capacity check fails."""
    extra = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    try:
        time.sleep(0.3)
        assert b" 503 " in status_line(server, MAX_CONNECTIONS - 1)
    finally:
        extra.close()
    time.sleep(DEADLINE + 1)
