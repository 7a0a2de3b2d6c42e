"""The session, the roster, enrolment and attendance (docs/protocol.md §4)."""

from typing import Any

from fastapi import APIRouter, HTTPException

from voting.api.bodies import BatchCheckinBody, DeputyId, EnrolBody, RosterBody
from voting.api.deps import Secretariat, Service, Viewer
from voting.session import desk
from voting.session.states import Presence

router = APIRouter()

ATTENDANCE_ACTIONS = {
    "checkin": Presence.PRESENT,
    "leave": Presence.LEAVE,
    "absent": Presence.ABSENT,
}


@router.get("/api/session")
async def session_info(service: Service, p: Viewer) -> dict[str, Any]:
    return {**service.session_info(), "total": await service.attendance.deputies_count()}


@router.post("/api/roster")
async def roster(body: RosterBody, service: Service, p: Secretariat) -> dict[str, Any]:
    return {"deputies": await service.attendance.import_roster(body.csv)}


@router.get("/api/deputies")
async def deputies(service: Service, p: Secretariat) -> list[dict[str, Any]]:
    return await service.attendance.list_deputies()


@router.post("/api/deputies/new_codes")
async def new_codes(service: Service, p: Secretariat) -> dict[str, Any]:
    """Fresh codes for every deputy not enrolled yet (only their hash is kept)."""
    return {"deputies": await service.attendance.new_cards(p.role)}


@router.post("/api/enrol")
async def enrol(body: EnrolBody, service: Service) -> dict[str, Any]:
    return await service.attendance.enrol(body.code.strip().upper(), body.device_public_key)


@router.post("/api/attendance/checkin")
async def batch_checkin(body: BatchCheckinBody, service: Service, p: Secretariat) -> dict[str, Any]:
    """签到 of a list of seats or of a delegation at once (docs/protocol.md §4)."""
    batch, att = await desk.check_in_many(
        service, p.role, seats=body.seats, delegation=body.delegation or ""
    )
    return {
        "checked_in": list(batch.checked_in),
        "unchanged": [{"seat": seat, "attendance": a} for seat, a in batch.unchanged],
        "late": batch.late,
        "attendance": att,
    }


@router.post("/api/deputies/{deputy_id}/{action}")
async def attendance_action(
    deputy_id: DeputyId, action: str, service: Service, p: Secretariat
) -> dict[str, Any]:
    if action == "new_code":
        return await service.attendance.new_enrolment_code(deputy_id, p.role)
    status = ATTENDANCE_ACTIONS.get(action)
    if status is None:
        raise HTTPException(404, {"code": "not_found", "message": f"no action {action!r}"})
    return await service.attendance.set_attendance(deputy_id, status, p.role)


@router.get("/api/attendance")
async def attendance(service: Service, p: Viewer) -> dict[str, Any]:
    return await service.attendance.attendance()
