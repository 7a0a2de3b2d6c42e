"""After a session, no table, log or record file links a deputy to a credential or a choice."""

from __future__ import annotations

import asyncio
import logging
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest

from keys.credentials import public_credential
from keys.group import TEST_256, to_str
from tally import messages as m
from tests.server.helpers import connect_kiosks, db_tables, open_motion, session, wait_state
from voting.session.record import export_record


def test_no_link_between_deputy_and_credential_or_choice(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, db: dict[str, Any]
) -> None:
    caplog.set_level(logging.DEBUG)
    data = tmp_path / "s"
    with session(data, n=4, **db) as s, ExitStack() as stack:
        kiosks = connect_kiosks(s, stack)
        pid = open_motion(s, kiosks)
        votes = [[[0, 1, 0, 0]], [[0, 0, 1, 0]], [[0, 0, 0, 1]], [[0, 1, 0, 0]]]
        trackers = []
        for k, v in zip(kiosks, votes, strict=True):
            ack = k.cast(pid, k.ballot(pid, v))
            assert isinstance(ack, m.Ack)
            trackers.append(ack.tracker)
        s.post(f"/api/polls/{pid}/close")
        poll = wait_state(s, pid, "tallied")
        s.post(f"/api/polls/{pid}/publish")
        service = s.client.app.state.service  # type: ignore[attr-defined]
        record = asyncio.run(export_record(service, tmp_path / "record"))
        uuid = poll["uuid"]
        creds = [to_str(public_credential(TEST_256, uuid, k.private[pid])) for k in kiosks]
        who = []  # everything that names a deputy or a tablet
        for d, k in zip(s.deputies, kiosks, strict=True):
            who.append([d["name"], d["enrolment_code"], k.device_id])  # seats "001" hide in numbers

    # 1. database (every table of the SQLite file or of the PostgreSQL schema): no row holds a
    # deputy marker together with a credential or tracker
    tables = db_tables(data, db)
    assert {"deputies", "devices", "credentials", "ballots", "votes", "issuances"} <= set(tables)
    linked = []
    for table, (cols, rows) in tables.items():
        assert not (
            {"deputy_id", "seat", "device_id"} & set(cols)
            and {"credential", "tracker", "raw"} & set(cols)
        ), table
        for row in rows:
            text = " ".join(str(x) for x in row)
            secret = [c for c in creds + trackers if c in text]
            if secret and any(marker in text for markers in who for marker in markers):
                linked.append((table, row))
    # the secrets are really there (the check above would otherwise be empty)
    bcols, brows = tables["ballots"]
    assert sorted(r[bcols.index("tracker")] for r in brows) == sorted(trackers)
    # credentials were inserted in sorted order, not in issuance order
    cols, rows = tables["credentials"]
    stored = [r[cols.index("credential")] for r in rows]
    assert sorted(stored) == sorted(creds)
    assert stored == sorted(stored, key=int)
    assert not linked

    # 2. logs: no credential, tracker or ballot in any log record, and the operator's log
    # (renda.*) names no deputy or tablet at all, while it does follow the session
    tokens = [str(t) for t in s.tokens.values() if isinstance(t, str)]
    for rec in caplog.records:
        msg = rec.getMessage()
        assert not any(c in msg for c in creds + trackers + tokens), msg
        if rec.name.startswith("renda."):
            assert not any(marker in msg for markers in who for marker in markers), msg
    lines = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("renda."))
    for event in (
        "started (会议服务器已启动)",
        "roster imported (名单已导入): 4 deputies",
        "attendance (出席): 4 of 4 present",
        "poll opened (开始投票)",
        "ballots issued (发出选票)",
        f"poll {pid}: 4 of 4 ballots received (已收到)",
        f"poll {pid} closed (投票结束)",
        f"poll {pid} tallied (计票完成)",
        f"poll {pid} published (结果公布)",
    ):
        assert event in lines, (event, lines)

    # 3. files: session folder and exported record
    for folder in (data, record):
        for path in folder.rglob("*"):
            if (
                not path.is_file()
                or path.suffix in (".db", ".db-wal", ".db-shm")
                or path.name.endswith(("-wal", "-shm"))
            ):
                continue
            text = path.read_bytes().decode("utf-8", errors="replace")
            has_secret = any(c in text for c in creds + trackers)
            has_who = any(marker in text for markers in who for marker in markers)
            assert not (has_secret and has_who), path
