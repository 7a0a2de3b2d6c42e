"""A session server for attack tests: the real wire protocol, a server that misbehaves on demand.

It speaks /ws/trustee (tally.messages) over a real websocket on loopback and serves the public
archives at ``/record/polls/<poll>/<uuid>.bel`` over HTTP on the same port, as ``renda serve``
does, so that the real scrutineer tool (voting.cli_trustee.Scrutineer, the code behind
``renda trustee``) runs against it unchanged. The server's side of the key ceremony and of each
poll (election, archive, ballots, encrypted tally, its own partial decryption, the result) is
built with the project's own modules; what the test serves — a forged archive, other figures,
another archive to each scrutineer — is up to the test.
"""

from __future__ import annotations

import asyncio
import itertools
import secrets
from dataclasses import dataclass, field
from http import HTTPStatus
from pathlib import Path
from typing import Any

from keys.credentials import generate_private_credential, public_credential
from keys.group import Group
from keys.threshold import (
    Polynomial,
    Voutput,
    make_threshold_parameters,
    make_vinputs,
    parse_certs,
)
from keys.trustee_key import generate_trustee_key
from tally import messages as m
from tally import statements
from tally.archive import ArchiveWriter
from tally.ballot import create_ballot
from tally.credentials import PublicCredential, serialize_public_credentials
from tally.decryption import compute_partial_decryption, parse_partial_decryption
from tally.election import Election, generate_uuid, make_election
from tally.encrypted_tally import compute_encrypted_tally, serialize_encrypted_tally
from tally.result import compute_result
from tally.trustees import (
    PedersenTrustees,
    SingleTrustee,
    Trustees,
    combined_public_key,
    serialize_trustees,
)

MOTION = {
    "description": "表决",
    "name": "关于预算的议案",
    "questions": [{"answers": ["赞成", "反对", "弃权"], "min": 1, "max": 1, "question": "议案"}],
}


@dataclass
class FakePoll:
    poll_id: str
    election: Election
    trustees_raw: str
    ballots: list[str]  # raw Belenios ballots, in the archive
    path: Path
    tally_raw: str = ""
    issued: int = 0
    partials: dict[int, str] = field(default_factory=dict)


