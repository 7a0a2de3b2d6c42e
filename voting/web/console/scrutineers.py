"""Scrutineers (监票人) and the key ceremony: register, each token shown once, progress."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from voting.session.documents import scrutineer_names
from voting.web.auth import require_form, require_user
from voting.web.console.common import C, S, page, redirect, service

CEREMONY_STATES = {
    "none": "尚未开始",
    "pending": "等待监票人",
    "step1": "进行中（第1步）",
    "step3": "进行中（第3步）",
    "step5": "进行中（第5步）",
    "done": "已完成",
    "failed": "失败",
}


async def _status(request: Request) -> dict[str, Any]:
    svc = service(request)
    names = await scrutineer_names(svc)
    connected = set(svc.hub.trustees)
    ceremony = await svc.ceremony.status()
    return {
        "scrutineers": [
            {"index": i, "name": n, "connected": i in connected} for i, n in sorted(names.items())
        ],
        "ceremony": ceremony,
        "state": CEREMONY_STATES.get(str(ceremony.get("state")), str(ceremony.get("state"))),
        "connected": sum(1 for i in names if i in connected),
    }


def router() -> APIRouter:
    r = APIRouter()

    @r.get("/console/scrutineers", response_class=HTMLResponse)
    async def scrutineers(request: Request) -> Response:
        user = require_user(request, S, C)
        return page(
            request, user, "scrutineers.html", "监票人与密钥生成", **(await _status(request))
        )

    @r.get("/console/scrutineers/status.json")
    async def status(request: Request) -> Response:
        require_user(request, S, C)
        st = await _status(request)
        return JSONResponse(
            {"state": st["state"], "connected": st["connected"]},
            headers={"Cache-Control": "no-store"},
        )

    @r.post("/console/scrutineers", response_class=HTMLResponse)
    async def add(request: Request) -> Response:
        from voting.session.errors import ActionError

        user, form = await require_form(request, S)
        name = str(form.get("name", "")).strip()
        if not name or len(name) > 200:
            return redirect("/console/scrutineers", "请填写监票人姓名（200字以内）", "error")
        try:
            out = await service(request).staff.add_scrutineer(name)
        except ActionError as exc:
            return redirect("/console/scrutineers", exc.message, "error")
        return page(
            request,
            user,
            "scrutineer_token.html",
            "监票人令牌",
            name=name,
            index=out["index"],
            token=out["token"],
            url=str(request.base_url).rstrip("/"),
        )

    @r.post("/console/ceremony")
    async def ceremony(request: Request) -> Response:
        from voting.session.errors import ActionError

        user, form = await require_form(request, S)
        try:
            threshold = int(str(form.get("threshold", "")))
        except ValueError:
            return redirect("/console/scrutineers", "门限应填写数字", "error")
        try:
            await service(request).ceremony.start(threshold)
        except ActionError as exc:
            return redirect("/console/scrutineers", f"未能开始：{exc.message}", "error")
        del user
        return redirect("/console/scrutineers", "密钥生成已开始：各监票人工具自动完成，请稍候。")

    return r
