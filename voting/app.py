"""The FastAPI application: HTTP API and the websockets /ws/kiosk, /ws/trustee, /ws/display.

See docs/protocol.md. Every route checks its role; every refused action answers
``{"detail": {"code": ..., "message": ...}}`` and changes nothing.
"""

import asyncio
import logging
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Header, HTTPException, Request, WebSocket
from fastapi import Path as PathParam
from fastapi.responses import FileResponse, JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field, model_validator
from starlette.websockets import WebSocketDisconnect

from tally import messages as m
from voting import web
from voting.config import ServerConfig
from voting.hub import Connection, server_id
from voting.qr import qr_png
from voting.service import ActionError, Principal, SessionService

log = logging.getLogger("renda.app")

MAX_HTTP_BODY = 4 * 1024 * 1024
MAX_CASTS_IN_FLIGHT = 8  # per kiosk connection
NUL_REFUSED = "text must not contain NUL characters (U+0000)"
# Row ids are 32-bit INTEGER columns on PostgreSQL (64-bit on SQLite): a larger id in a path
# is refused here rather than failing in the database.
DeputyId = Annotated[int, PathParam(ge=1, le=2**31 - 1)]


def has_nul(value: Any) -> bool:
    """True if a NUL character is in any string of ``value`` (nested lists, dicts, models).

    PostgreSQL text cannot hold NUL while SQLite can: such input is refused at the edge, the
    same way on both databases, before it reaches a query."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, BaseModel):
        return has_nul(value.model_dump())
    if isinstance(value, dict):
        return any(has_nul(k) or has_nul(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(has_nul(v) for v in value)
    return False


def parse_frame(endpoint: str, frame: str) -> Any:
    """A client frame parsed by tally.messages, with no NUL character in any field."""
    msg = m.parse_client_message(endpoint, frame)  # type: ignore[arg-type]
    if has_nul(msg):
        raise m.MessageError(m.ErrorCode.BAD_MESSAGE, NUL_REFUSED)
    return msg


# -- request bodies ---------------------------------------------------------------------------


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="after")
    def _no_nul(self) -> "_Body":
        if has_nul(self):
            raise ValueError(NUL_REFUSED)
        return self


class RosterBody(_Body):
    csv: str = Field(max_length=2 * 1024 * 1024)


class EnrolBody(_Body):
    code: str = Field(max_length=64)
    device_public_key: str = Field(pattern=r"^[0-9a-f]{64}$")


class ScrutineerBody(_Body):
    name: str = Field(min_length=1, max_length=200)


class CeremonyBody(_Body):
    threshold: int = Field(ge=0, le=100)


class PollBody(_Body):
    title: str = Field(min_length=1, max_length=500)
    kind: str = Field(pattern=r"^(motion|projects|election|confirmation|other)$")
    template: dict[str, Any]
    rules: dict[str, Any] | None = None
    last_press_valid: bool = False


def create_app(config: ServerConfig) -> FastAPI:
    service = SessionService(config)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await service.startup()
        try:
            yield
        finally:
            await service.shutdown()

    app = FastAPI(title="Renda session server", lifespan=lifespan)
    app.state.service = service
    web.install(app)

    @app.middleware("http")
    async def _limit_body(request: Request, call_next: Any) -> Any:
        if has_nul(request.scope.get("path", "")) or has_nul(
            list(request.query_params.multi_items())
        ):
            return JSONResponse(
                {"detail": {"code": "bad_message", "message": NUL_REFUSED}}, status_code=422
            )
        length = request.headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > MAX_HTTP_BODY):
            return JSONResponse(
                {"detail": {"code": "too_large", "message": f"body above {MAX_HTTP_BODY} bytes"}},
                status_code=413,
            )
        return await call_next(request)

    @app.exception_handler(ActionError)
    async def _action_error(_request: Request, exc: ActionError) -> JSONResponse:
        return JSONResponse(
            {"detail": {"code": exc.code, "message": exc.message}}, status_code=exc.status
        )

    def principal(authorization: Annotated[str | None, Header()] = None) -> Principal:
        token = None
        if authorization and authorization.lower().startswith("bearer "):
            token = authorization[7:].strip()
        return service.authenticate(token)

    Who = Annotated[Principal, Depends(principal)]

    def staff(*roles: str) -> Callable[[Principal], Principal]:
        def check(p: Who) -> Principal:
            service.require(p, *roles)
            return p

        return check

    Secretariat = Annotated[Principal, Depends(staff("secretariat"))]
    Viewer = Annotated[Principal, Depends(staff("secretariat", "chair", "display"))]

    # -- session, roster, enrolment, attendance ------------------------------------------

    @app.get("/api/session")
    async def session_info(p: Viewer) -> dict[str, Any]:
        return {**service.session_info(), "total": await service.deputies_count()}

    @app.post("/api/roster")
    async def roster(body: RosterBody, p: Secretariat) -> dict[str, Any]:
        return {"deputies": await service.import_roster(body.csv)}

    @app.get("/api/deputies")
    async def deputies(p: Secretariat) -> list[dict[str, Any]]:
        return await service.list_deputies()

    @app.get("/api/deputies/{deputy_id}/card.png")
    async def card(deputy_id: DeputyId, p: Secretariat) -> Response:
        code = await service.enrolment_code(deputy_id)
        png = await asyncio.to_thread(qr_png, code)
        return Response(png, media_type="image/png")

    @app.post("/api/enrol")
    async def enrol(body: EnrolBody) -> dict[str, Any]:
        return await service.enrol(body.code.strip().upper(), body.device_public_key)

    @app.post("/api/deputies/{deputy_id}/{action}")
    async def attendance_action(deputy_id: DeputyId, action: str, p: Secretariat) -> dict[str, Any]:
        if action == "new_code":
            return await service.new_enrolment_code(deputy_id, p.role)
        status = {"checkin": "present", "leave": "leave", "absent": "absent"}.get(action)
        if status is None:
            raise HTTPException(404, {"code": "not_found", "message": f"no action {action!r}"})
        return await service.set_attendance(deputy_id, status, p.role)

    @app.get("/api/attendance")
    async def attendance(p: Viewer) -> dict[str, Any]:
        return await service.attendance()

    # -- scrutineers and the ceremony -------------------------------------------------------

    @app.post("/api/scrutineers")
    async def scrutineers(body: ScrutineerBody, p: Secretariat) -> dict[str, Any]:
        return await service.add_scrutineer(body.name)

    @app.post("/api/ceremony")
    async def ceremony(body: CeremonyBody, p: Secretariat) -> dict[str, Any]:
        return await service.start_ceremony(body.threshold)

    @app.get("/api/ceremony")
    async def ceremony_status(p: Viewer) -> dict[str, Any]:
        return await service.ceremony_status()

    # -- polls --------------------------------------------------------------------------------

    @app.post("/api/polls")
    async def create_poll(body: PollBody, p: Secretariat) -> dict[str, Any]:
        return await service.create_poll(
            body.title, body.kind, body.template, body.rules, body.last_press_valid
        )

    @app.get("/api/polls")
    async def polls(p: Viewer) -> list[dict[str, Any]]:
        return await service.list_polls()

    @app.get("/api/polls/{poll_id}")
    async def poll(poll_id: str, p: Viewer) -> dict[str, Any]:
        return await service.get_poll(poll_id)

    ACTIONS: dict[str, tuple[tuple[str, ...], Callable[[str, str], Awaitable[dict[str, Any]]]]] = {
        "open": (("secretariat",), service.open_poll),
        "start": (("secretariat",), service.finish_collection),
        "close": (("secretariat", "chair"), service.close_poll),
        "publish": (("secretariat", "chair"), service.publish),
        "withdraw": (("secretariat",), service.withdraw),
        "void": (("secretariat",), service.void),
        "rerun": (("secretariat",), service.rerun),
    }

    @app.post("/api/polls/{poll_id}/{action}")
    async def poll_action(poll_id: str, action: str, p: Who) -> dict[str, Any]:
        if action not in ACTIONS:
            raise HTTPException(404, {"code": "not_found", "message": f"no action {action!r}"})
        roles, fn = ACTIONS[action]
        service.require(p, *roles)
        return await fn(poll_id, p.role)

    # -- public record ------------------------------------------------------------------------

    @app.get("/record/index.json")
    async def record_index() -> dict[str, Any]:
        from voting.record import public_index

        return await public_index(service)

    @app.get("/api/record")
    async def record(p: Viewer) -> dict[str, Any]:
        """The record's JSON parts, as ``renda serve --export-record`` writes them."""
        from voting.record import record_data

        return await record_data(service)

    @app.get("/record/polls/{poll_id}/{name}")
    async def record_archive(poll_id: str, name: str) -> FileResponse:
        info = await service.get_poll(poll_id)
        if info["state"] not in ("closed", "tallied", "published") or name != f"{info['uuid']}.bel":
            raise HTTPException(404, {"code": "not_found", "message": "no such record file"})
        return FileResponse(service._archive_path(poll_id), media_type="application/x-tar")

    # -- websockets ---------------------------------------------------------------------------

    async def receive(ws: WebSocket, limit: int) -> str | None:
        """Next text frame, or None when the peer left. Binary frames count as text."""
        msg = await ws.receive()
        if msg["type"] == "websocket.disconnect":
            return None
        text = msg.get("text")
        if text is None:
            data = msg.get("bytes") or b""
            if len(data) > limit:
                return "\x00" * (limit + 1)
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError:
                return "\x00"
        return str(text)

    async def send_error(conn: Connection, code: str, message: str, reply_to: str | None) -> None:
        try:
            code_enum = m.ErrorCode(code)
        except ValueError:
            code_enum = m.ErrorCode.INTERNAL
        await conn.send(
            m.Error(id=server_id(), reply_to=reply_to, code=code_enum, message=message[:2000])
        )

    async def messages(
        ws: WebSocket, conn: Connection, endpoint: str, limit: int
    ) -> AsyncIterator[Any]:
        """The peer's messages until it leaves. A frame that does not parse is answered with an
        error and skipped; a ping is answered with a pong and not passed on."""
        while True:
            frame = await receive(ws, limit)
            if frame is None:
                return
            try:
                msg = parse_frame(endpoint, frame)
            except m.MessageError as exc:
                await send_error(conn, exc.code, exc.message, m.message_id(frame))
                continue
            if isinstance(msg, m.Ping):
                await conn.send(m.Pong(id=server_id(), reply_to=msg.id))
                continue
            yield msg

    async def guarded(conn: Connection, frame_id: str | None, coro: Awaitable[Any]) -> None:
        try:
            await coro
        except ActionError as exc:
            await send_error(conn, exc.code, exc.message, frame_id)
        except Exception:
            log.exception("error while handling a message")
            await send_error(conn, "internal", "server fault; nothing was stored", frame_id)

    @app.websocket("/ws/kiosk")
    async def ws_kiosk(ws: WebSocket) -> None:
        await ws.accept()
        conn = Connection(ws.send_text, "kiosk")
        nonce = secrets.token_hex(32)
        await conn.send(
            m.Challenge(id=server_id(), nonce=nonce, server_public_key=service.server_public_key)
        )
        frame = await receive(ws, m.MAX_KIOSK_FRAME)
        if frame is None:
            return
        try:
            hello = parse_frame("kiosk", frame)
            if not isinstance(hello, m.Hello):
                raise m.MessageError(m.ErrorCode.UNAUTHENTICATED, "send hello first")
            deputy_id, device_key = await service.kiosk_hello(hello, nonce)
        except (m.MessageError, ActionError) as exc:
            await send_error(conn, exc.code, exc.message, m.message_id(frame))
            await ws.close(4401)
            return
        conn.deputy_id = deputy_id
        service.hub.add(conn)
        tasks: set[asyncio.Task[Any]] = set()
        try:
            await service._welcome(conn, hello.id)
            async for msg in messages(ws, conn, "kiosk", m.MAX_KIOSK_FRAME):
                if isinstance(msg, m.Hello):
                    await send_error(conn, "bad_type", "already authenticated", msg.id)
                elif isinstance(msg, m.CredentialMsg):
                    await guarded(conn, msg.id, service.receive_credential(conn, msg, device_key))
                elif isinstance(msg, m.Cast) and len(tasks) >= MAX_CASTS_IN_FLIGHT:
                    await send_error(
                        conn, "busy", "too many ballots in flight; resend later", msg.id
                    )
                elif isinstance(msg, m.Cast):

                    async def do_cast(msg: m.Cast = msg) -> None:
                        ack = await service.cast(msg)
                        await conn.send(ack)

                    task = asyncio.create_task(guarded(conn, msg.id, do_cast()))
                    tasks.add(task)
                    task.add_done_callback(tasks.discard)
        except WebSocketDisconnect:
            pass
        finally:
            service.hub.remove(conn)
            # let in-flight casts finish storing (their acks may not arrive; the kiosk resends)
            if tasks:
                await asyncio.gather(*tasks, return_exceptions=True)

    async def staff_auth(
        ws: WebSocket, endpoint: str, roles: tuple[str, ...]
    ) -> tuple[Connection, Principal] | None:
        await ws.accept()
        conn = Connection(ws.send_text, endpoint)
        limit = m.MAX_TRUSTEE_FRAME if endpoint == "trustee" else m.MAX_DISPLAY_FRAME
        frame = await receive(ws, limit)
        if frame is None:
            return None
        try:
            msg = parse_frame(endpoint, frame)
            if not isinstance(msg, m.Auth):
                raise ActionError(m.ErrorCode.UNAUTHENTICATED, "send auth first")
            p = service.authenticate(msg.token)
            service.require(p, *roles)
        except (m.MessageError, ActionError) as exc:
            await send_error(conn, exc.code, exc.message, m.message_id(frame))
            await ws.close(4401)
            return None
        conn.role = p.role
        conn.trustee_index = p.trustee_index
        await conn.send(
            m.Authenticated(
                id=server_id(),
                reply_to=msg.id,
                role=p.role,  # type: ignore[arg-type]
                name=p.name[:1000],
                session=service.session_name[:1000],
                trustee_index=p.trustee_index,
            )
        )
        return conn, p

    @app.websocket("/ws/trustee")
    async def ws_trustee(ws: WebSocket) -> None:
        from voting import ceremony
        from voting.report_signing import receive_signature, request_signatures
        from voting.tallying import next_shufflers, pending_for_trustee, receive_shuffle

        auth = await staff_auth(ws, "trustee", ("scrutineer",))
        if auth is None:
            return
        conn, p = auth
        service.hub.add(conn)
        try:
            assert p.trustee_index is not None
            await ceremony.resend(service, p.trustee_index)
            await pending_for_trustee(service, p.trustee_index)
            await request_signatures(service, index=p.trustee_index)
            async for msg in messages(ws, conn, "trustee", m.MAX_TRUSTEE_FRAME):
                if isinstance(msg, m.CeremonyReply):
                    await guarded(conn, msg.id, ceremony.receive(service, p, msg))
                elif isinstance(msg, m.ShuffleMsg):
                    await guarded(conn, msg.id, receive_shuffle(service, p, msg))
                elif isinstance(msg, m.PartialDecryptionMsg):
                    await guarded(conn, msg.id, service.receive_partial_decryption(p, msg))
                elif isinstance(msg, m.ReportSignature):
                    await guarded(conn, msg.id, receive_signature(service, p, msg))
                else:
                    await send_error(conn, "bad_type", f"{msg.type} is not expected here", msg.id)
        except WebSocketDisconnect:
            pass
        finally:
            service.hub.remove(conn)
            if p.trustee_index not in service.hub.trustees:  # the next one shuffles instead
                service._spawn(next_shufflers(service))

    @app.websocket("/ws/display")
    async def ws_display(ws: WebSocket) -> None:
        auth = await staff_auth(ws, "display", ("display", "chair", "secretariat"))
        if auth is None:
            return
        conn, _p = auth
        conn.role = "display"
        service.hub.add(conn)
        try:
            att = await service.attendance()
            await conn.send(m.Attendance(id=server_id(), **att))  # type: ignore[arg-type]
            async for _msg in messages(ws, conn, "display", m.MAX_DISPLAY_FRAME):
                pass  # the display only listens; its pings are answered by messages()
        except WebSocketDisconnect:
            pass
        finally:
            service.hub.remove(conn)

    return app
