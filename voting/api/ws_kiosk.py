"""/ws/kiosk: challenge, the tablet's signed hello, then credentials and ballots."""

import asyncio
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, WebSocket
from starlette.websockets import WebSocketDisconnect

from tally import messages as m
from tally import statements as st
from voting.api.sockets import guarded, messages, parse_frame, receive, send_error
from voting.limits import authenticated
from voting.session.errors import ActionError
from voting.session.hub import REVOKED, Connection, server_id
from voting.session.service import SessionService

router = APIRouter()

MAX_CASTS_IN_FLIGHT = 8  # per kiosk connection


@dataclass
class Kiosk:
    """One authenticated kiosk connection."""

    service: SessionService
    conn: Connection
    device_key: str
    tasks: set[asyncio.Task[Any]] = field(default_factory=set)


async def _hello_again(k: Kiosk, msg: m.Hello) -> None:
    await send_error(k.conn, "bad_type", "already authenticated", msg.id)


async def _credential(k: Kiosk, msg: m.CredentialMsg) -> None:
    async with k.service.ctx.kiosk_gate:
        work = k.service.issuance.receive_credential(k.conn, msg, k.device_key)
        await guarded(k.conn, msg.id, work)


async def _proof(k: Kiosk, msg: m.ProofRequest) -> None:
    async def answer() -> None:
        async with k.service.ctx.kiosk_gate:
            proof = await k.service.issuance.proof(msg)
        await k.conn.send(proof)

    await guarded(k.conn, msg.id, answer())


async def _cast(k: Kiosk, msg: m.Cast) -> None:
    if len(k.tasks) >= MAX_CASTS_IN_FLIGHT:
        await send_error(k.conn, "busy", "too many ballots in flight; resend later", msg.id)
        return

    async def do_cast() -> None:
        async with k.service.ctx.kiosk_gate:  # stored and acknowledged: then the next one
            ack = await k.service.ballot_box.cast(msg)
        await k.conn.send(ack)

    task = asyncio.create_task(guarded(k.conn, msg.id, do_cast()))
    k.tasks.add(task)
    task.add_done_callback(k.tasks.discard)


# message type -> its handler (other kiosk messages are not passed on)
HANDLERS: dict[type[Any], Callable[[Kiosk, Any], Awaitable[None]]] = {
    m.Hello: _hello_again,
    m.CredentialMsg: _credential,
    m.ProofRequest: _proof,
    m.Cast: _cast,
}


@router.websocket("/ws/kiosk")
async def ws_kiosk(ws: WebSocket) -> None:
    service: SessionService = ws.app.state.service
    await ws.accept()
    conn = Connection(ws.send_text, "kiosk")
    nonce = secrets.token_hex(32)
    await conn.send(
        m.Challenge(
            id=server_id(),
            nonce=nonce,
            server_public_key=service.server_public_key,
            signature=st.sign(
                service.ctx.server_key, st.challenge_payload(nonce, service.server_public_key)
            ),
        )
    )
    frame = await receive(ws, m.MAX_KIOSK_FRAME)
    if frame is None:
        return
    try:
        hello = parse_frame("kiosk", frame)
        if not isinstance(hello, m.Hello):
            raise m.MessageError(m.ErrorCode.UNAUTHENTICATED, "send hello first")
        deputy_id, device_key = await service.attendance.kiosk_hello(hello, nonce)
    except (m.MessageError, ActionError) as exc:
        await send_error(conn, exc.code, exc.message, m.message_id(frame))
        await ws.close(4401)
        return
    conn.deputy_id = deputy_id
    conn.device_id = hello.device_id
    conn.close = lambda code: ws.close(code)
    authenticated(ws.scope)  # the kiosk frame limit from now on (16 KiB before)
    kiosk = Kiosk(service, conn, device_key)
    try:
        await service.kiosk_connected(conn, hello.id)
        async for msg in messages(ws, conn, "kiosk", m.MAX_KIOSK_FRAME):
            async with service.ctx.kiosk_gate:
                current = await service.attendance.device_current(conn.device_id)
            if not current:
                # every message is checked against the current enrolment
                await send_error(
                    conn, "unknown_device", "this tablet's enrolment was revoked", msg.id
                )
                await ws.close(REVOKED)
                break
            handler = HANDLERS.get(type(msg))
            if handler is not None:
                await handler(kiosk, msg)
    except WebSocketDisconnect:
        pass
    finally:
        service.disconnected(conn)
        # let in-flight casts finish storing (their acks may not arrive; the kiosk resends)
        if kiosk.tasks:
            await asyncio.gather(*kiosk.tasks, return_exceptions=True)
