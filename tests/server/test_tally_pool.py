"""The tally in the server's process pool: shuffles, partial decryptions and their checks, the
result — a write-in election with 3 scrutineers (2 of 3), one of whom decrypts wrongly."""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from tally import messages as m
from tally.archive import read_archive
from tally.verify import verify_archive
from tests.server.helpers import (
    add_scrutineers,
    checked_in,
    run_ceremony,
    scrutineer_config,
)
from tests.server.test_scrutineers import Scrutineer
from tests.server.test_writeins import BALLOTS, tally_write_in_election
from voting.api.app import create_app


def test_tally_checks_run_in_the_process_pool(tmp_path: Path, db: dict[str, Any]) -> None:
    data = tmp_path / "s"
    config = scrutineer_config(data, workers=2, **db)
    with TestClient(create_app(config)) as client, ExitStack() as stack:
        s = checked_in(client, data, len(BALLOTS))
        _, scrs = add_scrutineers(s, 3, lambda i, t: Scrutineer(client, t, bad=i == 1), stack)
        run_ceremony(s, 2)
        assert client.app.state.service.pool is not None  # type: ignore[attr-defined]
        pid, poll = tally_write_in_election(s, stack)
        # the wrong partial decryption was checked in a worker process and refused
        assert [e.code for e in scrs[1].errors] == [m.ErrorCode.INVALID_DECRYPTION]
        assert not scrs[0].errors and not scrs[2].errors
    assert poll["outcome"]["valid_ballots"] == 4 and poll["outcome"]["void_ballots"] == 2
    archive = data / "archives" / f"{pid}.bel"
    assert len(list(read_archive(archive).owned_items("Shuffle"))) == 3
    assert verify_archive(archive, workers=1, allow_test_group=True).ok
