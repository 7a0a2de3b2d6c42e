"""Ballots of Belenios 2.0 (spec §4.11–4.15): reading, checking and creating them.

A ballot is read from its raw text, which must be exactly its canonical serialization
(belenios-tool refuses other forms too), with fields in the order of the spec, numbers as
canonical decimal strings of group members or exponents, and as many answers, choices and
proofs as the election's questions require. :func:`check_ballot` then checks every proof and
the signature. The tracker (smart ballot tracker) is ``H_JSON(raw)``.

The prefix ``S0`` of every proof is ``fingerprint|credential``; homomorphic overall and blank
proofs use ``S0|alpha1,beta1,...`` over all the answer's choices.

Stricter than belenios-tool, on purpose: belenios-tool re-serializes the ``answers`` as generic
JSON, so inside them it would also accept numbers such as ``"007"``, another field order,
extra fields, or, for a blank-allowed question, an answer without ``blank_proof`` and without
the blank slot (which then breaks its own tally). Renda refuses all of these: one ballot has
exactly one text, hence one tracker. Ballots written by belenios-tool are always accepted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import gmpy2
from gmpy2 import mpz

from keys.blank_proof import prove_blank, verify_blank_proof, verify_overall_proof
from keys.credentials import CredentialError, derive_secret
from keys.elgamal import Ciphertext, product
from keys.embedding import EmbeddingError, max_value, max_values
from keys.group import Group, GroupError, to_str
from keys.hashing import hjson
from keys.iproof import iprove, iverify
from keys.nh_answer import create_nh_answer, verify_nh_answer
from keys.powers import Powers, powers
from keys.proof import Proof
from keys.signature import sign, verify_signature
from tally.election import (
    Election,
    HomomorphicQuestion,
    NonHomomorphicQuestion,
    Question,
    check_uuid,
    parse_election,
)
from tally.errors import RecordError
from tally.json_format import compact, parse_canonical_json

BALLOT_FIELDS = ("election_uuid", "election_hash", "credential", "answers", "signature")


@dataclass(frozen=True)
class HomomorphicAnswer:
    choices: tuple[Ciphertext, ...]
    individual_proofs: tuple[tuple[Proof, ...], ...]
    overall_proof: tuple[Proof, ...]
    blank_proof: tuple[Proof, ...] | None = None

    def to_json(self) -> dict[str, Any]:
        obj: dict[str, Any] = {
            "choices": [c.to_json() for c in self.choices],
            "individual_proofs": [[p.to_json() for p in ps] for ps in self.individual_proofs],
            "overall_proof": [p.to_json() for p in self.overall_proof],
        }
        if self.blank_proof is not None:
            obj["blank_proof"] = [p.to_json() for p in self.blank_proof]
        return obj


@dataclass(frozen=True)
class NonHomomorphicAnswer:
    choices: Ciphertext
    proof: Proof

    def to_json(self) -> dict[str, Any]:
        return {"choices": self.choices.to_json(), "proof": self.proof.to_json()}


Answer = HomomorphicAnswer | NonHomomorphicAnswer


@dataclass(frozen=True)
class Signature:
    hash: str
    proof: Proof

    def to_json(self) -> dict[str, Any]:
        return {"hash": self.hash, "proof": self.proof.to_json()}


@dataclass(frozen=True)
class Ballot:
    raw: str = field(repr=False)
    tracker: str
    election_uuid: str
    election_hash: str
    credential: mpz
    answers: tuple[Answer, ...]
    signature: Signature
    signed_hash: str = field(repr=False)  # H_JSON of the ballot without its signature

    @property
    def ciphertexts(self) -> tuple[tuple[Ciphertext, ...], ...]:
        """One row per question: the choices (homomorphic) or the single ciphertext (nh)."""
        return tuple(
            a.choices if isinstance(a, HomomorphicAnswer) else (a.choices,) for a in self.answers
        )


# -- serialization ------------------------------------------------------------------------


def _without_signature(
    election_uuid: str, election_hash: str, credential: mpz, answers: Sequence[Answer]
) -> dict[str, Any]:
    return {
        "election_uuid": election_uuid,
        "election_hash": election_hash,
        "credential": to_str(credential),
        "answers": [a.to_json() for a in answers],
    }


def serialize_ballot(ballot_fields: dict[str, Any]) -> str:
    return compact(ballot_fields)


# -- parsing ------------------------------------------------------------------------------


def _expect_keys(obj: Any, keys: Sequence[str], what: str) -> dict[str, Any]:
    if not isinstance(obj, dict):
        raise RecordError(f"{what} must be a JSON object")
    if list(obj) != list(keys):
        raise RecordError(f"{what} must have exactly the fields {', '.join(keys)} in this order")
    return obj


def _list(obj: Any, length: int, what: str) -> list[Any]:
    if not isinstance(obj, list):
        raise RecordError(f"{what} must be a JSON list")
    if len(obj) != length:
        raise RecordError(f"{what} must have {length} items, not {len(obj)}")
    return obj


def _proof(group: Group, obj: Any, what: str) -> Proof:
    _expect_keys(obj, ("challenge", "response"), what)
    return Proof.from_json(group, obj, what)


def _ciphertext(group: Group, obj: Any, what: str) -> Ciphertext:
    _expect_keys(obj, ("alpha", "beta"), what)
    return Ciphertext.from_json(group, obj, what)


def overall_proof_length(q: HomomorphicQuestion) -> int:
    return q.max - q.min + (2 if q.blank_allowed else 1)


def _parse_answer(group: Group, q: Question, obj: Any, what: str) -> Answer:
    if isinstance(q, NonHomomorphicQuestion):
        _expect_keys(obj, ("choices", "proof"), what)
        return NonHomomorphicAnswer(
            _ciphertext(group, obj["choices"], f"{what}, choices"),
            _proof(group, obj["proof"], f"{what}, proof"),
        )
    keys = ["choices", "individual_proofs", "overall_proof"]
    if q.blank_allowed:
        keys.append("blank_proof")
    _expect_keys(obj, keys, what)
    n = q.length
    choices = tuple(
        _ciphertext(group, c, f"{what}, choice {i + 1}")
        for i, c in enumerate(_list(obj["choices"], n, f"{what}, choices"))
    )
    individual = tuple(
        tuple(
            _proof(group, p, f"{what}, individual proof {i + 1}")
            for p in _list(ps, 2, f"{what}, individual proof {i + 1}")
        )
        for i, ps in enumerate(_list(obj["individual_proofs"], n, f"{what}, individual_proofs"))
    )
    overall = tuple(
        _proof(group, p, f"{what}, overall proof")
        for p in _list(obj["overall_proof"], overall_proof_length(q), f"{what}, overall_proof")
    )
    blank = None
    if q.blank_allowed:
        blank = tuple(
            _proof(group, p, f"{what}, blank proof")
            for p in _list(obj["blank_proof"], 2, f"{what}, blank_proof")
        )
    return HomomorphicAnswer(choices, individual, overall, blank)


def max_ballot_length(election: Election) -> int:
    """A generous bound on the length of a valid ballot's text, to refuse huge inputs early."""
    digits = len(to_str(election.group.p)) + 2
    exp_digits = len(to_str(election.group.q)) + 2
    numbers = 0
    for q in election.questions:
        if isinstance(q, HomomorphicQuestion):
            numbers += q.length * (2 * digits + 4 * exp_digits) + overall_proof_length(q) * (
                2 * exp_digits
            )
            numbers += 4 * exp_digits
        else:
            numbers += 4 * digits
    return 2 * numbers + 4 * digits + 4096


