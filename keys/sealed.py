"""A small secret document sealed with a passphrase: scrypt, then AES-256-GCM.

The scrutineer's key file (``renda trustee``) is sealed this way, with the construction of the
kiosk's vault (kiosk/vault.py): a key derived from the passphrase by scrypt (n = 2^15, r = 8,
p = 1, a random 16-byte salt), AES-GCM with a random 12-byte nonce, and the header as the
associated data, so that no field of it can be changed unnoticed. The sealed form is JSON::

    {"sealed": "renda-1", "kdf": "scrypt", "n": 32768, "r": 8, "p": 1,
     "salt": "<base64>", "nonce": "<base64>", "ciphertext": "<base64>"}
"""

from __future__ import annotations

import base64
import json
import secrets
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

FORMAT = "renda-1"
DEFAULT_N = 2**15


class SealError(ValueError):
    """The document cannot be opened; the message says why in plain words."""


class WrongPassphrase(SealError):
    pass


def _key(passphrase: str, salt: bytes, n: int) -> bytes:
    return Scrypt(salt=salt, length=32, n=n, r=8, p=1).derive(passphrase.encode("utf-8"))


def _header(n: int, salt: bytes, nonce: bytes) -> dict[str, Any]:
    return {
        "sealed": FORMAT,
        "kdf": "scrypt",
        "n": n,
        "r": 8,
        "p": 1,
        "salt": base64.b64encode(salt).decode("ascii"),
        "nonce": base64.b64encode(nonce).decode("ascii"),
    }


def _aad(header: dict[str, Any]) -> bytes:
    return json.dumps(header, sort_keys=True, separators=(",", ":")).encode("ascii")


def seal(plain: bytes, passphrase: str, *, n: int = DEFAULT_N) -> bytes:
    """``plain`` sealed with ``passphrase`` (which must not be empty)."""
    if not passphrase:
        raise SealError("the passphrase must not be empty")
    salt, nonce = secrets.token_bytes(16), secrets.token_bytes(12)
    header = _header(n, salt, nonce)
    ciphertext = AESGCM(_key(passphrase, salt, n)).encrypt(nonce, plain, _aad(header))
    header["ciphertext"] = base64.b64encode(ciphertext).decode("ascii")
    return json.dumps(header, indent=1).encode("ascii")


def is_sealed(blob: bytes) -> bool:
    """Is ``blob`` a sealed document (rather than plain JSON)?"""
    try:
        obj = json.loads(blob)
    except ValueError:
        return False
    return isinstance(obj, dict) and obj.get("sealed") == FORMAT


def unseal(blob: bytes, passphrase: str) -> bytes:
    """The plain document; :class:`WrongPassphrase` if the passphrase does not open it."""
    try:
        obj = json.loads(blob)
        if not isinstance(obj, dict) or obj.get("sealed") != FORMAT:
            raise SealError("not a sealed document")
        n = obj["n"]
        if obj.get("kdf") != "scrypt" or not isinstance(n, int) or not 2**10 <= n <= 2**20:
            raise SealError("the sealed document has an unusable key derivation")
        salt = base64.b64decode(obj["salt"], validate=True)
        nonce = base64.b64decode(obj["nonce"], validate=True)
        ciphertext = base64.b64decode(obj["ciphertext"], validate=True)
    except (ValueError, KeyError, TypeError) as exc:
        raise SealError(f"the sealed document is damaged ({exc})") from None
    header = _header(n, salt, nonce)
    try:
        return AESGCM(_key(passphrase, salt, n)).decrypt(nonce, ciphertext, _aad(header))
    except InvalidTag:
        raise WrongPassphrase("wrong passphrase (or a damaged file)") from None
