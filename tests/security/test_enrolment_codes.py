"""The database holds no enrolment code (issue 15, "Files"): a copy of ``session.db`` (and its
WAL) gives nothing to enrol a tablet with, and enrolment still works with the printed codes.

Against a real ``renda serve``: the codes of an import, of a new card (补发) and of a new batch
(重新生成) are searched for in every file of the session folder, in every spelling; then real
kiosks enrol with the codes as printed, and the codes a new card replaced are refused.
"""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

import httpx
import pytest

from kiosk.enrol import EnrolError, enrol
from voting.demo.harness import ServerProcess
from voting.session.codes import normalize_code

pytestmark = pytest.mark.slow


def spellings(code: str) -> list[bytes]:
    plain = normalize_code(code)
    return [
        s.encode(enc)
        for s in (code, plain, plain.lower(), code.lower())
        for enc in ("utf-8", "utf-16-le")
    ]


def session_files(data: Path) -> dict[str, bytes]:
    return {str(p.relative_to(data)): p.read_bytes() for p in data.rglob("*") if p.is_file()}


def test_the_database_holds_no_enrolment_code(tmp_path: Path) -> None:
    async def main() -> None:
        data = tmp_path / "server"
        server = ServerProcess(data, tmp_path / "server.log", options=["--test-group"])
        server.start()
        try:
            tokens = await server.ready(240)
            async with httpx.AsyncClient(
                base_url=server.url,
                headers={"Authorization": f"Bearer {tokens['secretariat']}"},
                timeout=60,
            ) as api:

                async def post(path: str, body: Any = None) -> Any:
                    r = await api.post(path, json=body if body is not None else {})
                    assert r.status_code == 200, (path, r.text)
                    return r.json()

                roster = "name,delegation,seat\n王五,一组,1\n赵六,一组,2\n钱七,二组,3\n"
                first = (await post("/api/roster", {"csv": roster}))["deputies"]
                codes = {d["deputy_id"]: d["enrolment_code"] for d in first}
                # a lost card: a new one for 王五; then a new batch for the others
                wang = first[0]["deputy_id"]
                replaced = [codes[wang]]
                codes[wang] = (await post(f"/api/deputies/{wang}/new_code"))["enrolment_code"]
                batch = (await post("/api/deputies/new_codes"))["deputies"]
                assert {d["deputy_id"] for d in batch} == set(codes)
                replaced += list(codes.values())
                codes = {d["deputy_id"]: d["enrolment_code"] for d in batch}
                assert not set(codes.values()) & set(replaced)
                # the list never shows a code again
                listed = (await api.get("/api/deputies")).json()
                assert all("enrolment_code" not in d for d in listed)

                files = session_files(data)
                assert "session.db" in files, sorted(files)
                for code in [*codes.values(), *replaced]:
                    for needle in spellings(code):
                        found = [name for name, blob in files.items() if needle in blob]
                        assert not found, (code, needle, found)
                # what the table holds: 64-hex hashes, none of them a plain SHA-256 of a code
                con = sqlite3.connect(f"file:{data / 'session.db'}?mode=ro", uri=True)
                try:
                    stored = [row[0] for row in con.execute("select code_hash from deputies")]
                finally:
                    con.close()
                assert len(stored) == 3 and all(len(h) == 64 for h in stored)

                # the printed codes enrol real tablets, as typed from the card
                for i, code in enumerate(codes.values()):
                    typed = code.lower().replace("-", " ") if i == 0 else code
                    await enrol(server.url, typed, tmp_path / f"k{i}", "pw", scrypt_n=2**10)
                    with pytest.raises(EnrolError, match="already used"):
                        await enrol(server.url, code, tmp_path / f"again{i}", "pw", scrypt_n=2**10)
                for code in replaced:  # the codes a new card or batch replaced
                    with pytest.raises(EnrolError):
                        await enrol(server.url, code, tmp_path / "old", "pw", scrypt_n=2**10)
        finally:
            server.stop()

    asyncio.run(main())


def test_clear_codes_of_an_older_session_folder_are_hashed(tmp_path: Path) -> None:
    """A folder made before the codes were hashed (the column held the codes): the server
    replaces them by their hash when it starts, and the cards already printed still work."""
    from fastapi.testclient import TestClient

    from tests.server.helpers import config_for
    from voting.api.app import create_app

    data = tmp_path / "s"
    with TestClient(create_app(config_for(data))):
        pass  # the session folder, its database and server.key
    con = sqlite3.connect(data / "session.db")
    with con:
        con.execute(
            "insert into deputies (name, delegation, seat, code_hash, code_used, attendance) "
            "values ('王五', '一组', '1', 'ABCD-EFGH-JKLM-NPQR', 0, 'absent')"
        )
    con.close()
    with TestClient(create_app(config_for(data))) as client:
        con = sqlite3.connect(data / "session.db")
        (stored,) = con.execute("select code_hash from deputies").fetchone()
        con.close()
        assert len(stored) == 64 and "ABCD" not in stored
        r = client.post(
            "/api/enrol", json={"code": "abcd-efgh-jklm-npqr", "device_public_key": "ab" * 32}
        )
        assert r.status_code == 200, r.text
