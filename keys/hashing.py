"""The hash functions of Belenios 2.0: SHA-256 over ``|``-separated strings.

Numbers inside hashed strings are written in base 10 (:func:`keys.group.to_str`).
"""

from __future__ import annotations

import base64
import hashlib

from gmpy2 import mpz


def sha256_hex(data: bytes | str) -> str:
    """Lower-case hexadecimal SHA-256, as used in archive file names and event hashes."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    return hashlib.sha256(data).hexdigest()


def sha256_int(data: bytes | str) -> mpz:
    """SHA-256 read as a 256-bit big-endian number."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    return mpz(int.from_bytes(hashlib.sha256(data).digest(), "big"))


def hash_to_zq(data: bytes | str, q: mpz) -> mpz:
    """SHA-256 read as a big-endian number and reduced modulo ``q`` (every H_x of the spec)."""
    return sha256_int(data) % q


def hjson(data: bytes | str) -> str:
    """H_JSON of spec §4.15: unpadded Base64 of SHA-256 (election fingerprint, ballot tracker)."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    return base64.b64encode(hashlib.sha256(data).digest()).decode("ascii").rstrip("=")
