"""The Belenios archive (``.bel``, spec §4.4): reader, canonical layout, append-only writer.

Format (what belenios-tool 2.0 writes and reads, byte for byte):

* an old-style (v7) tar stream of 512-byte blocks, with no end-of-archive marker;
* each member has a 512-byte header: name (NUL-terminated, at most 99 bytes), mode
  ``0000644``, uid/gid ``0000000``, size as 11 octal digits, mtime = the archive's timestamp as
  11 octal digits, checksum ``%06o\\0 `` and type flag ``0``; the body follows, padded with NUL
  bytes to a whole number of blocks;
* the first member is ``BELENIOS``: ``{"version":1,"timestamp":"<seconds>"}``;
* then ``<sha256>.data.json`` and ``<sha256>.event.json`` members, named after the SHA-256 of
  their contents, in the order in which :func:`canonical_layout` regenerates them from the chain
  of events. ``belenios-tool election verify`` rebuilds the file that way and refuses it unless
  it is identical, so :class:`ArchiveWriter` writes exactly that order.

The reader loads the whole file (archives are a few tens of MB at most), refuses anything
truncated or malformed with a :class:`ArchiveError` that says what and where, and never reads
from anything but a regular file, so it cannot hang on a pipe or a device.
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from keys.hashing import sha256_hex
from tally.errors import RecordError
from tally.events import (
    Event,
    Owned,
    SetupData,
    SizedEncryptedTally,
    check_chain,
    load_json,
    make_event,
    parse_event,
    parse_owned,
    parse_setup_data,
    parse_sized_encrypted_tally,
)

BLOCK = 512
HEADER_NAME = "BELENIOS"
ARCHIVE_VERSION = 1
# A single member larger than this is refused (Belenios's largest items are a few MB).
MAX_MEMBER_SIZE = 256 * 1024 * 1024
# A whole archive larger than this is refused before reading it (3,000 ballots take ~100 MB).
MAX_ARCHIVE_SIZE = 4 * 1024 * 1024 * 1024
_MEMBER_NAME = re.compile(r"([0-9a-f]{64})\.(data|event)\.json\Z")


class ArchiveError(RecordError):
    """The archive file itself is malformed: truncated, corrupt, or not a Belenios archive."""


# -- tar blocks -------------------------------------------------------------------------------


# Size and mtime are 11 octal digits in a tar header.
MAX_OCTAL_11 = 8**11 - 1


def _tar_header(name: str, length: int, timestamp: int) -> bytes:
    if not (0 <= length <= MAX_OCTAL_11 and 0 <= timestamp <= MAX_OCTAL_11):
        raise ValueError("size or timestamp does not fit in a tar header")
    buf = bytearray(BLOCK)
    encoded = name.encode("ascii")
    buf[0 : len(encoded)] = encoded
    buf[100:107] = b"0000644"
    buf[108:115] = b"0000000"
    buf[116:123] = b"0000000"
    buf[124:135] = b"%011o" % length
    buf[136:147] = b"%011o" % timestamp
    buf[148:156] = b"        "
    buf[156:157] = b"0"
    checksum = sum(buf)
    buf[148:156] = b"%06o\x00 " % checksum
    return bytes(buf)


def _member(name: str, body: bytes, timestamp: int) -> bytes:
    padding = (-len(body)) % BLOCK
    return _tar_header(name, len(body), timestamp) + body + b"\x00" * padding


def serialize_header(timestamp: int) -> str:
    return f'{{"version":{ARCHIVE_VERSION},"timestamp":"{timestamp}"}}'


# -- reading ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Member:
    """One tar member after the header: its kind, hash (from its name) and raw contents."""

    kind: str  # "data" or "event"
    hash: str
    raw: bytes
    offset: int  # where its tar header starts in the file

    @property
    def name(self) -> str:
        return f"{self.hash}.{self.kind}.json"

    def text(self) -> str:
        try:
            return self.raw.decode("utf-8")
        except UnicodeDecodeError:
            raise ArchiveError(f"member {self.name} is not UTF-8 text") from None


@dataclass(frozen=True)
class Archive:
    """A parsed archive: its header, members in file order and its chain of events."""

    timestamp: int
    members: tuple[Member, ...]
    events: tuple[Event, ...]
    data: Mapping[str, str] = field(repr=False)  # hash -> raw text of every data member
    size: int = 0
    source: str = ""

    # -- payload access (raw text, exactly as stored) ---------------------------------------

    def get(self, digest: str, what: str) -> str:
        try:
            return self.data[digest]
        except KeyError:
            raise RecordError(f"{what} (hash {digest}) is missing from the archive") from None

    def payload(self, event: Event) -> str:
        if event.payload is None:
            raise RecordError(f"{event.describe()} has no payload")
        return self.get(event.payload, f"the payload of the {event.describe()}")

    def events_of(self, type_: str) -> list[Event]:
        return [e for e in self.events if e.type == type_]

    @property
    def last_event(self) -> Event | None:
        return self.events[-1] if self.events else None

    def setup(self) -> tuple[SetupData, str, str, str]:
        """(setup data, raw election, raw trustees, raw public credentials)."""
        setups = self.events_of("Setup")
        if not setups:
            raise RecordError("the archive has no Setup event")
        setup = parse_setup_data(self.payload(setups[0]))
        return (
            setup,
            self.get(setup.election, "the election"),
            self.get(setup.trustees, "the trustees"),
            self.get(setup.credentials, "the public credentials"),
        )

    def ballots(self) -> list[tuple[Event, str]]:
        return [(e, self.payload(e)) for e in self.events_of("Ballot")]

    def sized_encrypted_tally(self) -> tuple[Event, SizedEncryptedTally, str] | None:
        events = self.events_of("EncryptedTally")
        if not events:
            return None
        sized = parse_sized_encrypted_tally(self.payload(events[-1]))
        return events[-1], sized, self.get(sized.encrypted_tally, "the encrypted tally")

    def owned_items(self, type_: str) -> list[tuple[Event, Owned, str]]:
        items = []
        for event in self.events_of(type_):
            owned = parse_owned(self.payload(event), f"payload of the {event.describe()}")
            items.append(
                (event, owned, self.get(owned.payload, f"{type_} of trustee {owned.owner}"))
            )
        return items

    def result(self) -> tuple[Event, str] | None:
        events = self.events_of("Result")
        return (events[-1], self.payload(events[-1])) if events else None


def _parse_octal(field_: bytes, what: str, offset: int) -> int:
    text = field_.rstrip(b"\x00 ").lstrip(b" ")
    if not text or not re.fullmatch(rb"[0-7]+", text):
        raise ArchiveError(f"the tar header at byte {offset} has an invalid {what} field")
    return int(text, 8)


def _iter_members(blob: bytes, start: int) -> Iterator[tuple[str, bytes, int, int]]:
    """(name, body, mtime, header offset) for every tar member from ``start``."""
    offset = start
    size = len(blob)
    while offset < size:
        if size - offset < BLOCK:
            raise ArchiveError(
                f"the archive is truncated: {size - offset} stray bytes at byte {offset} "
                "(expected a 512-byte tar header)"
            )
        header = blob[offset : offset + BLOCK]
        if header == bytes(BLOCK):
            raise ArchiveError(
                f"empty tar block at byte {offset}: a Belenios archive has no end-of-archive "
                "marker, so this is not a Belenios archive or it was padded"
            )
        nul = header.find(b"\x00", 0, 100)
        if nul <= 0:
            raise ArchiveError(f"the tar header at byte {offset} has no valid file name")
        try:
            name = header[:nul].decode("ascii")
        except UnicodeDecodeError:
            raise ArchiveError(f"the tar header at byte {offset} has a non-ASCII name") from None
        stored = _parse_octal(header[148:156], "checksum", offset)
        computed = sum(header[:148]) + 8 * 32 + sum(header[156:])
        if stored != computed:
            raise ArchiveError(
                f"the tar header of {name} at byte {offset} is corrupt (checksum mismatch)"
            )
        length = _parse_octal(header[124:136], "size", offset)
        mtime = _parse_octal(header[136:148], "mtime", offset)
        if length > MAX_MEMBER_SIZE:
            raise ArchiveError(f"member {name} at byte {offset} is too large ({length} bytes)")
        body_start = offset + BLOCK
        blocks = (length + BLOCK - 1) // BLOCK
        end = body_start + blocks * BLOCK
        if end > size:
            raise ArchiveError(
                f"the archive is truncated: member {name} at byte {offset} needs {length} "
                f"bytes but the file ends after {max(0, size - body_start)}"
            )
        yield name, blob[body_start : body_start + length], mtime, offset
        offset = end


def parse_archive(blob: bytes, source: str = "<bytes>") -> Archive:
    """Parse a whole archive held in memory. Raises :class:`ArchiveError` / RecordError."""
    if not blob:
        raise ArchiveError(f"{source} is empty: not a Belenios archive")
    members_iter = _iter_members(blob, 0)
    try:
        first = next(members_iter)
    except StopIteration:  # pragma: no cover - blob is non-empty
        raise ArchiveError(f"{source} is empty") from None
    name, body, _mtime, _ = first
    if name != HEADER_NAME:
        raise ArchiveError(
            f"{source} does not start with a BELENIOS header (first member is {name!r})"
        )
    header = load_json(body, "the BELENIOS header")
    if not isinstance(header, dict) or set(header) != {"version", "timestamp"}:
        raise ArchiveError("the BELENIOS header must have exactly version and timestamp")
    if header["version"] != ARCHIVE_VERSION:
        raise ArchiveError(f"unsupported archive version {header['version']!r} (expected 1)")
    ts = header["timestamp"]
    if isinstance(ts, str) and re.fullmatch(r"0|[1-9][0-9]{0,18}", ts):
        timestamp = int(ts)
    elif isinstance(ts, int) and not isinstance(ts, bool) and ts >= 0:
        timestamp = ts
    else:
        raise ArchiveError("the BELENIOS header has an invalid timestamp")
    if timestamp > MAX_OCTAL_11:
        raise ArchiveError("the BELENIOS header's timestamp does not fit in a tar header")

    members: list[Member] = []
    events: list[Event] = []
    data: dict[str, str] = {}
    for name, body, _mtime, offset in members_iter:
        match = _MEMBER_NAME.match(name)
        if match is None:
            raise ArchiveError(
                f"unexpected member {name!r} at byte {offset}: expected <sha256>.data.json "
                "or <sha256>.event.json"
            )
        digest, kind = match.group(1), match.group(2)
        if sha256_hex(body) != digest:
            raise ArchiveError(
                f"member {name} at byte {offset} is corrupt: its contents do not hash to its name"
            )
        member = Member(kind, digest, body, offset)
        members.append(member)
        if kind == "event":
            try:
                events.append(parse_event(member.text()))
            except RecordError as exc:
                raise ArchiveError(f"event member {name} at byte {offset}: {exc}") from None
        else:
            data[digest] = member.text()
    return Archive(timestamp, tuple(members), tuple(events), data, len(blob), source)


def read_archive(path: str | os.PathLike[str]) -> Archive:
    """Read and parse a ``.bel`` file; a directory must hold exactly one ``.bel`` file."""
    file = find_archive(path)
    try:
        st = file.stat()
    except OSError as exc:
        raise ArchiveError(f"cannot read {file}: {exc.strerror}") from None
    import stat as _stat

    if not _stat.S_ISREG(st.st_mode):
        raise ArchiveError(f"{file} is not a regular file")
    if st.st_size > MAX_ARCHIVE_SIZE:
        raise ArchiveError(f"{file} is larger than any Belenios archive renda reads")
    try:
        with open(file, "rb") as fh:
            blob = fh.read(st.st_size + 1)
    except OSError as exc:
        raise ArchiveError(f"cannot read {file}: {exc.strerror}") from None
    return parse_archive(blob, str(file))


def find_archive(path: str | os.PathLike[str]) -> Path:
    """``path`` itself, or the single ``*.bel`` file in the directory ``path``."""
    p = Path(path)
    if p.is_dir():
        found = sorted(x for x in p.iterdir() if x.name.endswith(".bel"))
        if len(found) != 1:
            raise ArchiveError(
                f"directory {p} must contain exactly one .bel file (it has {len(found)})"
            )
        return found[0]
    if not p.exists():
        raise ArchiveError(f"{p} does not exist")
    return p


# -- canonical layout (what belenios-tool's fsck regenerates) ----------------------------------


def _group_for(event: Event, get: Mapping[str, str]) -> list[str]:
    """The data members that precede ``event`` in a canonical archive, in order."""

    def fetch(digest: str, what: str) -> str:
        try:
            return get[digest]
        except KeyError:
            raise RecordError(
                f"{what} (hash {digest}) referenced by the {event.describe()} is missing"
            ) from None

    if event.type in ("EndBallots", "EndShuffles"):
        return []
    assert event.payload is not None
    payload = fetch(event.payload, "payload")
    if event.type in ("Ballot", "Result"):
        return [payload]
    if event.type == "Setup":
        setup = parse_setup_data(payload)
        return [
            fetch(setup.election, "election"),
            fetch(setup.trustees, "trustees"),
            fetch(setup.credentials, "public credentials"),
            payload,
        ]
    if event.type == "EncryptedTally":
        sized = parse_sized_encrypted_tally(payload)
        return [fetch(sized.encrypted_tally, "encrypted tally"), payload]
    # Shuffle, PartialDecryption
    owned = parse_owned(payload)
    return [fetch(owned.payload, event.type.lower()), payload]


def canonical_layout(archive: Archive) -> bytes:
    """The archive regenerated from its event chain as belenios-tool does in ``fsck``."""
    check_chain(archive.events)
    parts = [_member(HEADER_NAME, serialize_header(archive.timestamp).encode(), archive.timestamp)]
    for event in archive.events:
        for item in _group_for(event, archive.data):
            parts.append(_member(f"{sha256_hex(item)}.data.json", item.encode(), archive.timestamp))
        parts.append(_member(f"{event.hash}.event.json", event.raw.encode(), archive.timestamp))
    return b"".join(parts)


def check_canonical_layout(archive: Archive, blob: bytes) -> None:
    """Raise RecordError unless ``blob`` is exactly the canonical regeneration of ``archive``."""
    expected = canonical_layout(archive)
    if expected == blob:
        return
    limit = min(len(expected), len(blob))
    diff = next(
        (i for i in range(0, limit, BLOCK) if expected[i : i + BLOCK] != blob[i : i + BLOCK]), limit
    )
    where = "the end of the file"
    for member in archive.members:
        if member.offset <= diff:
            where = f"member {member.name} (byte {member.offset})"
    if diff < BLOCK * 2:
        where = "the BELENIOS header"
    if len(blob) > len(expected) and diff == limit:
        raise RecordError(
            f"the archive has {len(blob) - len(expected)} extra bytes after the last event "
            "that no event refers to"
        )
    raise RecordError(
        f"the archive differs from its canonical regeneration from the event chain at byte "
        f"{diff}, in {where}: stray, missing, duplicated or misordered members"
    )


# -- writing ----------------------------------------------------------------------------------


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path.parent or Path("."), os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


class ArchiveWriter:
    """Append-only writer of a ``.bel`` file.

    Each ``add_*`` call appends the data members and the event of one step in a single
    ``write`` and ``fsync``s before returning, so that a server acknowledges a ballot only
    once its event is durable. A crash mid-write leaves a partial tail after the last complete
    event; :meth:`open` with ``recover=True`` truncates it (nothing there was acknowledged).
    Thread-safe: calls are serialized by a lock.
    """

    def __init__(
        self,
        path: Path,
        fd: int,
        timestamp: int,
        last: Event | None,
        data: dict[str, str],
        sync: bool = True,
    ) -> None:
        self.path = path
        self._sync = sync
        self._fd = fd
        self.timestamp = timestamp
        self._last = last
        self._lock = threading.Lock()
        self._known = data

    # -- construction ---------------------------------------------------------------------

    @classmethod
    def create(
        cls, path: str | os.PathLike[str], *, timestamp: int | None = None, sync: bool = True
    ) -> ArchiveWriter:
        """Create a new archive (refuses to overwrite) and write its BELENIOS header.

        ``sync=False`` skips the fsyncs (simulations and benchmarks only).
        """
        p = Path(path)
        ts = int(time.time()) if timestamp is None else timestamp
        if not 0 <= ts <= MAX_OCTAL_11:
            raise ValueError(f"timestamp {ts} does not fit in a tar header")
        fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o644)
        try:
            os.write(fd, _member(HEADER_NAME, serialize_header(ts).encode(), ts))
            if sync:
                os.fsync(fd)
        except BaseException:
            os.close(fd)
            raise
        if sync:
            _fsync_dir(p)
        return cls(p, fd, ts, None, {}, sync)

    @classmethod
    def open(cls, path: str | os.PathLike[str], *, recover: bool = False) -> ArchiveWriter:
        """Open an existing archive for appending.

        With ``recover=True`` an incomplete tail (a crash during the last write) is cut off
        at the end of the last complete event; otherwise it is an error.
        """
        p = Path(path)
        blob = p.read_bytes()
        good_end = _last_complete_event_end(blob)
        if good_end != len(blob):
            if not recover:
                raise ArchiveError(
                    f"{p} has {len(blob) - good_end} bytes after its last complete event "
                    "(interrupted write); open it with recover=True to cut them off"
                )
            with open(p, "r+b") as fh:
                fh.truncate(good_end)
                fh.flush()
                os.fsync(fh.fileno())
            blob = blob[:good_end]
        archive = parse_archive(blob, str(p))
        check_chain(archive.events)
        fd = os.open(p, os.O_WRONLY | os.O_APPEND)
        return cls(p, fd, archive.timestamp, archive.last_event, dict(archive.data))

    def close(self) -> None:
        with self._lock:
            if self._fd >= 0:
                os.close(self._fd)
                self._fd = -1

    def __enter__(self) -> ArchiveWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def last_event(self) -> Event | None:
        return self._last

    def snapshot(self) -> bytes:
        """The archive's bytes at an event boundary, never half an append: what a reader
        downloading the archive while events are being added gets (the file only grows, so
        its size taken between two appends bounds a consistent prefix)."""
        with self._lock:
            size = os.fstat(self._fd).st_size if self._fd >= 0 else self.path.stat().st_size
        with open(self.path, "rb") as fh:
            return fh.read(size)

    # -- appending -------------------------------------------------------------------------

    def append(self, items: Sequence[str], event_type: str, payload: str | None) -> Event:
        """Write ``items`` as data members, then the event; fsync; return the event."""
        return self.append_steps([(items, event_type, payload)])[0]

    def append_steps(self, steps: Sequence[tuple[Sequence[str], str, str | None]]) -> list[Event]:
        """Several steps (data members, then the event, each) in one ``write`` and one
        ``fsync`` (group commit of the ballots that arrived together); their events."""
        with self._lock:
            if self._fd < 0:
                raise ValueError("archive writer is closed")
            last = self._last
            chunks: list[bytes] = []
            events: list[Event] = []
            for items, event_type, payload in steps:
                parent = last.hash if last is not None else None
                height = last.height + 1 if last is not None else 0
                last = make_event(parent, height, event_type, payload)
                events.append(last)
                chunks.extend(
                    _member(f"{sha256_hex(x)}.data.json", x.encode("utf-8"), self.timestamp)
                    for x in items
                )
                chunks.append(_member(f"{last.hash}.event.json", last.raw.encode(), self.timestamp))
            if not events:
                return events
            blob = b"".join(chunks)
            written = 0
            while written < len(blob):
                written += os.write(self._fd, blob[written:])
            if self._sync:
                os.fsync(self._fd)
            for items, _type, _payload in steps:
                for x in items:
                    self._known[sha256_hex(x)] = x
            self._last = last
            return events

    def _require(self, expected: Iterable[str | None], what: str) -> None:
        current = self._last.type if self._last is not None else None
        if current not in set(expected):
            raise RecordError(f"cannot add {what} after {current or 'nothing'}")

    def add_setup(self, election: str, trustees: str, public_credentials: str) -> Event:
        self._require([None], "the Setup")
        setup = SetupData(
            sha256_hex(election), sha256_hex(trustees), sha256_hex(public_credentials)
        ).serialize()
        return self.append(
            [election, trustees, public_credentials, setup], "Setup", sha256_hex(setup)
        )

    def add_ballot(self, ballot: str) -> Event:
        self._require(["Setup", "Ballot"], "a ballot")
        return self.append([ballot], "Ballot", sha256_hex(ballot))

    def add_ballots(self, ballots: Sequence[str]) -> list[Event]:
        """Ballot events for ``ballots``, in order, with one fsync for all of them."""
        self._require(["Setup", "Ballot"], "a ballot")
        return self.append_steps([([b], "Ballot", sha256_hex(b)) for b in ballots])

    def end_ballots(self) -> Event:
        self._require(["Setup", "Ballot"], "EndBallots")
        return self.append([], "EndBallots", None)

    def add_encrypted_tally(
        self, encrypted_tally: str, num_tallied: int, total_weight: int
    ) -> Event:
        self._require(["EndBallots"], "the encrypted tally")
        sized = SizedEncryptedTally(
            num_tallied, total_weight, sha256_hex(encrypted_tally)
        ).serialize()
        return self.append([encrypted_tally, sized], "EncryptedTally", sha256_hex(sized))

    def add_shuffle(self, owner: int, shuffle: str) -> Event:
        self._require(["EncryptedTally", "Shuffle"], "a shuffle")
        owned = Owned(owner, sha256_hex(shuffle)).serialize()
        return self.append([shuffle, owned], "Shuffle", sha256_hex(owned))

    def end_shuffles(self) -> Event:
        self._require(["EncryptedTally", "Shuffle"], "EndShuffles")
        return self.append([], "EndShuffles", None)

    def add_partial_decryption(self, owner: int, partial_decryption: str) -> Event:
        self._require(
            ["EncryptedTally", "EndShuffles", "PartialDecryption"], "a partial decryption"
        )
        owned = Owned(owner, sha256_hex(partial_decryption)).serialize()
        return self.append([partial_decryption, owned], "PartialDecryption", sha256_hex(owned))

    def add_result(self, result: str) -> Event:
        self._require(["PartialDecryption"], "the result")
        return self.append([result], "Result", sha256_hex(result))


def _last_complete_event_end(blob: bytes) -> int:
    """Offset just after the last complete event member (or the header if none)."""
    end = 0
    try:
        for name, _body, _mtime, offset in _iter_members(blob, 0):
            length = len(_body)
            member_end = offset + BLOCK + ((length + BLOCK - 1) // BLOCK) * BLOCK
            if name == HEADER_NAME or name.endswith(".event.json"):
                end = member_end
    except ArchiveError:
        pass
    return end


def complete_prefix(blob: bytes) -> bytes:
    """The bytes of an archive read while it is being appended to, up to its last complete
    event (a snapshot that parses, whatever was half-written at the end)."""
    return blob[: _last_complete_event_end(blob)]


def write_archive(
    path: str | os.PathLike[str],
    timestamp: int,
    steps: Iterable[tuple[Sequence[str], str, str | None]],
) -> None:
    """Write a whole archive at once from (data items, event type, payload hash) steps."""
    with ArchiveWriter.create(path, timestamp=timestamp, sync=False) as writer:
        for items, type_, payload in steps:
            writer.append(items, type_, payload)
