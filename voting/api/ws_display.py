"""/ws/display: the hall and presidium screens listen (attendance, poll status, snapshots).

First frame: ``watch`` (the public hall screen, no token), ``watch`` with view ``presidium``
(a browser logged in to the console as the chair or the secretariat: its session cookie), or
``auth`` with a token — display → the hall's view, chair or secretariat → the presidium's view
(docs/protocol.md §7)."""

from urllib.parse import urlsplit

from fastapi import APIRouter, WebSocket
from starlette.websockets import WebSocketDisconnect

from tally import messages as m
from voting.api.sockets import messages, parse_frame, receive, send_error
from voting.session.display import View
from voting.session.errors import ActionError
from voting.session.hub import Connection, server_id
from voting.session.service import SessionService
from voting.session.states import Role
from voting.web.auth import COOKIE, REVOKED, WebRole, WebUser, read_cookie, session_secret

router = APIRouter()


def web_user(ws: WebSocket) -> WebUser | None:
    """The chair or secretariat logged in to the console in this browser (its session cookie,
    voting/web/auth.py), if the websocket comes from a page of this server (its Origin): a page
    of another site cannot open the presidium's view with the cookie it does not see."""
    origin = ws.headers.get("origin")
    if not origin or urlsplit(origin).netloc != ws.headers.get("host", ""):
        return None
    service = ws.app.state.service
    user = read_cookie(
        session_secret(service.config.data_dir),
        ws.cookies.get(COOKIE),
        revoked=lambda nonce: service.ctx.meta(REVOKED + nonce[:40]) is not None,  # logged out
    )
    if user is None or user.role not in (WebRole.CHAIR, WebRole.SECRETARIAT):
        return None
    return user


async def _view(service: SessionService, conn: Connection, frame: str, ws: WebSocket) -> View:
    """The view the first frame asks for and may have (ActionError or MessageError if not)."""
    msg = parse_frame("display", frame)
    if isinstance(msg, m.Watch) and msg.view == "hall":
        return View.HALL
    if isinstance(msg, m.Watch):  # the presidium of a browser logged in to the console
        user = web_user(ws)
        if user is None:
            raise ActionError(
                m.ErrorCode.UNAUTHENTICATED,
                "the presidium screen needs the console's login (chair or secretariat)",
            )
        await conn.send(
            m.Authenticated(
                id=server_id(),
                reply_to=msg.id,
                role=user.role.value,  # type: ignore[arg-type]
                name=user.name[:1000],
                session=service.session_name[:1000],
            )
        )
        return View.PRESIDIUM
    if not isinstance(msg, m.Auth):
        raise ActionError(m.ErrorCode.UNAUTHENTICATED, "send auth or watch first")
    p = service.authenticate(msg.token)
    service.require(p, Role.DISPLAY, Role.CHAIR, Role.SECRETARIAT)
    await conn.send(
        m.Authenticated(
            id=server_id(),
            reply_to=msg.id,
            role=p.role,  # type: ignore[arg-type]
            name=p.name[:1000],
            session=service.session_name[:1000],
        )
    )
    return View.HALL if p.role == Role.DISPLAY else View.PRESIDIUM


@router.websocket("/ws/display")
async def ws_display(ws: WebSocket) -> None:
    service: SessionService = ws.app.state.service
    await ws.accept()
    conn = Connection(ws.send_text, "display")
    frame = await receive(ws, m.MAX_DISPLAY_FRAME)
    if frame is None:
        return
    try:
        view = await _view(service, conn, frame, ws)
    except (m.MessageError, ActionError) as exc:
        await send_error(conn, exc.code, exc.message, m.message_id(frame))
        await ws.close(4401)
        return
    try:
        await service.display_connected(conn, view)
        async for _msg in messages(ws, conn, "display", m.MAX_DISPLAY_FRAME):
            pass  # the display only listens; its pings are answered by messages()
    except WebSocketDisconnect:
        pass
    finally:
        service.disconnected(conn)
