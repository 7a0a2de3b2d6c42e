"""Ed25519-signed statements of the session: ballot issued, receipt, published result.

Outside the Belenios record, Renda signs a few plain statements with Ed25519 (`cryptography`):

* the server signs ``ballot_issued`` (发出选票), ``receipt`` (a cast ballot is stored),
  ``result`` (a poll's published outcome), ``challenge`` (its connection challenge to a kiosk),
  ``poll_setup`` (what a kiosk encrypts to: election, trustees, group, voters) and
  ``poll_closed`` (the figures of a closed poll the scrutineers decrypt) with its session key;
* a kiosk signs ``kiosk_hello`` (answer to the connection challenge) and ``credential`` (its
  public credential for a poll) with the device key registered at enrolment.

A statement is a flat JSON object whose ``kind`` says what it is. Its canonical bytes are
``b"renda-statement-v1\\n"`` followed by the JSON text with sorted keys, no spaces, UTF-8
(``json.dumps(..., sort_keys=True, separators=(",", ":"), ensure_ascii=False)``). Values are
strings, integers, booleans, null, or lists/objects of those (no floats). Keys and signatures
are lower-case hexadecimal: 64 digits for an Ed25519 public key, 128 for a signature.
"""

from __future__ import annotations

import json
import os
import re
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)
from pydantic import BaseModel, ConfigDict, Field

from keys.hashing import sha256_hex

DOMAIN = b"renda-statement-v1\n"

# Statement kinds.
BALLOT_ISSUED = "ballot_issued"
RECEIPT = "receipt"
RESULT = "result"
KIOSK_HELLO = "kiosk_hello"
CREDENTIAL = "credential"
CHALLENGE = "challenge"  # the server's connection challenge to a kiosk
POLL_SETUP = "poll_setup"  # a poll's Belenios setup, as the kiosk encrypts to it
POLL_CLOSED = "poll_closed"  # a closed poll's figures, as the scrutineers decrypt it

_HEX_KEY = re.compile(r"[0-9a-f]{64}\Z")
_HEX_SIG = re.compile(r"[0-9a-f]{128}\Z")


class StatementError(ValueError):
    """A signature or a statement that does not check, in plain words."""


def _check_value(value: Any, where: str) -> None:
    if value is None or isinstance(value, bool | int | str):
        return
    if isinstance(value, float):
        raise StatementError(f"{where}: floats are not allowed in a signed statement")
    if isinstance(value, list | tuple):
        for i, item in enumerate(value):
            _check_value(item, f"{where}[{i}]")
        return
    if isinstance(value, Mapping):
        for k, item in value.items():
            if not isinstance(k, str):
                raise StatementError(f"{where}: object keys must be strings")
            _check_value(item, f"{where}.{k}")
        return
    raise StatementError(f"{where}: unsupported value of type {type(value).__name__}")


def canonical_bytes(payload: Mapping[str, Any]) -> bytes:
    """The exact bytes that are signed for ``payload`` (which must have a string ``kind``)."""
    if not isinstance(payload.get("kind"), str):
        raise StatementError("a statement needs a string field 'kind'")
    _check_value(payload, "statement")
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return DOMAIN + text.encode("utf-8")


# -- keys -----------------------------------------------------------------------------------


def generate_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def public_key_hex(key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    pub = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return pub.public_bytes(Encoding.Raw, PublicFormat.Raw).hex()


def parse_public_key(text: str) -> Ed25519PublicKey:
    if not isinstance(text, str) or not _HEX_KEY.match(text):
        raise StatementError("an Ed25519 public key must be 64 lower-case hexadecimal digits")
    try:
        return Ed25519PublicKey.from_public_bytes(bytes.fromhex(text))
    except ValueError as exc:
        raise StatementError(f"not a valid Ed25519 public key: {exc}") from None


def private_key_bytes(key: Ed25519PrivateKey) -> bytes:
    return key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())


def load_or_create_key(path: Path) -> Ed25519PrivateKey:
    """Read a raw 32-byte Ed25519 seed from ``path``, or create it with mode 0600."""
    if path.exists():
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            raise StatementError(f"key file {path} is readable by others (mode {mode:o})")
        data = path.read_bytes()
        if len(data) != 32:
            raise StatementError(f"key file {path} does not hold a 32-byte Ed25519 key")
        return Ed25519PrivateKey.from_private_bytes(data)
    key = generate_key()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, private_key_bytes(key))
        os.fsync(fd)
    finally:
        os.close(fd)
    return key


# -- signing ----------------------------------------------------------------------------------


def sign(key: Ed25519PrivateKey, payload: Mapping[str, Any]) -> str:
    """Hex Ed25519 signature over :func:`canonical_bytes` of ``payload``."""
    return key.sign(canonical_bytes(payload)).hex()


