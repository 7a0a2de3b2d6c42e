"""Roster (CSV upload with a preview), enrolment cards, and the check-in desk."""

from __future__ import annotations

import asyncio
import base64
import csv
import io
import re
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request, UploadFile
from fastapi.responses import HTMLResponse, JSONResponse, Response

from voting.printing.cards import Card, cards_pdf
from voting.session import desk
from voting.session.roster import MAX_ROSTER_BYTES, check_roster, check_roster_file
from voting.web.auth import require_form, require_user
from voting.web.console.common import C, S, page, redirect, service


def _normalized_csv(entries: Any) -> str:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(["name", "delegation", "seat"])
    for e in entries:
        w.writerow([e.name, e.delegation, e.seat])
    return out.getvalue()


async def _cards_page(
    request: Request, user: Any, rows: list[dict[str, Any]], done: str, filename: str
) -> Response:
    """The cards of codes just made, as a download inside this one page: the server keeps
    only the codes' hashes (voting.session.codes), so the PDF exists nowhere else."""
    svc = service(request)
    cards = [
        Card(d["name"], d["seat"], d["delegation"], d["enrolment_code"])
        for d in sorted(rows, key=lambda d: d["seat"])
    ]
    pdf = await asyncio.to_thread(cards_pdf, svc.session_name, cards)
    response = page(
        request,
        user,
        "cards_ready.html",
        "登记卡已生成",
        done=done,
        count=len(cards),
        filename=filename,
        pdf_url="data:application/pdf;base64," + base64.b64encode(pdf).decode("ascii"),
    )
    response.headers["Cache-Control"] = "no-store"
    return response


async def _roster_locked(svc: Any) -> bool:
    return any(p["state"] != "draft" for p in await svc.polls.all())


