"""The tally's pure computations, run in the server's process pool (voting/session/tallying.py).

Functions of raw Belenios text (and plain numbers) only, so that their arguments and results
pickle; this module imports nothing of the server (no database, no web framework), so a pool
process loads it quickly; importing it loads the tally modules (no delay at the first close).
"""

from __future__ import annotations

import logging
from concurrent.futures import Executor
from typing import Any

from tally.ballot import parse_ballot
from tally.decryption import (
    check_partial_decryption,
    compute_partial_decryption,
    parse_partial_decryption,
)
from tally.election import parse_election
from tally.encrypted_tally import (
    compute_encrypted_tally,
    parse_encrypted_tally,
    serialize_encrypted_tally,
    tallied_order,
)
from tally.errors import RecordError
from tally.progress import logged
from tally.result import compute_result
from tally.shuffle import check_shuffle as check_shuffle_proof
from tally.shuffle import (
    merge_nh,
    nh_ciphertexts,
    parse_shuffle,
    shuffle_ciphertexts,
    shuffle_size,
)
from tally.trustees import parse_trustees, trustee_slots
from tally.workers import die_with_parent

log = logging.getLogger("renda.tally")


def warm_up(parent: int | None = None) -> None:
    """The pool initializer: the worker dies with the server ``parent`` (tally.workers; its
    pid is taken before the worker starts, so a server gone by then is seen)."""
    die_with_parent(parent)


def parse_ballots(election_raw: str, allow_test: bool, ballots: list[str]) -> list[Any]:
    """Parse (and so check the group membership of) a slice of the stored ballots."""
    election = parse_election(election_raw, allow_test_group=allow_test)
    return [parse_ballot(election, raw) for raw in ballots]


def tally_parsed(election_raw: str, allow_test: bool, parsed: list[Any]) -> tuple[str, int]:
    """The encrypted tally of already parsed ballots (spec §4.16 order and weights)."""
    election = parse_election(election_raw, allow_test_group=allow_test)
    ordered = tallied_order(parsed, lambda b: b.credential.digits(10))
    et = compute_encrypted_tally(election, ordered, [1] * len(ordered))
    return serialize_encrypted_tally(et), len(ordered)


def encrypted_tally(election_raw: str, allow_test: bool, ballots: list[str]) -> tuple[str, int]:
    election = parse_election(election_raw, allow_test_group=allow_test)
    parsed = [parse_ballot(election, raw) for raw in ballots]
    ordered = tallied_order(parsed, lambda b: b.credential.digits(10))
    et = compute_encrypted_tally(election, ordered, [1] * len(ordered))
    return serialize_encrypted_tally(et), len(ordered)


def server_partial(election_raw: str, allow_test: bool, et_raw: str, private_key: Any) -> str:
    election = parse_election(election_raw, allow_test_group=allow_test)
    et = parse_encrypted_tally(election.group, et_raw)
    pd = compute_partial_decryption(election.group, election.fingerprint, private_key, et)
    return pd.serialize()


def check_partial(
    election_raw: str, allow_test: bool, trustees_raw: str, et_raw: str, owner: int, raw: str
) -> None:
    election = parse_election(election_raw, allow_test_group=allow_test)
    group = election.group
    slots = trustee_slots(parse_trustees(group, trustees_raw))
    if not 1 <= owner <= len(slots):
        raise RecordError(f"there is no trustee {owner}")
    pd = parse_partial_decryption(group, raw)
    et = parse_encrypted_tally(group, et_raw)
    check_partial_decryption(group, election.fingerprint, slots[owner - 1].key.public_key, et, pd)


def result(
    election_raw: str,
    allow_test: bool,
    trustees_raw: str,
    et_raw: str,
    partials: dict[int, str],
    total_weight: int,
) -> str:
    election = parse_election(election_raw, allow_test_group=allow_test)
    group = election.group
    result = compute_result(
        election,
        parse_trustees(group, trustees_raw),
        parse_encrypted_tally(group, et_raw),
        {k: parse_partial_decryption(group, v) for k, v in partials.items()},
        total_weight=total_weight,
    )
    return result.serialize()


def current_rows(election_raw: str, allow_test: bool, et_raw: str, shuffles: list[str]) -> str:
    """The ciphertexts the next shuffle takes: the tally's nh rows, or the last shuffle's."""
    election = parse_election(election_raw, allow_test_group=allow_test)
    if shuffles:
        return serialize_encrypted_tally(parse_shuffle(election.group, shuffles[-1]).ciphertexts)
    return serialize_encrypted_tally(
        nh_ciphertexts(election, parse_encrypted_tally(election.group, et_raw))
    )


def server_shuffle(
    election_raw: str,
    allow_test: bool,
    current_raw: str,
    executor: Executor | None = None,
    *,
    what: str = "the server's shuffle (服务器混洗)",
) -> str:
    """The server's shuffle (in a thread of the server: its progress goes to the log)."""
    election = parse_election(election_raw, allow_test_group=allow_test)
    rows = parse_encrypted_tally(election.group, current_raw)
    with logged(log, shuffle_size(rows), what) as advance:
        raw: str = shuffle_ciphertexts(election, rows, executor=executor, advance=advance).raw
    return raw


def check_shuffle(
    election_raw: str,
    allow_test: bool,
    current_raw: str,
    raw: str,
    executor: Executor | None = None,
) -> None:
    election = parse_election(election_raw, allow_test_group=allow_test)
    group = election.group
    check_shuffle_proof(
        election,
        parse_encrypted_tally(group, current_raw),
        parse_shuffle(group, raw),
        executor=executor,
    )


def merged(election_raw: str, allow_test: bool, et_raw: str, last_shuffle: str) -> str:
    election = parse_election(election_raw, allow_test_group=allow_test)
    group = election.group
    return serialize_encrypted_tally(
        merge_nh(
            election,
            parse_encrypted_tally(group, et_raw),
            parse_shuffle(group, last_shuffle).ciphertexts,
        )
    )
