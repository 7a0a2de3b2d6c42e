"""The FastAPI application: HTTP API and the websockets /ws/kiosk, /ws/trustee, /ws/display.

See docs/protocol.md. Every route checks its role; every refused action answers
``{"detail": {"code": ..., "message": ...}}`` and changes nothing.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from voting import web
from voting.api import (
    routes_ceremony,
    routes_deputies,
    routes_polls,
    routes_record,
    ws_display,
    ws_kiosk,
    ws_trustee,
)
from voting.api.bodies import MAX_HTTP_BODY, NUL_REFUSED, has_nul
from voting.config import ServerConfig
from voting.http_guard import BodyGuard, install_error_handlers
from voting.session import oplog
from voting.session.errors import ActionError
from voting.session.service import SessionService

ROUTERS = (
    routes_deputies,
    routes_ceremony,
    routes_polls,
    routes_record,
    ws_kiosk,
    ws_trustee,
    ws_display,
)


def create_app(config: ServerConfig) -> FastAPI:
    service = SessionService(config)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await service.startup()
        try:
            yield
        finally:
            await service.shutdown()

    # /docs and /redoc are off: FastAPI's pages load their scripts from a CDN, blank on the
    # hall's closed network (docs/decisions.md); the API is docs/protocol.md, /openapi.json stays.
    app = FastAPI(title="Renda session server", lifespan=lifespan, docs_url=None, redoc_url=None)
    app.state.service = service
    install_error_handlers(app)  # every refusal in the error shape (HTML pages for browsers:)
    web.install(app)

    @app.middleware("http")
    async def _refuse_nul(request: Request, call_next: Any) -> Any:
        if has_nul(request.scope.get("path", "")) or has_nul(
            list(request.query_params.multi_items())
        ):
            return JSONResponse(
                {"detail": {"code": "bad_message", "message": NUL_REFUSED}}, status_code=422
            )
        return await call_next(request)

    # outermost: bodies bounded however sent, read before the app parses them
    app.add_middleware(BodyGuard, max_body=MAX_HTTP_BODY)  # type: ignore[arg-type]

    @app.exception_handler(ActionError)
    async def _action_error(request: Request, exc: ActionError) -> JSONResponse:
        oplog.refused(f"{request.method} {request.url.path}", exc.code, exc.message)
        return JSONResponse(
            {"detail": {"code": exc.code, "message": exc.message}}, status_code=exc.status
        )

    for module in ROUTERS:
        app.include_router(module.router)
    return app
