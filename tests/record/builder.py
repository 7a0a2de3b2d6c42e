"""Build small archives in the test group, and rewrite them step by step (for tamper tests).

An archive is handled as a list of :class:`Step` (one per event, with the raw contents it
carries); :func:`write_steps` writes them with a freshly computed hash chain, so that a
tampered archive is consistent at the byte level and only a semantic check can refuse it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from gmpy2 import mpz

from keys.credentials import derive_secret, generate_private_credential, public_credential
from keys.group import TEST_256, Group
from keys.hashing import hjson, sha256_hex
from keys.signature import sign
from tally.archive import Archive, ArchiveWriter, read_archive
from tally.ballot import create_ballot
from tally.credentials import PublicCredential, serialize_public_credentials
from tally.decryption import compute_partial_decryption
from tally.election import Election, make_election
from tally.encrypted_tally import (
    compute_encrypted_tally,
    serialize_encrypted_tally,
    tallied_order,
)
from tally.events import Owned
from tally.json_format import compact
from tally.result import compute_result
from tally.simulate import TrusteeSpec, make_trustees
from tally.trustees import combined_public_key, serialize_trustees

TEMPLATE: dict[str, Any] = {
    "description": "测试",
    "name": "关于测试的议案",
    "questions": [
        {"answers": ["赞成", "反对", "弃权"], "min": 1, "max": 1, "question": "表决"},
        {"answers": ["A", "B", "C"], "blank": True, "min": 1, "max": 2, "question": "选择"},
    ],
}


@dataclass
class Step:
    type: str
    items: tuple[Any, ...] = ()  # Setup: (election, trustees, creds); Ballot/Result: (raw,)
    # EncryptedTally: (raw, num_tallied, total_weight); PD/Shuffle: (owner, raw)


@dataclass
class Built:
    path: Path
    election: Election
    group: Group
    private: list[str]
    keys: dict[int, mpz]
    steps: list[Step] = field(default_factory=list)
    timestamp: int = 1700000000


def write_steps(path: Path, steps: list[Step], timestamp: int = 1700000000) -> Path:
    """Write ``steps`` as a new archive (any previous file replaced), chain recomputed."""
    path.unlink(missing_ok=True)
    with ArchiveWriter.create(path, timestamp=timestamp, sync=False) as w:
        for s in steps:
            if s.type == "Setup":
                w.add_setup(*s.items)
            elif s.type == "EncryptedTally":
                w.add_encrypted_tally(*s.items)
            elif s.type in ("PartialDecryption", "Shuffle"):
                o = Owned(s.items[0], sha256_hex(s.items[1])).serialize()
                w.append([s.items[1], o], s.type, sha256_hex(o))
            elif s.type in ("EndBallots", "EndShuffles"):
                w.append([], s.type, None)
            else:
                w.append([s.items[0]], s.type, sha256_hex(s.items[0]))
    return path


def steps_of(archive: Archive) -> list[Step]:
    """The steps of an existing archive (inverse of :func:`write_steps`)."""
    from tally.events import parse_owned, parse_sized_encrypted_tally

    out = []
    _, e, t, c = archive.setup()
    for event in archive.events:
        if event.type == "Setup":
            out.append(Step("Setup", (e, t, c)))
        elif event.type in ("EndBallots", "EndShuffles"):
            out.append(Step(event.type))
        elif event.type == "EncryptedTally":
            sized = parse_sized_encrypted_tally(archive.payload(event))
            raw = archive.get(sized.encrypted_tally, "tally")
            out.append(Step(event.type, (raw, sized.num_tallied, sized.total_weight)))
        elif event.type in ("PartialDecryption", "Shuffle"):
            owned = parse_owned(archive.payload(event))
            out.append(Step(event.type, (owned.owner, archive.get(owned.payload, "item"))))
        else:
            out.append(Step(event.type, (archive.payload(event),)))
    return out


def build(
    folder: Path,
    votes: list[list[list[int]]],
    *,
    trustees: str = "1",
    revotes: list[tuple[int, list[list[int]]]] = (),  # type: ignore[assignment]
    template: dict[str, Any] | None = None,
    weights: list[int] | None = None,
    voters: int | None = None,
    stop_after: str | None = None,
) -> Built:
    """A complete (or partial, with ``stop_after``) election in TEST_256."""
    group = TEST_256
    spec = TrusteeSpec.parse(trustees)
    trustee_struct, keys = make_trustees(group, spec)
    uuid = "TestTestTest1234"
    election = make_election(
        template or TEMPLATE,
        uuid=uuid,
        group=group,
        public_key=combined_public_key(group, trustee_struct),
    )
    n = voters if voters is not None else len(votes)
    private = [generate_private_credential() for _ in range(n)]
    weights = weights or [1] * n
    creds = [
        PublicCredential(public_credential(group, uuid, c), w)
        for c, w in zip(private, weights, strict=True)
    ]
    steps = [
        Step(
            "Setup",
            (election.raw, serialize_trustees(trustee_struct), serialize_public_credentials(creds)),
        )
    ]
    cast = [(i, create_ballot(election, private[i], v)) for i, v in enumerate(votes)]
    cast += [(i, create_ballot(election, private[i], v)) for i, v in revotes]
    steps += [Step("Ballot", (b.raw,)) for _, b in cast]
    built = Built(folder / f"{uuid}.bel", election, group, private, keys, steps)
    if stop_after == "Ballot":
        write_steps(built.path, steps)
        return built
    steps.append(Step("EndBallots"))
    last = tallied_order(cast, lambda x: str(x[1].credential))
    tally = compute_encrypted_tally(election, [b for _, b in last], [weights[i] for i, _ in last])
    total = sum(weights[i] for i, _ in last)
    steps.append(Step("EncryptedTally", (serialize_encrypted_tally(tally), len(last), total)))
    owners = [1] if spec.threshold is None else [1, *range(2, 2 + spec.threshold)]
    partials = {}
    for owner in owners:
        pd = compute_partial_decryption(group, election.fingerprint, keys[owner], tally)
        partials[owner] = pd
        steps.append(Step("PartialDecryption", (owner, pd.serialize())))
    result = compute_result(election, trustee_struct, tally, partials, total_weight=total)
    steps.append(Step("Result", (result.serialize(),)))
    write_steps(built.path, steps)
    return built


def resign(built: Built, voter: int, obj: dict[str, Any]) -> str:
    """Re-sign a (modified) ballot object with voter ``voter``'s private credential."""
    secret = derive_secret(built.group, built.election.uuid, built.private[voter])
    unsigned = {k: obj[k] for k in ("election_uuid", "election_hash", "credential", "answers")}
    h = hjson(compact(unsigned))
    return compact(
        {**unsigned, "signature": {"hash": h, "proof": sign(built.group, secret, h).to_json()}}
    )


def ballot_steps(steps: list[Step]) -> list[int]:
    return [i for i, s in enumerate(steps) if s.type == "Ballot"]


def step_index(steps: list[Step], kind: str) -> int:
    """The index of the first step of type ``kind``."""
    return next(i for i, s in enumerate(steps) if s.type == kind)


def edit_json(step: Step, index: int, fn: Any) -> Step:
    """A copy of ``step`` whose ``items[index]`` JSON is transformed by ``fn`` (re-compacted)."""
    obj = json.loads(step.items[index])
    obj = fn(obj) or obj
    items = list(step.items)
    items[index] = compact(obj)
    return replace(step, items=tuple(items))


def reload(path: Path) -> list[Step]:
    return steps_of(read_archive(path))
