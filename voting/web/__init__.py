"""Renda's own web pages: server-rendered HTML, every asset served by Renda itself.

``install(app, service)`` mounts them on the FastAPI application: ``/static`` (the stylesheet
and the live-update script), ``/`` (the index), and a Chinese page instead of raw JSON when a
person's browser asks for a page that does not exist. Screens and the console add their routers
through :func:`voting.web.base.install` as well. See docs/screens.md.
"""

from voting.web.base import install, render, templates

__all__ = ["install", "render", "templates"]
