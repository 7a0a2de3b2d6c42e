"""Rendering: Jinja2 templates (autoescaped) and the URLs of static files.

Templates live in ``voting/web/templates/`` (a page extends ``base.html``; the console's pages
live in ``templates/console/``). Static files live in ``voting/web/static/`` and are served under
``/static``; ``static_url(name)`` adds a content hash so a browser never keeps a stale copy.
"""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

WEB_DIR = Path(__file__).resolve().parent
STATIC_DIR = WEB_DIR / "static"
TEMPLATE_DIR = WEB_DIR / "templates"

# Paths whose errors stay JSON for programs, whatever the client accepts.
_API_PREFIXES = ("/api/", "/ws/", "/record/")


@cache
def _static_hash(name: str) -> str:
    path = (STATIC_DIR / name).resolve()
    if STATIC_DIR not in path.parents or not path.is_file():
        raise ValueError(f"no static file {name!r}")
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]


def static_url(name: str) -> str:
    """``/static/<name>?v=<hash of its content>``."""
    return f"/static/{name}?v={_static_hash(name)}"


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATE_DIR)),
        autoescape=select_autoescape(("html", "xml"), default=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["static_url"] = static_url
    return env


templates = _environment()


def render(
    request: Request, name: str, context: dict[str, Any] | None = None, status: int = 200
) -> HTMLResponse:
    """The template ``name`` rendered with ``context`` (plus ``session_name`` and ``path``)."""
    service = request.app.state.service
    values: dict[str, Any] = {
        "session_name": service.session_name,
        "path": request.url.path,
        **(context or {}),
    }
    html = templates.get_template(name).render(values)
    return HTMLResponse(
        html,
        status_code=status,
        headers={"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"},
    )


def public_base(request: Request) -> str:
    """The server's address as a deputy's phone or an auditor reaches it, for QR codes and
    printed links: ``renda serve --public-url``, else the address this request came to."""
    configured = request.app.state.service.config.public_url
    return str(configured or request.base_url).rstrip("/")


def wants_html(request: Request) -> bool:
    """A person's browser asking for a page (not a program asking the API)."""
    if request.method not in ("GET", "HEAD"):
        return False
    if request.url.path.startswith(_API_PREFIXES):
        return False
    return "text/html" in request.headers.get("accept", "")