def router() -> APIRouter:
    r = APIRouter()

    @r.get("/console/roster", response_class=HTMLResponse)
    async def roster_page(request: Request) -> Response:
        user = require_user(request, S)
        svc = service(request)
        deputies = await svc.attendance.list_deputies()
        return page(
            request,
            user,
            "roster.html",
            "代表名册与登记卡",
            deputies=deputies,
            enrolled=sum(1 for d in deputies if d["enrolled"]),
            locked=await _roster_locked(svc),
        )

    @r.post("/console/roster/preview", response_class=HTMLResponse)
    async def roster_preview(request: Request) -> Response:
        user, form = await require_form(request, S)
        upload = form.get("file")
        if not isinstance(upload, UploadFile) and not hasattr(upload, "read"):
            return redirect("/console/roster", "请选择名册文件（CSV）", "error")
        data = await upload.read(MAX_ROSTER_BYTES + 1)  # type: ignore[union-attr]
        checked = check_roster_file(data)
        svc = service(request)
        existing = {d["seat"] for d in await svc.attendance.list_deputies()}
        clash = [e for e in checked.entries if e.seat in existing]
        return page(
            request,
            user,
            "roster_preview.html",
            "名册预览",
            checked=checked,
            filename=getattr(upload, "filename", "") or "",
            clash=clash,
            normalized=_normalized_csv(checked.entries) if checked.ok and not clash else "",
        )

    @r.post("/console/roster/import", response_class=HTMLResponse)
    async def roster_import(request: Request) -> Response:
        from voting.session.errors import ActionError

        user, form = await require_form(request, S)
        text = str(form.get("roster", ""))
        checked = check_roster(text)
        if not checked.ok:
            return redirect("/console/roster", "名册有误，未导入：请重新上传", "error")
        try:
            rows = await service(request).attendance.import_roster(text)
        except ActionError as exc:
            return redirect("/console/roster", f"未导入：{exc.message}", "error")
        return await _cards_page(
            request, user, rows, f"已导入 {len(rows)} 名代表，每人一张登记卡。", "表决器登记卡.pdf"
        )

    @r.get("/console/cards/new", response_class=HTMLResponse)
    async def new_cards_confirm(request: Request) -> Response:
        user = require_user(request, S)
        deputies = await service(request).attendance.list_deputies()
        waiting = [d for d in deputies if not d["enrolled"]]
        return page(request, user, "new_cards.html", "重新生成登记卡", waiting=waiting)

    @r.post("/console/cards/new", response_class=HTMLResponse)
    async def new_cards(request: Request) -> Response:
        user, _ = await require_form(request, S)
        rows = await service(request).attendance.new_cards(user.role.value)
        if not rows:
            return redirect("/console/roster", "每位代表的表决器都已登记，没有要打印的登记卡")
        return await _cards_page(
            request,
            user,
            rows,
            f"已为 {len(rows)} 名未登记的代表生成新登记码，原登记卡作废。",
            "表决器登记卡.pdf",
        )

    @r.get("/console/deputies/{deputy_id}/new-card", response_class=HTMLResponse)
    async def new_card_confirm(request: Request, deputy_id: int) -> Response:
        user = require_user(request, S)
        d = next(
            (
                d
                for d in await service(request).attendance.list_deputies()
                if d["deputy_id"] == deputy_id
            ),
            None,
        )
        if d is None:
            return redirect("/console/roster", "没有这位代表", "error")
        return page(request, user, "new_card.html", "补发登记卡", deputy=d)

    @r.post("/console/deputies/{deputy_id}/new-card", response_class=HTMLResponse)
    async def new_card(request: Request, deputy_id: int) -> Response:
        from voting.session.errors import ActionError

        user, _ = await require_form(request, S)
        try:
            d = await service(request).attendance.new_enrolment_code(deputy_id, user.role.value)
        except ActionError as exc:
            return redirect("/console/roster", exc.message, "error")
        return await _cards_page(
            request,
            user,
            [d],
            f"已为{d['name']}（座位 {d['seat']}）生成新登记码，原登记卡和原表决器已作废。",
            f"登记卡-{d['seat']}.pdf",
        )

    # -- check-in desk ------------------------------------------------------------------

    @r.get("/console/checkin", response_class=HTMLResponse)
    async def checkin_page(request: Request, q: str = "") -> Response:
        user = require_user(request, S, C)
        svc = service(request)
        rows, started = await desk.desk(svc, q)
        everyone, _ = await desk.desk(svc) if q else (rows, started)
        not_connected = [x for x in everyone if x.status == "present" and not x.connected]
        return page(
            request,
            user,
            "checkin.html",
            "签到",
            q=q,
            rows=rows[:200],
            delegations=sorted({x.delegation for x in everyone}),
            more=max(0, len(rows) - 200),
            started=started,
            att=await svc.attendance.attendance(),
            not_connected=not_connected,
            actions_for=lambda status: desk.actions_for(status, started),
            action_names=desk.ACTION_NAMES,
            short_time=desk.short_time,
        )

    @r.get("/console/checkin/figures.json")
    async def figures(request: Request) -> Response:
        require_user(request, S, C)
        svc = service(request)
        att = await svc.attendance.attendance()
        # refetched on every attendance or poll message: the ids of those present, not the
        # whole desk (names, events) of 3,000 deputies
        att["not_connected"] = await desk.present_not_connected(svc)
        return JSONResponse(att, headers={"Cache-Control": "no-store"})

    @r.post("/console/checkin/batch")
    async def checkin_batch(request: Request) -> Response:
        """签到 of a whole delegation (代表团) or of a list of seats, in one step."""
        from voting.session.errors import ActionError

        user, form = await require_form(request, S)
        delegation = str(form.get("delegation", "")).strip()
        text = str(form.get("seats", ""))
        seats = [x for x in re.split(r"[\s,，、;；]+", text) if x]
        if bool(delegation) == bool(seats):
            return redirect("/console/checkin", "请选一个代表团，或填写座位号（二者选一）", "error")
        try:
            batch, _att = await desk.check_in_many(
                service(request),
                user.role.value,
                seats=seats or None,
                delegation=delegation,
            )
        except ActionError as exc:
            return redirect("/console/checkin", exc.message, "error")
        what = f"代表团“{delegation}”" if delegation else f"{len(seats)} 个座位"
        done = f"{what}：{len(batch.checked_in)} 名代表{'补签到' if batch.late else '签到'}，已记录"
        if batch.unchanged:
            left = "、".join(
                f"{seat}（{desk.status_name(st)}）" for seat, st in batch.unchanged[:20]
            )
            more = " 等" if len(batch.unchanged) > 20 else ""
            done += f"；未改变 {len(batch.unchanged)} 名：{left}{more}"
        return redirect("/console/checkin", done)

    @r.post("/console/checkin/{deputy_id}/{action}")
    async def checkin_action(request: Request, deputy_id: int, action: str) -> Response:
        from voting.session.errors import ActionError

        user, form = await require_form(request, S)
        q = str(form.get("q", ""))
        back = "/console/checkin" + (f"?q={quote(q)}" if q else "")
        try:
            what = desk.DeskAction(action)
        except ValueError:
            return redirect(back, "没有这个操作", "error")
        try:
            await desk.act(service(request), deputy_id, what, user.role.value)
        except (desk.DeskError, ActionError) as exc:
            return redirect(back, str(getattr(exc, "message", exc)), "error")
        rows, _ = await desk.desk(service(request))
        who = next((x for x in rows if x.deputy_id == deputy_id), None)
        name = f"{who.name}（座位 {who.seat}）" if who else ""
        return redirect(back, f"{name}：{desk.ACTION_NAMES[what]}，已记录")

    return r
