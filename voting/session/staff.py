"""Staff and roles: bearer tokens, who may do what, the scrutineers (trustees)."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tally.messages import ErrorCode
from voting.config import write_private
from voting.models import Ceremony, Staff
from voting.session.context import SessionContext, token_hash
from voting.session.errors import ActionError
from voting.session.states import CeremonyState, Role


@dataclass(frozen=True)
class Principal:
    role: Role
    name: str
    trustee_index: int | None = None


def require(principal: Principal, *roles: Role) -> None:
    """Refuses (``forbidden``, 403) a principal whose role is not one of ``roles``."""
    if principal.role not in roles:
        raise ActionError(
            ErrorCode.FORBIDDEN,
            f"the {principal.role} may not do this (needs {', '.join(roles)})",
            403,
        )


def check_trustee(principal: Principal, trustee_id: int) -> None:
    """Refuses (``forbidden``) a scrutineer's message naming a trustee other than its sender."""
    if principal.trustee_index is None or trustee_id != principal.trustee_index + 1:
        raise ActionError(ErrorCode.FORBIDDEN, "this scrutineer is not trustee " + str(trustee_id))


class StaffJob:
    def __init__(self, ctx: SessionContext) -> None:
        self.ctx = ctx

    def authenticate(self, token: str | None) -> Principal:
        if not token:
            raise ActionError(ErrorCode.UNAUTHENTICATED, "a bearer token is required", 401)
        with self.ctx.Session() as s:
            staff = s.scalar(select(Staff).where(Staff.token_hash == token_hash(token)))
        if staff is None:
            raise ActionError(ErrorCode.UNAUTHENTICATED, "unknown token", 401)
        return Principal(Role(staff.role), staff.name, staff.trustee_index)

    async def add_scrutineer(self, name: str) -> dict[str, Any]:
        token = secrets.token_urlsafe(32)

        def run(s: Session) -> dict[str, Any]:
            done = select(Ceremony).where(Ceremony.state == CeremonyState.DONE.value)
            if s.scalar(done) is not None:
                raise ActionError(ErrorCode.FORBIDDEN, "the key ceremony is already done", 409)
            index = (s.scalar(select(func.max(Staff.trustee_index))) or 0) + 1
            staff = Staff(
                role=Role.SCRUTINEER.value,
                name=name,
                token_hash=token_hash(token),
                trustee_index=index,
            )
            s.add(staff)
            s.flush()
            self.ctx.audit(s, Role.SECRETARIAT, "add_scrutineer", f"index {index}")
            return {"scrutineer_id": staff.id, "index": index, "name": name, "token": token}

        # One at a time, and not while a ceremony starts: indexes are max + 1 (unique), and
        # tokens.json is read, changed and written back.
        async with self.ctx.ceremony_lock:
            out = await self.ctx.db(run)
            path = self.ctx.config.data_dir / "tokens.json"
            tokens = json.loads(path.read_text("utf-8"))
            tokens.setdefault("scrutineers", {})[name] = token
            write_private(path, json.dumps(tokens, indent=2))
        return out
