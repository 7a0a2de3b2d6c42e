"""The kiosk: a websocket client that votes for one deputy, usable in-process or from the CLI.

One :class:`Kiosk` per tablet. It connects to ``/ws/kiosk``, proves its identity with the
enrolled device key (challenge–response, server key checked against the pinned one), and then
follows the server (docs/protocol.md):

- ``credential_request``: makes a fresh Belenios private credential for the poll (sealed in the
  vault, never sent; deleted once the poll is over) and sends the public credential signed by
  the device key; the same credential is reused if the request comes again after a reconnect;
- ``ballot_issued``: checks the server's signature (发出选票);
- ``poll_ready``: checks the server-signed poll setup (check_setup), asks for the inclusion
  proof of its own credential (``proof_request`` → ``credential_proof``) and checks it against
  the signed Merkle root of the credentials — if anything does not check, it refuses to vote and
  says so — then asks the deputy (terminal prompt or headless script),
  builds and encrypts the ballot locally, shows the tracking number, waits for the deputy's
  confirmation, stores the ballot in the outbox and sends it;
- ``ack``: checks that the receipt is signed by the pinned server key and names the poll and the
  tracker of the ballot sent; only then is the ballot removed from the outbox;
- ``poll_closed`` / ``result``: forgets the private credential.

On any disconnection it reconnects with exponential backoff and sends every unacknowledged
ballot again; the server counts a resend once.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from pydantic import BaseModel

from kiosk import poll_list
from kiosk.backoff import Backoff
from kiosk.countdown import deadline_notice, parse_deadline
from kiosk.identity import Identity, forget_credential, load_credential, store_credential
from kiosk.outbox import Outbox, PendingBallot
from kiosk.trustee_pins import PinError, dump_pins, load_pins, new_pin, pins_info
from kiosk.vault import Vault
from tally import messages as m
from tally import statements

log = logging.getLogger("renda.kiosk")

# A server slow to answer (3,000 tablets reconnecting at once after a network cut) is waited
# for, not left: a tablet that gives up after a few seconds and connects again leaves in the
# server's queue a connection it must still accept and answer, and so makes it slower for all.
OPEN_TIMEOUT = 60.0  # seconds for the TCP connection and the websocket handshake
PING_TIMEOUT = 60.0  # seconds without an answer to a keepalive ping before the tablet leaves

NOT_LISTED = (
    "您的凭证不在公布的名单中，本机拒绝投票，请联系秘书处 — this kiosk's public credential is "
    "not in the published list; it refuses to vote. Tell the secretariat."
)
TRUSTEES = "trustees"  # the vault's sealed copy of the session's trustees, per group (pinned)


class KioskError(Exception):
    """Something the kiosk refuses to go on with (said in plain words to the deputy)."""


@dataclass(frozen=True)
class BallotDraft:
    """What the deputy sees before confirming: the poll and the tracking number."""

    poll_id: str
    title: str
    tracker: str
    plaintext: list[list[int]]


class Deputy(Protocol):
    """The person at the kiosk: a terminal prompt, a touch screen, or a script."""

    async def choose(self, poll: m.PollInfo, election: Any) -> list[list[int]] | None:
        """The plaintext to cast (one 0/1 vector per question), or None for 未按."""
        ...

    async def confirm(self, draft: BallotDraft) -> bool:
        """Shown the tracking number: True to cast, False to choose again."""
        ...

    def notify(self, text: str) -> None:
        """A message for the deputy (Chinese first)."""
        ...


@dataclass
class PollState:
    info: m.PollInfo
    uuid: str | None = None
    group: str | None = None
    public_credential: str | None = None
    issued: bool = False
    election: Any = None
    ready: bool = False
    refused: str | None = None  # why the kiosk refused to vote in this poll
    setup: dict[str, Any] | None = None  # the checked, server-signed poll_setup payload
    tracker: str | None = None
    acknowledged: bool = False
    result: dict[str, Any] | None = None
    closed: bool = False


@dataclass
class KioskEvents:
    """What happened, for tests, the demo and the simulator."""

    connections: int = 0
    casts_sent: int = 0
    acks: int = 0
    refused_receipts: int = 0
    errors: list[tuple[str, str]] = field(default_factory=list)  # (code, message)


def ws_url(server_url: str, path: str) -> str:
    base = server_url.rstrip("/")
    if base.startswith("https://"):
        return "wss://" + base[len("https://") :] + path
    if base.startswith("http://"):
        return "ws://" + base[len("http://") :] + path
    return base + path


class Kiosk:
    """One tablet. ``await kiosk.run()`` until ``kiosk.stop()``; see the module docstring."""

    def __init__(
        self,
        folder: Path,
        vault: Vault,
        identity: Identity,
        deputy: Deputy,
        *,
        backoff: Backoff | None = None,
        on_event: Callable[[str, dict[str, Any]], Awaitable[None] | None] | None = None,
        allow_test_group: bool = False,
    ) -> None:
        self.allow_test_group = allow_test_group  # RENDA-TEST-256: tests only, never a session
        self.folder = folder
        self.vault = vault
        self.identity = identity
        self.deputy = deputy
        self.outbox = Outbox(folder)
        self.backoff = backoff or Backoff()
        self.polls: dict[str, PollState] = {}
        self.events = KioskEvents()
        self.welcome: m.Welcome | None = None
        self._on_event = on_event
        self._stop = asyncio.Event()
        self._ws: Any = None
        self._ids = itertools.count(1)
        self._prefix = secrets.token_hex(4)
        self._tasks: set[asyncio.Task[None]] = set()
        self._proof_requests: dict[str, str] = {}  # message id -> poll id
        self.connected = asyncio.Event()

    # -- running --------------------------------------------------------------------------------

    def stop(self) -> None:
        self._stop.set()
        if self._ws is not None:
            self._background(self._ws.close())

    async def run(self) -> None:
        """Connect, serve, reconnect with backoff; return when :meth:`stop` is called."""
        from websockets.asyncio.client import connect
        from websockets.exceptions import WebSocketException

        url = ws_url(self.identity.server_url, "/ws/kiosk")
        while not self._stop.is_set():
            try:
                async with connect(
                    url,
                    max_size=m.MAX_SERVER_FRAME,
                    open_timeout=OPEN_TIMEOUT,
                    ping_interval=20,
                    ping_timeout=PING_TIMEOUT,
                    compression=None,
                ) as ws:
                    self._ws = ws
                    await self._session(ws)
            except (TimeoutError, OSError, WebSocketException) as exc:
                log.info("kiosk %s: connection lost (%s)", self.identity.device_id, exc)
            except KioskError as exc:
                self.deputy.notify(str(exc))
                log.warning("kiosk %s: %s", self.identity.device_id, exc)
            finally:
                self._ws = None
                self.connected.clear()
            if self._stop.is_set():
                break
            await self._emit("offline", pending=[p.poll_id for p in self.outbox.pending()])
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._stop.wait(), self.backoff.next())

    def _background(self, coro: Awaitable[None]) -> None:
        """Run ``coro`` beside the message loop; its failure is logged, never left unretrieved
        (a connection closed during a send is expected: the outbox resends on reconnect)."""

        async def guarded() -> None:
            from websockets.exceptions import ConnectionClosed

            try:
                await coro
            except (ConnectionError, OSError, ConnectionClosed) as exc:
                log.info("kiosk %s: connection closed during a send (%s)", self._device, exc)
            except KioskError as exc:
                self.deputy.notify(str(exc))
            except Exception:
                log.exception("kiosk %s: background task failed", self._device)

        task = asyncio.ensure_future(guarded())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    @property
    def _device(self) -> str:
        return self.identity.device_id

    def _next_id(self) -> str:
        return f"k{self._prefix}-{next(self._ids)}"

    async def _send(self, msg: BaseModel) -> None:
        if self._ws is None:
            raise ConnectionError("not connected")
        await self._ws.send(m.dump(msg))

    async def _emit(self, kind: str, **data: Any) -> None:
        if self._on_event is not None:
            r = self._on_event(kind, data)
            if r is not None:
                await r

    async def _session(self, ws: Any) -> None:
        challenge = m.parse_server_message(await ws.recv())
        if isinstance(challenge, m.Error):
            raise KioskError(f"服务器拒绝连接 (server refused): {challenge.message}")
        if not isinstance(challenge, m.Challenge):
            raise KioskError("the server did not start with a challenge")
        if challenge.server_public_key != self.identity.server_public_key:
            raise KioskError(
                "服务器密钥不符 — the server's key is not the one pinned at enrolment; "
                "this kiosk will not vote with it"
            )
        try:
            statements.verify(
                self.identity.server_public_key,
                statements.challenge_payload(challenge.nonce, challenge.server_public_key),
                challenge.signature or "",
            )
        except statements.StatementError:
            raise KioskError(
                "服务器的连接请求没有有效签名，本机拒绝连接 — the server's challenge is not "
                "signed by the key pinned at enrolment"
            ) from None
        payload = statements.hello_payload(self.identity.device_id, challenge.nonce)
        await self._send(
            m.Hello(
                id=self._next_id(),
                device_id=self.identity.device_id,
                signature=self.identity.sign(payload),
            )
        )
        welcome = m.parse_server_message(await ws.recv())
        if isinstance(welcome, m.Error) and welcome.code == m.ErrorCode.UNKNOWN_DEVICE:
            raise KioskError(
                "本平板的登记已被撤销或无效，不能投票，请联系秘书处 — this tablet's enrolment "
                f"was revoked or is unknown: {welcome.message}"
            )
        if isinstance(welcome, m.Error):
            raise KioskError(f"服务器拒绝 (server refused): {welcome.code}: {welcome.message}")
        if not isinstance(welcome, m.Welcome):
            raise KioskError(f"expected welcome, got {getattr(welcome, 'type', '?')}")
        self._on_welcome(welcome)
        self.events.connections += 1
        self.backoff.reset()
        self.connected.set()
        await self._emit("welcome", present=welcome.present)
        # Resend every ballot that was not acknowledged.
        for item in self.outbox.pending():
            await self._send(m.Cast(id=item.message_id, poll_id=item.poll_id, ballot=item.ballot))
            self.events.casts_sent += 1
        async for frame in ws:
            try:
                msg = m.parse_server_message(frame)
            except m.MessageError as exc:
                log.warning("kiosk %s: unreadable server message: %s", self.identity.device_id, exc)
                continue
            await self._handle(msg)

    def _poll(self, info: m.PollInfo) -> PollState:
        state = self.polls.get(info.poll_id)
        if state is None:
            state = self.polls[info.poll_id] = PollState(info)
        else:
            state.info = info
        return state

    def _on_welcome(self, welcome: m.Welcome) -> None:
        """The polls of a welcome; one is ended here only if the signed list of polls says
        it ended (an unsigned "closed" would make the kiosk forget its credential and drop an
        unacknowledged ballot)."""
        self.welcome = welcome
        self._keep_list(welcome.poll_list)
        for info in welcome.polls:
            state = self._poll(info)
            if info.state in poll_list.ENDED and poll_list.ended(self.folder, info.poll_id):
                self._finish(state)

    def _keep_list(self, signed: statements.SignedStatement | None) -> None:
        poll_list.keep(self.folder, signed, self.identity.server_public_key)

    def _finish(self, state: PollState) -> None:
        if state.closed:
            return
        state.closed = True
        forget_credential(self.vault, state.info.poll_id)
        if self.outbox.get(state.info.poll_id) is not None and not state.acknowledged:
            log.warning("poll %s closed before the ballot was acknowledged", state.info.poll_id)
            self.outbox.drop(state.info.poll_id)

    # -- messages --------------------------------------------------------------------------------

    async def _handle(self, msg: Any) -> None:
        if isinstance(msg, m.Welcome):  # sent again when the deputy checks in or leaves
            self._on_welcome(msg)
            await self._emit("welcome", present=msg.present)
        elif isinstance(msg, m.CredentialRequest):
            await self._on_credential_request(msg)
        elif isinstance(msg, m.BallotIssued):
            self._on_ballot_issued(msg)
        elif isinstance(msg, m.PollReady):
            self._background(self._on_poll_ready(msg))
        elif isinstance(msg, m.CredentialProof):
            await self._on_credential_proof(msg)
        elif isinstance(msg, m.Ack):
            await self._on_ack(msg)
        elif isinstance(msg, m.PollClosed):
            self._keep_list(msg.poll_list)
            if not poll_list.ended(self.folder, msg.poll_id):  # an unsigned "closed": not acted on
                log.warning(
                    "kiosk %s: poll_closed %s not in the signed list", self._device, msg.poll_id
                )
                self.events.errors.append(("unsigned", f"poll_closed {msg.poll_id} not signed"))
                return
            state = self.polls.get(msg.poll_id)
            if state is not None:
                self._finish(state)
            await self._emit("poll_closed", poll_id=msg.poll_id, state=msg.state)
        elif isinstance(msg, m.ResultMsg):
            await self._on_result(msg)
        elif isinstance(msg, m.Error):
            await self._on_error(msg)

    async def _on_credential_request(self, msg: m.CredentialRequest) -> None:
        from gmpy2 import mpz

        from keys.credentials import generate_private_credential, public_credential
        from keys.group import GroupError, group_by_name, to_str

        self._keep_list(msg.poll_list)
        state = self._poll(msg.poll)
        state.uuid, state.group = msg.uuid, msg.group
        try:
            group = group_by_name(msg.group, allow_test=self.allow_test_group)
        except (GroupError, ValueError, KeyError) as exc:
            state.refused = (
                "这次表决使用的加密参数不安全，本机拒绝投票，请联系秘书处 — the poll's "
                f"group {msg.group!r} is not one this kiosk votes with: {exc}"
            )
            self.deputy.notify(state.refused)
            await self._emit("refused", poll_id=msg.poll.poll_id, reason=state.refused)
            return
        private = load_credential(self.vault, msg.poll.poll_id)
        if private is None:
            private = generate_private_credential()
            store_credential(self.vault, msg.poll.poll_id, private)
        pub: mpz = public_credential(group, msg.uuid, private)
        state.public_credential = to_str(pub)
        payload = statements.credential_payload(msg.poll.poll_id, msg.uuid, state.public_credential)
        await self._send(
            m.CredentialMsg(
                id=self._next_id(),
                poll_id=msg.poll.poll_id,
                uuid=msg.uuid,
                public_credential=state.public_credential,
                signature=self.identity.sign(payload),
            )
        )
        await self._emit("credential_sent", poll_id=msg.poll.poll_id)

    def _server_statement(self, signed: statements.SignedStatement, kind: str) -> dict[str, Any]:
        """The payload of a statement of ``kind`` signed by the pinned server key
        (statements.StatementError otherwise)."""
        return statements.verify_statement(
            signed, expected_signer=self.identity.server_public_key, kind=kind
        )

    def _on_ballot_issued(self, msg: m.BallotIssued) -> None:
        try:
            payload = self._server_statement(msg.issuance, statements.BALLOT_ISSUED)
        except statements.StatementError as exc:
            self.deputy.notify(
                f"发出选票的签名无效 — ballot issuance not signed by the server: {exc}"
            )
            return
        if payload.get("poll_id") != msg.poll_id:
            self.deputy.notify("发出选票的签名无效 — the issuance names another poll")
            return
        state = self.polls.get(msg.poll_id)
        if state is not None:
            state.issued = True

    async def _on_poll_ready(self, msg: m.PollReady) -> None:
        from keys.credentials import public_credential
        from keys.group import to_str
        from tally.election import parse_election

        state = self.polls.get(msg.poll_id)
        if state is None:  # not in the welcome: learn it from the setup itself
            try:
                name = str(json.loads(msg.election).get("name", msg.poll_id))[:1000]
            except (ValueError, AttributeError):
                name = msg.poll_id
            state = self._poll(
                m.PollInfo(poll_id=msg.poll_id, title=name, kind="other", state="open")
            )
        if state.closed or state.ready:
            return  # over, or already voted or voting in this poll (a repeated poll_ready)
        if self.outbox.get(msg.poll_id) is not None or self.outbox.receipt(msg.poll_id):
            state.ready = True
            return  # a ballot was already built (and is being resent, or was acknowledged)
        try:
            election = parse_election(msg.election, allow_test_group=self.allow_test_group)
            if election.uuid != msg.uuid or (state.uuid and state.uuid != election.uuid):
                raise KioskError(
                    "选票数据与本机的凭证不符，本机拒绝投票 — the published election is not the "
                    "one this kiosk was asked for"
                )
            setup = self.check_setup(msg, election)
            private = load_credential(self.vault, msg.poll_id)
            if private is None:
                raise KioskError(
                    "本机没有这次表决的凭证，不能投票 — this kiosk made no credential for this "
                    "poll, so it cannot vote in it"
                )
            # recomputed, so that a kiosk restarted since it sent its credential still knows it
            state.public_credential = to_str(
                public_credential(election.group, election.uuid, private)
            )
        except KioskError as exc:
            await self._refuse(state, str(exc))
            return
        except ValueError as exc:  # RecordError, GroupError...
            await self._refuse(state, f"选票数据无效 — the published poll data do not check: {exc}")
            return
        state.election = election
        state.setup = setup
        # the list is not sent: ask for this credential's inclusion proof (O(log N))
        request_id = self._next_id()
        self._proof_requests[request_id] = msg.poll_id
        await self._send(
            m.ProofRequest(
                id=request_id, poll_id=msg.poll_id, public_credential=state.public_credential
            )
        )

    async def _refuse(self, state: PollState, reason: str) -> None:
        state.refused = reason
        self.deputy.notify(reason)
        await self._emit("refused", poll_id=state.info.poll_id, reason=reason)

    async def _on_credential_proof(self, msg: m.CredentialProof) -> None:
        """The proof that this kiosk's credential is in the signed list: then vote."""
        from tally.merkle import InclusionProof
        from tally.poll_setup import includes

        state = self.polls.get(msg.poll_id)
        if state is None or state.setup is None or state.closed or state.ready:
            return
        proof = InclusionProof(msg.index, msg.size, tuple(msg.path))
        if msg.public_credential != state.public_credential or not includes(
            state.setup, msg.public_credential, proof
        ):
            await self._refuse(state, NOT_LISTED + " (the inclusion proof does not check)")
            return
        private = load_credential(self.vault, msg.poll_id)
        if private is None:
            return
        state.ready = True
        deadline = parse_deadline(state.setup.get("deadline"))
        if deadline is not None:  # a preset voting time, signed in the setup
            self.deputy.notify(deadline_notice(deadline))
            await self._emit("deadline", poll_id=msg.poll_id, deadline=state.setup["deadline"])
        self._background(self._vote(state, state.election, private))

    def check_setup(self, msg: m.PollReady, election: Any) -> dict[str, Any]:
        """KioskError unless the poll's setup is the one the server signed (the pinned key)
        and its election is encrypted to the session's trustees: the scrutineers' threshold
        key combined with the server's, as this kiosk pinned them when it first saw them."""
        from tally.trustees import PedersenTrustees, combined_public_key, parse_trustees

        refusal = "选票的加密设置未经服务器签名，本机拒绝投票，请联系秘书处 — "
        if msg.setup is None:
            raise KioskError(refusal + "the poll's setup is not signed by the server")
        try:
            signed = self._server_statement(msg.setup, statements.POLL_SETUP)
        except statements.StatementError as exc:
            raise KioskError(
                refusal + f"the poll's setup is not signed by the server: {exc}"
            ) from exc
        expected = statements.poll_setup_payload(
            session=str(signed.get("session")),
            poll_id=msg.poll_id,
            uuid=msg.uuid,
            group=election.group.name,
            election=msg.election,
            trustees=msg.trustees,
            voters=voters if isinstance(voters := signed.get("voters"), int) else -1,
            last_press_valid=msg.last_press_valid,
            credentials_root=root
            if isinstance(root := signed.get("credentials_root"), str)
            else "",
            deadline=deadline if isinstance(deadline := signed.get("deadline"), str) else None,
        )
        if signed != expected:
            wrong = sorted(k for k in expected if signed.get(k) != expected[k])
            raise KioskError(refusal + f"the setup differs from the signed one in {wrong}")
        trustees = parse_trustees(election.group, msg.trustees)
        if election.public_key != combined_public_key(election.group, trustees):
            raise KioskError(
                "选票的加密公钥不属于监票人，本机拒绝投票，请联系秘书处 — the election's key is "
                "not the trustees' combined key"
            )
        if not self.allow_test_group and not any(
            isinstance(i, PedersenTrustees) for i in trustees.items
        ):
            raise KioskError(
                "这次表决没有监票人的密钥，本机拒绝投票，请联系秘书处 — the poll is encrypted "
                "to the server's key alone, without the scrutineers'"
            )
        self.pin_trustees(election.group, msg.trustees, msg.trustees_signatures)
        return signed

    def pinned_trustees(self) -> dict[str, dict[str, Any]]:
        """The session's trustees as this kiosk pinned them, group name -> pin (with its
        fingerprint and the scrutineers who signed it; kiosk.trustee_pins); empty before the
        first checked poll."""
        return load_pins(self.vault.unseal(TRUSTEES), self.identity.server_public_key)

    def pin_trustees(self, group: Any, trustees: str, signatures: Any) -> None:
        """KioskError unless ``trustees`` are the session's in ``group``: at the first poll of
        that group, k scrutineers' signatures of them must check before they are pinned;
        afterwards they must be the pinned ones (kiosk.trustee_pins)."""
        pins = self.pinned_trustees()
        try:
            allow = self.allow_test_group
            pin = new_pin(pins, group, trustees, signatures, allow_server_only=allow)
        except PinError as exc:
            raise KioskError(str(exc)) from None
        if pin is not None:
            pins[group.name] = pin
            self.vault.seal(TRUSTEES, dump_pins(pins, self.identity.server_public_key))
            self._background(self._emit("trustees", **self.trustees_info()))

    def trustees_info(self) -> dict[str, Any]:
        """What the tablet's 本机信息 shows of the pinned trustees: one fingerprint per group
        (empty before any is pinned)."""
        return pins_info(self.pinned_trustees())

    async def _vote(self, state: PollState, election: Any, private: str) -> None:
        from tally.ballot import create_ballot

        poll_id = state.info.poll_id
        while True:
            plaintext = await self.deputy.choose(state.info, election)
            if plaintext is None:
                await self._emit("skipped", poll_id=poll_id)
                return
            ballot = await asyncio.to_thread(create_ballot, election, private, plaintext)
            draft = BallotDraft(poll_id, state.info.title, ballot.tracker, plaintext)
            if await self.deputy.confirm(draft):
                break
        if state.closed:
            self.deputy.notify("表决已结束 — the vote closed before the ballot was sent")
            return
        item = PendingBallot(poll_id, self._next_id(), ballot.raw, ballot.tracker)
        self.outbox.put(item)  # durable before it leaves the tablet
        state.tracker = ballot.tracker
        from websockets.exceptions import ConnectionClosed

        # a connection closed meanwhile: the ballot is in the outbox, resent on reconnect
        with contextlib.suppress(ConnectionError, OSError, ConnectionClosed):
            await self._send(m.Cast(id=item.message_id, poll_id=poll_id, ballot=item.ballot))
            self.events.casts_sent += 1
        await self._emit("cast", poll_id=poll_id, tracker=ballot.tracker)

    def check_receipt(self, msg: m.Ack) -> dict[str, Any]:
        """The receipt's payload, if it is signed by the pinned key and names our ballot."""
        pending = self.outbox.get(msg.poll_id)
        if pending is None:
            raise KioskError(f"a receipt for poll {msg.poll_id}, where no ballot is waiting")
        try:
            payload = self._server_statement(msg.receipt, statements.RECEIPT)
        except statements.StatementError as exc:
            raise KioskError(
                f"回执签名无效 — the receipt is not signed by the server: {exc}"
            ) from exc
        if payload.get("poll_id") != msg.poll_id:
            raise KioskError("回执无效 — the receipt names another poll")
        if payload.get("tracker") != pending.tracker or msg.tracker != pending.tracker:
            raise KioskError("回执无效 — the receipt names another tracking number than the ballot")
        return payload

    async def _on_ack(self, msg: m.Ack) -> None:
        try:
            payload = self.check_receipt(msg)
        except KioskError as exc:
            self.events.refused_receipts += 1
            self.deputy.notify(str(exc))
            await self._emit("bad_receipt", poll_id=msg.poll_id, reason=str(exc))
            return  # the ballot stays in the outbox and is sent again on the next connection
        self.outbox.acknowledge(msg.poll_id, msg.receipt.model_dump())
        self.events.acks += 1
        state = self.polls.get(msg.poll_id)
        if state is not None:
            state.acknowledged = True
            state.tracker = msg.tracker
        self.deputy.notify(f"已投票，跟踪号 {msg.tracker} — ballot stored, tracker {msg.tracker}")
        await self._emit("ack", poll_id=msg.poll_id, tracker=msg.tracker, receipt=payload)

    async def _on_result(self, msg: m.ResultMsg) -> None:
        self._keep_list(msg.poll_list)
        try:
            payload = self._server_statement(msg.statement, statements.RESULT)
        except statements.StatementError as exc:
            self.deputy.notify(f"结果签名无效 — result not signed by the server: {exc}")
            return
        state = self.polls.get(msg.poll_id)
        if state is not None:
            state.result = payload
            self._finish(state)
        await self._emit("result", poll_id=msg.poll_id, result=payload)

    async def _on_error(self, msg: m.Error) -> None:
        self.events.errors.append((str(msg.code), msg.message))
        poll_id = self._proof_requests.pop(msg.reply_to or "", None)
        state = self.polls.get(poll_id or "")
        if state is not None and msg.code == m.ErrorCode.WRONG_CREDENTIAL and not state.ready:
            await self._refuse(state, NOT_LISTED)
        for item in self.outbox.pending():
            if item.message_id == msg.reply_to and msg.code in (
                m.ErrorCode.DUPLICATE,
                m.ErrorCode.WRONG_CREDENTIAL,
                m.ErrorCode.INVALID_BALLOT,
                m.ErrorCode.WRONG_POLL,
                m.ErrorCode.POLL_NOT_OPEN,
                m.ErrorCode.POLL_NOT_FOUND,
                m.ErrorCode.NOT_ELIGIBLE,
            ):
                self.outbox.drop(item.poll_id)
                self.deputy.notify(f"选票未被接受 — ballot refused: {msg.code}: {msg.message}")
        await self._emit("error", code=str(msg.code), message=msg.message)


# -- deputies ------------------------------------------------------------------------------------


class HeadlessDeputy:
    """A deputy driven by a :class:`kiosk.choices.Script` (demo, simulator, tests)."""

    def __init__(self, script: Any, *, echo: bool = False) -> None:
        self.script = script
        self.echo = echo
        self.messages: list[str] = []
        self.trackers: dict[str, str] = {}

    async def choose(self, poll: m.PollInfo, election: Any) -> list[list[int]] | None:
        result: list[list[int]] | None = self.script.plaintext_for(
            poll.poll_id, poll.title, election.questions
        )
        return result

    async def confirm(self, draft: BallotDraft) -> bool:
        self.trackers[draft.poll_id] = draft.tracker
        if self.echo:
            print(f"[{draft.title}] 跟踪号 (tracker) {draft.tracker}", flush=True)
        return True

    def notify(self, text: str) -> None:
        self.messages.append(text)
        if self.echo:
            print(text, flush=True)
