"""What a scrutineer checks in a poll's public archive before it decrypts (DESIGN §2.4).

A scrutineer's tool (voting/cli_trustee.py) decrypts a poll only after :func:`check_closed_archive`
passed on the archive it fetched itself:

1. the whole archive verifies with the auditor's own checks (:func:`tally.verify.verify_archive`:
   every ballot's proofs, credential and signature, the tally recomputed from the ballots, the
   shuffles, the partial decryptions already in);
2. it is the archive of the election and trustees the server asks to decrypt, and those trustees
   are exactly the session's, as this scrutineer received them at the end of the key ceremony
   (so the election is encrypted to the ceremony's key, not to a key the server holds alone);
3. the ballot box is closed (an ``EndBallots`` event and the encrypted tally are there);
4. its figures are those the server signed in the poll's ``poll_closed`` statement: ballots
   issued = public credentials, ballots received = ballots tallied.

Each scrutineer then signs an *archive check*: the text :func:`check_text` naming the poll's uuid
and the hash of the archive's ``EndBallots`` event (the hash chain commits to every ballot), with
the signing key of its ceremony certificate (as for the count report). The server passes these
on; a tool that sees another scrutineer's check with a different hash was shown another archive,
and refuses to decrypt.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gmpy2 import mpz

from keys.group import Group, GroupError
from keys.hashing import sha256_hex
from keys.pki import PKIError, SignedMsg, dump_json, load_json, sign, verify_signature
from keys.proof import Proof
from tally.archive import parse_archive
from tally.credentials import parse_public_credentials
from tally.errors import RecordError
from tally.statements import POLL_CLOSED, SignedStatement, StatementError, verify_statement

CHECK_HEADER = "renda-archive-check-v1\n"


@dataclass(frozen=True)
class ClosedArchive:
    """The figures of a closed archive that verified."""

    uuid: str
    ballots_hash: str  # hash of the EndBallots event
    voters: int  # public credentials (ballots issued)
    received: int  # ballots tallied (one per credential)


def check_closed_archive(
    blob: bytes,
    *,
    election_raw: str,
    trustees_raw: str,
    session_trustees_raw: str,
    allow_test_group: bool,
    workers: int = 1,
) -> ClosedArchive:
    """Checks 1–3 of the module docstring on the archive bytes; RecordError in plain words."""
    from tally.verify import verify_archive

    if trustees_raw != session_trustees_raw:
        raise RecordError(
            "the poll's trustees are not the session's (those of the key ceremony): its "
            "election is not encrypted to the scrutineers' key"
        )
    archive = parse_archive(blob, "the public record")
    _setup, raw_election, raw_trustees, raw_creds = archive.setup()
    if raw_election != election_raw:
        raise RecordError("the election in the public record is not the one sent")
    if raw_trustees != session_trustees_raw:
        raise RecordError("the trustees in the public record are not the session's")
    ends = archive.events_of("EndBallots")
    if not ends or archive.sized_encrypted_tally() is None:
        raise RecordError("the poll's ballot box is not closed in the public record")
    with tempfile.TemporaryDirectory(prefix="renda-check-") as folder:
        path = Path(folder) / "poll.bel"
        path.write_bytes(blob)
        report = verify_archive(path, workers=workers, allow_test_group=allow_test_group)
    failure = report.first_failure
    if failure is not None:
        raise RecordError(
            f"the poll's public record does not verify: {failure.name}: {failure.detail}"
        )
    sized = archive.sized_encrypted_tally()
    assert sized is not None
    uuid = str(load_json(raw_election, "election").get("uuid"))
    from keys.group import group_by_name

    group = group_by_name(str(load_json(raw_election, "election").get("group")), allow_test=True)
    voters = len(parse_public_credentials(group, raw_creds))
    return ClosedArchive(uuid, ends[0].hash, voters, sized[1].num_tallied)


def check_figures(
    closed: ClosedArchive,
    closing: SignedStatement | None,
    *,
    server_public_key: str | None,
    poll_id: str,
    election_raw: str,
) -> dict[str, Any]:
    """Check 4: the server's signed ``poll_closed`` figures are the archive's."""
    if closing is None:
        raise RecordError("the server did not send its signed figures of the closed poll")
    if server_public_key is None:
        raise RecordError("this key file has not pinned the server's key")
    try:
        figures = verify_statement(closing, expected_signer=server_public_key, kind=POLL_CLOSED)
    except StatementError as exc:
        raise RecordError(
            f"the closed poll's figures are not signed by the server: {exc}"
        ) from None
    expected = {
        "poll_id": poll_id,
        "uuid": closed.uuid,
        "election_hash": sha256_hex(election_raw),
        "issued": closed.voters,
        "received": closed.received,
    }
    for name, value in expected.items():
        if figures.get(name) != value:
            raise RecordError(
                f"the server's signed figures say {name} = {figures.get(name)!r}, the public "
                f"record {value!r}"
            )
    return figures


# -- the scrutineers' signed archive checks ----------------------------------------------------


def check_text(uuid: str, ballots_hash: str) -> str:
    return f"{CHECK_HEADER}{uuid}\n{ballots_hash}"


def sign_check(group: Group, sk: mpz, uuid: str, ballots_hash: str) -> str:
    """The signature (compact JSON ``{"challenge","response"}``) of an archive check."""
    return dump_json(sign(group, sk, check_text(uuid, ballots_hash)).signature.to_json())


def verify_check(
    group: Group,
    keys: Mapping[int, mpz],
    *,
    trustee_id: int,
    uuid: str,
    ballots_hash: str,
    signature: str,
) -> None:
    """RecordError unless ``signature`` is trustee ``trustee_id``'s archive check."""
    if trustee_id not in keys:
        raise RecordError(f"trustee {trustee_id} is not a scrutineer of this session")
    try:
        proof = Proof.from_json(group, load_json(signature, "signature"), "archive check")
    except (PKIError, GroupError, ValueError) as exc:
        raise RecordError(
            f"the archive check of trustee {trustee_id} is malformed: {exc}"
        ) from None
    if not verify_signature(
        group, keys[trustee_id], SignedMsg(check_text(uuid, ballots_hash), proof)
    ):
        raise RecordError(f"the archive check of trustee {trustee_id} is not its signature")
