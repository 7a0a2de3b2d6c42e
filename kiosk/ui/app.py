"""The tablet page's HTTP side: served by the kiosk process itself on 127.0.0.1 only.

- ``GET /``, ``GET /static/{app.js,app.css}``: the page (package data, nothing from elsewhere);
- ``GET /events``: server-sent events, one JSON snapshot of the tablet (kiosk/ui/tablet.py) per
  change, the current one first (so a reloaded page is at once where it was);
- ``POST /api/enrol`` ``{"server", "code"}``: the secretariat enrols the tablet;
- ``POST /api/review`` / ``POST /api/cast`` ``{"poll_id", "answers"}``: the review of the
  deputy's choice, then the confirmed choice (the kiosk process encrypts, stores and sends);
- ``POST /api/text`` ``{"large": bool}``: the larger-text mode;
- ``GET /receipt/{poll_id}/qr.svg``: the QR code of the tracker's place on the bulletin board.

Errors are ``{"error": {"code", "message"}}`` with the message in Chinese. Requests whose Host
is not this loopback address (DNS rebinding) or whose POST body is not JSON are refused.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from importlib import resources
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from kiosk.ui.ballot import BallotError
from kiosk.ui.tablet import Tablet, bulletin_url

STATIC = ("app.js", "app.css")
TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}
HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data: blob:; "
    "media-src 'self' blob:; frame-ancestors 'none'",
    "Referrer-Policy": "no-referrer",
}
MAX_BODY = 64 * 1024


def _asset(name: str) -> bytes:
    return resources.files("kiosk.ui").joinpath("static", name).read_bytes()


def error(code: str, message: str, status: int = 400) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status, headers=HEADERS)


def qr_svg(text: str) -> bytes:
    import qrcode
    import qrcode.image.svg

    img = qrcode.make(
        text,
        image_factory=qrcode.image.svg.SvgPathFillImage,
        error_correction=qrcode.constants.ERROR_CORRECT_M,
        box_size=10,
        border=2,
    )
    data: bytes = img.to_string()
    return data


def create_app(
    tablet: Tablet,
    enrol: Callable[[str, str], Awaitable[None]],
    *,
    allowed_hosts: set[str],
) -> LoopbackOnly:
    """The page's app; ``enrol(server, code)`` enrols the tablet (EnrolError on failure)."""

    async def body(request: Request) -> Any:
        if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
            raise BallotError("请求格式无效")
        raw = await request.body()
        if len(raw) > MAX_BODY:
            raise BallotError("请求过大")
        try:
            return json.loads(raw)
        except ValueError as exc:
            raise BallotError("请求格式无效") from exc

    async def index(request: Request) -> Response:
        return Response(
            _asset("index.html"), media_type="text/html; charset=utf-8", headers=HEADERS
        )

    async def static(request: Request) -> Response:
        name = request.path_params["name"]
        if name not in STATIC:
            return error("not_found", "没有这个文件", 404)
        return Response(
            _asset(name), media_type=TYPES["." + name.rsplit(".", 1)[1]], headers=HEADERS
        )

    async def events(request: Request) -> Response:
        queue = tablet.listen()

        async def stream() -> AsyncIterator[str]:
            try:
                yield "retry: 1000\n\n"
                while True:
                    try:
                        text = await asyncio.wait_for(queue.get(), 15)
                    except TimeoutError:
                        yield ": keep-alive\n\n"
                        continue
                    yield f"data: {text}\n\n"
            finally:
                tablet.unlisten(queue)

        return StreamingResponse(
            stream(), media_type="text/event-stream", headers={**HEADERS, "X-Accel-Buffering": "no"}
        )

    async def enrol_route(request: Request) -> Response:
        from kiosk.enrol import EnrolError

        data = await body(request)
        if tablet.enrolled:
            return error("enrolled", "这台平板已经登记", 409)
        server = data.get("server") if isinstance(data, dict) else None
        code = data.get("code") if isinstance(data, dict) else None
        if not isinstance(server, str) or not isinstance(code, str):
            return error("bad_request", "请填写服务器地址和登记码")
        code = normalize_code(code)
        if len(code.replace("-", "")) != 16:
            return error("bad_code", "登记码是16个字母或数字，请核对登记卡")
        try:
            await enrol(server.strip(), code)
        except EnrolError as exc:
            return error("enrol_failed", enrol_words(str(exc)), 400)
        return JSONResponse({"ok": True}, headers=HEADERS)

    def poll_request(data: Any) -> tuple[str, Any]:
        if not isinstance(data, dict) or not isinstance(data.get("poll_id"), str):
            raise BallotError("请求格式无效")
        return data["poll_id"], data.get("answers")

    async def review_route(request: Request) -> Response:
        poll_id, answers = poll_request(await body(request))
        return JSONResponse(tablet.review(poll_id, answers), headers=HEADERS)

    async def cast_route(request: Request) -> Response:
        poll_id, answers = poll_request(await body(request))
        tablet.cast(poll_id, answers)
        return JSONResponse({"ok": True}, headers=HEADERS)

    async def text_route(request: Request) -> Response:
        data = await body(request)
        if not isinstance(data, dict) or not isinstance(data.get("large"), bool):
            raise BallotError("请求格式无效")
        tablet.set_large_text(data["large"])
        return JSONResponse({"ok": True}, headers=HEADERS)

    async def qr_route(request: Request) -> Response:
        try:
            view = tablet.receipt_of(request.path_params["poll_id"])
        except KeyError:
            return error("not_found", "没有这张回执", 404)
        assert view.tracker is not None
        svg = await asyncio.to_thread(qr_svg, bulletin_url(tablet.server_url, view.tracker))
        return Response(svg, media_type="image/svg+xml", headers=HEADERS)

    async def refuse(request: Request, exc: Exception) -> Response:
        return error("refused", str(exc))

    inner = Starlette(
        routes=[
            Route("/", index),
            Route("/static/{name}", static),
            Route("/events", events),
            Route("/api/enrol", enrol_route, methods=["POST"]),
            Route("/api/review", review_route, methods=["POST"]),
            Route("/api/cast", cast_route, methods=["POST"]),
            Route("/api/text", text_route, methods=["POST"]),
            Route("/receipt/{poll_id}/qr.svg", qr_route),
        ],
        exception_handlers={BallotError: refuse},
    )

    return LoopbackOnly(inner, allowed_hosts)


