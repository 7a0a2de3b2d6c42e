"""The scrutineers and their key ceremony (docs/protocol.md §4)."""

from typing import Any

from fastapi import APIRouter

from voting.api.bodies import CeremonyBody, ScrutineerBody
from voting.api.deps import Secretariat, Service, Viewer

router = APIRouter()


@router.post("/api/scrutineers")
async def scrutineers(body: ScrutineerBody, service: Service, p: Secretariat) -> dict[str, Any]:
    return await service.staff.add_scrutineer(body.name)


@router.post("/api/ceremony")
async def ceremony(body: CeremonyBody, service: Service, p: Secretariat) -> dict[str, Any]:
    return await service.ceremony.start(body.threshold)


@router.get("/api/ceremony")
async def ceremony_status(service: Service, p: Viewer) -> dict[str, Any]:
    return await service.ceremony.status()
