"""Polls created at the same time all get made, with distinct numbers, on both databases.

Poll numbers are max(seq) + 1: before the fix, concurrent creations collided on the unique seq
and a few of them failed with an internal error after their retries (more often on
PostgreSQL, whose transactions interleave more than SQLite's)."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from tests.server.helpers import MOTION, session

N = 12


def test_polls_created_at_once_all_succeed(tmp_path: Path, db: dict[str, Any]) -> None:
    with session(tmp_path / "s", n=1, **db) as s:

        def create(i: int) -> tuple[int, str]:
            body = {"title": f"议案{i}", "kind": "motion", "template": MOTION}
            r = s.client.post("/api/polls", json=body, headers=s.h())
            return r.status_code, r.text

        with ThreadPoolExecutor(8) as pool:
            replies = list(pool.map(create, range(N)))
        assert [code for code, _ in replies] == [200] * N, replies
        polls = s.get("/api/polls")
        assert sorted(p["poll_id"] for p in polls) == sorted(f"p{i}" for i in range(1, N + 1))
        assert sorted(p["title"] for p in polls) == sorted(f"议案{i}" for i in range(N))


def test_scrutineers_added_at_once_get_distinct_indexes(tmp_path: Path, db: dict[str, Any]) -> None:
    from fastapi.testclient import TestClient

    from tests.server.helpers import Session, config_for
    from voting.api.app import create_app
    from voting.config import read_tokens

    data = tmp_path / "s"
    with TestClient(create_app(config_for(data, **db))) as client:
        s = Session(client, data, read_tokens(data))

        def add(i: int) -> tuple[int, str]:
            r = client.post("/api/scrutineers", json={"name": f"监票人{i}"}, headers=s.h())
            return r.status_code, r.text

        with ThreadPoolExecutor(8) as pool:
            replies = list(pool.map(add, range(N)))
        assert [code for code, _ in replies] == [200] * N, replies
        indexes = sorted(int(json.loads(text)["index"]) for _, text in replies)
        assert indexes == list(range(1, N + 1))
        # every token was kept in tokens.json
        assert sorted(read_tokens(data)["scrutineers"]) == sorted(f"监票人{i}" for i in range(N))
