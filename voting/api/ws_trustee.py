"""/ws/trustee: a scrutineer's tool — key ceremony, shuffles, partial decryptions and count
report signatures."""

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, WebSocket
from starlette.websockets import WebSocketDisconnect

from tally import messages as m
from voting.api.sockets import guarded, messages, send_error, staff_auth
from voting.session.service import SessionService
from voting.session.staff import Principal
from voting.session.states import Role

router = APIRouter()

Handler = Callable[[SessionService, Principal, Any], Awaitable[None]]

# message type -> the session's handler
HANDLERS: dict[type[Any], Handler] = {
    m.CeremonyReply: lambda s, p, msg: s.ceremony.receive(p, msg),
    m.TrusteesSignature: lambda s, p, msg: s.ceremony.receive_trustees_signature(p, msg),
    m.ShuffleMsg: lambda s, p, msg: s.tallying.receive_shuffle(p, msg),
    m.PartialDecryptionMsg: lambda s, p, msg: s.tallying.receive_partial(p, msg),
    m.ReportSignature: lambda s, p, msg: s.signing.receive_signature(p, msg),
}


@router.websocket("/ws/trustee")
async def ws_trustee(ws: WebSocket) -> None:
    service: SessionService = ws.app.state.service
    auth = await staff_auth(service, ws, "trustee", (Role.SCRUTINEER,))
    if auth is None:
        return
    conn, p = auth
    assert p.trustee_index is not None
    try:
        await service.trustee_connected(conn, p.trustee_index)
        async for msg in messages(ws, conn, "trustee", m.MAX_TRUSTEE_FRAME):
            handler = HANDLERS.get(type(msg))
            if handler is None:
                await send_error(conn, "bad_type", f"{msg.type} is not expected here", msg.id)
            else:
                await guarded(conn, msg.id, handler(service, p, msg))
    except WebSocketDisconnect:
        pass
    finally:
        service.trustee_left(conn, p.trustee_index)
