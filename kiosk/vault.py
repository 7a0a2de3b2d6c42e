"""The kiosk's secrets on disk, encrypted with a passphrase (scrypt + AES-GCM).

A vault is a folder. ``vault.json`` holds the key-derivation parameters (scrypt salt and cost)
and a check value sealed under the derived key, so that a wrong passphrase is refused at once
with :class:`WrongPassphrase` instead of producing garbage. Every secret is then one file
``<name>.sealed`` written atomically with mode 0600: a fresh 96-bit nonce followed by the
AES-256-GCM ciphertext, whose associated data is the secret's name (so files cannot be swapped).

The device key, the pinned server key and the per-poll private credentials live here.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import re
import secrets
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

HEADER = "vault.json"
_CHECK = b"renda kiosk vault v1"
_NAME = re.compile(r"[A-Za-z0-9_.-]{1,100}\Z")
DEFAULT_SCRYPT_N = 2**15  # ~32 MiB and ~0.1 s per unlock
PASSPHRASE_ENV = "RENDA_KIOSK_PASSPHRASE"


class VaultError(Exception):
    """The vault cannot be opened or a secret in it cannot be read."""


class WrongPassphrase(VaultError):
    """The passphrase does not open this vault."""


def write_private(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (temp file, fsync, rename) with mode 0600."""
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: object, what: str) -> bytes:
    if not isinstance(text, str):
        raise VaultError(f"{what} in the vault header is not a base64 string")
    try:
        return base64.b64decode(text, validate=True)
    except ValueError as exc:
        raise VaultError(f"{what} in the vault header is not valid base64") from exc


class Vault:
    """An unlocked vault: seal, open and delete named secrets."""

    def __init__(self, folder: Path, key: bytes) -> None:
        self.folder = folder
        self._aead = AESGCM(key)

    # -- creation and unlocking ---------------------------------------------------------------

    @classmethod
    def create(cls, folder: Path, passphrase: str, *, scrypt_n: int = DEFAULT_SCRYPT_N) -> Vault:
        """Make a new vault in ``folder`` (created 0700). Refuses to overwrite an existing one."""
        if not passphrase:
            raise VaultError("the passphrase must not be empty")
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        if (folder / HEADER).exists():
            raise VaultError(f"a kiosk vault already exists in {folder}")
        salt = secrets.token_bytes(16)
        key = _derive(passphrase, salt, scrypt_n)
        vault = cls(folder, key)
        nonce = secrets.token_bytes(12)
        check = nonce + vault._aead.encrypt(nonce, _CHECK, b"check")
        header = {
            "version": 1,
            "kdf": "scrypt",
            "n": scrypt_n,
            "r": 8,
            "p": 1,
            "salt": _b64(salt),
            "check": _b64(check),
        }
        write_private(folder / HEADER, json.dumps(header).encode())
        return vault

    @classmethod
    def open(cls, folder: Path, passphrase: str) -> Vault:
        """Unlock the vault in ``folder``; :class:`WrongPassphrase` if the passphrase is wrong."""
        try:
            header = json.loads((folder / HEADER).read_bytes())
        except FileNotFoundError as exc:
            raise VaultError(f"no kiosk vault in {folder} (enrol this kiosk first)") from exc
        except ValueError as exc:
            raise VaultError(f"the vault header in {folder} is not JSON") from exc
        if not isinstance(header, dict) or header.get("kdf") != "scrypt":
            raise VaultError("the vault header does not describe a scrypt key")
        n = header.get("n")
        if not isinstance(n, int) or n < 2**10 or n > 2**20 or n & (n - 1):
            raise VaultError("the vault header has an unusable scrypt cost")
        salt = _unb64(header.get("salt"), "salt")
        check = _unb64(header.get("check"), "check")
        vault = cls(folder, _derive(passphrase, salt, n))
        try:
            plain = vault._aead.decrypt(check[:12], check[12:], b"check")
        except InvalidTag as exc:
            raise WrongPassphrase("wrong passphrase: the kiosk vault does not open") from exc
        if plain != _CHECK:
            raise WrongPassphrase("wrong passphrase: the kiosk vault does not open")
        return vault

    # -- secrets -------------------------------------------------------------------------------

    def _path(self, name: str) -> Path:
        if not _NAME.match(name):
            raise VaultError(f"bad secret name {name!r}")
        return self.folder / f"{name}.sealed"

    def seal(self, name: str, data: bytes) -> None:
        nonce = secrets.token_bytes(12)
        blob = nonce + self._aead.encrypt(nonce, data, name.encode())
        write_private(self._path(name), blob)

    def unseal(self, name: str) -> bytes | None:
        """The secret ``name``, or None when there is none; VaultError if it was tampered with."""
        try:
            blob = self._path(name).read_bytes()
        except FileNotFoundError:
            return None
        try:
            return self._aead.decrypt(blob[:12], blob[12:], name.encode())
        except (InvalidTag, ValueError) as exc:
            raise VaultError(f"the sealed secret {name!r} is damaged or was altered") from exc

    def delete(self, name: str) -> None:
        """Remove a secret: overwrite the file with zeros, then unlink it."""
        path = self._path(name)
        try:
            size = path.stat().st_size
        except FileNotFoundError:
            return
        with open(path, "r+b") as f:
            f.write(b"\0" * size)
            f.flush()
            os.fsync(f.fileno())
        path.unlink()

    def names(self) -> list[str]:
        return sorted(p.name[: -len(".sealed")] for p in self.folder.glob("*.sealed"))


def _derive(passphrase: str, salt: bytes, n: int) -> bytes:
    return Scrypt(salt=salt, length=32, n=n, r=8, p=1).derive(passphrase.encode("utf-8"))


def passphrase_from_env_or_prompt(env: str = PASSPHRASE_ENV, *, confirm: bool = False) -> str:
    """The passphrase from ``$RENDA_KIOSK_PASSPHRASE``, else asked on the terminal."""
    value = os.environ.get(env)
    if value:
        return value
    import getpass

    first = getpass.getpass("平板密码 (kiosk passphrase): ")
    if confirm:
        again = getpass.getpass("再次输入 (again): ")
        if again != first:
            raise VaultError("the two passphrases differ")
    if not first:
        raise VaultError("the passphrase must not be empty")
    return first
