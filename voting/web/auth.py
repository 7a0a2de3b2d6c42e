"""Logging in to the server's pages: a role token once, then a session cookie.

The secretariat or the chair types (or scans) their token once at ``/login``; the server checks
it like an API bearer token and answers with a session cookie (``renda_session``: HttpOnly,
SameSite=Strict, Secure under HTTPS) signed with the session folder's ``web.key``. Display and
scrutineer tokens cannot log in. Every form POST carries a CSRF token bound to the cookie
(:func:`check_csrf`, also checking the Origin header), so another site can neither read a page
nor submit a form in the secretary's name.

Pages call :func:`require_user` with the roles that may see them; a visitor without a session
is sent to the login page (and back afterwards), a logged-in person of another role gets 403.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from fastapi import APIRouter, FastAPI, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from voting.config import write_private

COOKIE = "renda_session"
SESSION_SECONDS = 18 * 3600  # a day's sitting; log in again the next morning
LOGIN_PATH = "/login"


class WebRole(StrEnum):
    SECRETARIAT = "secretariat"
    CHAIR = "chair"


ROLE_NAMES = {WebRole.SECRETARIAT: "秘书处", WebRole.CHAIR: "会议主持人（执行主席）"}
REFUSED_ROLES = {
    "display": "这是会场大屏的令牌，只能用于显示屏，不能登录。请使用秘书处或主持人的令牌。",
    "scrutineer": "这是监票人的令牌，只能用于监票人工具（renda trustee），不能登录控制台。",
}


@dataclass(frozen=True)
class WebUser:
    role: WebRole
    name: str
    nonce: str  # this login's random id: the CSRF token is bound to it
    csrf: str

    @property
    def role_name(self) -> str:
        return ROLE_NAMES[self.role]

    def may(self, *roles: WebRole) -> bool:
        return self.role in roles


class LoginRequired(Exception):
    """No valid session: the browser is sent to the login page, then back to ``next``."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


class Forbidden(Exception):
    """A logged-in person whose role may not see the page or do the action: a Chinese page."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _secret(data_dir: Path, cache: dict[str, bytes] = {}) -> bytes:  # noqa: B006
    """The folder's key for signing session cookies (``web.key``, mode 0600, made once)."""
    key = str(data_dir)
    if key not in cache:
        path = data_dir / "web.key"
        if not path.exists():
            write_private(path, secrets.token_hex(32))
        cache[key] = bytes.fromhex(path.read_text().strip())
    return cache[key]


def session_secret(data_dir: Path) -> bytes:
    """The key the session cookies are signed with (for the presidium's websocket)."""
    return _secret(data_dir)


