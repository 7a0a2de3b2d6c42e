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
import secrets
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from tally import messages as m
from voting.hub import server_id
from voting.models import Ceremony, Meta, Staff

if TYPE_CHECKING:
    from voting.service import Principal, SessionService


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


def _set(service: SessionService, cid: str, **values: Any) -> Any:
    def run(s: Session) -> None:
        s.execute(update(Ceremony).where(Ceremony.id == cid).values(**values))

    return service.db(run)


async def start(service: SessionService, threshold: int) -> dict[str, Any]:
    from voting.service import ActionError

    async with service.ceremony_lock:

        def run(s: Session) -> tuple[str, int]:
            if s.get(Meta, "trustees") is not None:
                raise ActionError("forbidden", "the key ceremony is already done", 409)
            n = len(list(s.scalars(select(Staff.id).where(Staff.role == "scrutineer"))))
            if n == 0 and not service.config.allow_test_group:
                raise ActionError("no_scrutineers", "add the scrutineers first", 409)
            if n and not 1 <= threshold <= n:
                raise ActionError("bad_threshold", f"the threshold must be 1 to {n}", 422)
            # Ids sort by creation time, so the status shows the latest ceremony.
            cid = f"c{time.time_ns():020d}{secrets.token_hex(3)}"
            s.add(
                Ceremony(
                    id=cid,
                    state="step1" if n else "done",
                    threshold=threshold,
                    count=n,
                    data="{}",
                    message="",
                )
            )
            return cid, n

        cid, n = await service.db(run)
        if n == 0:
            await _finish(service, cid, None)
            return await service.ceremony_status()
        missing = [i for i in range(1, n + 1) if i not in service.hub.trustees]
        if missing:
            await _set(service, cid, state="failed", message=f"scrutineers {missing} not connected")
            raise ActionError(
                "not_connected",
                f"scrutineer(s) {missing} are not connected on /ws/trustee",
                409,
            )
        service.ceremony = CeremonyRun(cid, threshold, n)  # type: ignore[attr-defined]
        for i in range(1, n + 1):
            await service.hub.to_trustee(i, _request(service, service.ceremony, i))  # type: ignore[attr-defined]
    return await service.ceremony_status()


def _request(service: SessionService, run: CeremonyRun, index: int) -> m.CeremonyRequest:
    return m.CeremonyRequest(
        id=server_id(),
        ceremony_id=run.ceremony_id,
        step=run.step,  # type: ignore[arg-type]
        group=service.group.name,
        threshold=run.threshold,
        count=run.count,
        certs=run.certs if run.step > 1 else None,
        vinput=run.vinputs[index - 1] if run.step == 5 else None,
    )


async def resend(service: SessionService, index: int) -> None:
    """A scrutineer (re)connected during a ceremony: send its pending step again."""
    run: CeremonyRun | None = getattr(service, "ceremony", None)
    if run is not None and index not in run.replies and 1 <= index <= run.count:
        await service.hub.to_trustee(index, _request(service, run, index))


async def receive(service: SessionService, principal: Principal, msg: m.CeremonyReply) -> None:
    from keys.group import group_by_name  # noqa: F401  (group is the session's)
    from keys.threshold import (
        PedersenError,
        Polynomial,
        Voutput,
        check_cert,
        check_polynomial,
        check_voutput,
        make_threshold_parameters,
        make_vinputs,
        parse_certs,
    )
    from voting.service import ActionError

    group = service.group
    async with service.ceremony_lock:
        run: CeremonyRun | None = getattr(service, "ceremony", None)
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
                from keys.threshold import check_certs

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
                service.ceremony = None  # type: ignore[attr-defined]
                await _finish(service, run.ceremony_id, params)
                return
        except (PedersenError, ValueError) as exc:
            service.ceremony = None  # type: ignore[attr-defined]
            await _set(service, run.ceremony_id, state="failed", message=str(exc)[:1000])
            raise ActionError(m.ErrorCode.CEREMONY, str(exc)[:500]) from None
        await _set(
            service,
            run.ceremony_id,
            state=f"step{run.step}",
            data=json.dumps({"certs": run.certs, "polynomials": run.polynomials}),
        )
        for i in range(1, run.count + 1):
            await service.hub.to_trustee(i, _request(service, run, i))


async def _finish(service: SessionService, cid: str, params: Any) -> None:
    from keys.trustee_key import TrusteePublicKey
    from tally.trustees import (
        PedersenTrustees,
        SingleTrustee,
        Trustees,
        check_trustees,
        serialize_trustees,
    )

    group = service.group
    server_tpk = TrusteePublicKey.parse(group, service.meta("server_trustee") or "")
    items: list[Any] = [SingleTrustee(server_tpk)]
    if params is not None:
        items.append(PedersenTrustees(params))
    trustees = Trustees(tuple(items))
    await asyncio.to_thread(check_trustees, group, trustees)
    raw = serialize_trustees(trustees)

    def run(s: Session) -> None:
        s.merge(Meta(key="trustees", value=raw))
        s.execute(update(Ceremony).where(Ceremony.id == cid).values(state="done", trustees=raw))
        service.audit(s, "server", "ceremony_done", cid)

    await service.db(run)
    for i in list(service.hub.trustees):
        await service.hub.to_trustee(
            i, m.CeremonyDone(id=server_id(), ceremony_id=cid, trustees=raw)
        )
