"""Roster, enrolment and attendance: the deputies, their tablets' device keys, check-in, and
the kiosk's challenge answer when it connects."""

from __future__ import annotations

import asyncio
import secrets
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tally import messages as m
from tally import statements as st
from voting.models import Deputy, Device, Poll
from voting.session import oplog, views
from voting.session import queries as q
from voting.session.codes import code_hash
from voting.session.context import SessionContext, now
from voting.session.errors import ActionError, Code
from voting.session.live import Live
from voting.session.roster import RosterError, new_enrolment_code, parse_roster
from voting.session.states import Actor, PollState, Presence, Role


class Attendance:
    def __init__(self, ctx: SessionContext, live: Live) -> None:
        self.ctx = ctx
        self.live = live

    # -- roster -------------------------------------------------------------------------------

    async def import_roster(self, text: str) -> list[dict[str, Any]]:
        """Add the roster's deputies; the answer is the only place their enrolment codes
        appear (the database keeps their hash: voting.session.codes)."""
        try:
            entries = parse_roster(text)
        except RosterError as exc:
            raise ActionError(Code.BAD_ROSTER, str(exc), 422) from None

        def run(s: Session) -> list[dict[str, Any]]:
            if q.count(s, Poll, Poll.state != PollState.DRAFT.value):
                raise ActionError(
                    m.ErrorCode.FORBIDDEN, "the roster cannot change once a poll opened", 409
                )
            existing = set(s.scalars(select(Deputy.seat)))
            clash = [e.seat for e in entries if e.seat in existing]
            if clash:
                raise ActionError(
                    Code.BAD_ROSTER, f"seat {clash[0]!r} is already on the roster", 422
                )
            codes = [new_enrolment_code() for _ in entries]
            rows = [
                Deputy(
                    name=e.name,
                    delegation=e.delegation,
                    seat=e.seat,
                    code_hash=code_hash(self.ctx.code_key, code),
                    code_used=False,
                    attendance=Presence.ABSENT.value,
                )
                for e, code in zip(entries, codes, strict=True)
            ]
            s.add_all(rows)
            s.flush()
            self.ctx.audit(s, Role.SECRETARIAT, "roster_import", f"{len(rows)} deputies")
            return [views.deputy_json(d, code=c) for d, c in zip(rows, codes, strict=True)]

        return await self.ctx.db(run)

    async def list_deputies(self) -> list[dict[str, Any]]:
        def run(s: Session) -> list[dict[str, Any]]:
            return [views.deputy_json(d) for d in s.scalars(select(Deputy).order_by(Deputy.id))]

        return await self.ctx.db(run)

    async def deputies_count(self) -> int:
        return await self.ctx.db(q.deputies_total)

    # -- enrolment ----------------------------------------------------------------------------

    async def new_enrolment_code(self, deputy_id: int, role: str) -> dict[str, Any]:
        """A replacement tablet (a lost card, a lost tablet): revoke the deputy's devices and
        give a fresh one-time code, in this answer only (its hash replaces the old one's)."""

        def run(s: Session) -> dict[str, Any]:
            d = q.deputy(s, deputy_id)
            code = new_enrolment_code()
            d.code_hash = code_hash(self.ctx.code_key, code)
            d.code_used = False
            s.execute(update(Device).where(Device.deputy_id == deputy_id).values(revoked=True))
            self.ctx.audit(s, role, "new_enrolment_code", f"deputy {deputy_id}")
            return views.deputy_json(d, code=code)

        out = await self.ctx.db(run)
        # revocation is immediate: the old tablets' live connections close now
        await self.ctx.hub.close_kiosks(deputy_id)
        return out

    async def new_cards(self, role: str) -> list[dict[str, Any]]:
        """Fresh codes for every deputy not enrolled yet (the cards of an import were lost
        before printing): their earlier cards stop working; enrolled tablets are untouched."""

        def run(s: Session) -> list[dict[str, Any]]:
            out = []
            for d in s.scalars(
                select(Deputy).where(Deputy.code_used.is_(False)).order_by(Deputy.seat)
            ):
                code = new_enrolment_code()
                d.code_hash = code_hash(self.ctx.code_key, code)
                out.append(views.deputy_json(d, code=code))
            self.ctx.audit(s, role, "new_cards", f"{len(out)} deputies")
            return out

        return await self.ctx.db(run)

    async def device_current(self, device_id: str | None) -> bool:
        """Is the device still enrolled (not revoked)? Checked for every kiosk message."""
        if device_id is None:
            return False
        revoked = await self.ctx.db(  # one column: this runs for every kiosk message
            lambda s: s.scalar(select(Device.revoked).where(Device.id == device_id)), kiosk=True
        )
        return revoked is not None and not revoked

    async def enrol(self, code: str, device_public_key: str) -> dict[str, Any]:
        try:
            st.parse_public_key(device_public_key)
        except st.StatementError as exc:
            raise ActionError(m.ErrorCode.BAD_MESSAGE, str(exc), 422) from None

        def run(s: Session) -> dict[str, Any]:
            d = s.scalar(
                select(Deputy).where(Deputy.code_hash == code_hash(self.ctx.code_key, code))
            )
            if d is None:
                raise ActionError(Code.NOT_FOUND, "unknown enrolment code", 404)
            # single use, enforced by the database: only one UPDATE can flip the flag
            res = s.execute(
                update(Deputy)
                .where(Deputy.id == d.id, Deputy.code_used.is_(False))
                .values(code_used=True)
            )
            if res.rowcount != 1:  # type: ignore[attr-defined]
                raise ActionError(Code.CODE_USED, "this enrolment code was already used", 409)
            device_id = secrets.token_urlsafe(12).replace("-", "A").replace("_", "B")
            s.add(
                Device(
                    id=device_id,
                    deputy_id=d.id,
                    public_key=device_public_key,
                    revoked=False,
                    enrolled_at=now(),
                )
            )
            try:
                s.flush()
            except IntegrityError:
                raise ActionError(
                    m.ErrorCode.BAD_MESSAGE, "this device key is already enrolled", 409
                ) from None
            self.ctx.audit(s, Actor.PUBLIC, "enrol", f"seat {d.seat}")
            return {
                "device_id": device_id,
                "deputy": {
                    "deputy_id": d.id,
                    "name": d.name,
                    "delegation": d.delegation,
                    "seat": d.seat,
                },
                "server_public_key": self.ctx.server_public_key,
                "session": self.ctx.session_name,
            }

        return await self.ctx.db(run)

    async def kiosk_hello(self, msg: m.Hello, nonce: str) -> tuple[int, str]:
        """Check the device's answer to the challenge; (deputy_id, device public key)."""
        device = await self.ctx.db(lambda s: s.get(Device, msg.device_id), kiosk=True)
        if device is None or device.revoked:
            raise ActionError(m.ErrorCode.UNKNOWN_DEVICE, "this tablet is not enrolled")
        try:
            st.verify(device.public_key, st.hello_payload(msg.device_id, nonce), msg.signature)
        except st.StatementError as exc:
            raise ActionError(m.ErrorCode.BAD_SIGNATURE, str(exc)) from None
        return device.deputy_id, device.public_key

    # -- attendance ---------------------------------------------------------------------------

    async def set_attendance(
        self, deputy_id: int, status: Presence, role: str, action: str | None = None
    ) -> dict[str, int | bool]:
        """``action`` names the change in the audit log (default ``attendance_<status>``): the
        check-in desk's 补签到, 中途退场 and 返回 (voting/session/desk.py)."""

        def run(s: Session) -> None:
            res = s.execute(
                update(Deputy).where(Deputy.id == deputy_id).values(attendance=status.value)
            )
            if res.rowcount != 1:  # type: ignore[attr-defined]
                raise ActionError(Code.NOT_FOUND, f"no deputy {deputy_id}", 404)
            self.ctx.audit(s, role, action or f"attendance_{status.value}", f"deputy {deputy_id}")

        await self.ctx.db(run)
        return await self.changed([deputy_id])

    async def changed(self, deputy_ids: list[int], note: str = "") -> dict[str, int | bool]:
        """After a change of these deputies' attendance (committed): the new figures to the
        displays and in the log (once, however many changed), and the deputies' connected
        tablets welcomed again (what they may do now)."""
        att = await self.live.attendance_to_displays()
        oplog.log.info(
            "attendance (出席): %s%d of %d present, %d on leave; quorum (法定人数) %s",
            note,
            att.present,
            att.total,
            att.on_leave,
            "met" if att.quorum else "not met",
        )

        async def welcome(deputy_id: int) -> None:
            async with self.ctx.kiosk_gate:  # a delegation's 600 tablets: 32 at a time
                await self.live.presence_changed(deputy_id)

        await asyncio.gather(*(welcome(d) for d in deputy_ids if d in self.ctx.hub.kiosks))
        return att.as_json()

    async def attendance(self) -> dict[str, int | bool]:
        return (await self.live.attendance()).as_json()
