"""The public archive of a poll being tallied is served as a consistent snapshot, and the
scrutineer's tool retries its download."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tally.archive import ArchiveWriter, complete_prefix, parse_archive, read_archive
from tests.server.helpers import session
from voting.api import routes_record
from voting.cli_trustee import KeyFile, Scrutineer, TrusteeError
from voting.session.states import PollState


def test_snapshots_taken_during_appends_are_whole_events(tmp_path: Path) -> None:
    path = tmp_path / "a.bel"
    writer = ArchiveWriter.create(path, timestamp=1234567890, sync=False)
    writer.add_setup('{"e":1}', "[]", '["1"]')
    done = threading.Event()

    def append() -> None:
        for i in range(300):
            writer.add_ballot('{"b":"' + "x" * (i % 97) * 50 + f'{i}"}}')
        done.set()

    thread = threading.Thread(target=append)
    thread.start()
    seen = 0
    while not done.is_set() or seen < 3:
        copy = tmp_path / f"copy-{seen}.bel"
        copy.write_bytes(writer.snapshot())
        read_archive(copy)  # a prefix that ends on an event: it reads
        seen += 1
    thread.join()
    writer.close()
    assert len(read_archive(path).ballots()) == 300


def test_the_archive_route_serves_the_snapshot_in_pieces(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GET /record/polls/<poll>/<uuid>.bel while an append is half-written: the answer is the
    archive up to its last complete event (its declared length), sent in several pieces."""
    path = tmp_path / "a.bel"
    with ArchiveWriter.create(path, timestamp=1234567890, sync=False) as writer:
        writer.add_setup('{"e":1}', "[]", '["1"]')
        for i in range(40):
            writer.add_ballot('{"b":"' + "y" * 300 + f'{i}"}}')
    whole = path.read_bytes()
    with path.open("ab") as fh:  # an append caught in the middle: half a data member
        fh.write(whole[512:1536])
    monkeypatch.setattr(routes_record, "ARCHIVE_CHUNK", 4096)
    pieces: list[int] = []
    real = routes_record._pieces

    async def counted(blob: bytes):  # type: ignore[no-untyped-def]
        async for piece in real(blob):
            pieces.append(len(piece))
            yield piece

    monkeypatch.setattr(routes_record, "_pieces", counted)
    with session(tmp_path / "s", n=2) as s:
        service = s.client.app.state.service  # type: ignore[attr-defined]

        async def archive_file(poll_id: str, name: str) -> Path:
            return path

        async def get(poll_id: str) -> dict[str, str]:
            return {"state": PollState.PUBLISHED}

        monkeypatch.setattr(service, "archive_file", archive_file)
        monkeypatch.setattr(service.polls, "get", get)
        r = s.client.get("/record/polls/p1/x.bel")
    assert r.status_code == 200 and r.headers["content-type"] == "application/x-tar"
    assert r.content == whole == complete_prefix(path.read_bytes())
    assert int(r.headers["content-length"]) == len(whole)
    assert len(pieces) == -(-len(whole) // 4096) > 1 and sum(pieces) == len(whole)
    assert len(parse_archive(r.content).ballots()) == 40


class _Flaky(http.server.BaseHTTPRequestHandler):
    failures = 2
    calls = 0

    def do_GET(self) -> None:
        type(self).calls += 1
        if type(self).calls <= type(self).failures:
            self.send_response(503)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("content-length", "4")
        self.end_headers()
        self.wfile.write(b"tar!")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture()
def flaky(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setattr("voting.cli_trustee.RECORD_BACKOFF", 0.01)
    _Flaky.calls = 0
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Flaky)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_the_archive_download_is_retried(tmp_path: Path, flaky: str) -> None:
    s = Scrutineer(tmp_path / "k.json", KeyFile(server=flaky, token="t" * 20))
    response = s._fetch_record("p1", "u" * 14)
    assert response.content == b"tar!" and _Flaky.calls == 3


def test_a_missing_archive_is_not_retried_for_ever(tmp_path: Path, flaky: str) -> None:
    _Flaky.failures = 99
    try:
        s = Scrutineer(tmp_path / "k.json", KeyFile(server=flaky, token="t" * 20))
        with pytest.raises(TrusteeError, match="HTTP 503"):
            s._fetch_record("p1", "u" * 14)
    finally:
        _Flaky.failures = 2
