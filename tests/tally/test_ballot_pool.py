"""tally.ballot_pool: the ballots parsed in worker processes are the ones parsed here, in
order, and a bad ballot is refused the same way."""

from __future__ import annotations

from pathlib import Path

import pytest

from tally.archive import read_archive
from tally.ballot_pool import parse_ballots, parse_ballots_pooled
from tally.errors import RecordError
from tally.simulate import simulate
from tests.record.test_simulate import FORCED


def test_pooled_parse_is_the_same_parse(tmp_path: Path) -> None:
    sim = simulate(tmp_path, FORCED, 10, test_group=True, workers=1)
    archive = read_archive(sim.path)
    _setup, election_raw, _trustees, _creds = archive.setup()
    raws = [raw for _event, raw in archive.ballots()]
    assert len(raws) == 10
    here = parse_ballots(election_raw, raws)
    assert parse_ballots_pooled(election_raw, raws, 2) == here
    assert parse_ballots_pooled(election_raw, raws, 1) == here
    bad = [*raws[:6], raws[6].replace('"proof"', '"proof_"', 1), *raws[7:]]
    with pytest.raises((RecordError, ValueError)) as inline:
        parse_ballots(election_raw, bad)
    with pytest.raises((RecordError, ValueError)) as pooled:
        parse_ballots_pooled(election_raw, bad, 2)
    assert type(pooled.value) is type(inline.value)
    assert str(pooled.value) == str(inline.value)
