"""When the devices fail: a draft poll recorded as held by show of hands (举手表决) or on paper
(纸质选票), its figures entered in a form by kind (voting.session.manual)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from tally.manual_count import METHOD_NAMES, SECRET_KINDS, Method
from voting.web.console.common import S, page, redirect, service

KIND_WORDS = {"motion": "议案", "projects": "项目", "election": "候选人"}


def _entry(poll: dict[str, Any]) -> dict[str, Any]:
    rules = poll.get("rules") or {}
    polls = rules.get("polls")
    if isinstance(polls, list) and polls:
        wanted = rules.get("poll")
        return next((p for p in polls if wanted is None or p.get("id") == wanted), polls[0])
    return dict(rules)


def _people(entry: dict[str, Any]) -> list[dict[str, Any]]:
    key = {"election": "candidates", "projects": "projects"}.get(str(entry.get("kind")), "persons")
    return [p for p in entry.get(key) or [] if isinstance(p, dict)]


def _lines(text: str) -> list[str]:
    return [x.strip() for x in text.replace("\r", "").split("\n") if x.strip()]


def entered_from_form(entry: dict[str, Any], form: dict[str, Any]) -> dict[str, Any]:
    """What :func:`tally.manual_count.manual_counts` reads, from the form's fields."""
    out: dict[str, Any] = {"method": str(form.get("method", ""))}
    for key in ("present", "issued", "received", "void"):
        value = str(form.get(key, "")).strip()
        if value:
            out[key] = value
    kind = entry.get("kind")
    form_c = kind == "projects" and entry.get("form") == "C"
    if kind == "motion":
        out["totals"] = {k: str(form.get(k, "")).strip() or "0" for k in ("yes", "no", "abstain")}
    elif form_c:
        out["ballots"] = [
            [x for x in line.replace("，", ",").replace(" ", ",").split(",") if x]
            for line in _lines(str(form.get("ballots", "")))
        ]
    else:
        out["totals"] = {
            str(p["id"]): {
                k: str(form.get(f"t-{p['id']}-{k}", "")).strip() or "0"
                for k in ("yes", "no", "abstain")
            }
            for p in _people(entry)
        }
    if kind == "election":
        write_ins: dict[str, str] = {}
        for line in _lines(str(form.get("write_ins", ""))):
            for sep in (",", "，", "\t", " "):
                if sep in line:
                    who, votes = line.rsplit(sep, 1)
                    break
            else:
                who, votes = line, ""
            write_ins[who.strip()] = votes.strip()
        out["write_ins"] = write_ins
    return out


def router() -> APIRouter:
    r = APIRouter()

    async def form_page(
        request: Request, user: Any, poll: dict[str, Any], v: dict[str, Any], error: str = ""
    ) -> Response:
        entry = _entry(poll)
        secret = entry.get("kind") in SECRET_KINDS or entry.get("form") == "C"
        return page(
            request,
            user,
            "manual.html",
            f"录入举手表决或纸质选票结果：{poll['title']}",
            status=422 if error else 200,
            poll=poll,
            entry=entry,
            people=_people(entry),
            v=v,
            error=error,
            secret=secret,
            methods=METHOD_NAMES,
            att=await service(request).attendance.attendance(),
        )

    @r.get("/console/polls/{poll_id}/manual", response_class=HTMLResponse)
    async def manual_form(request: Request, poll_id: str) -> Response:
        from voting.session.errors import ActionError
        from voting.web.auth import require_user

        user = require_user(request, S)
        try:
            poll = await service(request).polls.get(poll_id)
        except ActionError:
            return redirect("/console/polls", f"没有表决事项 {poll_id}", "error")
        if poll["state"] != "draft":
            return redirect(
                f"/console/polls/{poll_id}", "只有草稿可以录入举手表决或纸质选票结果", "error"
            )
        entry = _entry(poll)
        paper = entry.get("kind") in SECRET_KINDS or entry.get("form") == "C"
        method = Method.PAPER if paper else Method.SHOW_OF_HANDS
        return await form_page(request, user, poll, {"method": method.value})

    @r.post("/console/polls/{poll_id}/manual", response_class=HTMLResponse)
    async def manual_save(request: Request, poll_id: str) -> Response:
        from voting.session.errors import ActionError
        from voting.web.auth import require_form

        user, form = await require_form(request, S)
        svc = service(request)
        poll = await svc.polls.get(poll_id)
        values = {k: str(v) for k, v in form.items() if k != "csrf"}
        try:
            await svc.manual.record(poll_id, entered_from_form(_entry(poll), form), user.role.value)
        except ActionError as exc:
            return await form_page(request, user, poll, values, exc.message)
        method = METHOD_NAMES.get(Method(values.get("method", "paper")), "")
        return redirect(
            f"/console/polls/{poll_id}",
            f"已按{method}录入结果并由规则引擎计算：请监票人核对签名，然后由主持人公布。",
        )

    return r
