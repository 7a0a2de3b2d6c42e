"""The server's resource limits at the connection level (``renda serve``), below the app.

uvicorn parses HTTP (h11) and websockets (websockets' sans-I/O protocol); these subclasses of its
protocols add what it lacks, so that a client without a token cannot hold the server's memory,
sockets or time:

- **connections in total**: past ``max_connections`` open sockets (HTTP and websockets), a new
  one is answered ``503`` in the error shape and closed;
- **header deadline**: a connection that has not sent complete request headers within
  ``header_timeout`` seconds of opening (or of its previous response) is closed;
- **websocket frames**: the size limit is enforced by the frame parser, before a frame is
  buffered or parsed: ``ws_preauth_frame`` bytes until the app says the peer is authenticated
  (:func:`authenticated`), then the endpoint's limit (:data:`ENDPOINT_FRAME`); a larger frame
  closes the connection with 1009;
- **first frame deadline**: a websocket that has sent no message ``ws_first_frame_timeout``
  seconds after the handshake is closed (1008);
- uvicorn's own refusals (a request it cannot parse) in the error shape of docs/protocol.md.

The request body limit (chunked too), the per-device limit and the error shape of the app's
refusals are in the app (voting/http_guard.py).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, MutableMapping
from dataclasses import dataclass
from typing import Any, ClassVar

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

from tally import messages as m

log = logging.getLogger("renda.limits")

ENDPOINT_FRAME = {
    "/ws/kiosk": m.MAX_KIOSK_FRAME,
    "/ws/trustee": m.MAX_TRUSTEE_FRAME,
    "/ws/display": m.MAX_DISPLAY_FRAME,
}
EXTENSION = "renda.limits"  # scope["extensions"][EXTENSION]["authenticated"]: () -> None


@dataclass(frozen=True)
class ServerLimits:
    max_connections: int = 4000
    header_timeout: float = 10.0
    ws_first_frame_timeout: float = 10.0
    ws_preauth_frame: int = 16 * 1024
    max_http_body: int = 4 * 1024 * 1024
    body_timeout: float = 60.0


def error_body(code: str, message: str) -> bytes:
    return json.dumps({"detail": {"code": code, "message": message}}).encode("ascii")


def authenticated(scope: MutableMapping[str, Any]) -> None:
    """Called by the app once a websocket peer is authenticated: its endpoint's frame limit
    applies from the next frame on (``ws_preauth_frame`` before)."""
    hook = scope.get("extensions", {}).get(EXTENSION, {}).get("authenticated")
    if hook is not None:
        hook()


class _Refusals:
    """Connections refused at the limit, logged at most once a second (a storm of refused
    connections must not also flood the log)."""

    def __init__(self) -> None:
        self.count = 0
        self.since = float("-inf")

    def note(self, now: float, open_connections: int) -> None:
        self.count += 1
        if now - self.since >= 1.0:
            log.warning(
                "refused %d connection(s) at the connection limit: %d open",
                self.count,
                open_connections,
            )
            self.count = 0
            self.since = now


_refusals = _Refusals()


class GuardedHttp(H11Protocol):
    limits: ClassVar[ServerLimits] = ServerLimits()

    _deadline: asyncio.TimerHandle | None = None
    _armed_cycle: object = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if len(self.connections) > self.limits.max_connections:
            _refusals.note(self.loop.time(), len(self.connections) - 1)
            self._send_error(503, "too_many_connections", "the server is at its connection limit")
            return
        self._arm()

    def _arm(self) -> None:
        self._disarm()
        self._armed_cycle = self.cycle
        self._deadline = self.loop.call_later(self.limits.header_timeout, self._header_deadline)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _header_deadline(self) -> None:
        self._deadline = None
        if self.cycle is self._armed_cycle and not self.transport.is_closing():
            # no complete request headers since the connection opened (or since its last
            # response): a slow or idle client does not keep the socket
            self._send_error(408, "timeout", "request headers not received in time")

    def handle_websocket_upgrade(self, event: h11.Request) -> None:
        self._disarm()
        super().handle_websocket_upgrade(event)

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def send_400_response(self, msg: str) -> None:
        self._send_error(400, "bad_request", msg)

    def _send_error(self, status: int, code: str, message: str) -> None:
        body = error_body(code, message)
        head = (
            f"HTTP/1.1 {status} {h11_reason(status)}\r\ncontent-type: application/json\r\n"
            f"content-length: {len(body)}\r\nconnection: close\r\n\r\n"
        ).encode("ascii")
        # written on the transport directly: h11's state may be mid-request or in error
        if not self.transport.is_closing():
            self.transport.write(head + body)
            self.transport.close()


def h11_reason(status: int) -> str:
    from http import HTTPStatus

    return HTTPStatus(status).phrase


class GuardedWebSocket(WebSocketsSansIOProtocol):
    limits: ClassVar[ServerLimits] = ServerLimits()
    app_authenticates: ClassVar[bool] = True  # the app calls authenticated(scope)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.conn.max_message_size = self.limits.ws_preauth_frame
        self._endpoint_limit = self.limits.ws_preauth_frame
        self._first_frame: asyncio.TimerHandle | None = None

    def handle_connect(self, event: Any) -> None:
        path = event.path.partition("?")[0]
        self._endpoint_limit = ENDPOINT_FRAME.get(path, self.limits.ws_preauth_frame)
        super().handle_connect(event)
        if self.handshake_complete:  # refused (not a 101): already closed
            return
        self.scope["extensions"][EXTENSION] = {"authenticated": self._authenticated}  # type: ignore[index]
        self._first_frame = self.loop.call_later(
            self.limits.ws_first_frame_timeout, self._first_frame_deadline
        )

    def _authenticated(self) -> None:
        self.conn.max_message_size = self._endpoint_limit

    def _got_frame(self) -> None:
        if self._first_frame is not None:
            self._first_frame.cancel()
            self._first_frame = None
            if not self.app_authenticates:
                # the app does not say when the peer is authenticated: the small limit holds
                # for the first message (hello / auth), the endpoint's from the next one
                self.conn.max_message_size = self._endpoint_limit

    def handle_text(self, event: Any) -> None:
        self._got_frame()
        super().handle_text(event)

    def handle_bytes(self, event: Any) -> None:
        self._got_frame()
        super().handle_bytes(event)

    def _first_frame_deadline(self) -> None:
        self._first_frame = None
        if self.disconnected or self.close_sent or self.transport.is_closing():
            return
        log.info("closed a websocket that sent nothing in %ss", self.limits.ws_first_frame_timeout)
        self.queue.put_nowait({"type": "websocket.disconnect", "code": 1008})
        self.conn.send_close(1008, "no message in time")
        self.transport.write(b"".join(self.conn.data_to_send()))
        self.close_sent = True
        self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self._got_frame()
        super().connection_lost(exc)


def protocols(limits: ServerLimits) -> tuple[type[GuardedHttp], type[GuardedWebSocket]]:
    """The protocol classes for ``uvicorn.run(http=..., ws=...)`` with these limits."""
    http = type("RendaHttp", (GuardedHttp,), {"limits": limits})
    ws = type("RendaWebSocket", (GuardedWebSocket,), {"limits": limits})
    return http, ws


def serve(
    app: Callable[..., Any],
    host: str,
    port: int,
    limits: ServerLimits,
    *,
    log_level: str = "warning",
    access_log: bool = False,
) -> None:
    """``uvicorn.run`` with Renda's limits (see the module docstring); uvicorn's loggers use
    the process's logging set-up (voting.cli_serve), its access log only when asked."""
    import uvicorn

    http, ws = protocols(limits)
    uvicorn.run(
        app,
        host=host,
        port=port,
        http=http,
        ws=ws,
        ws_max_size=m.MAX_TRUSTEE_FRAME,  # the largest endpoint limit; lowered per connection
        # no permessage-deflate: ballots and proofs are random numbers (nothing to gain), and
        # each connection's zlib state cost the handshake most of its time and ~40 KiB of
        # memory (3,000 kiosks: a profile of the opening showed it first)
        ws_per_message_deflate=False,
        ws_ping_interval=20,
        ws_ping_timeout=60,
        h11_max_incomplete_event_size=64 * 1024,  # request line and headers
        timeout_keep_alive=5,
        backlog=4096,
        log_config=None,
        log_level=log_level,
        access_log=access_log,
    )
