"""The web base: mounts the static files, the index page, the screens, the bulletin board and
a Chinese error page for a person's browser (programs keep the JSON error shape).

See voting/web/render.py for templates and static URLs, docs/screens.md for the pages.
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from voting.http_guard import http_error
from voting.web import results, screens
from voting.web.render import STATIC_DIR, TEMPLATE_DIR, render, static_url, templates, wants_html

__all__ = ["STATIC_DIR", "TEMPLATE_DIR", "install", "render", "static_url", "templates"]

_ERROR_TITLES = {
    401: "需要登录",
    403: "无权访问",
    404: "页面不存在",
    405: "无法这样访问",
}


def _index_router() -> APIRouter:
    router = APIRouter()

    @router.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def index(request: Request) -> HTMLResponse:
        return render(request, "index.html", {"title": "首页"})

    return router


def install(app: FastAPI) -> None:
    """Mount the web pages on ``app`` (whose ``state.service`` is the session service)."""
    app.mount("/static", StaticFiles(directory=str(STATIC_DIR)), name="static")
    app.include_router(_index_router())
    app.include_router(screens.router)
    app.include_router(results.router)

    app.state.html_error_page = error_page

    @app.exception_handler(StarletteHTTPException)
    async def _html_errors(request: Request, exc: StarletteHTTPException) -> Response:
        return error_page(request, exc) or await http_error(request, exc)  # the API's error shape


def error_page(request: Request, exc: StarletteHTTPException) -> Response | None:
    """A Chinese error page for a person's browser, or None for a program (JSON shape)."""
    if not wants_html(request):
        return None
    title = _ERROR_TITLES.get(exc.status_code, "出错了")
    return render(
        request, "error.html", {"title": title, "status": exc.status_code}, status=exc.status_code
    )
