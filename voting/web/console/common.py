"""Shared pieces of the console's pages: the page context, flash messages, redirects."""

from __future__ import annotations

import base64
import json
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from voting.web.auth import WebRole, WebUser

FLASH = "renda_flash"
S, C = WebRole.SECRETARIAT, WebRole.CHAIR

# (path, label, roles that see it)
NAV: tuple[tuple[str, str, tuple[WebRole, ...]], ...] = (
    ("/console", "概览", (S, C)),
    ("/console/roster", "名册与登记卡", (S,)),
    ("/console/checkin", "签到", (S, C)),
    ("/console/scrutineers", "监票人", (S, C)),
    ("/console/polls", "表决事项", (S, C)),
    ("/console/documents", "文件与记录", (S, C)),
    ("/console/audit", "操作日志", (S, C)),
)


def service(request: Request) -> Any:
    return request.app.state.service


def nav_for(user: WebUser, path: str) -> list[dict[str, Any]]:
    out = []
    for href, label, roles in NAV:
        if user.role not in roles:
            continue
        current = path == href if href == "/console" else path.startswith(href)
        out.append({"href": href, "label": label, "current": current})
    return out


def page(
    request: Request,
    user: WebUser,
    template: str,
    title: str,
    status: int = 200,
    **context: Any,
) -> Response:
    from voting.web.base import render

    flash = None
    raw = request.cookies.get(FLASH)
    if raw:
        try:
            flash = json.loads(base64.urlsafe_b64decode(raw.encode()).decode())
        except (ValueError, UnicodeDecodeError):
            flash = None
    response: HTMLResponse = render(
        request,
        f"console/{template}",
        {
            "title": title,
            "user": user,
            "csrf": user.csrf,
            "nav": nav_for(user, request.url.path),
            "flash": flash,
            "is_secretariat": user.role is S,
            **context,
        },
        status=status,
    )
    if raw:
        response.delete_cookie(FLASH, path="/")
    return response


def redirect(path: str, message: str = "", kind: str = "ok") -> Response:
    """303 to ``path``; ``message`` is shown once on the next page (ok | error)."""
    response = RedirectResponse(path, status_code=303)
    if message:
        value = base64.urlsafe_b64encode(
            json.dumps({"text": message[:1500], "kind": kind}, ensure_ascii=False).encode()
        ).decode()
        response.set_cookie(FLASH, value, max_age=60, httponly=True, samesite="strict", path="/")
    return response


def pdf_response(data: bytes, filename: str) -> Response:
    from urllib.parse import quote

    return Response(
        data,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f"inline; filename*=UTF-8''{quote(filename)}",
            "Cache-Control": "no-store",
        },
    )
