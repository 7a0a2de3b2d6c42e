"""A whole Belenios election offline, into ``DIR/<uuid>.bel`` (``renda simulate``).

Setup (trustee keys, credentials, election), N ballots with random valid choices, EndBallots,
encrypted tally, shuffles (if the template has non-homomorphic questions), partial
decryptions and result: every step written with :class:`tally.archive.ArchiveWriter`, so the
archive is the same shape as one our server or belenios-tool writes, and
``belenios-tool election verify`` accepts it.

``seed`` makes the voters' choices (and which threshold trustees decrypt) reproducible; the
cryptographic randomness always comes from the operating system.
"""

from __future__ import annotations

import random
import re
from collections.abc import Mapping, Sequence
from concurrent.futures import as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gmpy2 import mpz

from keys.credentials import generate_private_credential, public_credential
from keys.embedding import max_value
from keys.group import BELENIOS_2048, RFC_3526_2048, TEST_256, Group
from keys.threshold import (
    decryption_key,
    generate_cert,
    make_polynomial,
    make_threshold_parameters,
    make_vinputs,
    make_voutput,
)
from keys.trustee_key import generate_trustee_key
from tally.archive import ArchiveWriter
from tally.credentials import PublicCredential, serialize_public_credentials
from tally.decryption import compute_partial_decryption
from tally.election import (
    Election,
    HomomorphicQuestion,
    NonHomomorphicQuestion,
    generate_uuid,
    make_election,
    parse_election,
)
from tally.election_ballot import encode_ballot, layout_of_question, random_ballot
from tally.encrypted_tally import (
    TallyInput,
    question_sizes,
    serialize_encrypted_tally,
    tally_choices,
)
from tally.errors import RecordError
from tally.events import load_json
from tally.progress import progress
from tally.result import compute_result
from tally.trustees import PedersenTrustees, SingleTrustee, Trustees, serialize_trustees
from tally.workers import worker_pool


@dataclass(frozen=True)
class TrusteeSpec:
    """``--trustees``: ``1`` (one single trustee) or ``K-of-N`` (server key + Pedersen)."""

    threshold: int | None  # K; None for a single trustee
    size: int  # N

    @staticmethod
    def parse(text: str) -> TrusteeSpec:
        if text.strip() == "1":
            return TrusteeSpec(None, 1)
        m = re.fullmatch(r"\s*([0-9]+)\s*-?of-?\s*([0-9]+)\s*", text)
        if m is None:
            raise ValueError(f"--trustees must be 1 or K-of-N (e.g. 2-of-3), not {text!r}")
        k, n = int(m.group(1)), int(m.group(2))
        if not 1 <= k <= n or n > 50:
            raise ValueError(f"--trustees {text}: need 1 <= K <= N <= 50")
        return TrusteeSpec(k, n)


@dataclass(frozen=True)
class Simulation:
    path: Path
    election: Election
    result_raw: str
    ballots: int


# -- random valid votes -----------------------------------------------------------------------


def random_plaintext(election: Election, rng: random.Random) -> list[list[int]]:
    """A random vote that respects every question's min, max and blank rules."""
    out: list[list[int]] = []
    for q in election.questions:
        if isinstance(q, NonHomomorphicQuestion):
            layout = layout_of_question(q)  # a 人大 election ballot (docs/ballots.md)
            if layout is not None:
                out.append(encode_ballot(layout, random_ballot(layout, rng)))
                continue
            top = min(max_value(election.group), len(q.answers))
            out.append([rng.randint(0, top) for _ in q.answers])
            continue
        assert isinstance(q, HomomorphicQuestion)
        n = len(q.answers)
        if q.blank_allowed and rng.random() < 0.15:
            out.append([1] + [0] * n)
            continue
        k = rng.randint(q.min, min(q.max, n))
        chosen = set(rng.sample(range(n), k))
        row = [1 if j in chosen else 0 for j in range(n)]
        out.append(([0, *row]) if q.blank_allowed else row)
    return out


# -- ballots, in a pool when there are many ----------------------------------------------------


def _make_ballots(
    election_raw: str, allow_test_group: bool, jobs: Sequence[tuple[str, list[list[int]]]]
) -> list[str]:
    from tally.ballot import create_ballot

    election = parse_election(election_raw, allow_test_group=allow_test_group)
    return [create_ballot(election, cred, plain).raw for cred, plain in jobs]