def verify(public_key: str | Ed25519PublicKey, payload: Mapping[str, Any], signature: str) -> None:
    """Raise :class:`StatementError` unless ``signature`` signs ``payload`` under the key."""
    pub = parse_public_key(public_key) if isinstance(public_key, str) else public_key
    if not isinstance(signature, str) or not _HEX_SIG.match(signature):
        raise StatementError("a signature must be 128 lower-case hexadecimal digits")
    try:
        pub.verify(bytes.fromhex(signature), canonical_bytes(payload))
    except InvalidSignature:
        raise StatementError(f"the signature on the {payload.get('kind')} does not check") from None


class SignedStatement(BaseModel):
    """A statement with its signature and the signer's public key (both hex)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    statement: dict[str, Any]
    signature: str = Field(pattern=r"^[0-9a-f]{128}$")
    signer: str = Field(pattern=r"^[0-9a-f]{64}$")


def make_statement(key: Ed25519PrivateKey, kind: str, **fields: Any) -> SignedStatement:
    payload: dict[str, Any] = {"kind": kind, **fields}
    return SignedStatement(
        statement=payload, signature=sign(key, payload), signer=public_key_hex(key)
    )


def sign_statement(key: Ed25519PrivateKey, payload: Mapping[str, Any]) -> SignedStatement:
    """``payload`` (with its ``kind``) signed with ``key``."""
    return SignedStatement(
        statement=dict(payload), signature=sign(key, payload), signer=public_key_hex(key)
    )


def verify_statement(
    signed: SignedStatement, *, expected_signer: str, kind: str | None = None
) -> dict[str, Any]:
    """Check a server statement against the pinned key; return its payload."""
    if signed.signer != expected_signer:
        raise StatementError("the statement is signed by another key than the pinned one")
    if kind is not None and signed.statement.get("kind") != kind:
        raise StatementError(f"expected a {kind} statement, got {signed.statement.get('kind')!r}")
    verify(expected_signer, signed.statement, signed.signature)
    return dict(signed.statement)


# -- the payloads signed by a kiosk's device key ----------------------------------------------


def hello_payload(device_id: str, nonce: str) -> dict[str, Any]:
    return {"kind": KIOSK_HELLO, "device_id": device_id, "nonce": nonce}


def credential_payload(poll_id: str, uuid: str, public_credential: str) -> dict[str, Any]:
    return {
        "kind": CREDENTIAL,
        "poll_id": poll_id,
        "uuid": uuid,
        "public_credential": public_credential,
    }


# -- the payloads signed by the server key (besides issuance, receipt and result) -------------


def challenge_payload(nonce: str, server_public_key: str) -> dict[str, Any]:
    return {"kind": CHALLENGE, "nonce": nonce, "server_public_key": server_public_key}


def poll_setup_payload(
    *,
    session: str,
    poll_id: str,
    uuid: str,
    group: str,
    election: str,
    trustees: str,
    voters: int,
    last_press_valid: bool,
    credentials_root: str,
    deadline: str | None = None,
) -> dict[str, Any]:
    """What a kiosk encrypts to: the SHA-256 of the exact election and trustees texts, the
    group, the number of public credentials (voters) of the poll and their Merkle root
    (tally/merkle.py: each kiosk checks its own credential's inclusion proof against it), and
    when the poll has a preset voting time (GB 50799 §6.2.2-4) the moment it ends
    (``deadline``, UTC ISO 8601; absent without one): no ballot is accepted after it."""
    extra = {} if deadline is None else {"deadline": deadline}
    return {
        "kind": POLL_SETUP,
        "session": session,
        "poll_id": poll_id,
        "uuid": uuid,
        "group": group,
        "election_hash": sha256_hex(election),
        "trustees_hash": sha256_hex(trustees),
        "voters": voters,
        "last_press_valid": last_press_valid,
        "credentials_root": credentials_root,
        **extra,
    }


def poll_closed_payload(
    *,
    session: str,
    poll_id: str,
    uuid: str,
    election: str,
    total: int,
    present: int,
    issued: int,
    received: int,
) -> dict[str, Any]:
    """A closed poll's figures: deputies on the roster (total) and present when it opened
    (实到: every deputy checked in, the figure of its opening quorum check), ballots issued
    (发出, = its public credentials) and received (已投, = the ballots tallied, one per
    credential)."""
    return {
        "kind": POLL_CLOSED,
        "session": session,
        "poll_id": poll_id,
        "uuid": uuid,
        "election_hash": sha256_hex(election),
        "total": total,
        "present": present,
        "issued": issued,
        "received": received,
    }
