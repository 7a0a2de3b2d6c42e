"""/ws/display: the hall and presidium screens listen (attendance, poll status, results)."""

from fastapi import APIRouter, WebSocket
from starlette.websockets import WebSocketDisconnect

from tally import messages as m
from voting.api.sockets import messages, staff_auth
from voting.session.service import SessionService
from voting.session.states import Role

router = APIRouter()


@router.websocket("/ws/display")
async def ws_display(ws: WebSocket) -> None:
    service: SessionService = ws.app.state.service
    auth = await staff_auth(service, ws, "display", (Role.DISPLAY, Role.CHAIR, Role.SECRETARIAT))
    if auth is None:
        return
    conn, _p = auth
    conn.role = "display"
    try:
        await service.display_connected(conn)
        async for _msg in messages(ws, conn, "display", m.MAX_DISPLAY_FRAME):
            pass  # the display only listens; its pings are answered by messages()
    except WebSocketDisconnect:
        pass
    finally:
        service.disconnected(conn)
