"""A minimal server side of /ws/kiosk (docs/protocol.md §5) for testing the kiosk alone.

It speaks the real wire format (tally.messages, tally.statements) over a real websocket on
loopback, with a TEST_256 election. Knobs let a test drop the connection before acking,
forge receipts, publish a credential list without the kiosk's credential, sign the setup with
another key, or answer a proof for another credential.
"""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass, field
from typing import Any

from gmpy2 import mpz

from keys.group import TEST_256, to_str
from keys.trustee_key import generate_trustee_key
from tally import messages as m
from tally import statements
from tally.ballot import check_ballot, parse_ballot
from tally.credentials import PublicCredential, serialize_public_credentials
from tally.election import Election, generate_uuid, make_election
from tally.poll_setup import make_setup_statement
from tally.trustees import SingleTrustee, Trustees, serialize_trustees

TEMPLATE = {
    "description": "测试",
    "name": "关于测试的议案",
    "questions": [{"answers": ["赞成", "反对", "弃权"], "min": 1, "max": 1, "question": "议案"}],
}


@dataclass
class FakeServer:
    server_key: Any = field(default_factory=statements.generate_key)
    device_id: str = "dev-1"
    device_public_key: str = ""
    poll_id: str = "poll-1"
    drop_before_first_ack: bool = False
    forge_receipt: bool = False
    omit_credential: bool = False
    forge_setup: bool = False  # poll_setup signed by another key than the pinned one
    forge_proof: bool = False  # a proof of another credential, claimed to be the kiosk's
    # instead of the receipt, a poll_closed: "unsigned" (no list of polls), "forged" (a list
    # signed by another key), "signed" (the server's list saying the poll closed)
    close_instead_of_ack: str | None = None
    proof_requests: int = 0
    public_raw: str = "[]"
    drop_before_poll_ready: bool = False
    connections: int = 0
    stored: dict[str, str] = field(default_factory=dict)  # tracker -> raw ballot
    casts_received: int = 0
    credentials: list[str] = field(default_factory=list)
    port: int = 0
    election: Election | None = None
    _server: Any = None
    _dropped: bool = False

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def server_public_key(self) -> str:
        return statements.public_key_hex(self.server_key)

    async def start(self) -> None:
        from websockets.asyncio.server import serve

        self.uuid = generate_uuid()
        _x, tpk = generate_trustee_key(TEST_256)
        self.trustees = serialize_trustees(Trustees((SingleTrustee(tpk),)))
        self.election = make_election(
            TEMPLATE, uuid=self.uuid, group=TEST_256, public_key=tpk.public_key
        )
        self._server = await serve(self._handler, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        self._server.close()
        await self._server.wait_closed()

    def _info(self, state: str = "collecting") -> m.PollInfo:
        return m.PollInfo(
            poll_id=self.poll_id,
            title=TEMPLATE["name"],  # type: ignore[arg-type]
            kind="motion",
            state=state,  # type: ignore[arg-type]
            uuid=self.uuid,
            group=TEST_256.name,
        )

    async def _handler(self, ws: Any) -> None:
        self.connections += 1
        nonce = secrets.token_hex(32)
        sid = iter(range(1, 10**6))

        def nid() -> str:
            return f"s{next(sid)}"

        await ws.send(
            m.dump(
                m.Challenge(
                    id=nid(),
                    nonce=nonce,
                    server_public_key=self.server_public_key,
                    signature=statements.sign(
                        self.server_key,
                        statements.challenge_payload(nonce, self.server_public_key),
                    ),
                )
            )
        )
        hello = m.parse_client_message("kiosk", await ws.recv())
        assert isinstance(hello, m.Hello) and hello.device_id == self.device_id
        statements.verify(
            self.device_public_key,
            statements.hello_payload(self.device_id, nonce),
            hello.signature,
        )
        deputy = m.DeputyInfo(deputy_id=1, name="王五", delegation="一组", seat="12")
        await ws.send(
            m.dump(
                m.Welcome(
                    id=nid(),
                    deputy=deputy,
                    present=True,
                    session="s",
                    polls=[self._info("open")] if self.credentials else [],
                )
            )
        )
        if self.credentials and self.connections > 1:
            await self._publish(ws, nid)  # a kiosk connecting later gets the setup again
        if not self.credentials:
            await ws.send(
                m.dump(
                    m.CredentialRequest(
                        id=nid(), poll=self._info(), uuid=self.uuid, group=TEST_256.name
                    )
                )
            )
        async for frame in ws:
            msg = m.parse_client_message("kiosk", frame)
            if isinstance(msg, m.CredentialMsg):
                statements.verify(
                    self.device_public_key,
                    statements.credential_payload(msg.poll_id, msg.uuid, msg.public_credential),
                    msg.signature,
                )
                self.credentials.append(msg.public_credential)
                if self.drop_before_poll_ready:
                    await ws.close()
                    return
                await self._publish(ws, nid)
            elif isinstance(msg, m.ProofRequest):
                await self._proof(ws, nid, msg)
            elif isinstance(msg, m.Cast):
                await self._cast(ws, nid, msg)

    async def _proof(self, ws: Any, nid: Any, msg: m.ProofRequest) -> None:
        from tally.merkle import MerkleTree, credential_leaves

        self.proof_requests += 1
        leaves = credential_leaves(self.public_raw)
        tree = MerkleTree(leaves)
        proof = tree.proof_for(msg.public_credential)
        if self.forge_proof:
            proof = tree.proof(0 if leaves[0] != msg.public_credential else 1)
        if proof is None:
            error = m.Error(
                id=nid(),
                reply_to=msg.id,
                code=m.ErrorCode.WRONG_CREDENTIAL,
                message="not in the list",
            )
            await ws.send(m.dump(error))
            return
        reply = m.CredentialProof(
            id=nid(),
            reply_to=msg.id,
            poll_id=msg.poll_id,
            public_credential=msg.public_credential,
            index=proof.index,
            size=proof.size,
            path=list(proof.path),
        )
        await ws.send(m.dump(reply))

    async def _publish(self, ws: Any, nid: Any) -> None:
        assert self.election is not None
        creds = [PublicCredential(TEST_256.g_pow(TEST_256.random_exponent()))]
        if not self.omit_credential:
            creds.append(PublicCredential(mpz(self.credentials[-1])))
        issuance = statements.make_statement(
            self.server_key,
            statements.BALLOT_ISSUED,
            session="s",
            poll_id=self.poll_id,
            uuid=self.uuid,
            seat="12",
            issued_at="2026-01-01T00:00:00Z",
        )
        await ws.send(m.dump(m.BallotIssued(id=nid(), poll_id=self.poll_id, issuance=issuance)))
        public = self.public_raw = serialize_public_credentials(creds)
        setup = make_setup_statement(
            statements.generate_key() if self.forge_setup else self.server_key,
            session="s",
            poll_id=self.poll_id,
            uuid=self.uuid,
            group=TEST_256.name,
            election=self.election.raw,
            trustees=self.trustees,
            public_credentials=public,
            last_press_valid=False,
        )
        if self.forge_setup:  # claims to be the server's
            setup = statements.SignedStatement(
                statement=setup.statement, signature=setup.signature, signer=self.server_public_key
            )
        await ws.send(
            m.dump(
                m.PollReady(
                    id=nid(),
                    poll_id=self.poll_id,
                    uuid=self.uuid,
                    election=self.election.raw,
                    trustees=self.trustees,
                    last_press_valid=False,
                    setup=setup,
                )
            )
        )

    async def _cast(self, ws: Any, nid: Any, msg: m.Cast) -> None:
        assert self.election is not None
        self.casts_received += 1
        ballot = parse_ballot(self.election, msg.ballot)
        check_ballot(self.election, ballot)
        assert to_str(ballot.credential) in self.credentials
        again = ballot.tracker in self.stored
        self.stored[ballot.tracker] = msg.ballot  # counted once per ballot
        if self.drop_before_first_ack and not self._dropped:
            self._dropped = True
            await ws.close()
            return
        if self.close_instead_of_ack is not None:
            await ws.send(m.dump(self.poll_closed(nid(), self.close_instead_of_ack)))
            return
        key = statements.generate_key() if self.forge_receipt else self.server_key
        receipt = statements.make_statement(
            key,
            statements.RECEIPT,
            session="s",
            poll_id=self.poll_id,
            uuid=self.uuid,
            tracker=ballot.tracker,
            event_hash=None,
            received_at="2026-01-01T00:00:01Z",
        )
        if self.forge_receipt:  # claims to be the server's
            receipt = statements.SignedStatement(
                statement=receipt.statement,
                signature=receipt.signature,
                signer=self.server_public_key,
            )
        await ws.send(
            m.dump(
                m.Ack(
                    id=nid(),
                    reply_to=msg.id,
                    poll_id=self.poll_id,
                    tracker=ballot.tracker,
                    receipt=receipt,
                    again=again,
                )
            )
        )

    def poll_closed(self, mid: str, how: str) -> m.PollClosed:
        from tally.poll_list import poll_list_payload

        entry = {"poll_id": self.poll_id, "uuid": self.uuid, "kind": "motion", "state": "closed"}
        entry.update(parent_id=None, relation=None)
        key = statements.generate_key() if how == "forged" else self.server_key
        signed = statements.sign_statement(key, poll_list_payload("s", 1, "", [entry]))
        if how == "forged":  # claims to be the server's
            signed = statements.SignedStatement(
                statement=signed.statement,
                signature=signed.signature,
                signer=self.server_public_key,
            )
        return m.PollClosed(
            id=mid,
            poll_id=self.poll_id,
            state="closed",
            poll_list=None if how == "unsigned" else signed,
        )


async def wait_for(predicate: Any, timeout: float = 20.0) -> None:
    """Poll ``predicate`` until true (a bounded wait, not a timing assertion)."""
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not predicate():
        if loop.time() > end:
            raise AssertionError("condition not reached")
        await asyncio.sleep(0.02)