@dataclass
class FakeSession:
    group: Group
    folder: Path
    n: int = 3
    threshold: int = 2
    server_key: Any = field(default_factory=statements.generate_key)
    session: str = "测试会议"
    port: int = 0
    # what is served at /record/polls/<poll>/<uuid>.bel: (poll, uuid) -> bytes
    served: dict[tuple[str, str], bytes] = field(default_factory=dict)
    trustees_raw: str = ""
    trustees_signatures: list[dict[str, Any]] = field(default_factory=list)
    _server: Any = None
    _tokens: dict[str, int] = field(default_factory=dict)
    _conns: dict[int, Any] = field(default_factory=dict)
    _inbox: dict[int, asyncio.Queue[Any]] = field(default_factory=dict)
    _ids: Any = field(default_factory=lambda: itertools.count(1))

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def token(self, index: int) -> str:
        t = secrets.token_urlsafe(24)
        self._tokens[t] = index
        return t

    def nid(self) -> str:
        return f"s{next(self._ids)}"

    async def start(self) -> None:
        from websockets.asyncio.server import serve

        self._server = await serve(
            self._handler,
            "127.0.0.1",
            0,
            process_request=self._http,
            max_size=m.MAX_TRUSTEE_FRAME,
        )
        self.port = self._server.sockets[0].getsockname()[1]
        self.x_server, self.server_trustee = generate_trustee_key(self.group)

    async def stop(self) -> None:
        self._server.close()
        await self._server.wait_closed()

    def _http(self, connection: Any, request: Any) -> Any:
        from websockets.datastructures import Headers
        from websockets.http11 import Response

        if request.path == "/ws/trustee":
            return None
        parts = request.path.strip("/").split("/")
        if len(parts) == 4 and parts[:2] == ["record", "polls"] and parts[3].endswith(".bel"):
            blob = self.served.get((parts[2], parts[3][: -len(".bel")]))
            if blob is not None:
                headers = Headers([("Content-Length", str(len(blob)))])
                return Response(200, "OK", headers, blob)
        return connection.respond(HTTPStatus.NOT_FOUND, "no such record file\n")

    async def _handler(self, ws: Any) -> None:
        auth = m.parse_client_message("trustee", await ws.recv())
        assert isinstance(auth, m.Auth)
        index = self._tokens[auth.token]
        await ws.send(
            m.dump(
                m.Authenticated(
                    id=self.nid(),
                    reply_to=auth.id,
                    role="scrutineer",
                    name=f"监票人{index}",
                    session=self.session,
                    trustee_index=index,
                    server_public_key=statements.public_key_hex(self.server_key),
                )
            )
        )
        self._conns[index] = ws
        inbox = self._inbox.setdefault(index, asyncio.Queue())
        try:
            async for frame in ws:
                await inbox.put(m.parse_client_message("trustee", frame))
        finally:
            self._conns.pop(index, None)

    async def connected(self, count: int) -> None:
        for _ in range(600):
            if len(self._conns) >= count:
                return
            await asyncio.sleep(0.05)
        raise AssertionError("the scrutineers did not connect")

    async def ask(self, index: int, msg: Any, scrutineer: Any, timeout: float = 120) -> Any:
        """Send ``msg`` to scrutineer ``index``; its reply, or None once its tool has
        recorded a refusal (``scrutineer.errors`` grows)."""
        errors = len(scrutineer.errors)
        await self._conns[index].send(m.dump(msg))
        inbox = self._inbox[index]
        loop = asyncio.get_running_loop()
        end = loop.time() + timeout
        while loop.time() < end:
            if len(scrutineer.errors) > errors:
                return None
            try:
                return await asyncio.wait_for(inbox.get(), 0.05)
            except TimeoutError:
                continue
        raise AssertionError(f"scrutineer {index} neither answered nor refused")

    # -- the key ceremony (server steps 2, 4, 6 with keys.threshold) ----------------------------

    async def ceremony(self, scrutineers: list[Any]) -> str:
        cid = "c" + secrets.token_hex(4)

        def req(step: int, **kw: Any) -> m.CeremonyRequest:
            return m.CeremonyRequest(
                id=self.nid(),
                ceremony_id=cid,
                step=step,  # type: ignore[arg-type]
                group=self.group.name,
                threshold=self.threshold,
                count=self.n,
                **kw,
            )

        async def round_(make: Any) -> list[str]:
            out = []
            for i, s in enumerate(scrutineers, start=1):
                reply = await self.ask(i, make(i), s)
                assert isinstance(reply, m.CeremonyReply), s.errors
                out.append(reply.data)
            return out

        certs = await round_(lambda _i: req(1))
        polys = await round_(lambda _i: req(3, certs=certs))
        parsed = parse_certs(self.group, certs)
        polynomials = [Polynomial.parse(self.group, p) for p in polys]
        vinputs = make_vinputs(self.group, parsed, polynomials)
        vouts = await round_(lambda i: req(5, certs=certs, vinput=vinputs[i - 1].serialize()))
        params, _ = make_threshold_parameters(
            self.group, parsed, polynomials, [Voutput.parse(self.group, v) for v in vouts]
        )
        trustees = Trustees((SingleTrustee(self.server_trustee), PedersenTrustees(params)))
        self.trustees = trustees
        self.trustees_raw = serialize_trustees(trustees)
        for i in range(1, len(scrutineers) + 1):
            await self._conns[i].send(
                m.dump(m.CeremonyDone(id=self.nid(), ceremony_id=cid, trustees=self.trustees_raw))
            )
        self.trustees_signatures = []
        for i in range(1, len(scrutineers) + 1):
            signed = await asyncio.wait_for(self._inbox[i].get(), 60)
            assert isinstance(signed, m.TrusteesSignature), signed
            self.trustees_signatures.append(
                {"trustee_id": signed.trustee_id, "signature": signed.signature}
            )
        from tally.session_trustees import check_trustees_signatures

        check_trustees_signatures(self.group, self.trustees_raw, self.trustees_signatures)
        return self.trustees_raw

    # -- polls -----------------------------------------------------------------------------------

    def election(self, public_key: Any = None, uuid: str | None = None) -> Election:
        key = public_key
        if key is None:
            key = combined_public_key(self.group, self.trustees)
        return make_election(MOTION, uuid=uuid or generate_uuid(), group=self.group, public_key=key)

    def poll(
        self,
        votes: list[list[list[int]]],
        *,
        voters: int | None = None,
        election: Election | None = None,
        ballots: list[str] | None = None,
        trustees_raw: str | None = None,
        poll_id: str | None = None,
        close: bool = True,
    ) -> FakePoll:
        """A poll's archive: ``voters`` credentials (default: one per vote), a ballot for each
        vote (or the given raw ``ballots``), closed, tallied, with the server's partial
        decryption; served at its public address."""
        election = election or self.election()
        trustees_raw = trustees_raw or self.trustees_raw
        privs = [generate_private_credential() for _ in range(voters or len(votes))]
        creds = [PublicCredential(public_credential(self.group, election.uuid, p)) for p in privs]
        made = [create_ballot(election, p, v) for p, v in zip(privs, votes, strict=False)]
        raws = [b.raw for b in made]
        if ballots is not None:  # ballots taken elsewhere: list their credentials instead
            import json

            from gmpy2 import mpz

            raws = ballots
            creds = [PublicCredential(mpz(json.loads(raw)["credential"])) for raw in ballots]
            creds += [
                PublicCredential(public_credential(self.group, election.uuid, p))
                for p in privs[len(ballots) :]
            ]
        pid = poll_id or "p" + secrets.token_hex(3)
        path = self.folder / f"{pid}-{election.uuid}-{secrets.token_hex(3)}.bel"
        poll = FakePoll(pid, election, trustees_raw, raws, path, issued=len(creds))
        with ArchiveWriter.create(path, sync=False) as w:
            w.add_setup(election.raw, trustees_raw, serialize_public_credentials(creds))
            for raw in raws:
                w.add_ballot(raw)
            if close:
                w.end_ballots()
                from tally.ballot import parse_ballot

                parsed = [parse_ballot(election, raw) for raw in raws]
                tally = compute_encrypted_tally(election, parsed, [1] * len(parsed))
                poll.tally_raw = serialize_encrypted_tally(tally)
                w.add_encrypted_tally(poll.tally_raw, len(raws), len(raws))
                pd = compute_partial_decryption(
                    self.group, election.fingerprint, self.x_server, tally
                ).serialize()
                poll.partials[1] = pd
                w.add_partial_decryption(1, pd)
        self.served[(pid, election.uuid)] = path.read_bytes()
        return poll

    def closing(self, poll: FakePoll, **override: Any) -> statements.SignedStatement:
        payload = statements.poll_closed_payload(
            session=self.session,
            poll_id=poll.poll_id,
            uuid=poll.election.uuid,
            election=poll.election.raw,
            total=poll.issued,
            present=poll.issued,
            issued=poll.issued,
            received=len(poll.ballots),
        )
        payload.update(override)
        return statements.sign_statement(self.server_key, payload)

    def request(
        self,
        poll: FakePoll,
        trustee_id: int,
        *,
        closing: statements.SignedStatement | None = None,
        checks: list[m.ArchiveCheck] | None = None,
        tally_raw: str | None = None,
    ) -> m.DecryptionRequest:
        return m.DecryptionRequest(
            id=self.nid(),
            poll_id=poll.poll_id,
            uuid=poll.election.uuid,
            election=poll.election.raw,
            trustees=poll.trustees_raw,
            encrypted_tally=tally_raw or poll.tally_raw,
            trustee_id=trustee_id,
            closing=closing or self.closing(poll),
            checks=checks,
        )

    async def decrypt(
        self, poll: FakePoll, index: int, scrutineer: Any, **kw: Any
    ) -> m.PartialDecryptionMsg | None:
        """Ask scrutineer ``index`` (trustee id index+1) to decrypt; its answer or None."""
        reply = await self.ask(index, self.request(poll, index + 1, **kw), scrutineer)
        if reply is not None:
            assert isinstance(reply, m.PartialDecryptionMsg), reply
            poll.partials[reply.trustee_id] = reply.partial_decryption
        return reply

    def finish(self, poll: FakePoll) -> tuple[tuple[int, ...], ...]:
        """Combine the partial decryptions, write them and the result: the counts."""
        from tally.encrypted_tally import parse_encrypted_tally

        tally = parse_encrypted_tally(self.group, poll.tally_raw)
        partials = {k: parse_partial_decryption(self.group, v) for k, v in poll.partials.items()}
        result = compute_result(
            poll.election, self.trustees, tally, partials, total_weight=len(poll.ballots)
        )
        with ArchiveWriter.open(poll.path) as w:
            for owner in sorted(poll.partials):
                if owner != 1:
                    w.add_partial_decryption(owner, poll.partials[owner])
            w.add_result(result.serialize())
        return result.result  # type: ignore[return-value]
