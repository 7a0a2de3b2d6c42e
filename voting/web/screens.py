"""The hall screen (会场大屏) and the presidium screen (主席台屏): pages drawn by screen.js
from the ``/ws/display`` snapshots (docs/protocol.md §7, docs/screens.md)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from voting.web.render import render

router = APIRouter(include_in_schema=False)


@router.get("/screen/hall", response_class=HTMLResponse)
async def hall(request: Request) -> HTMLResponse:
    """Public: it shows only what the hall may see (attendance, 发出 / 已投, published results)."""
    return render(request, "screens/hall.html", {"title": "会场大屏", "view": "hall"})


@router.get("/screen/presidium", response_class=HTMLResponse)
async def presidium(request: Request) -> HTMLResponse:
    """The page itself holds nothing; its websocket shows the presidium's view to a browser
    logged in to the console as the chair or the secretariat (the session cookie, checked by
    /ws/display), or to one where the chair's token was typed into the page (kept in that tab
    only, never in a URL); otherwise the page asks to log in."""
    return render(request, "screens/presidium.html", {"title": "主席台屏", "view": "presidium"})