def parse_ballot(election: Election, raw: str) -> Ballot:
    """Read a ballot: canonical JSON, right shape for the election, numbers in the group.

    Raises RecordError saying what is wrong. Proofs are not checked here (see check_ballot).
    """
    if not isinstance(raw, str):
        raise RecordError("a ballot must be text")
    if len(raw) > max_ballot_length(election):
        raise RecordError("the ballot is far longer than any valid ballot of this election")
    obj = parse_canonical_json(raw, "ballot")
    _expect_keys(obj, BALLOT_FIELDS, "ballot")
    group = election.group
    uuid, ehash = obj["election_uuid"], obj["election_hash"]
    if not isinstance(ehash, str):
        raise RecordError("ballot: election_hash must be a string")
    check_uuid(uuid)
    try:
        credential = group.parse_element(obj["credential"], "ballot credential")
        answers_json = _list(obj["answers"], len(election.questions), "ballot answers")
        answers = tuple(
            _parse_answer(group, q, a, f"answer to question {i + 1}")
            for i, (q, a) in enumerate(zip(election.questions, answers_json, strict=True))
        )
        sig = _expect_keys(obj["signature"], ("hash", "proof"), "ballot signature")
        if not isinstance(sig["hash"], str):
            raise RecordError("ballot signature: hash must be a string")
        signature = Signature(sig["hash"], _proof(group, sig["proof"], "ballot signature proof"))
    except GroupError as exc:
        raise RecordError(f"ballot: {exc}") from None
    unsigned = {k: obj[k] for k in BALLOT_FIELDS[:4]}
    return Ballot(
        raw=raw,
        tracker=hjson(raw),
        election_uuid=uuid,
        election_hash=ehash,
        credential=credential,
        answers=answers,
        signature=signature,
        signed_hash=hjson(compact(unsigned)),
    )


