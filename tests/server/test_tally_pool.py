"""The tally in the server's process pool: shuffles, partial decryptions and their checks, the
result — a write-in election with 3 scrutineers (2 of 3), one of whom decrypts wrongly."""

from __future__ import annotations

import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from tally import messages as m
from tally.archive import read_archive
from tally.verify import verify_archive
from tests.server.helpers import Kiosk, Session, roster_csv, wait_state
from tests.server.test_scrutineers import Scrutineer
from tests.server.test_writeins import BALLOTS, RULES, TEMPLATE
from voting.app import create_app
from voting.config import ServerConfig, read_tokens


def test_tally_checks_run_in_the_process_pool(tmp_path: Path, db: dict[str, Any]) -> None:
    data = tmp_path / "s"
    config = ServerConfig(
        data_dir=data,
        group="RENDA-TEST-256",
        allow_test_group=True,
        workers=2,
        collect_timeout=0,
        **db,
    )
    with TestClient(create_app(config)) as client, ExitStack() as stack:
        s = Session(client, data, read_tokens(data))
        s.deputies = s.post("/api/roster", {"csv": roster_csv(len(BALLOTS))})["deputies"]
        for d in s.deputies:
            s.post(f"/api/deputies/{d['deputy_id']}/checkin")
        tokens = [s.post("/api/scrutineers", {"name": f"监票人{i}"})["token"] for i in range(3)]
        scrs = [Scrutineer(client, t, bad=i == 1) for i, t in enumerate(tokens)]
        for sc in scrs:
            assert sc.ready.wait(30)
            stack.callback(sc.close)
        s.post("/api/ceremony", {"threshold": 2})
        for _ in range(600):
            if s.get("/api/ceremony")["state"] == "done":
                break
            time.sleep(0.05)
        assert client.app.state.service.pool is not None  # type: ignore[attr-defined]
        kiosks = [Kiosk(s, d["enrolment_code"]) for d in s.deputies]
        for k in kiosks:
            stack.enter_context(k.connect())
        body = {"title": "选举", "kind": "election", "template": TEMPLATE, "rules": RULES}
        pid = s.post("/api/polls", body)["poll_id"]
        s.post(f"/api/polls/{pid}/open")
        for k in kiosks:
            k.answer_request(k.recv_until(m.CredentialRequest))
        for k in kiosks:
            k.ready(pid)
        for k, v in zip(kiosks, BALLOTS, strict=True):
            assert isinstance(k.cast(pid, k.ballot(pid, [v])), m.Ack)
        s.post(f"/api/polls/{pid}/close")
        poll = wait_state(s, pid, "tallied", tries=2000)
        # the wrong partial decryption was checked in a worker process and refused
        assert [e.code for e in scrs[1].errors] == [m.ErrorCode.INVALID_DECRYPTION]
        assert not scrs[0].errors and not scrs[2].errors
    assert poll["outcome"]["valid_ballots"] == 4 and poll["outcome"]["void_ballots"] == 2
    archive = data / "archives" / f"{pid}.bel"
    assert len(list(read_archive(archive).owned_items("Shuffle"))) == 3
    assert verify_archive(archive, workers=1, allow_test_group=True).ok
