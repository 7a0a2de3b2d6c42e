"""The session's trustees as the scrutineers published them, and the server's list of polls.

At the end of the key ceremony every scrutineer's tool signs :func:`trustees_text` — the
SHA-256 of the session's exact ``trustees.json`` — with the signing key of its ceremony
certificate (as the count report), and sends the signature to the server, which publishes it
in the session record (``session.json``: ``trustees``, ``trustees_signatures``). An auditor
then knows that k scrutineers took part in that ceremony, and refuses a poll encrypted to
other trustees (tally.session_record).

The server also signs the session's list of polls (``poll_list`` statement: for each poll its
id, election uuid, kind, state and parent link), so that a record missing a poll it names is
refused.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from gmpy2 import mpz

from keys.group import Group
from keys.hashing import sha256_hex
from keys.pki import dump_json, sign
from tally.errors import RecordError
from tally.report_signatures import check_trustee_signature, scrutineer_keys, signatures_needed
from tally.trustees import PedersenTrustees, parse_trustees

TRUSTEES_HEADER = "renda-session-trustees-v1\n"
POLL_LIST = "poll_list"
POLL_FIELDS = ("poll_id", "uuid", "kind", "state", "parent_id", "relation")


def trustees_text(trustees_raw: str) -> str:
    return TRUSTEES_HEADER + sha256_hex(trustees_raw)


def sign_trustees(group: Group, sk: mpz, trustees_raw: str) -> str:
    return dump_json(sign(group, sk, trustees_text(trustees_raw)).signature.to_json())


def check_trustees_signatures(
    group: Group,
    trustees_raw: str,
    signatures: Sequence[Mapping[str, Any]],
    *,
    allow_server_only: bool = False,
) -> tuple[list[int], int]:
    """(the signers' trustee ids, the number needed). RecordError unless the trustees hold a
    Pedersen group of scrutineers (``allow_server_only``: test sessions) and at least k of them
    signed these very trustees."""
    trustees = parse_trustees(group, trustees_raw)
    if not any(isinstance(i, PedersenTrustees) for i in trustees.items):
        if allow_server_only:
            return [], 0
        raise RecordError(
            "the session's trustees hold no scrutineers' key: every poll can be decrypted by "
            "the server alone"
        )
    keys = scrutineer_keys(group, trustees)
    seen: list[int] = []
    for n, entry in enumerate(signatures, start=1):
        tid = entry.get("trustee_id") if isinstance(entry, Mapping) else None
        if not isinstance(tid, int) or isinstance(tid, bool) or tid not in keys:
            raise RecordError(f"trustees signature {n} names no scrutineer of the session")
        if tid in seen:
            raise RecordError(f"trustee {tid} signed the session's trustees twice")
        verify_trustees_signature(group, keys, trustees_raw, tid, entry.get("signature"))
        seen.append(tid)
    needed = signatures_needed(trustees)
    if len(seen) < needed:
        raise RecordError(
            f"only {len(seen)} of the {needed} scrutineers needed signed the session's trustees"
        )
    return sorted(seen), needed


@dataclass(frozen=True)
class TrusteesCheck:
    """What a kiosk pins and shows of one group's trustees after checking them."""

    fingerprint: str  # trustees_fingerprint: to compare with what the scrutineers announce
    signers: tuple[int, ...]  # the scrutineers whose signature checked
    needed: int  # k (0: a test session without scrutineers)


def trustees_fingerprint(trustees_raw: str) -> str:
    """The trustees' fingerprint for people: the first 128 bits of the SHA-256 they sign
    (:func:`trustees_text`), in eight groups of four hex digits."""
    digest = sha256_hex(trustees_raw)[:32].upper()
    return " ".join(digest[i : i + 4] for i in range(0, 32, 4))


def check_session_trustees(
    group: Group,
    trustees_raw: str,
    signatures: Sequence[Mapping[str, Any]],
    *,
    allow_server_only: bool = False,
) -> TrusteesCheck:
    """One group's trustees, checked as the auditor checks them (:func:`check_trustees_signatures`:
    a Pedersen group of scrutineers, k of whom signed these very trustees); RecordError
    otherwise. The kiosk calls it before it pins the trustees (once per group)."""
    signers, needed = check_trustees_signatures(
        group, trustees_raw, signatures, allow_server_only=allow_server_only
    )
    return TrusteesCheck(trustees_fingerprint(trustees_raw), tuple(signers), needed)


def verify_trustees_signature(
    group: Group, keys: Mapping[int, mpz], trustees_raw: str, tid: int, signature: Any
) -> None:
    """RecordError unless ``signature`` is trustee ``tid``'s signature of the trustees."""
    check_trustee_signature(
        group,
        keys,
        trustees_text(trustees_raw),
        tid,
        signature,
        scope="the session",
        name="trustees signature",
        wrong="does not sign the session's trustees",
    )


def poll_list_entry(poll: Mapping[str, Any]) -> dict[str, Any]:
    """The fields of a poll the server's signed list names."""
    return {name: poll.get(name) for name in POLL_FIELDS}
