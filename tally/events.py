"""Archive events and the small JSON structures that link them (spec §4.4, §4.10, §4.16–4.18).

An event is ``{"parent": H, "height": I, "type": T, "payload": H}`` with ``parent`` absent in
the first event and ``payload`` absent in ``EndBallots`` / ``EndShuffles``. Belenios serializes
it (and ``setup_data``, ``sized_encrypted_tally``, ``owned``) compactly with fields in that
order; an archive is only valid when each event is exactly that serialization, because
``belenios-tool`` regenerates the archive from the parsed events and compares the bytes.

Everything here is pure: parse raw text into frozen dataclasses, or serialize them back.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from keys.hashing import sha256_hex
from tally.errors import RecordError
from tally.json_format import parse_json

EVENT_TYPES: tuple[str, ...] = (
    "Setup",
    "Ballot",
    "EndBallots",
    "EncryptedTally",
    "Shuffle",
    "EndShuffles",
    "PartialDecryption",
    "Result",
)
# Events that carry no payload; every other type must have one.
NO_PAYLOAD: frozenset[str] = frozenset({"EndBallots", "EndShuffles"})

_HEX_HASH = re.compile(r"[0-9a-f]{64}\Z")
# Belenios writes weights up to 2^30 - 1 as JSON numbers and larger ones as strings.
_MAX_INT31 = 1073741823


def load_json(raw: str | bytes, what: str) -> Any:
    """Parse strict JSON (no NaN, no duplicate keys, UTF-8), or raise :class:`RecordError`."""
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise RecordError(f"{what} is not valid JSON: {exc}") from None
    return parse_json(raw, what)


def check_hash(value: object, what: str) -> str:
    if not isinstance(value, str) or not _HEX_HASH.match(value):
        raise RecordError(f"{what} must be a SHA-256 hash in lower-case hexadecimal")
    return value


def _check_int(value: object, what: str, *, minimum: int = 0) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise RecordError(f"{what} must be an integer >= {minimum}")
    return value


def _fields(obj: object, required: Sequence[str], optional: Sequence[str], what: str) -> None:
    if not isinstance(obj, dict):
        raise RecordError(f"{what} must be a JSON object")
    missing = [k for k in required if k not in obj]
    if missing:
        raise RecordError(f"{what} lacks the field(s) {', '.join(missing)}")
    extra = sorted(set(obj) - set(required) - set(optional))
    if extra:
        raise RecordError(f"{what} has unexpected field(s) {', '.join(extra)}")


# -- events ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Event:
    parent: str | None
    height: int
    type: str
    payload: str | None
    raw: str
    hash: str

    def describe(self) -> str:
        """Plain words naming this event, e.g. ``Ballot event #3 (height 3)``."""
        return f"{self.type} event at height {self.height} ({self.hash[:16]}…)"


def serialize_event(parent: str | None, height: int, type_: str, payload: str | None) -> str:
    parts = []
    if parent is not None:
        parts.append(f'"parent":"{parent}"')
    parts.append(f'"height":{height}')
    parts.append(f'"type":"{type_}"')
    if payload is not None:
        parts.append(f'"payload":"{payload}"')
    return "{" + ",".join(parts) + "}"


def make_event(parent: str | None, height: int, type_: str, payload: str | None) -> Event:
    if type_ not in EVENT_TYPES:
        raise ValueError(f"unknown event type {type_!r}")
    raw = serialize_event(parent, height, type_, payload)
    return Event(parent, height, type_, payload, raw, sha256_hex(raw))


def parse_event(raw: str) -> Event:
    """Parse one event; it must be in Belenios's exact serialization."""
    obj = load_json(raw, "event")
    _fields(obj, ("height", "type"), ("parent", "payload"), "event")
    parent = check_hash(obj["parent"], "event parent") if "parent" in obj else None
    height = _check_int(obj["height"], "event height")
    type_ = obj["type"]
    if type_ not in EVENT_TYPES:
        raise RecordError(f"unknown event type {type_!r}")
    payload = check_hash(obj["payload"], "event payload") if "payload" in obj else None
    if serialize_event(parent, height, type_, payload) != raw:
        raise RecordError(
            f"{type_} event at height {height} is not in Belenios's canonical serialization"
        )
    return Event(parent, height, type_, payload, raw, sha256_hex(raw))


# -- setup data -------------------------------------------------------------------------------


@dataclass(frozen=True)
class SetupData:
    election: str
    trustees: str
    credentials: str

    def serialize(self) -> str:
        return (
            f'{{"election":"{self.election}","trustees":"{self.trustees}",'
            f'"credentials":"{self.credentials}"}}'
        )


