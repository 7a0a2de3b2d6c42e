"""How a tablet unlocks its vault without anyone typing a passphrase (docs/tablet.md).

The secretariat provisions each tablet once: the first start of ``renda kiosk --ui`` finds no
passphrase file, makes a random passphrase (256 bits) and writes it to the passphrase file with
mode 0600, owned by the kiosk's system user; the vault is created under it when the tablet is
enrolled. Every later start reads it from there. The file may also be given to the service by
systemd (``LoadCredential=`` / ``LoadCredentialEncrypted=``, sealed by the tablet's TPM), which
is then read from ``$CREDENTIALS_DIRECTORY``.

A passphrase file that others may read, or that is not a regular file, is refused: the vault's
protection would then be only as good as the file's.
"""

from __future__ import annotations

import os
import secrets
import stat
from pathlib import Path

from kiosk.vault import PASSPHRASE_ENV, VaultError, write_private

CREDENTIAL_NAME = "renda-kiosk-passphrase"  # systemd LoadCredential= name


def credential_path() -> Path | None:
    """The passphrase handed over by systemd (``LoadCredential=renda-kiosk-passphrase:…``)."""
    folder = os.environ.get("CREDENTIALS_DIRECTORY")
    if folder and (Path(folder) / CREDENTIAL_NAME).is_file():
        return Path(folder) / CREDENTIAL_NAME
    return None


def read_passphrase_file(path: Path) -> str:
    """The passphrase in ``path``; VaultError if it is missing, empty or readable by others."""
    try:
        info = path.stat()
    except FileNotFoundError as exc:
        raise VaultError(f"the passphrase file {path} does not exist") from exc
    if not stat.S_ISREG(info.st_mode):
        raise VaultError(f"the passphrase file {path} is not a regular file")
    if info.st_mode & 0o077:
        raise VaultError(
            f"the passphrase file {path} can be read by others "
            f"(mode {stat.S_IMODE(info.st_mode):o}); chmod 600 it"
        )
    text = path.read_text("utf-8").strip()
    if not text:
        raise VaultError(f"the passphrase file {path} is empty")
    return text


def tablet_passphrase(path: Path | None, *, create: bool) -> str:
    """The vault passphrase of a tablet: ``$RENDA_KIOSK_PASSPHRASE``, else systemd's credential,
    else ``path`` — made (random, 0600) when ``create`` and it does not exist yet."""
    value = os.environ.get(PASSPHRASE_ENV)
    if value:
        return value
    cred = credential_path()
    if cred is not None:
        return read_passphrase_file(cred)
    if path is None:
        raise VaultError(f"no passphrase: set {PASSPHRASE_ENV} or give --passphrase-file")
    if not path.exists() and create:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        write_private(path, (secrets.token_urlsafe(32) + "\n").encode("ascii"))
    return read_passphrase_file(path)
