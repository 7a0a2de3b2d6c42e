"""``renda verify RECORD/`` on a server record with an election with write-ins (另选他人):
the rules are re-run on the decoded ballots, the written-in deputy resolved by roster number.
Small TEST_256 session in process (tests.server.helpers), no scrutineers."""

from __future__ import annotations

import asyncio
import json
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from tally.session_record import verify_session
from tests.server.helpers import session
from tests.server.test_writeins import tally_write_in_election
from voting.session.record import export_record


def test_a_write_in_election_record_verifies_and_a_changed_write_in_is_refused(
    tmp_path: Path,
) -> None:
    with session(tmp_path / "s", n=6) as s, ExitStack() as stack:
        pid, _ = tally_write_in_election(s, stack)
        s.post(f"/api/polls/{pid}/publish")
        service = s.client.app.state.service  # type: ignore[attr-defined]
        record = asyncio.run(export_record(service, tmp_path / "record"))

    report = verify_session(record, workers=1, allow_test_group=True)
    assert report.ok, [(c.name, c.status, c.detail) for c in report.checks]
    details = {c.name: (c.status, c.detail) for c in report.checks}
    assert details["rules outcomes re-evaluated"] == (
        "pass",
        "1 outcome(s) identical to the rules engine's",
    )
    outcomes: list[dict[str, Any]] = json.loads((record / "outcomes.json").read_text("utf-8"))
    items = {i["id"]: i for i in outcomes[0]["outcome"]["items"]}
    assert items["4"]["write_in"] is True and items["4"]["status"] == "elected"

    # the written-in deputy's votes given to another roster number: refused
    items["4"]["yes"] = 3
    (record / "outcomes.json").write_text(json.dumps(outcomes, ensure_ascii=False), "utf-8")
    report = verify_session(record, workers=1, allow_test_group=True, check_archives=False)
    failure = report.first_failure
    assert failure is not None and failure.name == "rules outcomes re-evaluated"
    assert f"poll {pid}" in failure.detail and "yes" in failure.detail, failure.detail
