"""The public record: the index of published polls and each recorded poll's archive; the
whole record's JSON parts for staff (docs/protocol.md, docs/auditing.md)."""

import asyncio
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Header
from fastapi.responses import StreamingResponse

from voting.api.deps import Service, Viewer
from voting.session.errors import ActionError
from voting.session.record import archive_snapshot, before_result
from voting.session.service import SessionService
from voting.session.states import PollState, Role

router = APIRouter()

# An archive is sent in pieces of this size, each when the connection has room for it: at
# 3,000 seats it is 31 MB, and three scrutineers fetch it together during the tally. One
# write of the whole of it made the event loop copy it into the socket's buffer in one turn.
ARCHIVE_CHUNK = 1 << 20


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
) -> StreamingResponse:
    """A poll's archive. Until the chair publishes, it ends before the Result event, except
    for the scrutineers (who check the result before they sign the count report), the
    secretariat and the chair (a bearer token)."""
    path = await service.archive_file(poll_id, name)
    info = await service.polls.get(poll_id)
    if info["state"] == PollState.PUBLISHED or _sees_results(service, authorization):
        # a snapshot, not a stream of the file: the archive grows while it is read (partial
        # decryptions), and a stream of the file would send more than its declared length.
        # Read and cut at its last complete event in a thread; sent from memory in pieces.
        blob = await asyncio.to_thread(archive_snapshot, path)
    else:
        blob = await asyncio.to_thread(before_result, path)
    return StreamingResponse(
        _pieces(blob),
        media_type="application/x-tar",
        headers={"content-length": str(len(blob))},
    )


async def _pieces(blob: bytes) -> AsyncIterator[bytes]:
    """The snapshot's bytes, ARCHIVE_CHUNK at a time (the server's send waits for the
    connection to drain between pieces: the loop's other work runs in between)."""
    view = memoryview(blob)
    for start in range(0, len(blob), ARCHIVE_CHUNK):
        yield bytes(view[start : start + ARCHIVE_CHUNK])


def _sees_results(service: SessionService, authorization: str | None) -> bool:
    token = (authorization or "").removeprefix("Bearer ").strip()
    if not token:
        return False
    try:
        p = service.authenticate(token)
    except ActionError:
        return False
    return p.role in (Role.SCRUTINEER, Role.SECRETARIAT, Role.CHAIR)
