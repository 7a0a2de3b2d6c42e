"""What the three websocket endpoints share: frames, the error answer, the message loop,
guarded handling, and the staff handshake (``auth``) of /ws/trustee and /ws/display."""

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable
from typing import Any

from fastapi import WebSocket

from tally import messages as m
from voting.api.bodies import NUL_REFUSED, has_nul
from voting.limits import authenticated
from voting.session import oplog
from voting.session.errors import ActionError
from voting.session.hub import Connection, server_id
from voting.session.service import SessionService
from voting.session.staff import Principal
from voting.session.states import Role

log = logging.getLogger("renda.app")

THREAD_FRAME = 64 * 1024  # larger frames (a scrutineer's shuffle) are parsed in a thread


def parse_frame(endpoint: str, frame: str) -> Any:
    """A client frame parsed by tally.messages, with no NUL character in any field."""
    msg = m.parse_client_message(endpoint, frame)  # type: ignore[arg-type]
    if has_nul(msg):
        raise m.MessageError(m.ErrorCode.BAD_MESSAGE, NUL_REFUSED)
    return msg


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
    oplog.refused(f"websocket ({conn.role})", code, message)
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
        large = len(frame) > THREAD_FRAME  # parsed off the event loop: the other peers go on
        try:
            msg = (
                await asyncio.to_thread(parse_frame, endpoint, frame)
                if large
                else (parse_frame(endpoint, frame))
            )
        except m.MessageError as exc:
            reply_to = (
                await asyncio.to_thread(m.message_id, frame) if large else (m.message_id(frame))
            )
            await send_error(conn, exc.code, exc.message, reply_to)
            continue
        if isinstance(msg, m.Ping):
            await conn.send(m.Pong(id=server_id(), reply_to=msg.id))
            continue
        yield msg


async def guarded(conn: Connection, frame_id: str | None, coro: Awaitable[Any]) -> None:
    """Run a handler; a refusal or a fault is answered as an error to that frame."""
    try:
        await coro
    except ActionError as exc:
        await send_error(conn, exc.code, exc.message, frame_id)
    except Exception:
        log.exception("error while handling a message")
        await send_error(conn, "internal", "server fault; nothing was stored", frame_id)


async def staff_auth(
    service: SessionService, ws: WebSocket, endpoint: str, roles: tuple[Role, ...]
) -> tuple[Connection, Principal] | None:
    """Accept, read ``auth``, check the token's role; answer ``authenticated`` (or an error
    and close 4401)."""
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
    conn.role = p.role.value
    conn.trustee_index = p.trustee_index
    authenticated(ws.scope)  # the endpoint's frame limit from now on (16 KiB before)
    await conn.send(
        m.Authenticated(
            id=server_id(),
            reply_to=msg.id,
            role=p.role.value,  # type: ignore[arg-type]
            name=p.name[:1000],
            session=service.session_name[:1000],
            trustee_index=p.trustee_index,
            server_public_key=service.server_public_key,
        )
    )
    return conn, p
