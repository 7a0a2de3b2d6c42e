"""Polls built from forms by kind, the poll's page with its live figures, and the lifecycle
with a confirmation page that says what will happen."""

from __future__ import annotations

import secrets
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from tally.poll_description import (
    FORM_NAMES,
    ORGAN_NAMES,
    POST_TYPE_NAMES,
    ROUND_NAMES,
    Description,
    DescriptionError,
    ElectionDescription,
    MotionDescription,
    PersonsDescription,
    ProjectsDescription,
    check_countable,
    derive,
    imported_polls,
)
from tally.rules.model import Organ, PostType, ProjectForm, Round
from voting.session import desk
from voting.session.documents import level_of
from voting.web.auth import WebRole, require_form, require_user
from voting.web.console.common import C, S, page, redirect, service
from voting.web.console.timing import duration_words, form_settings, minutes_text

KINDS = {
    "motion": "议案表决",
    "projects": "民生实事项目票决",
    "election": "选举",
    "confirmation": "表决通过人选（表决票）",
    "removal": "罢免",
}
STATE_NAMES = {
    "draft": "草稿",
    "collecting": "准备选票",
    "open": "投票中",
    "closed": "计票中",
    "tallied": "已计票（未公布）",
    "published": "已公布",
    "withdrawn": "已撤回",
    "void": "已作废",
}
KIND_OF_SERVER = {
    "motion": "议案表决",
    "projects": "民生实事项目票决",
    "election": "选举",
    "confirmation": "表决通过人选",
    "other": "罢免或其他",
}
# action → (roles, button label, from which states, what will happen)
ACTIONS: dict[str, tuple[tuple[WebRole, ...], str, tuple[str, ...], str]] = {
    "open": (
        (S,),
        "开始投票",
        ("draft",),
        "冻结本次的选民名单：此刻已签到、表决器已登记的代表；向他们的表决器发出选票"
        "（发出选票）。开始后此事项不能再修改，代表名册也不能再修改。之后签到的代表拿不到本次选票。",
    ),
    "start": (
        (S,),
        "立即发出选票",
        ("collecting",),
        "不再等待尚未响应的表决器，立即向已响应的代表发出选票；未响应的表决器本次拿不到选票。",
    ),
    "close": (
        (S, C),
        "结束投票",
        ("open",),
        "结束投票：服务器不再接受选票，未投票的代表记为未投（未按）。随后服务器和监票人开始计票，"
        "结果在几秒到几分钟内得出；结果公布前只在主席台和控制台显示。",
    ),
    "publish": (
        (S, C),
        "公布结果",
        ("tallied",),
        "公布结果：会场大屏、代表的表决器和公告栏显示本次结果及每位候选人的得票数。公布后不能撤回。",
    ),
    "withdraw": (
        (S,),
        "撤回",
        ("draft", "collecting", "open"),
        "撤回此事项：不再进行；如已在投票，已投的选票不计票，记录中保留撤回的事实。",
    ),
    "void": (
        (S,),
        "作废",
        ("closed", "tallied"),
        "宣布本次投票无效（例如收回的选票多于发出的选票）：结果不公布，记录中保留作废的事实；"
        "之后可以“重新选举”。",
    ),
    "rerun": (
        (S,),
        "重新选举（新建草稿）",
        ("void", "withdrawn"),
        "以与本次完全相同的内容新建一个草稿，与本次相关联；检查后再开始投票。",
    ),
}


def _lines(text: str) -> tuple[str, ...]:
    return tuple(line.strip() for line in text.replace("\r", "").split("\n") if line.strip())


def _int(value: Any, what: str) -> int:
    try:
        return int(str(value).strip())
    except ValueError:
        raise DescriptionError(f"{what}应填写数字") from None


