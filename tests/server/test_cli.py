"""``renda serve --init`` and ``--export-record`` on a session folder."""

from __future__ import annotations

import json
import stat
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest

from tally import messages as m
from tally.verify import verify_archive
from tests.server.helpers import connect_kiosks, open_motion, session, wait_state
from voting.cli import main


def test_init_and_export_record(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], db: dict[str, Any]
) -> None:
    data = tmp_path / "s"
    db_args = ["--database-url", db["database_url"], "--schema", db["schema"]] if db else []
    assert main(["serve", "--data", str(data), "--init", "--test-group", *db_args]) == 0
    out = capsys.readouterr().out
    assert "secretariat token:" in out
    for name in ("server.key", "trustee.key", "tokens.json"):
        assert stat.S_IMODE((data / name).stat().st_mode) == 0o600, name
    assert (data / "session.db").exists() == (not db)
    with session(data, n=2, **db) as s, ExitStack() as stack:
        kiosks = connect_kiosks(s, stack)
        pid = open_motion(s, kiosks, rules={"id": "m1", "kind": "motion", "title": "议案一"})
        for k in kiosks:
            assert isinstance(k.cast(pid, k.ballot(pid, [[0, 1, 0, 0]])), m.Ack)
        s.post(f"/api/polls/{pid}/close")
        poll = wait_state(s, pid, "tallied")
        assert poll["outcome"]["verdict"] == "valid", poll["outcome"]
        s.post(f"/api/polls/{pid}/publish")
        s.post("/api/polls", {"title": "草稿", "kind": "motion", "template": poll["template"]})
    record = tmp_path / "record"
    export = ["serve", "--data", str(data), "--test-group", "--export-record", str(record)]
    assert main([*export, *db_args]) == 0
    outcomes = json.loads((record / "outcomes.json").read_text("utf-8"))
    assert [p["state"] for p in outcomes] == ["published", "draft"]
    assert outcomes[0]["statement"]["statement"]["kind"] == "result"
    issuance = json.loads((record / "issuance.json").read_text("utf-8"))
    assert sorted(x["seat"] for x in issuance[pid]) == ["001", "002"]
    folder = record / "polls" / pid
    assert [p.name for p in folder.glob("*.bel")] == [f"{poll['uuid']}.bel"]
    assert verify_archive(folder, workers=1, allow_test_group=True).ok


def test_bad_schema_name_is_refused_in_plain_words(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = "postgresql+psycopg://postgres@127.0.0.1/test"  # not reached: refused before
    args = ["serve", "--data", str(tmp_path / "s"), "--init", "--test-group"]
    assert main([*args, "--database-url", url, "--schema", 'x"; drop table y; --']) == 1
    assert "schema" in capsys.readouterr().err


@pytest.mark.postgres
def test_a_new_postgres_schema_is_created(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], postgres_url: str
) -> None:
    import secrets

    import sqlalchemy

    schema = "renda_test_new_" + secrets.token_hex(6)
    args = ["serve", "--data", str(tmp_path / "s"), "--init", "--test-group"]
    engine = sqlalchemy.create_engine(postgres_url)
    try:
        assert main([*args, "--database-url", postgres_url, "--schema", schema]) == 0
        assert "secretariat token:" in capsys.readouterr().out
        with engine.connect() as conn:
            tables = sqlalchemy.inspect(conn).get_table_names(schema=schema)
        assert {"deputies", "polls", "ballots"} <= set(tables)
    finally:
        with engine.begin() as conn:
            conn.execute(sqlalchemy.text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        engine.dispose()
