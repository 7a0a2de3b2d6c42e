"""The scrutineers' signatures of a poll's count report (计票结果报告单, law §8.3).

The *count report* of a tallied poll is a JSON object (:func:`count_report`); its signed text
is :func:`report_text` (keys sorted, compact, UTF-8, after the line ``renda-count-report-v1``).
A scrutineer signs that text with the Belenios PKI signing key ``sk = derive_sk(seed)`` whose
verification key ``g^sk`` its ceremony certificate already publishes in the poll's
``trustees.json`` (``certs`` of the Pedersen item): ``keys.pki.sign(group, sk, text)``. The
signature is the Schnorr proof ``{"challenge", "response"}``; trustee ids are those of
belenios-tool (1-based over the flattened trustees list; the server's Single key is not a
scrutineer and does not sign).

Anyone checks the signatures with :func:`check_report_signatures` and ``trustees.json``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from gmpy2 import mpz

from keys.group import Group, GroupError
from keys.hashing import sha256_hex
from keys.pki import PKIError, SignedMsg, cert_keys, dump_json, load_json, sign, verify_signature
from keys.proof import Proof
from tally.errors import RecordError
from tally.trustees import PedersenTrustees, Trustees, parse_trustees, trustee_slots

REPORT_HEADER = "renda-count-report-v1\n"
REPORT_KIND = "count_report"


def count_report(
    *,
    session: str,
    poll_id: str,
    uuid: str,
    result_raw: str,
    counts: Any,
    outcome: Any,
) -> dict[str, Any]:
    """The count report of a tallied poll: its Belenios result (by hash and per option, in
    ``counts.result``), the attendance figures and the rules engine's outcome."""
    return {
        "kind": REPORT_KIND,
        "session": session,
        "poll_id": poll_id,
        "uuid": uuid,
        "result_hash": sha256_hex(result_raw),
        "counts": counts,
        "outcome": outcome,
    }


def report_text(report: Mapping[str, Any]) -> str:
    """The exact text a scrutineer signs."""
    body = json.dumps(report, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return REPORT_HEADER + body


def parse_report_text(text: str) -> dict[str, Any]:
    """The report inside a signed text; RecordError if it is not one in canonical form."""
    if not text.startswith(REPORT_HEADER):
        raise RecordError("the count report does not start with " + repr(REPORT_HEADER))
    try:
        report = load_json(text[len(REPORT_HEADER) :], "count report")
    except PKIError as exc:
        raise RecordError(str(exc)) from None
    if not isinstance(report, dict) or report.get("kind") != REPORT_KIND:
        raise RecordError(f'the count report must be an object with "kind": "{REPORT_KIND}"')
    for name in ("poll_id", "uuid", "result_hash", "counts", "outcome", "session"):
        if name not in report:
            raise RecordError(f"the count report has no {name!r}")
    if report_text(report) != text:
        raise RecordError("the count report is not in canonical form")
    return report


def check_report_against_result(report: Mapping[str, Any], result_raw: str) -> None:
    """The report's per-option counts and result hash are those of the Belenios result text
    ``result_raw`` (the archive's Result event); RecordError otherwise."""
    try:
        result = load_json(result_raw, "Belenios result")
    except PKIError as exc:
        raise RecordError(str(exc)) from None
    if not isinstance(result, dict) or "result" not in result:
        raise RecordError("the Belenios result has no 'result' field")
    counts = report.get("counts")
    if not isinstance(counts, dict) or counts.get("result") != result["result"]:
        raise RecordError(
            "the count report's per-option counts differ from the Belenios result in the record"
        )
    if report.get("result_hash") != sha256_hex(result_raw):
        raise RecordError("the count report's result_hash is not the hash of the record's result")


def scrutineer_keys(group: Group, trustees: Trustees) -> dict[int, mpz]:
    """Trustee id → the verification key of its certificate (Pedersen items only); each
    certificate's self-signature is checked."""
    keys: dict[int, mpz] = {}
    for slot in trustee_slots(trustees):
        item = trustees.items[slot.item]
        if not isinstance(item, PedersenTrustees):
            continue
        try:
            cert = item.params.certs[slot.index_in_item - 1]
            keys[slot.owner] = cert_keys(
                group, cert, f"certificate of trustee {slot.owner}"
            ).verification
        except (PKIError, IndexError) as exc:
            raise RecordError(f"trustee {slot.owner}: {exc}") from None
    return keys


def signatures_needed(trustees: Trustees) -> int:
    """How many scrutineers must sign: the threshold k of the Pedersen item(s)."""
    return max((i.threshold for i in trustees.items if isinstance(i, PedersenTrustees)), default=0)


def sign_report(group: Group, sk: mpz, text: str) -> str:
    """The signature (compact JSON ``{"challenge","response"}``) of a report text."""
    return dump_json(sign(group, sk, text).signature.to_json())


def verify_report_signature(
    group: Group, keys: Mapping[int, mpz], text: str, trustee_id: int, signature: Any
) -> None:
    """Check one signature (its JSON text or object); RecordError in plain words otherwise."""
    check_trustee_signature(
        group,
        keys,
        text,
        trustee_id,
        signature,
        scope="this poll",
        name="signature",
        wrong="does not check against the count report and the verification key of its certificate",
    )


def check_trustee_signature(
    group: Group,
    keys: Mapping[int, mpz],
    text: str,
    tid: int,
    signature: Any,
    *,
    scope: str,
    name: str,
    wrong: str,
) -> None:
    """RecordError unless ``signature`` (JSON text or object) is trustee ``tid``'s signature
    of ``text`` under its key in ``keys``; the messages name ``scope``, the signature's
    ``name`` and what a ``wrong`` signature fails to do."""
    if tid not in keys:
        raise RecordError(f"trustee {tid} is not a scrutineer of {scope}")
    try:
        obj = load_json(signature, "signature") if isinstance(signature, str) else signature
        proof = Proof.from_json(group, obj, f"signature of trustee {tid}")
    except (PKIError, GroupError, ValueError) as exc:
        raise RecordError(f"the {name} of trustee {tid} is malformed: {exc}") from None
    if not verify_signature(group, keys[tid], SignedMsg(text, proof)):
        raise RecordError(f"the signature of trustee {tid} {wrong}")


def check_report_signatures(
    group: Group,
    trustees_raw: str | bytes,
    text: str,
    signatures: Sequence[Mapping[str, Any]],
) -> tuple[list[int], int]:
    """Check every ``{"trustee_id", "signature"}`` of a published report text against the
    poll's ``trustees.json``. Returns (the signers' trustee ids, sorted; the number needed).
    RecordError on a bad, repeated or unknown signer."""
    parse_report_text(text)
    trustees = parse_trustees(group, trustees_raw)
    keys = scrutineer_keys(group, trustees)
    seen: list[int] = []
    for n, entry in enumerate(signatures, start=1):
        tid = entry.get("trustee_id") if isinstance(entry, Mapping) else None
        if not isinstance(tid, int) or isinstance(tid, bool):
            raise RecordError(f"signature {n} has no integer trustee_id")
        if tid in seen:
            raise RecordError(f"trustee {tid} signed the count report twice")
        verify_report_signature(group, keys, text, tid, entry.get("signature"))
        seen.append(tid)
    return sorted(seen), signatures_needed(trustees)