def parse_setup_data(raw: str) -> SetupData:
    obj = load_json(raw, "setup data")
    _fields(obj, ("election", "trustees", "credentials"), (), "setup data")
    return SetupData(
        check_hash(obj["election"], "setup data election"),
        check_hash(obj["trustees"], "setup data trustees"),
        check_hash(obj["credentials"], "setup data credentials"),
    )


# -- sized encrypted tally --------------------------------------------------------------------


def serialize_weight(weight: int) -> str:
    return str(weight) if weight <= _MAX_INT31 else f'"{weight}"'


def parse_weight(value: object, what: str) -> int:
    if isinstance(value, str):
        if not re.fullmatch(r"0|[1-9][0-9]{0,30}", value):
            raise RecordError(f"{what} is not a valid weight: {value[:40]!r}")
        return int(value)
    return _check_int(value, what)


@dataclass(frozen=True)
class SizedEncryptedTally:
    num_tallied: int
    total_weight: int
    encrypted_tally: str

    def serialize(self) -> str:
        return (
            f'{{"num_tallied":{self.num_tallied},'
            f'"total_weight":{serialize_weight(self.total_weight)},'
            f'"encrypted_tally":"{self.encrypted_tally}"}}'
        )


def parse_sized_encrypted_tally(raw: str) -> SizedEncryptedTally:
    obj = load_json(raw, "sized encrypted tally")
    _fields(obj, ("num_tallied", "total_weight", "encrypted_tally"), (), "sized encrypted tally")
    return SizedEncryptedTally(
        _check_int(obj["num_tallied"], "num_tallied"),
        parse_weight(obj["total_weight"], "total_weight"),
        check_hash(obj["encrypted_tally"], "sized encrypted tally's encrypted_tally"),
    )


# -- owned (payload of Shuffle and PartialDecryption events) ----------------------------------


@dataclass(frozen=True)
class Owned:
    owner: int
    payload: str

    def serialize(self) -> str:
        return f'{{"owner":{self.owner},"payload":"{self.payload}"}}'


def parse_owned(raw: str, what: str = "owned payload") -> Owned:
    obj = load_json(raw, what)
    _fields(obj, ("owner", "payload"), (), what)
    return Owned(
        _check_int(obj["owner"], f"{what} owner", minimum=1),
        check_hash(obj["payload"], f"{what} payload"),
    )


# -- the chain --------------------------------------------------------------------------------


def check_chain(events: Sequence[Event]) -> None:
    """Each event names its predecessor's hash as parent and has height = previous + 1.

    Raises :class:`RecordError` naming the first event that breaks the chain.
    """
    previous: Event | None = None
    for index, event in enumerate(events):
        if previous is None:
            if event.parent is not None or event.height != 0:
                raise RecordError(
                    f"the first event ({event.type}) must have height 0 and no parent"
                )
        else:
            if event.parent != previous.hash:
                raise RecordError(
                    f"event #{index} ({event.type}, height {event.height}) does not name "
                    f"the previous event as its parent: the hash chain is broken"
                )
            if event.height != previous.height + 1:
                raise RecordError(
                    f"event #{index} ({event.type}) has height {event.height}, "
                    f"expected {previous.height + 1}"
                )
        if (event.payload is None) != (event.type in NO_PAYLOAD):
            if event.payload is None:
                raise RecordError(f"{event.describe()} has no payload")
            raise RecordError(f"{event.describe()} must not have a payload")
        previous = event


# Allowed successors of each event type, in the order of spec §4.4's table.
_NEXT: dict[str | None, frozenset[str]] = {
    None: frozenset({"Setup"}),
    "Setup": frozenset({"Ballot", "EndBallots"}),
    "Ballot": frozenset({"Ballot", "EndBallots"}),
    "EndBallots": frozenset({"EncryptedTally"}),
    "EncryptedTally": frozenset({"Shuffle", "EndShuffles", "PartialDecryption", "Result"}),
    "Shuffle": frozenset({"Shuffle", "EndShuffles"}),
    "EndShuffles": frozenset({"PartialDecryption", "Result"}),
    "PartialDecryption": frozenset({"PartialDecryption", "Result"}),
    "Result": frozenset(),
}


def check_sequence(events: Sequence[Event]) -> None:
    """Events follow the life cycle of spec §4.4: Setup, Ballot*, EndBallots, EncryptedTally,
    (Shuffle*, EndShuffles)?, PartialDecryption*, Result, and nothing after the Result."""
    previous: str | None = None
    for index, event in enumerate(events):
        if event.type not in _NEXT[previous]:
            if previous == "Result":
                raise RecordError(
                    f"event #{index} ({event.type}) comes after the Result: nothing may "
                    "follow the Result"
                )
            after = f"after {previous}" if previous else "as the first event"
            raise RecordError(f"event #{index} ({event.type}) is not allowed {after}")
        previous = event.type