# -- checking -----------------------------------------------------------------------------


def _choices_string(choices: Sequence[Ciphertext]) -> str:
    return ",".join(f"{to_str(c.alpha)},{to_str(c.beta)}" for c in choices)


def _check_answer(
    election: Election, pw: Powers, prefix: str, q: Question, a: Answer, what: str
) -> None:
    group, y = election.group, election.public_key
    if isinstance(q, NonHomomorphicQuestion):
        if not isinstance(a, NonHomomorphicAnswer):
            raise RecordError(f"{what} is not a non-homomorphic answer")
        if not verify_nh_answer(group, y, prefix, a.choices, a.proof, g_pow=pw.g_pow):
            raise RecordError(f"{what}: the proof of the encrypted answer is invalid")
        return
    if not isinstance(a, HomomorphicAnswer):
        raise RecordError(f"{what} is not a homomorphic answer")
    if len(a.choices) != q.length or len(a.individual_proofs) != q.length:
        raise RecordError(f"{what} has the wrong number of choices")
    for i, (c, proofs) in enumerate(zip(a.choices, a.individual_proofs, strict=True)):
        if not iverify(group, y, prefix, c, proofs, (0, 1), pw=pw):
            raise RecordError(f"{what}: the proof that choice {i + 1} is 0 or 1 is invalid")
    full_prefix = f"{prefix}|{_choices_string(a.choices)}"
    if q.blank_allowed:
        if a.blank_proof is None:
            raise RecordError(f"{what} has no blank proof")
        c0 = a.choices[0]
        c_sum = product(group, a.choices[1:])
        if not verify_blank_proof(group, y, full_prefix, c0, c_sum, a.blank_proof, pw=pw):
            raise RecordError(f"{what}: the blank proof is invalid")
        if not verify_overall_proof(
            group, y, full_prefix, q.min, q.max, c0, c_sum, a.overall_proof, pw=pw
        ):
            raise RecordError(f"{what}: the overall proof is invalid")
    else:
        if a.blank_proof is not None:
            raise RecordError(f"{what} has a blank proof but blank votes are not allowed")
        c_sum = product(group, a.choices)
        if not iverify(
            group, y, full_prefix, c_sum, a.overall_proof, range(q.min, q.max + 1), pw=pw
        ):
            raise RecordError(
                f"{what}: the overall proof (between {q.min} and {q.max} choices) is invalid"
            )


def check_ballot(election: Election, ballot: Ballot) -> None:
    """Check that the ballot belongs to the election and that all its proofs are valid."""
    if ballot.election_uuid != election.uuid:
        raise RecordError("the ballot's election_uuid is not the uuid of this election")
    if ballot.election_hash != election.fingerprint:
        raise RecordError("the ballot's election_hash is not the fingerprint of this election")
    if len(ballot.answers) != len(election.questions):
        raise RecordError("the ballot does not answer every question")
    group = election.group
    pw = powers(group, election.public_key)
    if ballot.signature.hash != ballot.signed_hash:
        raise RecordError("the signature's hash is not the hash of the ballot")
    if not verify_signature(
        group, ballot.credential, ballot.signature.hash, ballot.signature.proof, g_pow=pw.g_pow
    ):
        raise RecordError("the ballot signature is invalid")
    prefix = f"{election.fingerprint}|{to_str(ballot.credential)}"
    for i, (q, a) in enumerate(zip(election.questions, ballot.answers, strict=True)):
        _check_answer(election, pw, prefix, q, a, f"answer to question {i + 1}")


@lru_cache(maxsize=8)
def _cached_election(election_raw: str, allow_test_group: bool) -> Election:
    return parse_election(election_raw, allow_test_group=allow_test_group)


def check_ballot_raw(
    election_raw: str, ballot_raw: str, allow_test_group: bool = False
) -> str | None:
    """Parse and check a ballot; None if valid, else the reason. For process pools.

    Every argument is a plain string (picklable); the parsed election and its power tables
    are cached in the worker process.
    """
    try:
        election = _cached_election(election_raw, allow_test_group)
        check_ballot(election, parse_ballot(election, ballot_raw))
    except ValueError as exc:  # RecordError, GroupError
        return str(exc) or type(exc).__name__
    return None


