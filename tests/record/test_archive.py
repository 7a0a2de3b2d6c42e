"""The .bel reader and writer: format, canonical layout, truncation, corruption, appends."""

from __future__ import annotations

import os
import tarfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from keys.hashing import sha256_hex
from tally.archive import (
    BLOCK,
    ArchiveError,
    ArchiveWriter,
    canonical_layout,
    check_canonical_layout,
    parse_archive,
    read_archive,
)
from tally.errors import RecordError
from tally.events import (
    check_chain,
    check_sequence,
    make_event,
    parse_event,
    parse_owned,
    parse_setup_data,
    parse_sized_encrypted_tally,
)
from tests.record.builder import build

VOTES = [[[1, 0, 0], [0, 1, 0, 0]], [[0, 1, 0], [1, 0, 0, 0]]]


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    folder = tmp_path_factory.mktemp("sample")
    built = build(folder, VOTES)
    return built.path.read_bytes()


def _small(tmp_path: Path) -> Path:
    path = tmp_path / "x.bel"
    with ArchiveWriter.create(path, timestamp=1234567890) as w:
        w.add_setup('{"e":1}', "[]", '["1"]')
        w.add_ballot('{"b":"é"}')
        w.end_ballots()
    return path


def test_writer_format_is_belenios(tmp_path: Path) -> None:
    path = _small(tmp_path)
    blob = path.read_bytes()
    assert len(blob) % BLOCK == 0
    # header member exactly as belenios-tool writes it
    assert blob[:8] == b"BELENIOS"
    assert blob[BLOCK : BLOCK + 38] == b'{"version":1,"timestamp":"1234567890"}'
    # a standard tar reader lists the members in order, named by hash
    with tarfile.open(path, "r:", ignore_zeros=False) as tar:
        names = tar.getnames()
        assert names[0] == "BELENIOS"
        assert all(m.mtime == 1234567890 and m.mode == 0o644 for m in tar.getmembers())
        for name in names[1:]:
            digest = name.split(".")[0]
            body = tar.extractfile(name)
            assert body is not None and sha256_hex(body.read()) == digest
    kinds = [n.split(".")[1] for n in names[1:]]
    assert kinds == ["data", "data", "data", "data", "event", "data", "event", "event"]
    archive = read_archive(path)
    assert [e.type for e in archive.events] == ["Setup", "Ballot", "EndBallots"]
    assert archive.events[0].raw.startswith('{"height":0,"type":"Setup","payload":"')
    assert canonical_layout(archive) == blob


def test_reader_on_simulated_archive(sample: bytes) -> None:
    archive = parse_archive(sample)
    check_chain(archive.events)
    check_sequence(archive.events)
    check_canonical_layout(archive, sample)
    _, election, _trustees, _creds = archive.setup()
    assert '"uuid":"TestTestTest1234"' in election
    assert len(archive.ballots()) == 2
    assert archive.result() is not None


def test_directory_needs_exactly_one_archive(tmp_path: Path) -> None:
    with pytest.raises(ArchiveError, match=r"exactly one \.bel"):
        read_archive(tmp_path)
    _small(tmp_path)
    assert read_archive(tmp_path).events
    (tmp_path / "y.bel").write_bytes(b"")
    with pytest.raises(ArchiveError, match=r"exactly one \.bel"):
        read_archive(tmp_path)


