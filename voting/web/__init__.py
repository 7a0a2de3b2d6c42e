"""Renda's own web pages: server-rendered HTML, every asset served by Renda itself.

``install(app)`` mounts them on the FastAPI application: ``/static`` (the stylesheet
and the live-update script), ``/`` (the index), and a Chinese page instead of raw JSON when a
person's browser asks for a page that does not exist. Screens and the console add their routers
through :func:`voting.web.base.install` as well; templates and static URLs are in
voting/web/render.py. See docs/screens.md.
"""

from fastapi import FastAPI

from voting.web import base
from voting.web.base import render, templates


def install(app: FastAPI) -> None:
    """The web base (:func:`voting.web.base.install`), the login (``voting.web.auth``) and the
    secretariat's console (``voting.web.console``), mounted here so that none of them imports
    another's mounting."""
    from voting.web import auth, console

    base.install(app)
    auth.install(app)
    app.include_router(console.router())


__all__ = ["install", "render", "templates"]
