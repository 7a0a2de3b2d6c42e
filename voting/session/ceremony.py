"""The session's key ceremony, run by the server over /ws/trustee (Pedersen k of n).

Steps as belenios-tool ``setup generate-trustee-key-threshold``: every scrutineer sends a
certificate (1); the server checks them (2) and sends them back, each scrutineer sends its
polynomial (3); the server computes the vinputs (4), each scrutineer answers with its voutput
(5); the server builds the threshold parameters (6) and the session's trustees: the server's
own Single key first (trustee id 1), then the Pedersen group (ids 2 … n+1).

A session of two groups (tally.session_groups: motions in BELENIOS-2048, elections in
RFC-3526-2048) runs the three steps in each group, one group after the other, in one sitting:
the scrutineers' tools stay connected and answer each request (it names its group), and
``ceremony_done`` carries the trustees of every group. A ceremony makes the key of the groups
that have none yet (a session made before it had two groups gets its election group's key).

With no scrutineer and ``allow_test_group`` (fast tests only) the trustees are the server's
key alone.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from keys.group import Group
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
    parse_trustees,
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
    groups: tuple[Group, ...]  # the groups to make a key in, one after the other
    at: int = 0  # the group the steps are at (index in groups)
    done: dict[str, ThresholdParameters] = field(default_factory=dict)  # group name -> key
    step: int = 1
    replies: dict[int, str] = field(default_factory=dict)
    certs: list[str] = field(default_factory=list)
    polynomials: list[str] = field(default_factory=list)
    vinputs: list[str] = field(default_factory=list)

    @property
    def group(self) -> Group:
        return self.groups[self.at]


class KeyCeremony:
    def __init__(self, ctx: SessionContext) -> None:
        self.ctx = ctx
        self.run: CeremonyRun | None = None  # the ceremony under way, in memory

    async def status(self) -> dict[str, Any]:
        groups = self.ctx.groups

        def run(s: Session) -> dict[str, Any]:
            c = s.scalar(select(Ceremony).order_by(Ceremony.id.desc()).limit(1))
            # the session's groups without a key yet (a ceremony is still to be run for them)
            missing = [g.name for g in groups.all if s.get(Meta, groups.key("trustees", g)) is None]
            return {**views.ceremony_json(c), "missing": missing}

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
        where = f" in {run.group.name}" if len(run.groups) > 1 else ""
        text = f"step {run.step}{where}: waiting for scrutineer(s) {', '.join(map(str, missing))}"
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

            def run(s: Session) -> tuple[str, int, tuple[Group, ...]]:
                groups = tuple(
                    g for g in ctx.groups.all if s.get(Meta, ctx.groups.key("trustees", g)) is None
                )
                if not groups:
                    raise ActionError(
                        m.ErrorCode.FORBIDDEN, "the key ceremony is already done", 409
                    )
                n = q.scrutineers_count(s)
                if n == 0 and not ctx.config.allow_test_group:
                    raise ActionError(Code.NO_SCRUTINEERS, "add the scrutineers first", 409)
                if n and not 1 <= threshold <= n:
                    raise ActionError(Code.BAD_THRESHOLD, f"the threshold must be 1 to {n}", 422)
                done = [g for g in ctx.groups.all if g not in groups]
                if done:  # the other groups' key: the same scrutineers, the same k
                    raw = s.get(Meta, ctx.groups.key("trustees", done[0]))
                    made = [
                        (i.threshold, i.size)
                        for i in parse_trustees(done[0], raw.value if raw else "[]").items
                        if isinstance(i, PedersenTrustees)
                    ]
                    if made and made[0] != (threshold, n):
                        raise ActionError(
                            Code.BAD_THRESHOLD,
                            f"the key of {done[0].name} is {made[0][0]} of {made[0][1]} "
                            "scrutineers: the other group's key must be made alike",
                            422,
                        )
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
                return cid, n, groups

            cid, n, groups = await ctx.db(run)
            if n == 0:
                await self._finish(cid, {g.name: None for g in groups})
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
            self.run = started = CeremonyRun(cid, threshold, n, groups)
            for i in range(1, n + 1):
                await ctx.hub.to_trustee(i, self._request(started, i))
        return await self.status()

    def _request(self, run: CeremonyRun, index: int) -> m.CeremonyRequest:
        return m.CeremonyRequest(
            id=server_id(),
            ceremony_id=run.ceremony_id,
            step=run.step,  # type: ignore[arg-type]
            group=run.group.name,
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
        async with self.ctx.ceremony_lock:
            run = self.run
            if run is None or msg.ceremony_id != run.ceremony_id:
                raise ActionError(m.ErrorCode.CEREMONY, "no such ceremony is running")
            group = run.group
            if msg.group is not None and msg.group != group.name:
                raise ActionError(m.ErrorCode.CEREMONY, f"the ceremony is in {group.name} now")
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
                    run.done[group.name] = params
                    if run.at + 1 == len(run.groups):
                        self.run = None
                        await self._finish(run.ceremony_id, run.done)
                        return
                    # the next group, in the same sitting: its step 1
                    run.at, run.step = run.at + 1, 1
                    run.certs, run.polynomials, run.vinputs = [], [], []
            except (PedersenError, ValueError) as exc:
                self.run = None
                await self._set(
                    run.ceremony_id, state=CeremonyState.FAILED.value, message=str(exc)[:1000]
                )
                raise ActionError(m.ErrorCode.CEREMONY, str(exc)[:500]) from None
            await self._set(
                run.ceremony_id,
                state=f"step{run.step}",
                data=json.dumps(
                    {"group": run.group.name, "certs": run.certs, "polynomials": run.polynomials}
                ),
            )
            for i in range(1, run.count + 1):
                await self.ctx.hub.to_trustee(i, self._request(run, i))

    async def _finish(self, cid: str, made: Mapping[str, ThresholdParameters | None]) -> None:
        """Every group's trustees (the server's key, then the scrutineers' Pedersen group),
        stored in one transaction: a session has the keys of all its groups or of none."""
        ctx = self.ctx
        raws: dict[str, str] = {}
        for name, params in made.items():
            group = ctx.groups.by_name(name)
            server_tpk = TrusteePublicKey.parse(
                group, ctx.meta(ctx.groups.key("server_trustee", group)) or ""
            )
            items: list[Any] = [SingleTrustee(server_tpk)]
            if params is not None:
                items.append(PedersenTrustees(params))
            trustees = Trustees(tuple(items))
            await asyncio.to_thread(check_trustees, group, trustees)
            raws[name] = serialize_trustees(trustees)
        first = next(iter(raws.values()))

        def run(s: Session) -> None:
            for name, raw in raws.items():
                s.merge(Meta(key=ctx.groups.key("trustees", ctx.groups.by_name(name)), value=raw))
            s.execute(
                update(Ceremony)
                .where(Ceremony.id == cid)
                .values(
                    state=CeremonyState.DONE.value,
                    trustees=first,
                    data=json.dumps({"trustees": raws}),
                )
            )
            ctx.audit(s, Actor.SERVER, "ceremony_done", f"{cid}: {', '.join(raws)}")

        await ctx.db(run)
        for i in list(ctx.hub.trustees):
            await ctx.hub.to_trustee(
                i, m.CeremonyDone(id=server_id(), ceremony_id=cid, trustees=first, groups=raws)
            )

    async def receive_trustees_signature(
        self, principal: Principal, msg: m.TrusteesSignature
    ) -> None:
        """A scrutineer's signature of the session's trustees (tally.session_trustees):
        checked against its certificate and kept for the public record."""
        from tally.errors import RecordError
        from tally.report_signatures import scrutineer_keys
        from tally.session_trustees import verify_trustees_signature

        ctx = self.ctx
        check_trustee(principal, msg.trustee_id)
        try:
            group = ctx.groups.by_name(msg.group or ctx.group.name)
        except ValueError as exc:
            raise ActionError(m.ErrorCode.CEREMONY, str(exc)) from None
        raw = ctx.meta(ctx.groups.key("trustees", group))
        if raw is None:
            raise ActionError(m.ErrorCode.CEREMONY, f"the key ceremony is not done in {group.name}")
        try:
            keys = scrutineer_keys(group, parse_trustees(group, raw))
            verify_trustees_signature(group, keys, raw, msg.trustee_id, msg.signature)
        except RecordError as exc:
            raise ActionError(m.ErrorCode.CEREMONY, str(exc)[:500]) from None
        entry = {"trustee_id": msg.trustee_id, "signature": msg.signature}
        key = ctx.groups.key("trustees_signatures", group)
        async with ctx.ceremony_lock:

            def run(s: Session) -> None:
                row = s.get(Meta, key)
                have = json.loads(row.value) if row is not None else []
                if any(e["trustee_id"] == msg.trustee_id for e in have):
                    return
                have.append(entry)
                have.sort(key=lambda e: e["trustee_id"])
                s.merge(Meta(key=key, value=json.dumps(have)))

            await ctx.db(run)
