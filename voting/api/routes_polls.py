"""Polls: create, list, read, and the actions that move them (docs/protocol.md §4)."""

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, HTTPException

from voting.api.bodies import ManualCountBody, PollBody, PollSettingsBody, ResultDisplayBody
from voting.api.deps import Secretariat, Service, Viewer, Who
from voting.session.polls import UNSET
from voting.session.service import SessionService
from voting.session.staff import Principal
from voting.session.states import PollState, Role

router = APIRouter()

PollAction = Callable[[SessionService, str, str], Awaitable[dict[str, Any]]]

# action -> (roles that may do it, what it calls)
ACTIONS: dict[str, tuple[tuple[Role, ...], PollAction]] = {
    "open": ((Role.SECRETARIAT,), lambda s, pid, role: s.issuance.open_poll(pid, role)),
    "start": ((Role.SECRETARIAT,), lambda s, pid, role: s.issuance.finish_collection(pid, role)),
    "close": ((Role.SECRETARIAT, Role.CHAIR), lambda s, pid, role: s.closing.close_poll(pid, role)),
    "publish": ((Role.SECRETARIAT, Role.CHAIR), lambda s, pid, role: s.closing.publish(pid, role)),
    "withdraw": ((Role.SECRETARIAT,), lambda s, pid, role: s.closing.withdraw(pid, role)),
    "void": ((Role.SECRETARIAT,), lambda s, pid, role: s.closing.void(pid, role)),
    "rerun": ((Role.SECRETARIAT,), lambda s, pid, role: s.closing.rerun(pid, role)),
}


@router.post("/api/polls")
async def create_poll(body: PollBody, service: Service, p: Secretariat) -> dict[str, Any]:
    return await service.polls.create(
        body.title,
        body.kind,
        body.template,
        body.rules,
        body.last_press_valid,
        duration=body.duration,
        result_display=body.result_display,
    )


@router.put("/api/polls/{poll_id}/settings")
async def poll_settings(
    poll_id: str, body: PollSettingsBody, service: Service, p: Who
) -> dict[str, Any]:
    """The preset voting time (a draft; the secretariat) and the result display (until it is
    published; the secretariat or the chair). Only the fields sent are changed."""
    given = body.model_fields_set
    if "duration" in given:
        service.require(p, Role.SECRETARIAT)
    else:
        service.require(p, Role.SECRETARIAT, Role.CHAIR)
    return await service.polls.configure(
        poll_id,
        p.role,
        duration=body.duration if "duration" in given else UNSET,
        result_display=body.result_display if "result_display" in given else UNSET,
    )


@router.put("/api/session/result_display")
async def session_result_display(
    body: ResultDisplayBody, service: Service, p: Who
) -> dict[str, Any]:
    """The session's 直接显示 (immediate) or 延时显示 (delayed, the default)."""
    service.require(p, Role.SECRETARIAT, Role.CHAIR)
    return {"result_display": await service.polls.set_result_display(body.result_display, p.role)}


def as_seen_by(p: Principal, poll: dict[str, Any]) -> dict[str, Any]:
    """The hall screen (display token) sees results only once the chair publishes
    (SCREENS.md §2): before, no result, per-option counts, outcome or count report."""
    if p.role != Role.DISPLAY or poll.get("state") == PollState.PUBLISHED:
        return poll
    counts = poll.get("counts")
    hidden: dict[str, Any] = {"result": None, "outcome": None, "report": None, "statement": None}
    if isinstance(counts, dict):
        # the roster figures only (no per-option count, of the devices or of a hand count)
        figures = ("total", "present", "issued", "received", "method")
        hidden["counts"] = {k: v for k, v in counts.items() if k in figures}
    return {**poll, **hidden}


@router.get("/api/polls")
async def polls(service: Service, p: Viewer) -> list[dict[str, Any]]:
    return [as_seen_by(p, poll) for poll in await service.polls.all()]


@router.get("/api/polls/{poll_id}")
async def poll(poll_id: str, service: Service, p: Viewer) -> dict[str, Any]:
    return as_seen_by(p, await service.polls.get(poll_id))


@router.post("/api/polls/{poll_id}/manual")
async def manual_count(
    poll_id: str, body: ManualCountBody, service: Service, p: Secretariat
) -> dict[str, Any]:
    """A draft poll held by show of hands or on paper: the figures counted in the hall."""
    entered = body.model_dump(exclude_none=True)
    return await service.manual.record(poll_id, entered, p.role)


@router.post("/api/polls/{poll_id}/{action}")
async def poll_action(poll_id: str, action: str, service: Service, p: Who) -> dict[str, Any]:
    if action not in ACTIONS:
        raise HTTPException(404, {"code": "not_found", "message": f"no action {action!r}"})
    roles, fn = ACTIONS[action]
    service.require(p, *roles)
    return await fn(service, poll_id, p.role)
