"""Enrolment codes: only their keyed hash is stored (docs/decisions.md, "Enrolment codes").

A code is 16 characters of a 32-letter alphabet (80 bits), made when a deputy is imported or
given a new card, printed on the card in that same response, and never stored: the database
holds ``HMAC-SHA256(K, code)`` with ``K`` derived from the server's Ed25519 seed
(``server.key``, mode 0600). A copy of the database alone (a backup, another local user) thus
holds nothing to enrol with, and cannot even test a guess without the key file; with the key
file an offline search would still face 2^80 codes. The hash is deterministic so that the
code a tablet sends is found by one indexed lookup (a per-row salt or a slow KDF would need a
scan of every deputy per attempt, and buy nothing over 80 bits).
"""

from __future__ import annotations

import hashlib
import hmac
import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from voting.models import Deputy

_KEY_LABEL = b"renda-enrolment-code-key-v1|"
_HASH = re.compile(r"^[0-9a-f]{64}$")


def code_key(server_seed: bytes) -> bytes:
    """The HMAC key of enrolment codes, derived from the server key's 32-byte seed."""
    return hashlib.sha256(_KEY_LABEL + server_seed).digest()


def normalize_code(code: str) -> str:
    """The code's letters and digits, upper case: as typed, scanned or read aloud."""
    return "".join(ch for ch in code.upper() if ch.isascii() and ch.isalnum())


def code_hash(key: bytes, code: str) -> str:
    """What the database stores for ``code`` (hex HMAC-SHA256)."""
    return hmac.new(key, normalize_code(code).encode("ascii"), hashlib.sha256).hexdigest()


def hash_clear_codes(s: Session, key: bytes) -> int:
    """Replace the clear codes a session folder made before migration 0005 kept by their hash
    (the cards already printed keep working); the number of codes replaced."""
    n = 0
    for d in s.scalars(select(Deputy)):
        if not _HASH.match(d.code_hash):
            d.code_hash = code_hash(key, d.code_hash)
            n += 1
    return n
