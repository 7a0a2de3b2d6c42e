"""The session and the caller's role, as FastAPI dependencies."""

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Header, Request

from voting.session.service import SessionService
from voting.session.staff import Principal
from voting.session.states import Role

# The dependencies that do no I/O are coroutines: FastAPI runs a plain function in a thread,
# and each hop to a thread and back waits in the event loop's queue, long while 3,000
# tablets send their ballots. The token lookup (a database read) stays in a thread.


async def session(request: Request) -> SessionService:
    service: SessionService = request.app.state.service
    return service


Service = Annotated[SessionService, Depends(session)]


def principal(service: Service, authorization: Annotated[str | None, Header()] = None) -> Principal:
    token = None
    if authorization and authorization.lower().startswith("bearer "):
        token = authorization[7:].strip()
    return service.authenticate(token)


Who = Annotated[Principal, Depends(principal)]


def staff(*roles: Role) -> Callable[[Principal], Awaitable[Principal]]:
    async def check(p: Who) -> Principal:
        SessionService.require(p, *roles)
        return p

    return check


Secretariat = Annotated[Principal, Depends(staff(Role.SECRETARIAT))]
Viewer = Annotated[Principal, Depends(staff(Role.SECRETARIAT, Role.CHAIR, Role.DISPLAY))]
