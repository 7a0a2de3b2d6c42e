"""Printed documents (count reports, attendance sheet, announcement), the audit log and the
session record as one download."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from voting.printing.count_report import count_report_pdf
from voting.printing.sheets import AnnouncedPoll, AttendanceLine, announcement_pdf, attendance_pdf
from voting.session import desk
from voting.session import documents as data
from voting.web.auth import require_user
from voting.web.console.common import C, S, page, pdf_response, redirect, service
from voting.web.render import public_base


def _now() -> str:
    return desk.local_time(datetime.now(UTC).isoformat())


def _base(request: Request) -> str:
    return public_base(request)  # renda serve --public-url, else this request's address


def router() -> APIRouter:
    r = APIRouter()

    @r.get("/console/documents", response_class=HTMLResponse)
    async def documents(request: Request) -> Response:
        user = require_user(request, S, C)
        polls = await service(request).polls.all()
        counted = [p for p in polls if p["state"] in ("tallied", "published")]
        return page(request, user, "documents.html", "文件与记录", polls=counted)

    @r.get("/console/polls/{poll_id}/report.pdf")
    async def report_pdf(request: Request, poll_id: str) -> Response:
        from voting.session.errors import ActionError

        require_user(request, S, C)
        svc = service(request)
        try:
            poll = await svc.polls.get(poll_id)
        except ActionError:
            return redirect("/console/documents", f"没有表决事项 {poll_id}", "error")
        data_in = await data.report_input(svc, poll, _base(request), _now())
        if data_in is None:
            return redirect(
                f"/console/polls/{poll_id}", "计票完成后才能打印计票结果报告单", "error"
            )
        return pdf_response(count_report_pdf(data_in), f"计票结果报告单-{poll_id}.pdf")

    @r.get("/console/attendance.pdf")
    async def attendance_sheet(request: Request) -> Response:
        require_user(request, S, C)
        svc = service(request)
        rows = await desk.sheet(svc)
        lines = [
            AttendanceLine(
                x.seat,
                x.name,
                x.delegation,
                x.status_name,
                desk.short_time(x.checked_in_at) if x.checked_in_at else "",
                x.late,
                "；".join(
                    f"{e.name} {desk.short_time(e.at)}"
                    for e in x.events
                    if e.action not in ("attendance_present",)
                ),
            )
            for x in rows
        ]
        pdf = attendance_pdf(svc.session_name, _now(), await svc.attendance.attendance(), lines)
        return pdf_response(pdf, "出席情况.pdf")

    @r.get("/console/announcement.pdf")
    async def announcement(request: Request) -> Response:
        require_user(request, S, C)
        svc = service(request)
        out: list[AnnouncedPoll] = []
        for p in await svc.polls.all():
            if p["state"] != "published":
                continue
            rep: dict[str, Any] = (p.get("outcome") or {}).get("report") or {}
            out.append(
                AnnouncedPoll(
                    p["poll_id"],
                    p["title"],
                    str(rep.get("kind_label", "")),
                    str(rep.get("summary", "")),
                    [
                        (
                            str(i["name"]) + ("（另选）" if i.get("write_in") else ""),
                            int(i["yes"]),
                            int(i["no"]),
                            int(i["abstain"]),
                            str(i["result"]),
                        )
                        for i in rep.get("rows", [])
                    ],
                    f"应到{rep.get('total')}人，实到{rep.get('present')}人，发出{rep.get('issued')}张，"
                    f"收回{rep.get('returned')}张，有效{rep.get('valid')}张，无效{rep.get('void')}张。",
                    data.fingerprint(svc, p["poll_id"]),
                    f"{_base(request)}/record/polls/{p['poll_id']}/{p['uuid']}.bel",
                )
            )
        return pdf_response(announcement_pdf(svc.session_name, _now(), out), "结果公告.pdf")

    @r.get("/console/record.tar.gz")
    async def record(request: Request) -> Response:
        require_user(request, S, C)
        blob = await data.record_archive(service(request))
        return Response(
            blob,
            media_type="application/gzip",
            headers={
                "Content-Disposition": 'attachment; filename="renda-record.tar.gz"',
                "Cache-Control": "no-store",
            },
        )

    @r.get("/console/audit", response_class=HTMLResponse)
    async def audit(request: Request, role: str = "", action: str = "", q: str = "") -> Response:
        user = require_user(request, S, C)
        entries = await data.audit_log(service(request), role, action, q)
        return page(
            request,
            user,
            "audit.html",
            "操作日志",
            entries=entries[:1000],
            total=len(entries),
            role=role,
            action=action,
            q=q,
            roles=data.ROLE_NAMES,
            actions=data.ACTION_NAMES,
        )

    @r.get("/console/audit.csv")
    async def audit_csv(
        request: Request, role: str = "", action: str = "", q: str = ""
    ) -> Response:
        require_user(request, S, C)
        entries = await data.audit_log(service(request), role, action, q)
        return Response(
            data.audit_csv(entries),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="renda-audit.csv"'},
        )

    return r
