"""The secretariat's console (``/console``): a whole session run from forms, in Chinese.

Pages per job: the overview (this module), roster and cards and the check-in desk
(``roster``), scrutineers and the key ceremony (``scrutineers``), polls and their lifecycle
(``polls``), printed documents, the audit log and the record (``documents``). Every page needs
a login (voting/web/auth.py); the chair sees what the chair may and does only close and publish.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from tally.rules.model import Level
from voting.session import desk
from voting.session.documents import level_of, set_level
from voting.session.polls import session_result_display
from voting.web.auth import require_form, require_user
from voting.web.console import documents, manual, polls, roster, scrutineers, timing
from voting.web.console.common import C, S, page, redirect, service

LEVEL_NAMES = {"township": "乡镇", "county": "县（区）", "city": "设区的市"}


def router() -> APIRouter:
    r = APIRouter()

    @r.get("/console", response_class=HTMLResponse)
    async def overview(request: Request) -> Response:
        user = require_user(request, S, C)
        svc = service(request)
        rows, _ = await desk.desk(svc)
        ceremony = await svc.ceremony.status()
        return page(
            request,
            user,
            "index.html",
            "概览",
            att=await svc.attendance.attendance(),
            not_connected=sum(1 for x in rows if x.status == "present" and not x.connected),
            enrolled=sum(1 for x in rows if x.enrolled),
            ceremony_state=scrutineers.CEREMONY_STATES.get(str(ceremony.get("state")), ""),
            polls=await svc.polls.all(),
            state_names=polls.STATE_NAMES,
            level=level_of(svc),
            level_names=LEVEL_NAMES,
            result_display=await svc.db(session_result_display),
        )

    @r.post("/console/level")
    async def level(request: Request) -> Response:
        user, form = await require_form(request, S)
        try:
            value = Level(str(form.get("level", "")))
        except ValueError:
            return redirect("/console", "没有这个级别", "error")
        await set_level(service(request), value, user.role.value)
        return redirect("/console", f"会议级别已设为{LEVEL_NAMES[value.value]}")

    for sub in (
        timing,
        roster,
        manual,
        polls,
        scrutineers,
        documents,
    ):  # timing's and manual's routes before polls' actions
        r.include_router(sub.router())
    return r
