"""Ballots parsed (strictly, :func:`tally.ballot.parse_ballot`) in worker processes: a
scrutineer's tool recomputes the encrypted tally from the public record's ballots before it
decrypts, 3,000 of them at hall size, each with its group-membership checks."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

from tally.workers import worker_pool

MIN_POOLED = 8  # fewer ballots: parsed here (a pool costs more than it saves)


def parse_ballots(election_raw: str, raws: Sequence[str]) -> list[Any]:
    """Every ballot of ``raws`` parsed for the election ``election_raw``, in order; the first
    bad one raises, as parse_ballot does."""
    from tally.ballot import parse_ballot
    from tally.election import parse_election

    election = parse_election(election_raw, allow_test_group=True)
    return [parse_ballot(election, raw) for raw in raws]


def parse_ballots_pooled(election_raw: str, raws: Sequence[str], workers: int) -> list[Any]:
    """:func:`parse_ballots` over ``workers`` processes (in this process when 1 or few)."""
    if workers <= 1 or len(raws) < MIN_POOLED:
        return parse_ballots(election_raw, raws)
    size = -(-len(raws) // (workers * 4))
    parts = [list(raws[i : i + size]) for i in range(0, len(raws), size)]
    with worker_pool(workers) as pool:
        done = pool.map(parse_ballots, itertools.repeat(election_raw), parts)
        return [ballot for part in done for ballot in part]
