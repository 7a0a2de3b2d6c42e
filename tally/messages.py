"""The session's wire protocol: typed JSON messages over websockets (see docs/protocol.md).

Every frame is one JSON object (a websocket *text* frame) with ``type`` and ``id`` (the
sender's message id, unique per connection: 1–64 characters from ``[A-Za-z0-9_.:-]``). A reply
carries ``reply_to``: the id of the message it answers. Unknown fields are refused; every
string has a maximum length; frames above the endpoint's size limit are refused as
``too_large`` without being parsed. A refused message changes nothing on the server.

Raw Belenios objects (election, trustees, public credentials, ballots, encrypted tallies,
partial decryptions, ceremony data) travel as JSON *strings* holding the exact Belenios text,
so that hashes are computed over the bytes the sender produced.

Parse with :func:`parse_client_message` (server side; one function per endpoint) or
:func:`parse_server_message` (client side). Build with the model classes and send
``model.model_dump_json(exclude_none=True)`` (:func:`dump`).
"""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from tally.statements import SignedStatement

PROTOCOL = "renda-1"

# -- size limits (bytes of one frame, UTF-8) ----------------------------------------------------
MAX_KIOSK_FRAME = 256 * 1024  # kiosk -> server (a ballot of any Renda poll fits easily)
MAX_TRUSTEE_FRAME = 64 * 1024 * 1024  # scrutineer -> server (shuffles of big polls)
MAX_DISPLAY_FRAME = 4 * 1024  # display -> server (authentication only)
MAX_SERVER_FRAME = 64 * 1024 * 1024  # server -> client (clients should accept this much)

MAX_RAW = 60 * 1024 * 1024  # one raw Belenios text inside a message
MAX_BALLOT = 240 * 1024

MsgId = Annotated[str, Field(pattern=r"^[A-Za-z0-9_.:-]{1,64}$")]
PollId = Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
Hex64 = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
Hex128 = Annotated[str, Field(pattern=r"^[0-9a-f]{128}$")]
Number = Annotated[str, Field(pattern=r"^(0|[1-9][0-9]{0,999})$")]
Raw = Annotated[str, Field(min_length=2, max_length=MAX_RAW)]
Text = Annotated[str, Field(max_length=1000)]
Uuid = Annotated[str, Field(pattern=r"^[1-9A-HJ-NP-Za-km-z]{14,64}$")]  # Belenios base58 token


class ErrorCode(StrEnum):
    """Codes of the ``error`` message. The ``message`` field says the same in plain words."""

    BAD_JSON = "bad_json"  # not a UTF-8 JSON object
    TOO_LARGE = "too_large"  # frame above the endpoint's limit
    BAD_TYPE = "bad_type"  # missing/unknown "type" for this endpoint
    BAD_MESSAGE = "bad_message"  # known type, but fields missing, extra, wrong type or size
    UNAUTHENTICATED = "unauthenticated"  # a message before a successful hello/auth
    UNKNOWN_DEVICE = "unknown_device"  # no enrolled kiosk with that device id (or revoked)
    BAD_SIGNATURE = "bad_signature"  # device signature does not check
    FORBIDDEN = "forbidden"  # the role may not do this
    POLL_NOT_FOUND = "poll_not_found"
    POLL_NOT_OPEN = "poll_not_open"  # not accepting credentials / ballots in its state
    NOT_ELIGIBLE = "not_eligible"  # deputy not in the frozen voter list of the poll
    ALREADY_SENT = "already_sent"  # a second, different credential for the same poll
    WRONG_POLL = "wrong_poll"  # the ballot names another election (uuid/hash) than poll_id
    WRONG_CREDENTIAL = "wrong_credential"  # ballot's credential is not in the poll's list
    INVALID_BALLOT = "invalid_ballot"  # malformed ballot, bad proof, element outside group
    DUPLICATE = "duplicate"  # first-press-valid poll: this credential has already voted
    CEREMONY = "ceremony"  # a key-ceremony reply that does not check
    INVALID_DECRYPTION = "invalid_decryption"  # a partial decryption or shuffle that fails
    INVALID_REPORT_SIGNATURE = "invalid_report_signature"  # count report signature fails
    BUSY = "busy"  # try again later (server overloaded)
    INTERNAL = "internal"  # server fault; nothing was stored


