"""Voters' credentials (spec §4.8): private credentials, their secret exponent, public key.

A private credential is 15 Base58 characters, 14 random ones and a checksum, printed by
belenios-tool as ``XXX-XXX-XXX-XXX-XXX`` (the form written in its ``.privcreds`` file). The
secret exponent is PBKDF2-HMAC-SHA256 of the credential *text exactly as given* (with its
dashes when it has them), salted with the election uuid, 1000 iterations, one 32-byte block,
read big-endian and reduced modulo q. The public credential is ``g ** secret``.
"""

from __future__ import annotations

import hashlib
import secrets

from gmpy2 import mpz

from keys.group import Group

BASE58_DIGITS = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_DIGIT_VALUE = {c: i for i, c in enumerate(BASE58_DIGITS)}
TOKEN_LENGTH = 14  # random characters before the checksum
PBKDF2_ITERATIONS = 1000


class CredentialError(ValueError):
    """A private credential that is not in the form belenios-tool accepts."""


def _checksum_char(raw14: str) -> str:
    value = 0
    for c in raw14:
        value = value * 58 + _DIGIT_VALUE[c]
    return BASE58_DIGITS[53 - value % 53]


def format_credential(raw15: str) -> str:
    """``ABCDEFGHIJKLMNO`` -> ``ABC-DEF-GHI-JKL-MNO`` (the form belenios-tool prints)."""
    return "-".join(raw15[i : i + 3] for i in range(0, 15, 3))


def generate_private_credential() -> str:
    """A fresh private credential in belenios-tool's printed form ``XXX-XXX-XXX-XXX-XXX``."""
    raw = "".join(secrets.choice(BASE58_DIGITS) for _ in range(TOKEN_LENGTH))
    return format_credential(raw + _checksum_char(raw))


def _check_raw(raw15: str) -> bool:
    value = 0
    for c in raw15[:TOKEN_LENGTH]:
        digit = _DIGIT_VALUE.get(c)
        if digit is None:
            return False
        value = value * 58 + digit
    checksum = _DIGIT_VALUE.get(raw15[TOKEN_LENGTH])
    return checksum is not None and (value + checksum) % 53 == 0


def is_valid_private_credential(text: str) -> bool:
    """True for the two forms Belenios accepts: 15 characters, or 5 groups of 3 with dashes."""
    if len(text) == TOKEN_LENGTH + 1:
        return _check_raw(text)
    if len(text) == TOKEN_LENGTH + 5:
        if any(text[i] != "-" for i in (3, 7, 11, 15)):
            return False
        return _check_raw(text[0:3] + text[4:7] + text[8:11] + text[12:15] + text[16:19])
    return False


def check_private_credential(text: str) -> str:
    """Return the credential (surrounding white space removed) or raise CredentialError.

    The returned text is what the secret is derived from: keep its dashes.
    """
    if not isinstance(text, str):
        raise CredentialError("a private credential must be text")
    stripped = text.strip()
    if not is_valid_private_credential(stripped):
        raise CredentialError(
            "not a valid private credential: expected 15 Base58 characters with a correct "
            "checksum, as XXX-XXX-XXX-XXX-XXX"
        )
    return stripped


def derive_secret(group: Group, uuid: str, credential: str) -> mpz:
    """secret(c) of spec §4.8: PBKDF2-HMAC-SHA256(c, salt=uuid, 1000 iterations) mod q."""
    credential = check_private_credential(credential)
    derived = hashlib.pbkdf2_hmac(
        "sha256", credential.encode("utf-8"), uuid.encode("utf-8"), PBKDF2_ITERATIONS, 32
    )
    return mpz(int.from_bytes(derived, "big")) % group.q


def public_credential(group: Group, uuid: str, credential: str) -> mpz:
    """public(c) = g ** secret(c)."""
    return group.g_pow(derive_secret(group, uuid, credential))


def format_privcreds(items: list[tuple[str, str]]) -> str:
    """The text of a belenios-tool ``.privcreds`` file: one ``<id> <credential>`` per line."""
    lines = []
    for voter_id, credential in items:
        if not voter_id or any(c.isspace() for c in voter_id):
            raise CredentialError("a voter id in a .privcreds file must be one word")
        lines.append(f"{voter_id} {check_private_credential(credential)}\n")
    return "".join(lines)


def parse_privcreds(text: str) -> list[tuple[str, str]]:
    """Read a ``.privcreds`` file written by belenios-tool (``<id> <credential>`` lines)."""
    items = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        parts = line.split()
        if len(parts) != 2:
            raise CredentialError(f"line {number} of the private credentials is not '<id> <cred>'")
        items.append((parts[0], check_private_credential(parts[1])))
    return items
