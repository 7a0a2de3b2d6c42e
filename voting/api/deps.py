"""The session and the caller's role, as FastAPI dependencies."""

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Header, Request

from voting.session.service import SessionService
from voting.session.staff import Principal
from voting.session.states import Role


def session(request: Request) -> SessionService:
    service: SessionService = request.app.state.service
    return service


Service = Annotated[SessionService, Depends(session)]


def principal(service: Service, authorization: Annotated[str | None, Header()] = None) -> Principal:
    token = None
    if authorization and authorization.lower().startswith("bearer "):
        token = authorization[7:].strip()
    return service.authenticate(token)


Who = Annotated[Principal, Depends(principal)]


def staff(*roles: Role) -> Callable[[Principal], Principal]:
    def check(p: Who) -> Principal:
        SessionService.require(p, *roles)
        return p

    return check


Secretariat = Annotated[Principal, Depends(staff(Role.SECRETARIAT))]
Viewer = Annotated[Principal, Depends(staff(Role.SECRETARIAT, Role.CHAIR, Role.DISPLAY))]