def description_from_form(kind: str, form: dict[str, Any]) -> Description:
    """The poll's description from the form's fields (DescriptionError in words)."""
    title = str(form.get("title", ""))
    if kind == "motion":
        return MotionDescription(title, str(form.get("text", "")))
    if kind == "projects":
        select = str(form.get("select", "")).strip()
        return ProjectsDescription(
            title,
            _lines(str(form.get("projects", ""))),
            _int(select, "应选项目数") if select else None,
            _form_of(form.get("form", "B")),
            competitive=bool(form.get("competitive")),
        )
    if kind == "election":
        try:
            post_type = PostType(str(form.get("post_type", "")))
            organ = Organ(str(form.get("organ", "")))
            round_ = Round(str(form.get("round", "regular")))
        except ValueError:
            raise DescriptionError("请选择职务类别和所属机关") from None
        return ElectionDescription(
            title,
            str(form.get("post", "")),
            post_type,
            organ,
            _int(form.get("seats", ""), "应选人数"),
            _lines(str(form.get("candidates", ""))),
            round=round_,
        )
    persons = []
    for line in _lines(str(form.get("persons", ""))):
        for sep in (",", "，", "\t"):
            if sep in line:
                name, post = line.split(sep, 1)
                break
        else:
            name, post = line, ""
        persons.append((name.strip(), post.strip()))
    return PersonsDescription(title, tuple(persons), removal=kind == "removal")


def _form_of(value: Any) -> ProjectForm:
    try:
        return ProjectForm(str(value))
    except ValueError:
        raise DescriptionError("请选择票决方式（A式、B式或C式）") from None


def _ballot_ints(svc: Any) -> int:
    """Integers one ciphertext of the session's election group holds (room for free names)."""
    from keys.embedding import max_values

    return max_values(svc.groups.election)


def _roster_max(deputies: list[dict[str, Any]]) -> int:
    numbers = [int(d["seat"]) for d in deputies if d["seat"].isascii() and d["seat"].isdigit()]
    return max(numbers, default=0)


def _buttons(user: Any, poll: dict[str, Any]) -> list[dict[str, str]]:
    from tally.poll_description import paper_only

    on_paper = paper_only(poll.get("rules"))  # a ranking: never opened on the tablets
    return [
        {"action": a, "label": label}
        for a, (roles, label, states, _) in ACTIONS.items()
        if user.role in roles and poll["state"] in states and not (on_paper and a == "open")
    ]


