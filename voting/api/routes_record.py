"""The public record: the index of published polls and each recorded poll's archive; the
whole record's JSON parts for staff (docs/protocol.md, docs/auditing.md)."""

from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response

from voting.api.deps import Service, Viewer

router = APIRouter()


@router.get("/record/index.json")
async def record_index(service: Service) -> dict[str, Any]:
    return await service.public_index()


@router.get("/api/record")
async def record(service: Service, p: Viewer) -> dict[str, Any]:
    """The record's JSON parts, as ``renda serve --export-record`` writes them."""
    return await service.record_data()


@router.get("/record/polls/{poll_id}/{name}")
async def record_archive(poll_id: str, name: str, service: Service) -> Response:
    """The poll's archive as it is now (a snapshot between two appends of the tally)."""
    return Response(await service.archive_file(poll_id, name), media_type="application/x-tar")
