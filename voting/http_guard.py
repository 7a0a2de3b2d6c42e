"""The HTTP edge of the app: bounded request bodies and one error shape for every refusal.

Every refusal of every route answers ``{"detail": {"code": ..., "message": ...}}``
(docs/protocol.md, "Errors"), whatever refused it: a route (ActionError, HTTPException),
FastAPI's validation (422, with the field named but the input never echoed), the router (404,
405), a body that is not JSON or not UTF-8 (400 / 422), a body too large (413), a body that
comes too slowly (408), or a fault (500, "internal": never for bad input, and a bug if seen).

:class:`BodyGuard` is an ASGI middleware in front of the app: it reads the request body itself,
however it is sent (``Content-Length`` or chunked), refuses it past ``max_body`` bytes without
reading further, and refuses a JSON body holding a NUL or a lone surrogate (``"\\ud800"``: not
text, PostgreSQL cannot store it and the 422 handler used to crash on it). Bodies above
``THREAD_BODY`` bytes are decoded and scanned in a thread, off the event loop.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger("renda.http")

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

THREAD_BODY = 64 * 1024
STATUS_CODES = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    408: "timeout",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "bad_message",
    429: "busy",
    503: "unavailable",
}


def shape(code: str, message: str) -> dict[str, Any]:
    return {"detail": {"code": code, "message": message}}


def safe_text(value: object, limit: int = 80) -> str:
    """A short printable form of a value for an error message: never the client's input
    at length, and never a character that cannot be encoded (a lone surrogate)."""
    text = str(value)
    text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    text = "".join(c if c.isprintable() else "?" for c in text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def is_text(value: Any) -> bool:
    """True unless a string in ``value`` holds NUL or a lone surrogate."""
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, str):
            if "\x00" in v:
                return False
            try:
                v.encode("utf-8")
            except UnicodeEncodeError:
                return False
        elif isinstance(v, dict):
            stack.extend(v.keys())
            stack.extend(v.values())
        elif isinstance(v, list):
            stack.extend(v)
    return True


def check_json_body(body: bytes) -> tuple[int, str, str] | None:
    """None if the body is fine to hand to the app, else (status, code, message).

    Only text is refused here; what is not JSON is left to the app (its 422 says so)."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        return 400, "bad_encoding", f"the body is not UTF-8 (byte {exc.start})"
    try:
        value = json.loads(text)
    except ValueError:
        return None  # FastAPI answers "json_invalid" (422) in the error shape
    except RecursionError:
        return 422, "bad_json", "the JSON body is nested too deeply"
    if not is_text(value):
        return (
            422,
            "bad_message",
            "text must not contain NUL (U+0000) or a lone surrogate (U+D800–U+DFFF)",
        )
    return None


class BodyGuard:
    """Bounded, text-checked request bodies (see the module docstring)."""

    def __init__(self, app: ASGIApp, max_body: int, timeout: float = 60.0) -> None:
        self.app = app
        self.max_body = max_body
        self.timeout = timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        length = headers.get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.max_body):
            await _answer(send, 413, "too_large", f"body above {self.max_body} bytes")
            return
        try:
            body, more = await asyncio.wait_for(self._read(receive), self.timeout)
        except TimeoutError:
            await _answer(send, 408, "timeout", f"the body did not arrive in {self.timeout:g} s")
            return
        if more is None:  # the client left
            return
        if more:
            await _answer(send, 413, "too_large", f"body above {self.max_body} bytes")
            return
        ctype = headers.get(b"content-type", b"application/json").split(b";")[0].strip()
        if body and (ctype == b"application/json" or ctype.endswith(b"+json")):
            if len(body) > THREAD_BODY:
                refused = await asyncio.to_thread(check_json_body, body)
            else:
                refused = check_json_body(body)
            if refused is not None:
                await _answer(send, *refused)
                return
        await self.app(scope, _replay(body, receive), send)

    async def _read(self, receive: Receive) -> tuple[bytes, bool | None]:
        """(body, True if over the limit / False if whole / None if the client left)."""
        parts: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return b"", None
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body:
                return b"", True
            parts.append(chunk)
            if not message.get("more_body", False):
                return b"".join(parts), False


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()  # then the disconnect, when it comes

    return replay


async def _answer(send: Send, status: int, code: str, message: str) -> None:
    body = json.dumps(shape(code, message)).encode("ascii")
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode("ascii")),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def validation_message(errors: list[Any]) -> str:
    """What FastAPI's validation refused, by field, without the input."""
    parts = []
    for err in errors[:5]:
        loc = [safe_text(x, 40) for x in err.get("loc", ()) if x not in ("body",)]
        where = ".".join(loc) or "body"
        if err.get("type") == "json_invalid":
            return "the body is not valid JSON"
        parts.append(f"{where}: {safe_text(err.get('msg', 'invalid'), 200)}")
    if len(errors) > 5:
        parts.append(f"and {len(errors) - 5} more")
    return "; ".join(parts) or "invalid request"


async def http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
    """An HTTPException (a route's, or the router's 404 / 405) in the error shape."""
    detail = exc.detail
    if isinstance(detail, dict) and set(detail) == {"code", "message"}:
        body = {"detail": detail}
    else:
        code = STATUS_CODES.get(exc.status_code, "refused")
        body = shape(code, safe_text(detail, 300) if detail else code.replace("_", " "))
    return JSONResponse(body, status_code=exc.status_code, headers=exc.headers)


def install_error_handlers(app: FastAPI) -> None:
    """Every refusal of ``app`` in the error shape (see the module docstring)."""

    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = list(exc.errors())
        code = "bad_json" if any(e.get("type") == "json_invalid" for e in errors) else None
        return JSONResponse(
            shape(code or "bad_message", validation_message(errors)), status_code=422
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        # A person's browser gets a page instead (voting.web sets the renderer; programs and
        # every /api, /ws and /record path keep the JSON shape).
        page = getattr(request.app.state, "html_error_page", None)
        if page is not None:
            answer: Response | None = page(request, exc)
            if answer is not None:
                return answer
        return await http_error(request, exc)

    @app.exception_handler(Exception)
    async def _fault(_request: Request, exc: Exception) -> JSONResponse:
        log.error("internal error: %s", type(exc).__name__, exc_info=exc)
        return JSONResponse(shape("internal", "server fault; nothing was stored"), status_code=500)
