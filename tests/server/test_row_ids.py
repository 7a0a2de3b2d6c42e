"""Row ids in paths beyond the database's INTEGER range are refused the same way on SQLite and
PostgreSQL (32-bit there: an internal error before the fix; above 2**63 on SQLite too)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from tests.server.helpers import session


def test_out_of_range_deputy_ids_are_refused(tmp_path: Path, db: dict[str, Any]) -> None:
    with session(tmp_path / "s", n=2, present=0, **db) as s:
        c = TestClient(s.client.app, raise_server_exceptions=True)  # a fault would raise
        last = s.deputies[-1]["deputy_id"]
        for bad in (0, -1, 2**31, 2**63, 10**30):
            for method, path in (
                ("POST", f"/api/deputies/{bad}/new_code"),
                ("POST", f"/api/deputies/{bad}/checkin"),
            ):
                r = c.request(method, path, headers=s.h())
                assert r.status_code == 422, (path, r.status_code, r.text)
        # the largest id that fits is a plain "not found"
        r = c.post(f"/api/deputies/{2**31 - 1}/checkin", headers=s.h())
        assert r.status_code == 404, r.text
        assert s.get("/api/attendance")["present"] == 0
        assert c.post(f"/api/deputies/{last}/new_code", headers=s.h()).status_code == 200
        s.post(f"/api/deputies/{last}/checkin")
        assert s.get("/api/attendance")["present"] == 1
