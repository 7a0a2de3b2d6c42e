"""The signed setup of a poll and the credentials' Merkle root in it: what a kiosk checks in
O(log N) before it votes, and what an auditor recomputes from the record.

When credential collection ends, the server signs a ``poll_setup`` statement
(:func:`tally.statements.poll_setup_payload`) naming the poll and the exact Belenios texts it
counts under — the SHA-256 of election.json and trustees.json (those of the archive's
``Setup`` event), the group, ``voters`` (the number of public credentials) and
``credentials_root``, the Merkle root (tally/merkle.py) of public_creds.json. Every kiosk
receives the same ``poll_ready`` — the election, the trustees and this statement, never the
credential list, whose size grows with the number of voters — and asks for the inclusion proof
of its own credential (``log2 N`` hashes). An auditor recomputes root and count from the list
in the record (:func:`check_setup_against_record`).
"""

from __future__ import annotations

from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from tally.errors import RecordError
from tally.merkle import InclusionProof, credential_leaves, merkle_root, verify_inclusion
from tally.statements import (
    POLL_SETUP,
    SignedStatement,
    StatementError,
    poll_setup_payload,
    sign_statement,
    verify_statement,
)


def setup_payload(
    *,
    session: str,
    poll_id: str,
    uuid: str,
    group: str,
    election: str,
    trustees: str,
    public_credentials: str,
    last_press_valid: bool,
    deadline: str | None = None,
) -> dict[str, Any]:
    """The ``poll_setup`` payload of a poll whose list of public credentials is known."""
    leaves = credential_leaves(public_credentials)
    return poll_setup_payload(
        session=session,
        poll_id=poll_id,
        uuid=uuid,
        group=group,
        election=election,
        trustees=trustees,
        voters=len(leaves),
        last_press_valid=last_press_valid,
        credentials_root=merkle_root(leaves),
        deadline=deadline,
    )


def make_setup_statement(key: Ed25519PrivateKey, **fields: Any) -> SignedStatement:
    """The server's signed ``poll_setup`` (Ed25519 is deterministic: signing the same setup
    again gives the same statement, so it need not be stored)."""
    return sign_statement(key, setup_payload(**fields))


def includes(payload: dict[str, Any], public_credential: str, proof: InclusionProof) -> bool:
    """True if ``proof`` shows ``public_credential`` in the list whose root and size the
    (checked) ``poll_setup`` payload names."""
    root, voters = payload.get("credentials_root"), payload.get("voters")
    if not isinstance(root, str) or type(voters) is not int:
        return False
    return verify_inclusion(public_credential, proof, root, voters)


def check_setup_against_record(
    signed: SignedStatement,
    *,
    server_key: str,
    poll_id: str,
    uuid: str,
    group: str,
    election: str,
    trustees: str,
    public_credentials: str,
) -> dict[str, Any]:
    """The auditor's check: signed by the server key, and every field but ``session``,
    ``last_press_valid`` and ``deadline`` (checked against the poll's closing by
    tally.closing_check) is what the record's poll implies — above all ``voters`` and
    ``credentials_root``, recomputed from the record's list. RecordError otherwise."""
    try:
        payload = verify_statement(signed, expected_signer=server_key, kind=POLL_SETUP)
    except StatementError as exc:
        raise RecordError(f"the poll setup: {exc}") from None
    expected = setup_payload(
        session=str(payload.get("session")),
        poll_id=poll_id,
        uuid=uuid,
        group=group,
        election=election,
        trustees=trustees,
        public_credentials=public_credentials,
        last_press_valid=bool(payload.get("last_press_valid")),
        deadline=deadline if isinstance(deadline := payload.get("deadline"), str) else None,
    )
    if payload.get("voters") != expected["voters"]:
        raise RecordError(
            f"the signed poll setup counts {payload.get('voters')} public credentials, "
            f"the record lists {expected['voters']}"
        )
    if payload.get("credentials_root") != expected["credentials_root"]:
        raise RecordError(
            "the Merkle root of the record's public credentials is not the one the server "
            "signed (and the kiosks checked their credentials against)"
        )
    wrong = sorted(k for k in expected if payload.get(k) != expected[k])
    if wrong:
        raise RecordError(f"the signed poll setup is not the record's poll in {wrong}")
    return payload