class LoopbackOnly:
    """ASGI guard: only requests addressed to this loopback page (Host header) are served, and
    a POST from a page of another origin is refused (the page's own POSTs carry its origin)."""

    def __init__(self, app: Any, allowed_hosts: set[str]) -> None:
        self.app = app
        self.allowed = allowed_hosts

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
            origin = headers.get("origin")
            if headers.get("host", "") not in self.allowed:
                await error("forbidden", "只接受本机的请求", 403)(scope, receive, send)
                return
            if (
                scope["method"] == "POST"
                and origin is not None
                and origin.split("://", 1)[-1] not in self.allowed
            ):
                await error("forbidden", "只接受本机页面的请求", 403)(scope, receive, send)
                return
        await self.app(scope, receive, send)


def normalize_code(text: str) -> str:
    """An enrolment code as typed or scanned: case, spaces, dashes and full-width forms ignored
    (``abcd-efgh ijkl mnpq`` → ``ABCD-EFGH-IJKL-MNPQ``, as printed on the card)."""
    import unicodedata

    plain = unicodedata.normalize("NFKC", text).upper()
    raw = "".join(c for c in plain if c.isascii() and c.isalnum())
    if len(raw) != 16:
        return raw
    return "-".join(raw[i : i + 4] for i in range(0, 16, 4))


def enrol_words(message: str) -> str:
    """The enrolment failure in Chinese for the secretariat."""
    if "already used" in message:
        return "这个登记码已经用过。请在秘书处为这位代表重新生成登记码。"
    if "unknown enrolment code" in message:
        return "登记码不正确，请核对登记卡。"
    if "cannot reach" in message:
        return "连不上会议服务器，请检查服务器地址和网络。"
    if "already enrolled" in message:
        return "这台平板已经登记过。"
    return "登记未成功：服务器的答复无效。请联系技术人员。"
