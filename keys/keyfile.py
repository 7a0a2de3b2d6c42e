"""Trustee key files on disk, in belenios-tool 2.0's formats.

- ``ID.privkey``: a single trustee's private key, a JSON string holding the number
  (``"1234…"``) and a newline; ``ID.pubkey``: its trustee_public_key JSON and a newline.
  ``ID`` is the first 8 hex digits (upper case) of SHA-256 of the public key.
- ``ID.key``: a threshold trustee's secret seed (22 Base58 characters) and a newline;
  ``ID.cert``: its certificate; ``ID.dkey``: its encrypted decryption key (an
  encrypted_msg JSON) as written by step 6. ``ID`` is SHA-256 (hex) of the cert's message.

Private files are created with mode 0600 and never overwrite an existing file.
"""

from __future__ import annotations

import os
from pathlib import Path

from gmpy2 import mpz

from keys.group import Group, GroupError, to_str
from keys.pki import PKIError, SignedMsg, cert_id, check_seed, dump_json, load_json
from keys.threshold import decryption_key, generate_cert
from keys.trustee_key import TrusteePublicKey, generate_trustee_key, key_id


class KeyFileError(ValueError):
    """A key file that is missing, unreadable or not in the expected format."""


PRIVATE_MODE = 0o600
PUBLIC_MODE = 0o644


def write_file(path: str | os.PathLike[str], text: str, *, private: bool) -> None:
    """Write ``text`` and a final newline; private files are 0600 and never overwritten."""
    mode = PRIVATE_MODE if private else PUBLIC_MODE
    flags = os.O_WRONLY | os.O_CREAT | (os.O_EXCL if private else os.O_TRUNC)
    try:
        fd = os.open(path, flags, mode)
    except FileExistsError:
        raise KeyFileError(f"{path} already exists; refusing to overwrite a private key") from None
    try:
        os.fchmod(fd, mode)
        data = (text + "\n").encode("utf-8")
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    finally:
        os.close(fd)


def read_text(path: str | os.PathLike[str], what: str) -> str:
    """File contents without the final newline (belenios-tool reads files line by line)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise KeyFileError(f"cannot read the {what} file {path}: {exc}") from None
    return text[:-1] if text.endswith("\n") else text


# -- single trustee keys ---------------------------------------------------------------


def serialize_private_key(x: mpz) -> str:
    return dump_json(to_str(x))


def parse_private_key(group: Group, text: str) -> mpz:
    try:
        return group.parse_exponent(load_json(text.strip(), "private key"), "private key")
    except (PKIError, GroupError) as exc:
        raise KeyFileError(f"not a private key file: {exc}") from None


def write_private_key(path: str | os.PathLike[str], x: mpz) -> None:
    write_file(path, serialize_private_key(x), private=True)


def read_private_key(group: Group, path: str | os.PathLike[str]) -> mpz:
    return parse_private_key(group, read_text(path, "private key"))


def write_public_key(path: str | os.PathLike[str], tpk: TrusteePublicKey) -> None:
    write_file(path, tpk.serialize(), private=False)


def read_public_key(group: Group, path: str | os.PathLike[str]) -> TrusteePublicKey:
    try:
        return TrusteePublicKey.parse(group, read_text(path, "public key").strip())
    except ValueError as exc:
        raise KeyFileError(f"not a trustee public key file: {exc}") from None


def generate_key_files(group: Group, directory: str | os.PathLike[str]) -> tuple[str, Path, Path]:
    """``belenios-tool setup generate-trustee-key``: write ID.privkey and ID.pubkey."""
    x, tpk = generate_trustee_key(group)
    ident = key_id(tpk)
    priv, pub = Path(directory) / f"{ident}.privkey", Path(directory) / f"{ident}.pubkey"
    write_private_key(priv, x)
    write_public_key(pub, tpk)
    return ident, priv, pub


# -- threshold trustee keys ------------------------------------------------------------


def write_seed(path: str | os.PathLike[str], seed: str) -> None:
    write_file(path, check_seed(seed), private=True)


def read_seed(path: str | os.PathLike[str]) -> str:
    try:
        return check_seed(read_text(path, "threshold key").strip())
    except PKIError as exc:
        raise KeyFileError(f"{path}: {exc}") from None


def write_decryption_key(path: str | os.PathLike[str], dkey: str) -> None:
    write_file(path, dkey, private=True)


def read_decryption_key(path: str | os.PathLike[str]) -> str:
    return read_text(path, "decryption key").strip()


def read_threshold_private_key(
    group: Group, key_path: str | os.PathLike[str], dkey_path: str | os.PathLike[str]
) -> mpz:
    """The decryption key of a threshold trustee, from its ``.key`` and ``.dkey`` files."""
    try:
        return decryption_key(group, read_seed(key_path), read_decryption_key(dkey_path))
    except ValueError as exc:
        raise KeyFileError(f"cannot open the decryption key {dkey_path}: {exc}") from None


def generate_cert_files(group: Group, directory: str | os.PathLike[str]) -> tuple[str, Path, Path]:
    """Step 1: write ID.cert and ID.key (the seed); return (ID, cert path, key path)."""
    seed, cert = generate_cert(group)
    ident = cert_id(cert)
    cert_path, key_path = Path(directory) / f"{ident}.cert", Path(directory) / f"{ident}.key"
    write_seed(key_path, seed)
    write_file(cert_path, cert.serialize(), private=False)
    return ident, cert_path, key_path


def read_cert(group: Group, path: str | os.PathLike[str]) -> SignedMsg:
    try:
        return SignedMsg.parse(group, read_text(path, "certificate").strip(), "certificate")
    except PKIError as exc:
        raise KeyFileError(f"{path}: {exc}") from None