def _mac(secret: bytes, purpose: str, payload: str) -> str:
    digest = hmac.new(secret, f"{purpose}|{payload}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def _service(request: Request) -> Any:
    return request.app.state.service


def _secret_of(request: Request) -> bytes:
    return _secret(_service(request).config.data_dir)


# A logged-out session's nonce is kept in the database (table ``meta``, key ``web_logout:<nonce>``)
# so that neither a restarted server nor another server process accepts its cookie again.
REVOKED = "web_logout:"


def _is_revoked(request: Request, nonce: str) -> bool:
    return _service(request).ctx.meta(REVOKED + nonce[:40]) is not None


def _never(_nonce: str) -> bool:
    return False


def make_cookie(secret: bytes, role: WebRole, name: str, now: float | None = None) -> str:
    payload = (
        base64.urlsafe_b64encode(
            json.dumps(
                {
                    "r": role.value,
                    "n": name[:200],
                    "x": int((now or time.time()) + SESSION_SECONDS),
                    "i": secrets.token_urlsafe(12),
                },
                ensure_ascii=False,
            ).encode()
        )
        .decode()
        .rstrip("=")
    )
    return f"{payload}.{_mac(secret, 'session', payload)}"


def read_cookie(
    secret: bytes,
    value: str | None,
    now: float | None = None,
    revoked: Callable[[str], bool] = _never,
) -> WebUser | None:
    """The user of a session cookie, or None if it is missing, forged, expired or logged out
    (``revoked`` says whether a session's nonce was logged out)."""
    if not value or value.count(".") != 1 or len(value) > 2000:
        return None
    payload, mac = value.split(".")
    if not hmac.compare_digest(mac, _mac(secret, "session", payload)):
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        role = WebRole(data["r"])
        expires, nonce, name = int(data["x"]), str(data["i"]), str(data["n"])
    except (ValueError, KeyError, TypeError):
        return None
    if expires < (now or time.time()) or revoked(nonce):
        return None
    return WebUser(role, name, nonce, _mac(secret, "csrf", nonce))


def current_user(request: Request) -> WebUser | None:
    return read_cookie(
        _secret_of(request),
        request.cookies.get(COOKIE),
        revoked=lambda nonce: _is_revoked(request, nonce),
    )


def require_user(request: Request, *roles: WebRole) -> WebUser:
    """The logged-in user if their role is one of ``roles`` (any web role when none given)."""
    user = current_user(request)
    if user is None:
        path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise LoginRequired(path)
    if roles and user.role not in roles:
        raise Forbidden(f"{user.role_name}无权打开这个页面或进行这个操作。")
    return user


def _same_origin(request: Request) -> bool:
    origin = request.headers.get("origin") or request.headers.get("referer")
    if not origin or origin == "null":
        return origin is None  # a browser always sends Origin on a POST; "null" is refused
    host = request.headers.get("host", "")
    return urlsplit(origin).netloc == host


def check_csrf(request: Request, user: WebUser, token: str | None) -> None:
    """Refuse a form POST that does not carry this session's CSRF token or comes from another
    site (403, nothing changed)."""
    if not token or not hmac.compare_digest(token, user.csrf) or not _same_origin(request):
        raise Forbidden("表单已过期或来自其他网站，未执行：请刷新页面后重新提交。")


async def require_form(request: Request, *roles: WebRole) -> tuple[WebUser, dict[str, Any]]:
    """For a form POST: the user (of ``roles``), the CSRF check, and the form's fields."""
    user = require_user(request, *roles)
    form = await request.form()
    check_csrf(request, user, str(form.get("csrf", "")))
    return user, dict(form)


def _safe_next(value: str | None) -> str:
    """Only a path on this server (never ``//other`` or a full URL) is a place to go back to."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/console"
    return value


def router() -> APIRouter:
    from voting.web.base import render

    r = APIRouter()

    def login_page(
        request: Request, next_path: str, error: str = "", status: int = 200
    ) -> Response:
        return render(
            request,
            "login.html",
            {"title": "登录", "next": next_path, "error": error, "user": current_user(request)},
            status=status,
        )

    @r.get(LOGIN_PATH, response_class=HTMLResponse, include_in_schema=False)
    async def login_form(request: Request, next: str = "/console") -> Response:
        return login_page(request, _safe_next(next))

    @r.post(LOGIN_PATH, include_in_schema=False)
    async def login(
        request: Request, token: str = Form(""), next: str = Form("/console")
    ) -> Response:
        from voting.session.errors import ActionError

        next_path = _safe_next(next)
        if not _same_origin(request):
            return login_page(request, next_path, "登录请求来自其他网站，已拒绝。", 403)
        token = token.strip()
        try:
            principal = _service(request).authenticate(token or None)
        except ActionError:
            return login_page(request, next_path, "令牌不正确：请核对 tokens.json 中的令牌。", 401)
        refused = REFUSED_ROLES.get(str(principal.role))
        if refused is not None or str(principal.role) not in WebRole._value2member_map_:
            return login_page(request, next_path, refused or "此令牌不能登录。", 403)
        role = WebRole(str(principal.role))
        service = _service(request)
        await service.db(lambda s: service.ctx.audit(s, role.value, "web_login", ROLE_NAMES[role]))
        response = RedirectResponse(next_path, status_code=303)
        response.set_cookie(
            COOKIE,
            make_cookie(_secret_of(request), role, principal.name),
            max_age=SESSION_SECONDS,
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
            path="/",
        )
        return response

    @r.post("/logout", include_in_schema=False)
    async def logout(request: Request) -> Response:
        user = current_user(request)
        if user is not None:
            form = await request.form()
            check_csrf(request, user, str(form.get("csrf", "")))
            await _log_out(_service(request), user)
        response = RedirectResponse(LOGIN_PATH, status_code=303)
        response.delete_cookie(COOKIE, path="/")
        return response

    return r


async def _log_out(service: Any, user: WebUser) -> None:
    """Revoke the session for good (kept until the cookie would have expired anyway)."""
    from datetime import UTC, datetime

    from voting.models import Meta

    def run(s: Any) -> None:
        s.merge(Meta(key=REVOKED + user.nonce[:40], value=datetime.now(UTC).isoformat()))
        service.ctx.audit(s, user.role.value, "web_logout", ROLE_NAMES[user.role])

    await service.db(run)


def install(app: FastAPI) -> None:
    """The login and logout routes, and the redirect of a page that needs a login."""
    app.include_router(router())

    @app.exception_handler(LoginRequired)
    async def _to_login(_request: Request, exc: LoginRequired) -> Response:
        return RedirectResponse(f"{LOGIN_PATH}?next={quote(exc.next_path)}", status_code=303)

    @app.exception_handler(Forbidden)
    async def _forbidden(request: Request, exc: Forbidden) -> Response:
        from voting.web.base import render

        return render(
            request,
            "forbidden.html",
            {"title": "无权访问", "message": exc.message, "user": current_user(request)},
            status=403,
        )