def make_ballots(
    election: Election,
    jobs: Sequence[tuple[str, list[list[int]]]],
    *,
    workers: int = 2,
    allow_test_group: bool = False,
) -> list[str]:
    """Raw ballots for (private credential, plaintext) pairs, in order."""
    with progress(len(jobs), "制作选票 (making ballots)") as advance:
        if workers <= 1 or len(jobs) < 8:
            made = _make_ballots(election.raw, allow_test_group, jobs)
            advance(len(made))
            return made
        size = max(1, -(-len(jobs) // (workers * 16)))
        chunks = [list(jobs[i : i + size]) for i in range(0, len(jobs), size)]
        with worker_pool(workers) as pool:
            futures = [
                pool.submit(_make_ballots, election.raw, allow_test_group, c) for c in chunks
            ]
            for done in as_completed(futures):
                advance(len(done.result()))
            return [b for f in futures for b in f.result()]


# -- trustees ----------------------------------------------------------------------------------


def make_trustees(group: Group, spec: TrusteeSpec) -> tuple[Trustees, dict[int, mpz]]:
    """The trustees structure and every trustee id's decryption key."""
    server_key, server_pub = generate_trustee_key(group)
    if spec.threshold is None:
        return Trustees((SingleTrustee(server_pub),)), {1: server_key}
    seeds_certs = [generate_cert(group) for _ in range(spec.size)]
    certs = [c for _, c in seeds_certs]
    polynomials = [make_polynomial(group, certs, seed, spec.threshold) for seed, _ in seeds_certs]
    vinputs = make_vinputs(group, certs, polynomials)
    voutputs = [
        make_voutput(group, certs, seed, vi)
        for (seed, _), vi in zip(seeds_certs, vinputs, strict=True)
    ]
    params, dkeys = make_threshold_parameters(group, certs, polynomials, voutputs)
    keys = {1: server_key}
    for z, ((seed, _), dkey) in enumerate(zip(seeds_certs, dkeys, strict=True), start=2):
        keys[z] = decryption_key(group, seed, dkey)
    return Trustees((SingleTrustee(server_pub), PedersenTrustees(params))), keys


# -- the whole election --------------------------------------------------------------------------


def _group_for(template: Mapping[str, Any], test_group: bool) -> Group:
    if test_group:
        return TEST_256
    questions = template.get("questions", [])
    nh = any(isinstance(q, dict) and q.get("type") == "NonHomomorphic" for q in questions)
    return RFC_3526_2048 if nh else BELENIOS_2048


def _tally_inputs(election: Election, ballots: Sequence[str]) -> list[TallyInput]:
    kinds, _ = question_sizes(election)
    from keys.elgamal import Ciphertext
    from keys.group import parse_natural

    inputs = []
    for raw in ballots:
        obj = load_json(raw, "ballot")
        rows = []
        for answer, is_h in zip(obj["answers"], kinds, strict=True):
            cts = answer["choices"] if is_h else [answer["choices"]]
            rows.append(
                tuple(Ciphertext(parse_natural(c["alpha"]), parse_natural(c["beta"])) for c in cts)
            )
        inputs.append(TallyInput(1, tuple(rows)))
    return inputs


def simulate(
    out: str | Path,
    template: Mapping[str, Any],
    voters: int,
    *,
    trustees: TrusteeSpec | str = "1",
    seed: int | None = None,
    test_group: bool = False,
    workers: int = 2,
    uuid: str | None = None,
) -> Simulation:
    """Run a whole election offline and write ``out/<uuid>.bel``."""
    if voters < 0:
        raise ValueError("the number of voters cannot be negative")
    spec = trustees if isinstance(trustees, TrusteeSpec) else TrusteeSpec.parse(trustees)
    rng = random.Random(seed)
    group = _group_for(template, test_group)
    trustee_struct, keys = make_trustees(group, spec)
    trustees_raw = serialize_trustees(trustee_struct)
    from tally.trustees import combined_public_key

    y = combined_public_key(group, trustee_struct)
    uuid = uuid or generate_uuid()
    election = make_election(template, uuid=uuid, group=group, public_key=y)

    private = [generate_private_credential() for _ in range(voters)]
    creds = [PublicCredential(public_credential(group, uuid, c), 1) for c in private]
    creds_raw = serialize_public_credentials(creds)

    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{uuid}.bel"
    writer = ArchiveWriter.create(path, sync=False)
    try:
        writer.add_setup(election.raw, trustees_raw, creds_raw)
        jobs = [(c, random_plaintext(election, rng)) for c in private]
        ballots = make_ballots(election, jobs, workers=workers, allow_test_group=test_group)
        for raw in ballots:
            writer.add_ballot(raw)
        writer.end_ballots()

        kinds, sizes = question_sizes(election)
        tally = tally_choices(group, kinds, sizes, _tally_inputs(election, ballots))
        writer.add_encrypted_tally(serialize_encrypted_tally(tally), len(ballots), len(ballots))

        to_decrypt = tally
        if election.has_nh_questions:
            to_decrypt = _shuffle(writer, election, tally, spec)

        chosen = sorted(keys)
        if spec.threshold is not None:
            pedersen = rng.sample(range(2, spec.size + 2), spec.threshold)
            chosen = [1, *sorted(pedersen)]
        partials = {}
        for owner in chosen:
            pd = compute_partial_decryption(group, election.fingerprint, keys[owner], to_decrypt)
            partials[owner] = pd
            writer.add_partial_decryption(owner, pd.serialize())
        result = compute_result(
            election, trustee_struct, to_decrypt, partials, total_weight=len(ballots)
        )
        result_raw = result.serialize()
        writer.add_result(result_raw)
    except BaseException:
        writer.close()
        path.unlink(missing_ok=True)
        raise
    writer.close()
    return Simulation(path, election, result_raw, len(ballots))


def _shuffle(writer: ArchiveWriter, election: Election, tally: Any, spec: TrusteeSpec) -> Any:
    from tally.shuffle import merge_nh, nh_ciphertexts, shuffle_ciphertexts

    current = nh_ciphertexts(election, tally)
    owners = [1] if spec.threshold is None else list(range(1, spec.size + 2))
    for owner in owners:
        shuffle = shuffle_ciphertexts(election, current)
        writer.add_shuffle(owner, shuffle.raw)
        current = shuffle.ciphertexts
    writer.end_shuffles()
    return merge_nh(election, tally, current)


def load_template(path: str | Path) -> Mapping[str, Any]:
    """A belenios-tool election template (JSON object with description, name, questions)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise RecordError(f"cannot read the template {path}: {exc.strerror}") from None
    obj = load_json(text, "the election template")
    if not isinstance(obj, dict):
        raise RecordError("the election template must be a JSON object")
    return obj