def test_reader_does_not_hang_on_a_pipe(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.bel"
    os.mkfifo(fifo)
    with pytest.raises(ArchiveError, match="not a regular file"):
        read_archive(fifo)


@pytest.mark.parametrize(
    ("blob", "words"),
    [
        (b"", "empty"),
        (b"hello", "truncated"),
        (bytes(BLOCK), "empty tar block"),
        (b"{}" + bytes(BLOCK - 2), "checksum"),
        (b"\x00x" + bytes(BLOCK - 2), "file name"),
    ],
)
def test_garbage_is_refused(blob: bytes, words: str) -> None:
    with pytest.raises(ArchiveError, match=words):
        parse_archive(blob)


def test_trailing_end_of_archive_marker_is_refused(sample: bytes) -> None:
    with pytest.raises(ArchiveError, match="end-of-archive"):
        parse_archive(sample + bytes(2 * BLOCK))


def _member_ends(blob: bytes) -> set[int]:
    archive = parse_archive(blob)
    ends = {m.offset for m in archive.members} | {len(blob)}
    return ends


@settings(max_examples=60, deadline=None)
@given(cut=st.integers(min_value=1, max_value=10**9))
def test_truncation_is_refused_or_a_prefix(sample: bytes, cut: int) -> None:
    cut = cut % len(sample)
    prefix = sample[:cut]
    if cut in _member_ends(sample) and cut >= 2 * BLOCK:
        archive = parse_archive(prefix)  # a member boundary: a shorter, readable archive
        assert len(archive.members) < len(parse_archive(sample).members)
        return
    with pytest.raises(ArchiveError):
        parse_archive(prefix)


@settings(max_examples=80, deadline=None)
@given(position=st.integers(min_value=0, max_value=10**9), delta=st.integers(1, 255))
def test_any_changed_byte_is_detected(sample: bytes, position: int, delta: int) -> None:
    position %= len(sample)
    blob = bytearray(sample)
    blob[position] = (blob[position] + delta) % 256
    changed = bytes(blob)
    with pytest.raises(RecordError):
        archive = parse_archive(changed)
        check_chain(archive.events)
        check_canonical_layout(archive, changed)


def test_writer_refuses_to_overwrite(tmp_path: Path) -> None:
    path = _small(tmp_path)
    with pytest.raises(FileExistsError):
        ArchiveWriter.create(path)


def test_writer_enforces_the_life_cycle(tmp_path: Path) -> None:
    path = _small(tmp_path)
    with ArchiveWriter.open(path) as w:
        with pytest.raises(RecordError, match="cannot add a ballot after EndBallots"):
            w.add_ballot("{}")
        with pytest.raises(RecordError, match="the result"):
            w.add_result("{}")


def test_reopen_and_append_keeps_the_chain(tmp_path: Path) -> None:
    path = tmp_path / "a.bel"
    with ArchiveWriter.create(path, timestamp=5) as w:
        w.add_setup("{}", "[]", "[]")
        w.add_ballot('{"n":1}')
    with ArchiveWriter.open(path) as w:
        event = w.add_ballot('{"n":2}')
        assert event.height == 2
    archive = read_archive(path)
    check_chain(archive.events)
    check_canonical_layout(archive, path.read_bytes())


def test_interrupted_write_is_recovered(tmp_path: Path) -> None:
    path = tmp_path / "a.bel"
    with ArchiveWriter.create(path, timestamp=5) as w:
        w.add_setup("{}", "[]", "[]")
        w.add_ballot('{"n":1}')
    good = path.read_bytes()
    with open(path, "ab") as fh:  # a crash in the middle of the next ballot's write
        fh.write(good[BLOCK * 2 : BLOCK * 3 + 100])
    with pytest.raises(ArchiveError, match="truncated"):
        read_archive(path)
    with pytest.raises(ArchiveError, match="interrupted"):
        ArchiveWriter.open(path)
    with ArchiveWriter.open(path, recover=True) as w:
        w.add_ballot('{"n":2}')
    archive = read_archive(path)
    assert [e.type for e in archive.events] == ["Setup", "Ballot", "Ballot"]
    check_canonical_layout(archive, path.read_bytes())


def test_events_must_be_canonical() -> None:
    event = make_event(None, 0, "Setup", "a" * 64)
    assert parse_event(event.raw) == event
    with pytest.raises(RecordError, match="canonical"):
        parse_event('{"height": 0, "type": "Setup", "payload": "' + "a" * 64 + '"}')
    with pytest.raises(RecordError, match="canonical"):
        parse_event('{"type":"Setup","height":0,"payload":"' + "a" * 64 + '"}')
    with pytest.raises(RecordError, match="unknown event type"):
        parse_event('{"height":0,"type":"Vote"}')
    with pytest.raises(RecordError, match="duplicate"):
        parse_event('{"height":0,"height":0,"type":"EndBallots"}')


def test_chain_and_sequence_errors() -> None:
    a = make_event(None, 0, "Setup", "a" * 64)
    b = make_event(a.hash, 1, "EndBallots", None)
    check_chain([a, b])
    with pytest.raises(RecordError, match="hash chain is broken"):
        check_chain([a, make_event("b" * 64, 1, "EndBallots", None)])
    with pytest.raises(RecordError, match="height"):
        check_chain([a, make_event(a.hash, 2, "EndBallots", None)])
    with pytest.raises(RecordError, match="no payload"):
        check_chain([a, make_event(a.hash, 1, "Ballot", None)])
    with pytest.raises(RecordError, match="not allowed after EndBallots"):
        check_sequence([a, b, make_event(b.hash, 2, "Ballot", "c" * 64)])


def test_small_structures() -> None:
    h = "0" * 64
    assert parse_setup_data(f'{{"election":"{h}","trustees":"{h}","credentials":"{h}"}}')
    sized = parse_sized_encrypted_tally(
        f'{{"num_tallied":3,"total_weight":"5","encrypted_tally":"{h}"}}'
    )
    assert sized.total_weight == 5
    assert sized.serialize() == f'{{"num_tallied":3,"total_weight":5,"encrypted_tally":"{h}"}}'
    assert parse_owned(f'{{"owner":2,"payload":"{h}"}}').owner == 2
    with pytest.raises(RecordError):
        parse_owned(f'{{"owner":0,"payload":"{h}"}}')
    with pytest.raises(RecordError, match="unexpected"):
        parse_setup_data(f'{{"election":"{h}","trustees":"{h}","credentials":"{h}","x":1}}')


_STEP = st.one_of(
    st.tuples(st.just("Ballot"), st.text(max_size=700)),
    st.tuples(st.just("PartialDecryption"), st.text(max_size=50)),
)


@settings(max_examples=25, deadline=None)
@given(steps=st.lists(_STEP, max_size=6), timestamp=st.integers(0, 8**11 - 1))
def test_writer_reader_roundtrip(
    tmp_path_factory: pytest.TempPathFactory, steps: list[tuple[str, str]], timestamp: int
) -> None:
    path = tmp_path_factory.mktemp("rt") / "r.bel"
    with ArchiveWriter.create(path, timestamp=timestamp, sync=False) as w:
        w.add_setup('{"é":"选举"}', "[]", "[]")
        ballots = [text for kind, text in steps if kind == "Ballot"]
        for text in ballots:
            w.add_ballot(text)
        w.end_ballots()
        w.add_encrypted_tally("[]", len(ballots), len(ballots))
        owners = [text for kind, text in steps if kind == "PartialDecryption"]
        for owner, text in enumerate(owners, start=1):
            w.add_partial_decryption(owner, text)
    blob = path.read_bytes()
    archive = parse_archive(blob)
    assert archive.timestamp == timestamp
    assert [raw for _, raw in archive.ballots()] == ballots
    assert [raw for _, _, raw in archive.owned_items("PartialDecryption")] == owners
    check_chain(archive.events)
    check_sequence(archive.events)
    check_canonical_layout(archive, blob)


def test_timestamp_must_fit_in_a_tar_header(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="tar header"):
        ArchiveWriter.create(tmp_path / "t.bel", timestamp=8**11)
    assert not (tmp_path / "t.bel").exists()