# -- creating -----------------------------------------------------------------------------


def check_plaintext(election: Election, plaintext: Sequence[Sequence[int]]) -> None:
    """ValueError unless ``plaintext`` is a valid vote (belenios-tool's ``--ballot`` format)."""
    if len(plaintext) != len(election.questions):
        raise ValueError(
            f"the vote must answer {len(election.questions)} questions, not {len(plaintext)}"
        )
    for i, (q, row) in enumerate(zip(election.questions, plaintext, strict=True)):
        what = f"question {i + 1}"
        if any(isinstance(v, bool) or not isinstance(v, int) for v in row):
            raise ValueError(f"{what}: the vote must be a list of integers")
        if len(row) != q.length:
            raise ValueError(f"{what}: the vote must have {q.length} numbers, not {len(row)}")
        if isinstance(q, NonHomomorphicQuestion):
            try:
                top = max_value(election.group)
                if len(row) > max_values(election.group):
                    raise ValueError(f"{what}: too many answers to fit in one group element")
            except EmbeddingError as exc:
                raise ValueError(str(exc)) from None
            if any(not 0 <= v <= top for v in row):
                raise ValueError(f"{what}: each number must be between 0 and {top}")
            continue
        if any(v not in (0, 1) for v in row):
            raise ValueError(f"{what}: each choice must be 0 or 1")
        if q.blank_allowed:
            m0, rest = row[0], sum(row[1:])
            if m0 == 1 and rest != 0:
                raise ValueError(f"{what}: a blank vote (first number 1) selects nothing else")
            if m0 == 0 and not q.min <= rest <= q.max:
                raise ValueError(f"{what}: select between {q.min} and {q.max} answers")
        elif not q.min <= sum(row) <= q.max:
            raise ValueError(f"{what}: select between {q.min} and {q.max} answers")


def _create_answer(
    election: Election, pw: Powers, prefix: str, q: Question, row: Sequence[int]
) -> Answer:
    group, y = election.group, election.public_key
    if isinstance(q, NonHomomorphicQuestion):
        c, proof = create_nh_answer(group, y, prefix, row)
        return NonHomomorphicAnswer(c, proof)
    rs = [group.random_exponent() for _ in row]
    choices = tuple(
        Ciphertext(pw.g_pow(r), gmpy2.f_mod(pw.y_pow(r) * pw.g_pow(m), group.p))
        for r, m in zip(rs, row, strict=True)
    )
    individual = tuple(
        iprove(group, y, prefix, c, r, m, (0, 1), pw=pw)
        for c, r, m in zip(choices, rs, row, strict=True)
    )
    full_prefix = f"{prefix}|{_choices_string(choices)}"
    if q.blank_allowed:
        overall, blank = prove_blank(
            group,
            y,
            full_prefix,
            q.min,
            q.max,
            row[0],
            rs[0],
            sum(row[1:]),
            sum(rs[1:], mpz(0)) % group.q,
            pw=pw,
        )
        return HomomorphicAnswer(choices, individual, overall, blank)
    total = sum(row)
    c_sum = product(group, choices)
    overall = iprove(
        group,
        y,
        full_prefix,
        c_sum,
        sum(rs, mpz(0)) % group.q,
        total - q.min,
        range(q.min, q.max + 1),
        pw=pw,
    )
    return HomomorphicAnswer(choices, individual, overall, None)


def create_ballot(
    election: Election, private_credential: str, plaintext: Sequence[Sequence[int]]
) -> Ballot:
    """Encrypt a vote and sign it with the private credential, as belenios-tool does."""
    check_plaintext(election, plaintext)
    try:
        secret = derive_secret(election.group, election.uuid, private_credential)
    except CredentialError as exc:
        raise ValueError(str(exc)) from None
    group = election.group
    pw = powers(group, election.public_key)
    credential = pw.g_pow(secret)
    prefix = f"{election.fingerprint}|{to_str(credential)}"
    answers = tuple(
        _create_answer(election, pw, prefix, q, row)
        for q, row in zip(election.questions, plaintext, strict=True)
    )
    unsigned = _without_signature(election.uuid, election.fingerprint, credential, answers)
    signed_hash = hjson(compact(unsigned))
    signature = Signature(signed_hash, sign(group, secret, signed_hash))
    raw = compact({**unsigned, "signature": signature.to_json()})
    return Ballot(
        raw=raw,
        tracker=hjson(raw),
        election_uuid=election.uuid,
        election_hash=election.fingerprint,
        credential=credential,
        answers=answers,
        signature=signature,
        signed_hash=signed_hash,
    )
