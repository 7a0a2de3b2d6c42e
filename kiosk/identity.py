"""The kiosk's enrolled identity: its Ed25519 device key and the server key it pinned.

Kept as one sealed secret (``device``) in the kiosk's :class:`kiosk.vault.Vault`, so the device
key is never on disk in clear and the pinned server key cannot be swapped without the
passphrase. Private credentials for open polls are sealed next to it (``credential-<poll>``)
and deleted when the poll is over.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kiosk.vault import Vault, VaultError
from tally import statements

DEVICE = "device"
_SAFE = re.compile(r"[^A-Za-z0-9_.-]")


@dataclass(frozen=True)
class Identity:
    server_url: str
    device_id: str
    device_key: Ed25519PrivateKey
    server_public_key: str  # hex, pinned at enrolment
    deputy: dict[str, Any]  # what the server told us at enrolment (name, seat...)

    @property
    def device_public_key(self) -> str:
        return statements.public_key_hex(self.device_key)

    def sign(self, payload: dict[str, Any]) -> str:
        return statements.sign(self.device_key, payload)

    def save(self, vault: Vault) -> None:
        data = {
            "server_url": self.server_url,
            "device_id": self.device_id,
            "device_key": statements.private_key_bytes(self.device_key).hex(),
            "server_public_key": self.server_public_key,
            "deputy": self.deputy,
        }
        vault.seal(DEVICE, json.dumps(data, ensure_ascii=False).encode("utf-8"))

    @classmethod
    def load(cls, vault: Vault) -> Identity:
        raw = vault.unseal(DEVICE)
        if raw is None:
            raise VaultError("this kiosk is not enrolled yet (use --enrol CODE)")
        try:
            data = json.loads(raw)
            key = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(data["device_key"]))
            statements.parse_public_key(data["server_public_key"])
            return cls(
                server_url=str(data["server_url"]),
                device_id=str(data["device_id"]),
                device_key=key,
                server_public_key=str(data["server_public_key"]),
                deputy=dict(data.get("deputy") or {}),
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise VaultError(f"the enrolled identity in the vault is damaged: {exc}") from exc


def credential_name(poll_id: str) -> str:
    return "credential-" + _SAFE.sub("_", poll_id)[:80]


def store_credential(vault: Vault, poll_id: str, private_credential: str) -> None:
    vault.seal(credential_name(poll_id), private_credential.encode("ascii"))


def load_credential(vault: Vault, poll_id: str) -> str | None:
    raw = vault.unseal(credential_name(poll_id))
    return None if raw is None else raw.decode("ascii")


def forget_credential(vault: Vault, poll_id: str) -> None:
    vault.delete(credential_name(poll_id))
