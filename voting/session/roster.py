"""Roster import: a CSV file with the header ``name,delegation,seat`` (UTF-8)."""

from __future__ import annotations

import csv
import io
import secrets
from dataclasses import dataclass

MAX_ROSTER_BYTES = 2 * 1024 * 1024
MAX_DEPUTIES = 5000
_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I


class RosterError(ValueError):
    """A roster that cannot be imported, in plain words (line number included)."""


@dataclass(frozen=True)
class RosterEntry:
    name: str
    delegation: str
    seat: str


def parse_roster(text: str) -> list[RosterEntry]:
    if len(text.encode("utf-8")) > MAX_ROSTER_BYTES:
        raise RosterError(f"the roster is larger than {MAX_ROSTER_BYTES} bytes")
    text = text.removeprefix("\ufeff")
    rows = list(csv.reader(io.StringIO(text)))
    if not rows or [c.strip().lower() for c in rows[0]] != ["name", "delegation", "seat"]:
        raise RosterError("the first line of the roster must be: name,delegation,seat")
    entries: list[RosterEntry] = []
    seats: set[str] = set()
    for line, row in enumerate(rows[1:], start=2):
        if not row or all(not c.strip() for c in row):
            continue
        if len(row) != 3:
            raise RosterError(f"line {line}: expected 3 columns (name, delegation, seat)")
        name, delegation, seat = (c.strip() for c in row)
        if not name or not seat:
            raise RosterError(f"line {line}: the name and the seat must not be empty")
        if len(name) > 200 or len(delegation) > 200 or len(seat) > 64:
            raise RosterError(f"line {line}: a field is too long")
        if seat in seats:
            raise RosterError(f"line {line}: seat {seat!r} appears twice")
        seats.add(seat)
        entries.append(RosterEntry(name, delegation, seat))
    if not entries:
        raise RosterError("the roster lists no deputy")
    if len(entries) > MAX_DEPUTIES:
        raise RosterError(f"the roster lists more than {MAX_DEPUTIES} deputies")
    return entries


def new_enrolment_code() -> str:
    """A single-use enrolment code: 16 characters (80 bits), grouped for reading aloud."""
    raw = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(16))
    return "-".join(raw[i : i + 4] for i in range(0, 16, 4))
