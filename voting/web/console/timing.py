"""A poll's preset voting time (GB 50799 §6.2.2-4) and when the hall screen shows its result
(直接显示 / 延时显示, §6.2.2-5): the fields of the poll form, the poll page's small form to change
them, and the session's result display on the overview."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from tally.poll_description import DescriptionError
from voting.web.auth import require_form
from voting.web.console.common import C, S, redirect, service

DISPLAY_NAMES = {
    "delayed": "延时显示：主持人宣布结果后，会场大屏才显示",
    "immediate": "直接显示：计票完成即在会场大屏显示",
}
MAX_MINUTES = 24 * 60


def parse_duration(text: Any) -> int | None:
    """The voting time typed in minutes ("3", "2.5") or minutes and seconds ("1:30"), as
    seconds; None when left empty. DescriptionError in words otherwise."""
    value = str(text or "").strip().replace("：", ":")
    if not value:
        return None
    wrong = DescriptionError("投票时间应填写分钟数，如 3、2.5 或 1:30（1分30秒），不超过 24 小时")
    try:
        if ":" in value:
            minutes, seconds = value.split(":", 1)
            if not seconds.isdigit() or int(seconds) >= 60:
                raise wrong
            total = int(minutes or "0") * 60 + int(seconds)
        else:
            total = round(float(value) * 60)
    except ValueError:
        raise wrong from None
    if not 1 <= total <= MAX_MINUTES * 60:
        raise wrong
    return total


def duration_words(seconds: int | None) -> str:
    """如 "3分钟", "1分30秒"; "" without a preset time."""
    if not seconds:
        return ""
    minutes, rest = divmod(seconds, 60)
    if not minutes:
        return f"{rest}秒"
    return f"{minutes}分钟" if not rest else f"{minutes}分{rest}秒"


def minutes_text(seconds: int | None) -> str:
    """The duration as the form shows it again ("3", "1:30")."""
    if not seconds:
        return ""
    minutes, rest = divmod(seconds, 60)
    return str(minutes) if not rest else f"{minutes}:{rest:02d}"


def form_settings(form: dict[str, Any]) -> dict[str, Any]:
    """``duration`` and ``result_display`` of a poll form (DescriptionError in words)."""
    display = str(form.get("result_display", "") or "")
    if display and display not in DISPLAY_NAMES:
        raise DescriptionError("请选择结果显示方式")
    return {"duration": parse_duration(form.get("duration")), "result_display": display or None}


def router() -> APIRouter:
    r = APIRouter()

    @r.post("/console/polls/{poll_id}/settings")
    async def poll_settings(request: Request, poll_id: str) -> Response:
        from voting.session.errors import ActionError

        user, form = await require_form(request, S, C)
        svc = service(request)
        back = f"/console/polls/{poll_id}"
        try:
            values = form_settings(form)
        except DescriptionError as exc:
            return redirect(back, f"未保存：{exc.message}", "error")
        changes: dict[str, Any] = {"result_display": values["result_display"]}
        if "duration" in form:
            if user.role != S:
                return redirect(back, "投票时间由秘书处设置", "error")
            changes["duration"] = values["duration"]
        try:
            poll = await svc.polls.configure(poll_id, user.role.value, **changes)
        except ActionError as exc:
            return redirect(back, f"未保存：{exc.message}", "error")
        words = duration_words(poll["duration"]) or "不限时"
        shown = DISPLAY_NAMES.get(poll["result_display"] or "", "按会议设置")
        return redirect(back, f"已保存：投票时间 {words}；结果{shown.split('：')[0]}。")

    @r.post("/console/result_display")
    async def session_display(request: Request) -> Response:
        from voting.session.errors import ActionError

        user, form = await require_form(request, S, C)
        try:
            value = await service(request).polls.set_result_display(
                str(form.get("result_display", "")), user.role.value
            )
        except ActionError:
            return redirect("/console", "请选择结果显示方式", "error")
        return redirect(
            "/console", f"本次会议的结果显示已设为{DISPLAY_NAMES[value].split('：')[0]}"
        )

    return r