def router() -> APIRouter:
    r = APIRouter()

    def form_page(
        request: Request,
        user: Any,
        kind: str,
        values: dict[str, Any],
        error: Any = None,
        status: int = 200,
    ) -> Response:
        return page(
            request,
            user,
            "poll_form.html",
            f"新建{KINDS[kind]}",
            status=status,
            kind=kind,
            kind_name=KINDS[kind],
            v=values,
            error=error,
            post_types=POST_TYPE_NAMES,
            organs=ORGAN_NAMES,
            rounds={
                k: v for k, v in ROUND_NAMES.items() if k in (Round.REGULAR, Round.BY_ELECTION)
            },
            forms=FORM_NAMES,  # B first: the usual 最多选N项
            level=level_of(service(request)),
            group=service(request).groups.election.name,
            homomorphic_group=service(request).group.name,
        )

    @r.get("/console/polls", response_class=HTMLResponse)
    async def polls(request: Request) -> Response:
        user = require_user(request, S, C)
        items = await service(request).polls.all()
        return page(
            request,
            user,
            "polls.html",
            "表决事项",
            polls=items,
            kinds=KINDS,
            state_names=STATE_NAMES,
            kind_names=KIND_OF_SERVER,
        )

    @r.get("/console/polls/import", response_class=HTMLResponse)
    async def import_form(request: Request) -> Response:
        user = require_user(request, S)
        return page(request, user, "poll_import.html", "导入选举办法", error=None)

    @r.post("/console/polls/import", response_class=HTMLResponse)
    async def import_rules(request: Request) -> Response:
        from tally.rules.documents import parse_document
        from tally.rules.errors import RulesError
        from voting.session.errors import ActionError

        user, form = await require_form(request, S)
        upload = form.get("file")
        if upload is None or not hasattr(upload, "read"):
            return redirect("/console/polls/import", "请选择选举办法文件（YAML 或 JSON）", "error")
        raw = await upload.read(2 * 1024 * 1024 + 1)
        svc = service(request)
        try:
            if len(raw) > 2 * 1024 * 1024:
                raise DescriptionError("文件超过 2 MB")
            try:
                text = raw.decode("utf-8-sig")
            except UnicodeDecodeError:
                raise DescriptionError("选举办法文件应为 UTF-8 编码的 YAML 或 JSON") from None
            try:
                document = parse_document(text, source="选举办法")
            except RulesError as exc:
                raise DescriptionError(f"不是有效的 YAML 或 JSON：{exc}") from None
            if not isinstance(document, dict):
                raise DescriptionError("选举办法文件应是一个含 session 和 polls 的文档")
            derived = imported_polls(
                document,
                roster_max=_roster_max(await svc.attendance.list_deputies()),
                total=await svc.attendance.deputies_count(),
                max_ints=_ballot_ints(svc),
            )
        except DescriptionError as exc:
            return page(request, user, "poll_import.html", "导入选举办法", status=422, error=exc)
        created: list[str] = []
        for d in derived:
            try:
                out = await svc.polls.create(d.title, d.kind, d.template, d.rules, False)
            except ActionError as exc:
                return redirect(
                    "/console/polls",
                    f"已保存 {len(created)} 项；“{d.title}”未保存：{exc.message}",
                    "error",
                )
            created.append(out["poll_id"])
        return redirect(
            "/console/polls",
            f"已从选举办法保存 {len(created)} 个草稿（{'、'.join(created)}）："
            "请逐项核对后开始投票。",
        )

    @r.get("/console/polls/new/{kind}", response_class=HTMLResponse)
    async def new_poll(request: Request, kind: str) -> Response:
        user = require_user(request, S)
        if kind not in KINDS:
            return redirect("/console/polls", "没有这种表决", "error")
        defaults: dict[str, Any] = {"competitive": "1", "form": "B", "round": "regular"}
        return form_page(request, user, kind, defaults)

    @r.post("/console/polls/new/{kind}", response_class=HTMLResponse)
    async def save_poll(request: Request, kind: str) -> Response:
        from voting.session.errors import ActionError

        user, form = await require_form(request, S)
        if kind not in KINDS:
            return redirect("/console/polls", "没有这种表决", "error")
        svc = service(request)
        values = {k: str(v) for k, v in form.items() if k != "csrf"}
        try:
            desc = description_from_form(kind, form)
            derived = derive(
                desc,
                entry_id=f"{kind}-{secrets.token_hex(3)}",
                level=level_of(svc),
                session_name=svc.session_name,
                roster_max=_roster_max(await svc.attendance.list_deputies()),
                max_ints=_ballot_ints(svc),
            )
            total = await svc.attendance.deputies_count()
            check_countable(derived.template, derived.rules, total)
            timing = form_settings(form)
        except DescriptionError as exc:
            return form_page(request, user, kind, values, exc, 422)
        try:
            created = await svc.polls.create(
                derived.title,
                derived.kind,
                derived.template,
                derived.rules,
                bool(form.get("last_press_valid")),
                **timing,
            )
        except ActionError as exc:
            return form_page(request, user, kind, values, DescriptionError(exc.message), 422)
        return redirect(
            f"/console/polls/{created['poll_id']}",
            f"已保存为草稿（{created['poll_id']}）：请核对选票内容，然后开始投票。",
        )

    @r.get("/console/polls/{poll_id}", response_class=HTMLResponse)
    async def poll_page(request: Request, poll_id: str) -> Response:
        from voting.session.errors import ActionError

        user = require_user(request, S, C)
        svc = service(request)
        try:
            poll = await svc.polls.get(poll_id)
        except ActionError:
            return redirect("/console/polls", f"没有表决事项 {poll_id}", "error")
        rules = poll.get("rules") or {}
        entry = (rules.get("polls") or [rules])[0] if rules else {}
        outcome = poll.get("outcome") or {}
        followups = [await svc.polls.get(f) for f in poll.get("followups", [])]
        return page(
            request,
            user,
            "poll.html",
            poll["title"],
            poll=poll,
            entry=entry,
            report=outcome.get("report") if isinstance(outcome, dict) else None,
            outcome_error=outcome.get("error") if isinstance(outcome, dict) else None,
            state_names=STATE_NAMES,
            kind_names=KIND_OF_SERVER,
            buttons=_buttons(user, poll),
            followups=followups,
            att=await svc.attendance.attendance(),
            duration_text=minutes_text(poll.get("duration")),
            duration_words=duration_words(poll.get("duration")),
            deadline_words=desk.local_time(poll["deadline"]) if poll.get("deadline") else "",
        )

    @r.get("/console/polls/{poll_id}/figures.json")
    async def poll_figures(request: Request, poll_id: str) -> Response:
        user = require_user(request, S, C)
        poll = await service(request).polls.get(poll_id)
        del user
        return JSONResponse(
            {
                "state": STATE_NAMES.get(poll["state"], poll["state"]),
                "voters": poll["voters"] if poll["voters"] is not None else "—",
                "issued": poll["issued"],
                "received": poll["received"],
            },
            headers={"Cache-Control": "no-store"},
        )

    @r.get("/console/polls/{poll_id}/confirm/{action}", response_class=HTMLResponse)
    async def confirm(request: Request, poll_id: str, action: str) -> Response:
        user = require_user(request, S, C)
        if action not in ACTIONS:
            return redirect(f"/console/polls/{poll_id}", "没有这个操作", "error")
        roles, label, states, what = ACTIONS[action]
        if user.role not in roles:
            return redirect(f"/console/polls/{poll_id}", f"{user.role_name}不能{label}", "error")
        svc = service(request)
        poll = await svc.polls.get(poll_id)
        ceremony = await svc.ceremony.status()
        rows, _ = await desk.desk(svc)
        return page(
            request,
            user,
            "confirm.html",
            f"确认：{label}",
            poll=poll,
            action=action,
            label=label,
            what=what,
            ok_state=poll["state"] in states,
            state_names=STATE_NAMES,
            att=await svc.attendance.attendance(),
            ceremony_done=ceremony.get("state") == "done",
            not_connected=[x for x in rows if x.status == "present" and not x.connected],
        )

    @r.post("/console/polls/{poll_id}/{action}")
    async def do_action(request: Request, poll_id: str, action: str) -> Response:
        from voting.session.errors import ActionError

        user, _ = await require_form(request, S, C)
        if action not in ACTIONS:
            return redirect(f"/console/polls/{poll_id}", "没有这个操作", "error")
        roles, label, _states, _ = ACTIONS[action]
        if user.role not in roles:
            return redirect(f"/console/polls/{poll_id}", f"{user.role_name}不能{label}", "error")
        svc = service(request)
        fn = {
            "open": svc.issuance.open_poll,
            "start": svc.issuance.finish_collection,
            "close": svc.closing.close_poll,
            "publish": svc.closing.publish,
            "withdraw": svc.closing.withdraw,
            "void": svc.closing.void,
            "rerun": svc.closing.rerun,
        }[action]
        try:
            out = await fn(poll_id, user.role.value)
        except ActionError as exc:
            return redirect(f"/console/polls/{poll_id}", f"未能{label}：{exc.message}", "error")
        target = out.get("poll_id", poll_id) if isinstance(out, dict) else poll_id
        return redirect(f"/console/polls/{target}", f"已{label}。")

    return r
