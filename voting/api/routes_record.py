"""The public record: the index of published polls and each recorded poll's archive; the
whole record's JSON parts for staff (docs/protocol.md, docs/auditing.md)."""

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Header
from fastapi.responses import Response

from voting.api.deps import Service, Viewer
from voting.session.errors import ActionError
from voting.session.record import archive_snapshot, before_result
from voting.session.service import SessionService
from voting.session.states import PollState, Role

router = APIRouter()


@router.get("/record/index.json")
async def record_index(service: Service) -> dict[str, Any]:
    return await service.public_index()


@router.get("/api/record")
async def record(service: Service, p: Viewer) -> dict[str, Any]:
    """The record's JSON parts, as ``renda serve --export-record`` writes them."""
    return await service.record_data()


@router.get("/record/polls/{poll_id}/{name}", response_model=None)
async def record_archive(
    poll_id: str,
    name: str,
    service: Service,
    authorization: Annotated[str | None, Header()] = None,
) -> Response:
    """A poll's archive. Until the chair publishes, it ends before the Result event, except
    for the scrutineers (who check the result before they sign the count report), the
    secretariat and the chair (a bearer token)."""
    path = await service.archive_file(poll_id, name)
    info = await service.polls.get(poll_id)
    if info["state"] == PollState.PUBLISHED or _sees_results(service, authorization):
        # a snapshot, not a file stream: the archive grows while it is read (partial
        # decryptions), and a stream would send more than its declared length
        blob = await asyncio.to_thread(archive_snapshot, path)
    else:
        blob = await asyncio.to_thread(before_result, path)
    return Response(blob, media_type="application/x-tar")


def _sees_results(service: SessionService, authorization: str | None) -> bool:
    token = (authorization or "").removeprefix("Bearer ").strip()
    if not token:
        return False
    try:
        p = service.authenticate(token)
    except ActionError:
        return False
    return p.role in (Role.SCRUTINEER, Role.SECRETARIAT, Role.CHAIR)
