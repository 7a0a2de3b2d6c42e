"""The session's key ceremony, run by the server over /ws/trustee (Pedersen k of n).

Steps as belenios-tool ``setup generate-trustee-key-threshold``: every scrutineer sends a
certificate (1); the server checks them (2) and sends them back, each scrutineer sends its
polynomial (3); the server computes the vinputs (4), each scrutineer answers with its voutput
(5); the server builds the threshold parameters (6) and the session's trustees: the server's
own Single key first (trustee id 1), then the Pedersen group (ids 2 … n+1).

With no scrutineer and ``allow_test_group`` (fast tests only) the trustees are the server's
key alone.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from keys.threshold import (
    PedersenError,
    Polynomial,
    ThresholdParameters,
    Voutput,
    check_cert,
    check_certs,
    check_polynomial,
    check_voutput,
    make_threshold_parameters,
    make_vinputs,
    parse_certs,
)
from keys.trustee_key import TrusteePublicKey
from tally import messages as m
from tally.trustees import (
    PedersenTrustees,
    SingleTrustee,
    Trustees,
    check_trustees,
    serialize_trustees,
)
from voting.models import Ceremony, Meta
from voting.session import queries as q
from voting.session import views
from voting.session.context import SessionContext
from voting.session.errors import ActionError, Code
from voting.session.hub import server_id
from voting.session.staff import Principal, check_trustee
from voting.session.states import Actor, CeremonyState

log = logging.getLogger("renda.ceremony")


@dataclass
class CeremonyRun:
    ceremony_id: str
    threshold: int
    count: int
    step: int = 1
    replies: dict[int, str] = field(default_factory=dict)
    certs: list[str] = field(default_factory=list)
    polynomials: list[str] = field(default_factory=list)
    vinputs: list[str] = field(default_factory=list)


class KeyCeremony:
    def __init__(self, ctx: SessionContext) -> None:
        self.ctx = ctx
        self.run: CeremonyRun | None = None  # the ceremony under way, in memory

    async def status(self) -> dict[str, Any]:
        def run(s: Session) -> dict[str, Any]:
            c = s.scalar(select(Ceremony).order_by(Ceremony.id.desc()).limit(1))
            return views.ceremony_json(c)

        out = await self.ctx.db(run)
        running = self.run
        if running is not None and out.get("ceremony_id") == running.ceremony_id:
            out["message"] = self.waiting_for(running)
        return out

    def waiting_for(self, run: CeremonyRun) -> str:
        """What the running ceremony waits for: which scrutineers, connected or not."""
        missing = [i for i in range(1, run.count + 1) if i not in run.replies]
        hub = self.ctx.hub
        away = [
            f"{i} (not connected since {hub.trustee_left_at[i]})"
            if i in hub.trustee_left_at
            else f"{i} (not connected)"
            for i in missing
            if i not in hub.trustees
        ]
        text = f"step {run.step}: waiting for scrutineer(s) {', '.join(map(str, missing))}"
        return text + (f"; {', '.join(away)}" if away else "")

    async def recover(self) -> None:
        """At startup: a ceremony the server left at a step (killed, restarted) cannot go on —
        its certificates and polynomials of the step were in memory — so it says ``failed``
        and why; the secretariat starts a new one (the scrutineers' tools follow)."""

        def run(s: Session) -> list[str]:
            stuck = list(
                s.scalars(
                    select(Ceremony).where(
                        Ceremony.state.notin_(
                            [CeremonyState.DONE.value, CeremonyState.FAILED.value]
                        )
                    )
                )
            )
            for c in stuck:
                c.message = (
                    f"the server stopped during {c.state} of the key ceremony, whose state was "
                    "in memory: start the ceremony again"
                )
                c.state = CeremonyState.FAILED.value
                self.ctx.audit(s, Actor.SERVER, "ceremony_failed", c.id)
            return [c.id for c in stuck]

        for cid in await self.ctx.db(run):
            log.warning("key ceremony %s failed: the server stopped during it", cid)

    async def _set(self, cid: str, **values: Any) -> None:
        def run(s: Session) -> None:
            s.execute(update(Ceremony).where(Ceremony.id == cid).values(**values))

        await self.ctx.db(run)

    async def start(self, threshold: int) -> dict[str, Any]:
        ctx = self.ctx
        async with ctx.ceremony_lock:

            def run(s: Session) -> tuple[str, int]:
                if s.get(Meta, "trustees") is not None:
                    raise ActionError(
                        m.ErrorCode.FORBIDDEN, "the key ceremony is already done", 409
                    )
                n = q.scrutineers_count(s)
                if n == 0 and not ctx.config.allow_test_group:
                    raise ActionError(Code.NO_SCRUTINEERS, "add the scrutineers first", 409)
                if n and not 1 <= threshold <= n:
                    raise ActionError(Code.BAD_THRESHOLD, f"the threshold must be 1 to {n}", 422)
                # Ids sort by creation time, so the status shows the latest ceremony.
                cid = f"c{time.time_ns():020d}{secrets.token_hex(3)}"
                s.add(
                    Ceremony(
                        id=cid,
                        state=(CeremonyState.STEP1 if n else CeremonyState.DONE).value,
                        threshold=threshold,
                        count=n,
                        data="{}",
                        message="",
                    )
                )
                return cid, n

            cid, n = await ctx.db(run)
            if n == 0:
                await self._finish(cid, None)
                return await self.status()
            missing = [i for i in range(1, n + 1) if i not in ctx.hub.trustees]
            if missing:
                await self._set(
                    cid,
                    state=CeremonyState.FAILED.value,
                    message=f"scrutineers {missing} not connected",
                )
                raise ActionError(
                    Code.NOT_CONNECTED,
                    f"scrutineer(s) {missing} are not connected on /ws/trustee",
                    409,
                )
            self.run = started = CeremonyRun(cid, threshold, n)
            for i in range(1, n + 1):
                await ctx.hub.to_trustee(i, self._request(started, i))
        return await self.status()

    def _request(self, run: CeremonyRun, index: int) -> m.CeremonyRequest:
        return m.CeremonyRequest(
            id=server_id(),
            ceremony_id=run.ceremony_id,
            step=run.step,  # type: ignore[arg-type]
            group=self.ctx.group.name,
            threshold=run.threshold,
            count=run.count,
            certs=run.certs if run.step > 1 else None,
            vinput=run.vinputs[index - 1] if run.step == 5 else None,
        )

    async def resend(self, index: int) -> None:
        """A scrutineer (re)connected during a ceremony: send its pending step again."""
        run = self.run
        if run is not None and index not in run.replies and 1 <= index <= run.count:
            await self.ctx.hub.to_trustee(index, self._request(run, index))

    async def receive(self, principal: Principal, msg: m.CeremonyReply) -> None:
        group = self.ctx.group
        async with self.ctx.ceremony_lock:
            run = self.run
            if run is None or msg.ceremony_id != run.ceremony_id:
                raise ActionError(m.ErrorCode.CEREMONY, "no such ceremony is running")
            if msg.step != run.step:
                raise ActionError(m.ErrorCode.CEREMONY, f"the ceremony is at step {run.step}")
            index = principal.trustee_index
            assert index is not None
            try:
                if run.step == 1:
                    certs = parse_certs(group, [msg.data])
                    check_cert(group, certs[0])
                elif run.step == 3:
                    poly = Polynomial.parse(group, msg.data)
                    check_polynomial(group, parse_certs(group, run.certs), index, poly)
                else:
                    vo = Voutput.parse(group, msg.data)
                    check_voutput(
                        group,
                        parse_certs(group, run.certs),
                        index,
                        [Polynomial.parse(group, p) for p in run.polynomials],
                        vo,
                    )
            except (PedersenError, ValueError) as exc:
                raise ActionError(m.ErrorCode.CEREMONY, str(exc)[:500]) from None
            run.replies[index] = msg.data
            if len(run.replies) < run.count:
                return
            ordered = [run.replies[i] for i in range(1, run.count + 1)]
            run.replies = {}
            try:
                if run.step == 1:
                    run.certs = ordered
                    check_certs(group, parse_certs(group, ordered))
                    run.step = 3
                elif run.step == 3:
                    run.polynomials = ordered
                    vinputs = make_vinputs(
                        group,
                        parse_certs(group, run.certs),
                        [Polynomial.parse(group, p) for p in ordered],
                    )
                    run.vinputs = [v.serialize() for v in vinputs]
                    run.step = 5
                else:
                    params, _dkeys = make_threshold_parameters(
                        group,
                        parse_certs(group, run.certs),
                        [Polynomial.parse(group, p) for p in run.polynomials],
                        [Voutput.parse(group, v) for v in ordered],
                    )
                    self.run = None
                    await self._finish(run.ceremony_id, params)
                    return
            except (PedersenError, ValueError) as exc:
                self.run = None
                await self._set(
                    run.ceremony_id, state=CeremonyState.FAILED.value, message=str(exc)[:1000]
                )
                raise ActionError(m.ErrorCode.CEREMONY, str(exc)[:500]) from None
            await self._set(
                run.ceremony_id,
                state=f"step{run.step}",
                data=json.dumps({"certs": run.certs, "polynomials": run.polynomials}),
            )
            for i in range(1, run.count + 1):
                await self.ctx.hub.to_trustee(i, self._request(run, i))

    async def _finish(self, cid: str, params: ThresholdParameters | None) -> None:
        ctx = self.ctx
        group = ctx.group
        server_tpk = TrusteePublicKey.parse(group, ctx.meta("server_trustee") or "")
        items: list[Any] = [SingleTrustee(server_tpk)]
        if params is not None:
            items.append(PedersenTrustees(params))
        trustees = Trustees(tuple(items))
        await asyncio.to_thread(check_trustees, group, trustees)
        raw = serialize_trustees(trustees)

        def run(s: Session) -> None:
            s.merge(Meta(key="trustees", value=raw))
            s.execute(
                update(Ceremony)
                .where(Ceremony.id == cid)
                .values(state=CeremonyState.DONE.value, trustees=raw)
            )
            ctx.audit(s, Actor.SERVER, "ceremony_done", cid)

        await ctx.db(run)
        for i in list(ctx.hub.trustees):
            await ctx.hub.to_trustee(
                i, m.CeremonyDone(id=server_id(), ceremony_id=cid, trustees=raw)
            )

    async def receive_trustees_signature(
        self, principal: Principal, msg: m.TrusteesSignature
    ) -> None:
        """A scrutineer's signature of the session's trustees (tally.session_trustees):
        checked against its certificate and kept for the public record."""
        from tally.errors import RecordError
        from tally.report_signatures import scrutineer_keys
        from tally.session_trustees import verify_trustees_signature
        from tally.trustees import parse_trustees

        ctx = self.ctx
        check_trustee(principal, msg.trustee_id)
        raw = ctx.meta("trustees")
        if raw is None:
            raise ActionError(m.ErrorCode.CEREMONY, "the key ceremony is not done")
        try:
            keys = scrutineer_keys(ctx.group, parse_trustees(ctx.group, raw))
            verify_trustees_signature(ctx.group, keys, raw, msg.trustee_id, msg.signature)
        except RecordError as exc:
            raise ActionError(m.ErrorCode.CEREMONY, str(exc)[:500]) from None
        entry = {"trustee_id": msg.trustee_id, "signature": msg.signature}
        async with ctx.ceremony_lock:

            def run(s: Session) -> None:
                row = s.get(Meta, "trustees_signatures")
                have = json.loads(row.value) if row is not None else []
                if any(e["trustee_id"] == msg.trustee_id for e in have):
                    return
                have.append(entry)
                have.sort(key=lambda e: e["trustee_id"])
                s.merge(Meta(key="trustees_signatures", value=json.dumps(have)))

            await ctx.db(run)
