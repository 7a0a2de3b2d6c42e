"""The public bulletin board (公告栏) ``/results``: published results, count reports and their
signatures, each poll's ballot trackers, fingerprints and archives; a deputy finds her
tracker (``/results?tracker=…``, the address her tablet's receipt QR code opens); a short page
for auditors (``/results/verify``). Everything here is public: it is the published record."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, Response

from tally.archive import read_archive
from tally.box import BoxEntry, box_entries, find_tracker
from tally.errors import RecordError
from tally.manual_count import METHOD_NAMES, method_of, report_fingerprint
from tally.tracker import TrackerError, group_tracker, ungroup_tracker
from voting.session.display import archive_fingerprint
from voting.session.results_view import result_view
from voting.web.qrsvg import qr_svg
from voting.web.render import public_base, render

router = APIRouter(include_in_schema=False)

# Ballot boxes are public once a poll is closed (the archive is served from then on).
BOXED = ("closed", "tallied", "published")
MIN_SEARCH = 8  # two groups: a shorter start would match too many ballots to mean anything
MAX_MATCHES = 20

_BOXES: dict[str, tuple[int, int, list[BoxEntry]]] = {}


def _box(path: Path) -> list[BoxEntry]:
    """The archive's ballots (cached by size and modification time)."""
    try:
        st = path.stat()
    except OSError:
        return []
    cached = _BOXES.get(str(path))
    if cached and cached[:2] == (st.st_size, st.st_mtime_ns):
        return cached[2]
    try:
        entries = box_entries(read_archive(path))
    except (RecordError, OSError):
        entries = []
    _BOXES[str(path)] = (st.st_size, st.st_mtime_ns, entries)
    return entries


@dataclass(frozen=True)
class Found:
    poll_id: str
    title: str
    state: str
    entry: BoxEntry


def fingerprint_groups(hex_digest: str | None) -> str:
    return group_tracker(hex_digest) if hex_digest else ""


async def _record(request: Request) -> dict[str, Any]:
    data: dict[str, Any] = await request.app.state.service.record_data()
    return data


def _archive(request: Request, poll_id: str) -> Path:
    path: Path = request.app.state.service.ctx.archive_path(poll_id)
    return path


def _poll_entry(request: Request, poll: dict[str, Any], issued: int) -> dict[str, Any]:
    published = poll["state"] == "published"
    view = result_view({**poll, "received": None, "issued": issued}) if published else None
    fp = archive_fingerprint(_archive(request, poll["poll_id"])) if poll["archive"] else None
    report = poll.get("report") or None
    manual = method_of(poll.get("counts"))
    if manual is not None and report:  # counted by hand: the signed count report stands for it
        fp = report_fingerprint(str(report["text"]))
    return {
        "method_label": METHOD_NAMES[manual] if manual is not None else "",
        "poll": poll,
        "published": published,
        "result": view.data() if view is not None else None,
        "fingerprint": fp,
        "fingerprint_groups": fingerprint_groups(fp),
        "archive_url": f"/record/{poll['archive']}" if poll["archive"] else None,
        "report": report,
        "signed": len(report["signatures"]) if report else 0,
    }


async def _search(request: Request, polls: list[dict[str, Any]], text: str) -> list[Found]:
    prefix = ungroup_tracker(text)
    found: list[Found] = []
    for poll in polls:
        if poll["state"] not in BOXED or not poll["archive"]:
            continue
        entries = await asyncio.to_thread(_box, _archive(request, poll["poll_id"]))
        for e in find_tracker(entries, prefix):
            found.append(Found(poll["poll_id"], poll["title"], poll["state"], e))
    return found[:MAX_MATCHES]


@router.get("/results", response_class=HTMLResponse)
async def results(request: Request, tracker: str | None = Query(None, max_length=200)) -> Any:
    data = await _record(request)
    polls = [p for p in data["polls"] if p["state"] in BOXED]
    entries = [_poll_entry(request, p, p["issued"]) for p in reversed(polls)]
    search: dict[str, Any] | None = None
    if tracker is not None:
        search = {"text": tracker, "error": "", "found": [], "grouped": ""}
        try:
            prefix = ungroup_tracker(tracker)
            search["grouped"] = group_tracker(prefix)
            if len(prefix) < MIN_SEARCH:
                search["error"] = f"请至少输入跟踪号的前两组（{MIN_SEARCH}个字符）。"
            else:
                search["found"] = await _search(request, polls, tracker)
                search["complete"] = len(prefix) >= 43
        except TrackerError:
            search["error"] = "跟踪号只含字母、数字、“+”和“/”，请检查后重新输入。"
    return render(
        request,
        "results/index.html",
        {"title": "公告栏", "entries": entries, "search": search, "group": group_tracker},
    )


@router.get("/results/verify", response_class=HTMLResponse)
async def verify_help(request: Request) -> HTMLResponse:
    return render(request, "results/verify.html", {"title": "核验说明"})


async def _poll(request: Request, poll_id: str) -> dict[str, Any]:
    data = await _record(request)
    for p in data["polls"]:
        if p["poll_id"] == poll_id and p["state"] in BOXED:
            poll: dict[str, Any] = p
            return poll
    raise HTTPException(404, {"code": "not_found", "message": "no such published poll"})


@router.get("/results/{poll_id}", response_class=HTMLResponse)
async def poll_page(request: Request, poll_id: str) -> HTMLResponse:
    poll = await _poll(request, poll_id)
    entry = _poll_entry(request, poll, poll["issued"])
    box = await asyncio.to_thread(_box, _archive(request, poll_id))
    return render(
        request,
        "results/poll.html",
        {"title": poll["title"], "e": entry, "box": box, "group": group_tracker},
    )


@router.get("/results/{poll_id}/qr.svg")
async def poll_qr(request: Request, poll_id: str) -> Response:
    """A QR code of this poll's page on the bulletin board (only once it is published)."""
    poll = await _poll(request, poll_id)
    if poll["state"] != "published":
        raise HTTPException(404, {"code": "not_found", "message": "not published"})
    base = public_base(request)
    svg = qr_svg(f"{base}/results/{poll_id}", f"二维码：打开「{poll['title']}」的公开记录")
    return Response(svg, media_type="image/svg+xml", headers={"Cache-Control": "no-store"})