class MessageError(ValueError):
    """A frame refused before it reaches the server's logic."""

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class _Msg(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    id: MsgId
    reply_to: MsgId | None = None


# == kiosk <-> server (/ws/kiosk) ============================================================


class Hello(_Msg):
    """Answer to ``challenge``: signature over statements.hello_payload(device_id, nonce)."""

    type: Literal["hello"] = "hello"
    device_id: Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
    signature: Hex128
    protocol: Literal["renda-1"] = "renda-1"


class CredentialMsg(_Msg):
    """Public credential for a poll, signed by the device key over
    statements.credential_payload(poll_id, uuid, public_credential)."""

    type: Literal["credential"] = "credential"
    poll_id: PollId
    uuid: Uuid
    public_credential: Number
    signature: Hex128


class Cast(_Msg):
    """A Belenios ballot (exact JSON text) for a poll."""

    type: Literal["cast"] = "cast"
    poll_id: PollId
    ballot: Annotated[str, Field(min_length=2, max_length=MAX_BALLOT)]


class Ping(_Msg):
    type: Literal["ping"] = "ping"


class Challenge(_Msg):
    """First message of the server on /ws/kiosk."""

    type: Literal["challenge"] = "challenge"
    nonce: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
    server_public_key: Hex64
    protocol: Literal["renda-1"] = "renda-1"
    # the server key's signature of statements.challenge_payload(nonce, server_public_key)
    signature: Hex128 | None = None


class DeputyInfo(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)
    deputy_id: int
    name: Text
    delegation: Text
    seat: Text


class PollInfo(BaseModel):
    """What a kiosk (or display) needs to know about a poll, without setup data."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)
    poll_id: PollId
    title: Text
    kind: Literal["motion", "projects", "election", "confirmation", "other"]
    state: Literal[
        "draft", "collecting", "open", "closed", "tallied", "published", "withdrawn", "void"
    ]
    uuid: Uuid | None = None
    group: Text | None = None
    last_press_valid: bool = False
    template: Raw | None = None  # Belenios election template (questions), JSON text
    # the poll's rules entry (tally/rules: seats, project form, write-ins), JSON text: the
    # tablet says the rule in words ("应选3名") and refuses an overvote with it
    rules: Raw | None = None


class Welcome(_Msg):
    type: Literal["welcome"] = "welcome"
    deputy: DeputyInfo
    present: bool
    session: Text
    polls: list[PollInfo]
    # the latest version of the server's signed list of polls (tally.poll_list): the kiosk
    # keeps it, and ends a poll on a welcome only if this list says the poll ended
    poll_list: SignedStatement | None = None


class CredentialRequest(_Msg):
    """The poll opened and this deputy is a voter: make a credential for ``uuid`` in ``group``."""

    type: Literal["credential_request"] = "credential_request"
    poll: PollInfo
    uuid: Uuid
    group: Text
    poll_list: SignedStatement | None = None  # the list signed as the poll opened


class BallotIssued(_Msg):
    """发出选票: server-signed ``ballot_issued`` statement (poll_id, uuid, seat, issued_at);
    it never names the credential."""

    type: Literal["ballot_issued"] = "ballot_issued"
    poll_id: PollId
    issuance: SignedStatement


class TrusteesSigned(BaseModel):
    """One scrutineer's signature of the session's trustees (tally.session_trustees), as the
    server keeps them for the record; the kiosk checks k of them before it pins the trustees."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    trustee_id: Annotated[int, Field(ge=1, le=10_000)]
    signature: Annotated[str, Field(min_length=2, max_length=4096)]


class PollReady(_Msg):
    """Collection ended: the poll's Belenios election and trustees, and the server-signed
    ``poll_setup`` statement (tally/poll_setup.py: their hashes and the Merkle root and size of
    the public credentials). The same for every kiosk, whatever the number of voters: the
    list itself is in the public record; the kiosk asks for its own credential's proof."""

    type: Literal["poll_ready"] = "poll_ready"
    poll_id: PollId
    uuid: Uuid
    election: Raw  # election.json text
    trustees: Raw  # trustees.json text
    last_press_valid: bool
    # server-signed statements.poll_setup_payload of this setup (with the Merkle root of the
    # credentials); a kiosk votes only with it (None: refused, and the deputy told why)
    setup: SignedStatement | None = None
    # the scrutineers' signatures of ``trustees`` (k needed before a kiosk pins them)
    trustees_signatures: Annotated[list[TrusteesSigned], Field(max_length=1000)] = []


class ProofRequest(_Msg):
    """Kiosk → server: the inclusion proof of this public credential in the poll's list."""

    type: Literal["proof_request"] = "proof_request"
    poll_id: PollId
    public_credential: Number


class CredentialProof(_Msg):
    """Server → kiosk: the Merkle audit path (tally/merkle.py) of ``public_credential`` at
    ``index`` in the poll's list of ``size`` public credentials (the signed setup's root).
    Not in the list: ``error wrong_credential`` instead."""

    type: Literal["credential_proof"] = "credential_proof"
    poll_id: PollId
    public_credential: Number
    index: Annotated[int, Field(ge=0, lt=2**63)]
    size: Annotated[int, Field(ge=1, lt=2**63)]
    path: Annotated[list[Hex64], Field(max_length=64)]


class Ack(_Msg):
    """The ballot is durably stored; ``receipt`` is the server-signed ``receipt`` statement
    (poll_id, uuid, tracker, event_hash, received_at). ``again`` is true for a resend."""

    type: Literal["ack"] = "ack"
    poll_id: PollId
    tracker: Annotated[str, Field(max_length=64)]
    receipt: SignedStatement
    again: bool = False


class PollClosed(_Msg):
    """The poll ended (closed, withdrawn, void); the kiosk forgets its credential and drops
    an unacknowledged ballot only if ``poll_list`` (signed) says so."""

    type: Literal["poll_closed"] = "poll_closed"
    poll_id: PollId
    state: Text
    poll_list: SignedStatement | None = None


class ResultMsg(_Msg):
    """A published result: server-signed ``result`` statement (poll_id, uuid, result_hash,
    counts, outcome)."""

    type: Literal["result"] = "result"
    poll_id: PollId
    statement: SignedStatement
    poll_list: SignedStatement | None = None


class Pong(_Msg):
    type: Literal["pong"] = "pong"


class Error(_Msg):
    type: Literal["error"] = "error"
    code: ErrorCode
    message: Annotated[str, Field(max_length=2000)]


# == scrutineer <-> server (/ws/trustee) and display (/ws/display) ===========================


class Auth(_Msg):
    """First message on /ws/trustee and /ws/display: the staff bearer token."""

    type: Literal["auth"] = "auth"
    token: Annotated[str, Field(min_length=16, max_length=200)]
    protocol: Literal["renda-1"] = "renda-1"


class Watch(_Msg):
    """First message on /ws/display with no token: the public hall screen (``view`` hall), which
    receives only what the hall may show (docs/protocol.md §7): never a result before it may be
    shown; or the presidium screen (``view`` presidium) of a browser logged in to the console
    as the chair or the secretariat (its session cookie, sent with the websocket's handshake)."""

    type: Literal["watch"] = "watch"
    view: Literal["hall", "presidium"] = "hall"
    protocol: Literal["renda-1"] = "renda-1"


class Authenticated(_Msg):
    type: Literal["authenticated"] = "authenticated"
    role: Literal["scrutineer", "display", "chair", "secretariat"]
    name: Text
    session: Text
    trustee_index: int | None = None  # 1-based index among the scrutineers (Pedersen order)
    server_public_key: Hex64 | None = None  # the session's Ed25519 key (the tool pins it)


class CeremonyRequest(_Msg):
    """Key ceremony step for one scrutineer, numbered as belenios-tool
    ``setup generate-trustee-key-threshold --step``: 1 make a certificate; 3 compute the
    polynomial from ``certs`` with ``threshold``; 5 compute the voutput from ``certs`` and
    this trustee's ``vinput``."""

    type: Literal["ceremony_request"] = "ceremony_request"
    ceremony_id: PollId
    step: Literal[1, 3, 5]
    group: Text
    threshold: int
    count: int
    certs: list[Raw] | None = None  # raw certificates, in trustee order (steps 3, 5)
    vinput: Raw | None = None  # step 5


class CeremonyReply(_Msg):
    """``data`` is the raw cert (step 1), polynomial (step 3) or voutput (step 5)."""

    type: Literal["ceremony_reply"] = "ceremony_reply"
    ceremony_id: PollId
    step: Literal[1, 3, 5]
    data: Raw
    # the request's group (a session of two groups runs the steps in each, one after the
    # other); None: the group the ceremony is at
    group: Text | None = None


class CeremonyDone(_Msg):
    """The ceremony's end: the trustees.json text of every group it made the key in."""

    type: Literal["ceremony_done"] = "ceremony_done"
    ceremony_id: PollId
    trustees: Raw  # the trustees.json text of the ceremony's (first) group
    # every group of the ceremony -> its trustees.json text (None: ``trustees`` alone, in the
    # group of the requests)
    groups: dict[Text, Raw] | None = None


class ArchiveCheck(BaseModel):
    """A scrutineer's signed word that it checked the closed archive of poll ``uuid`` whose
    EndBallots event has hash ``ballots_hash`` (tally.archive_check)."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)
    trustee_id: int
    uuid: Uuid
    ballots_hash: Hex64
    signature: Annotated[str, Field(min_length=2, max_length=4096)]


class TrusteesSignature(_Msg):
    """After ``ceremony_done``: this scrutineer's signature of the session's trustees
    (tally.session_trustees.trustees_text), with its certificate key."""

    type: Literal["trustees_signature"] = "trustees_signature"
    ceremony_id: PollId
    trustee_id: int
    signature: Annotated[str, Field(min_length=2, max_length=4096)]
    group: Text | None = None  # whose trustees (None: the session's homomorphic group)


class DecryptionRequest(_Msg):
    """Decrypt ``encrypted_tally`` of the poll as trustee ``trustee_id`` (1-based over the
    flattened trustees list, as belenios-tool's --trustee-id). ``closing`` is the server-signed
    ``poll_closed`` statement of the poll's figures; ``checks`` the other scrutineers' archive
    checks the server has received so far."""

    type: Literal["decryption_request"] = "decryption_request"
    poll_id: PollId
    uuid: Uuid
    election: Raw
    trustees: Raw
    encrypted_tally: Raw
    trustee_id: int
    closing: SignedStatement | None = None
    checks: list[ArchiveCheck] | None = None


class PartialDecryptionMsg(_Msg):
    type: Literal["partial_decryption"] = "partial_decryption"
    poll_id: PollId
    trustee_id: int
    partial_decryption: Raw
    check: ArchiveCheck | None = None  # this scrutineer's archive check


class ShuffleRequest(_Msg):
    """Non-homomorphic poll: shuffle these ciphertexts (raw JSON list) before decryption."""

    type: Literal["shuffle_request"] = "shuffle_request"
    poll_id: PollId
    election: Raw
    ciphertexts: Raw
    trustee_id: int


class ShuffleMsg(_Msg):
    type: Literal["shuffle"] = "shuffle"
    poll_id: PollId
    trustee_id: int
    shuffle: Raw


class ReportRequest(_Msg):
    """Sign the poll's count report: ``report`` is the exact text to sign
    (tally.report_signatures.report_text), as trustee ``trustee_id``."""

    type: Literal["report_request"] = "report_request"
    poll_id: PollId
    report: Raw
    trustee_id: int
    rules: Raw | None = None  # the poll's rules (JSON text), for the tool to re-run them
    roster: list[Annotated[str, Field(max_length=20)]] | None = None  # roster numbers


class ReportSignature(_Msg):
    """A scrutineer's signature of the count report (JSON ``{"challenge","response"}``)."""

    type: Literal["report_signature"] = "report_signature"
    poll_id: PollId
    trustee_id: int
    signature: Annotated[str, Field(min_length=2, max_length=4096)]


class Attendance(_Msg):
    """应到 expected, 实到 present, 请假 on_leave, 缺席 absent, 实有代表 total; quorum met."""

    type: Literal["attendance"] = "attendance"
    total: int
    expected: int
    present: int
    on_leave: int
    absent: int
    quorum: bool


class Snapshot(_Msg):
    """A screen's whole state, on every (re)connect and after every change of what it shows
    (docs/protocol.md §7); the screen redraws from it alone."""

    type: Literal["snapshot"] = "snapshot"
    view: Literal["hall", "presidium"]
    state: dict[str, Any]


class PollStatus(_Msg):
    """During a vote: 发出 issued and 已投 received only — never partial results."""

    type: Literal["poll_status"] = "poll_status"
    poll: PollInfo
    issued: int
    received: int


# -- parsing ---------------------------------------------------------------------------------

KioskIn = Annotated[Hello | CredentialMsg | ProofRequest | Cast | Ping, Field(discriminator="type")]
TrusteeIn = Annotated[
    CeremonyReply
    | TrusteesSignature
    | PartialDecryptionMsg
    | ShuffleMsg
    | ReportSignature
    | Auth
    | Ping,
    Field(discriminator="type"),
]
DisplayIn = Annotated[Auth | Watch | Ping, Field(discriminator="type")]
ServerOut = Annotated[
    Challenge
    | Welcome
    | CredentialRequest
    | BallotIssued
    | PollReady
    | CredentialProof
    | Ack
    | PollClosed
    | ResultMsg
    | Pong
    | Error
    | Authenticated
    | CeremonyRequest
    | CeremonyDone
    | DecryptionRequest
    | ShuffleRequest
    | ReportRequest
    | Attendance
    | PollStatus
    | Snapshot,
    Field(discriminator="type"),
]

_ADAPTERS: dict[str, tuple[TypeAdapter[Any], int]] = {
    "kiosk": (TypeAdapter(KioskIn), MAX_KIOSK_FRAME),
    "trustee": (TypeAdapter(TrusteeIn), MAX_TRUSTEE_FRAME),
    "display": (TypeAdapter(DisplayIn), MAX_DISPLAY_FRAME),
    "server": (TypeAdapter(ServerOut), MAX_SERVER_FRAME),
}

_TYPES: dict[str, frozenset[str]] = {
    "kiosk": frozenset({"hello", "credential", "proof_request", "cast", "ping"}),
    "trustee": frozenset(
        {
            "auth",
            "ceremony_reply",
            "trustees_signature",
            "partial_decryption",
            "shuffle",
            "report_signature",
            "ping",
        }
    ),
    "display": frozenset({"auth", "watch", "ping"}),
}


def _parse(endpoint: str, frame: str | bytes) -> Any:
    adapter, limit = _ADAPTERS[endpoint]
    size = len(frame.encode("utf-8") if isinstance(frame, str) else frame)
    if size > limit:
        raise MessageError(ErrorCode.TOO_LARGE, f"message of {size} bytes; the limit is {limit}")
    try:
        obj = json.loads(frame)
    except (ValueError, RecursionError):
        raise MessageError(ErrorCode.BAD_JSON, "the message is not valid UTF-8 JSON") from None
    if not isinstance(obj, dict):
        raise MessageError(ErrorCode.BAD_JSON, "the message must be a JSON object")
    kind = obj.get("type")
    allowed = _TYPES.get(endpoint)
    if not isinstance(kind, str) or (allowed is not None and kind not in allowed):
        raise MessageError(
            ErrorCode.BAD_TYPE,
            f"unknown message type {str(kind)[:40]!r} here"
            + (f"; expected one of {sorted(allowed)}" if allowed else ""),
        )
    try:
        return adapter.validate_json(frame)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ()) if p != kind) or "message"
        raise MessageError(
            ErrorCode.BAD_MESSAGE, f"field {where}: {first.get('msg', 'invalid')}"
        ) from None


def message_id(frame: str | bytes) -> str | None:
    """Best-effort ``id`` of a refused frame, to put in the error's ``reply_to``."""
    try:
        obj = json.loads(frame)
    except (ValueError, RecursionError):
        return None
    if isinstance(obj, dict):
        mid = obj.get("id")
        if (
            isinstance(mid, str)
            and 0 < len(mid) <= 64
            and all(c.isascii() and (c.isalnum() or c in "_.:-") for c in mid)
        ):
            return mid
    return None


def parse_client_message(
    endpoint: Literal["kiosk", "trustee", "display"], frame: str | bytes
) -> Any:
    """Parse one frame received on ``/ws/<endpoint>``; raise :class:`MessageError`."""
    return _parse(endpoint, frame)


def parse_server_message(frame: str | bytes) -> Any:
    """Parse one frame received from the server (client side); raise :class:`MessageError`."""
    return _parse("server", frame)


def dump(message: BaseModel) -> str:
    """The JSON text of a message, without absent optional fields."""
    return message.model_dump_json(exclude_none=True)
