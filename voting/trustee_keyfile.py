"""The scrutineer's key file (``renda trustee --key FILE``, voting/cli_trustee.py).

One file, sealed with the scrutineer's passphrase (keys.sealed, as the kiosk's vault), holds
as JSON: the server URL and token, this scrutineer's trustee index, the pinned server key, the
polls it decided on, and one share per group the session's key ceremony ran in (a session has
a homomorphic group and an election group, tally.session_groups; one sitting makes both): the
secret seed (belenios-tool's ``.key``), the certificate, the polynomial and the encrypted
decryption key (``.dkey``) of that group's ceremony, and the group's trustees once it is done.
A file written before sessions had two groups (the share's fields at the top level) is read as
a file of one share. It never leaves the scrutineer's machine.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from gmpy2 import mpz

from voting.trustee_secrets import TrusteeError

_SHARE_FIELDS = ("ceremony_id", "seed", "cert", "polynomial", "dkey", "trustees")


@dataclass
class GroupShare:
    """This scrutineer's part of one group's key ceremony."""

    ceremony_id: str | None = None
    seed: str | None = None
    cert: str | None = None
    polynomial: str | None = None
    dkey: str | None = None
    trustees: str | None = None  # the group's trustees.json text, once the ceremony is done

    @property
    def finished(self) -> bool:
        return bool(self.dkey and self.trustees)


@dataclass
class KeyFile:
    """What one scrutineer keeps (see the module docstring)."""

    server: str
    token: str
    trustee_index: int | None = None
    shares: dict[str, GroupShare] = field(default_factory=dict)  # group name -> share
    decrypted: list[str] = field(default_factory=list)  # poll ids answered (for the log)
    server_public_key: str | None = None  # the session's Ed25519 key, pinned at first contact
    # election uuid -> what this scrutineer decrypted for it (SHA-256 of the encrypted tally)
    # and the figures it checked; a poll is decrypted at most once
    decided: dict[str, dict[str, Any]] = field(default_factory=dict)
    # The passphrase that seals the file (keys.sealed); never written. The command line always
    # sets one; a KeyFile without (in-process tests, the demo's in-process scrutineers) is
    # written in clear, mode 0600.
    passphrase: str = field(default="", repr=False, compare=False)

    @property
    def has_seed(self) -> bool:
        """Does the file hold a secret of a ceremony (so that it must not be removed)?"""
        return any(share.seed for share in self.shares.values())

    @property
    def main_group(self) -> str | None:
        """The group of the first ceremony (the session's homomorphic group, which the
        ceremony runs first): the trustees a count by hand is signed against."""
        return next(iter(self.shares), None)

    def share(self, group: str | None) -> GroupShare:
        """This scrutineer's share in ``group``; TrusteeError if it has none."""
        found = self.shares.get(group) if group is not None else None
        if found is None:
            have = ", ".join(self.shares) or "none"
            raise TrusteeError(
                f"this key file holds no key of the group {group} (it holds: {have}); was the "
                "key ceremony run in that group?"
            )
        return found

    def trustees(self, group: str | None) -> str | None:
        """The session's trustees in ``group`` as the ceremony gave them (None before)."""
        share = self.shares.get(group) if group is not None else None
        return share.trustees if share is not None else None

    def private_key(self, group_name: str | None) -> tuple[Any, mpz]:
        """(group, decryption key) in ``group_name`` once its ceremony is done."""
        from keys.group import group_by_name
        from keys.threshold import decryption_key

        share = self.share(group_name)
        if not (share.seed and share.dkey):
            raise TrusteeError(
                f"the key ceremony is not finished in {group_name} for this key file"
            )
        group = group_by_name(str(group_name), allow_test=True)
        return group, decryption_key(group, share.seed, share.dkey)

    def save(self, path: Path) -> None:
        from keys.sealed import seal

        fields = {k: v for k, v in asdict(self).items() if k != "passphrase"}
        data = json.dumps(fields, ensure_ascii=False, indent=1).encode("utf-8")
        if self.passphrase:
            data = seal(data, self.passphrase)
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)

    @classmethod
    def from_json(cls, data: Any, passphrase: str = "") -> KeyFile:
        """The key file's fields (TypeError, ValueError if they are not)."""
        if not isinstance(data, dict):
            raise ValueError("not a JSON object")
        data = dict(data)
        if "shares" not in data:  # a file of one group, written before there were two
            group = data.pop("group", None)
            share = GroupShare(**{k: data.pop(k, None) for k in _SHARE_FIELDS})
            data["shares"] = {group: share} if group else {}
        else:
            shares = data["shares"]
            if not isinstance(shares, dict):
                raise ValueError("shares must be an object")
            data["shares"] = {str(g): GroupShare(**v) for g, v in shares.items()}
        return cls(**data, passphrase=passphrase)

    @classmethod
    def load(cls, path: Path, passphrase: str | Callable[[], str] = "") -> KeyFile:
        """Read the key file; a sealed one needs ``passphrase`` (or a function asking for it)."""
        from keys.sealed import SealError, is_sealed, unseal

        try:
            mode = path.stat().st_mode & 0o777
        except FileNotFoundError:
            raise TrusteeError(f"no key file {path} (run `renda trustee ceremony` first)") from None
        if mode & 0o077:
            raise TrusteeError(f"the key file {path} is readable by others (mode {mode:o})")
        try:
            blob = path.read_bytes()
        except OSError as exc:
            raise TrusteeError(f"cannot read the key file {path}: {exc.strerror}") from None
        secret = ""
        if is_sealed(blob):
            secret = passphrase() if callable(passphrase) else passphrase
            if not secret:
                raise TrusteeError(f"the key file {path} is sealed: its passphrase is needed")
            try:
                blob = unseal(blob, secret)
            except SealError as exc:
                raise TrusteeError(f"the key file {path} does not open: {exc}") from None
        try:
            return cls.from_json(json.loads(blob.decode("utf-8")), secret)
        except (ValueError, TypeError) as exc:
            raise TrusteeError(f"the key file {path} is damaged: {exc}") from None
