"""Enrolment: register a fresh Ed25519 device key with a one-time code; pin the server's key."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx

from kiosk.identity import DEVICE, Identity
from kiosk.vault import DEFAULT_SCRYPT_N, HEADER, Vault
from tally import statements

_HEX64 = re.compile(r"[0-9a-f]{64}\Z")


class EnrolError(Exception):
    """Enrolment failed; the message says why in plain words."""


def _open_or_create(folder: Path, passphrase: str, scrypt_n: int) -> Vault:
    if (folder / HEADER).exists():
        vault = Vault.open(folder, passphrase)
        if vault.unseal(DEVICE) is not None:
            raise EnrolError(f"this kiosk ({folder}) is already enrolled; use another folder")
        return vault
    return Vault.create(folder, passphrase, scrypt_n=scrypt_n)


def _identity(server_url: str, key: Any, answer: Any) -> Identity:
    if not isinstance(answer, dict):
        raise EnrolError("the server's enrolment answer is not a JSON object")
    device_id = answer.get("device_id")
    server_key = answer.get("server_public_key")
    deputy = answer.get("deputy")
    if not isinstance(device_id, str) or not device_id:
        raise EnrolError("the server's enrolment answer has no device_id")
    if not isinstance(server_key, str) or not _HEX64.match(server_key):
        raise EnrolError("the server's enrolment answer has no valid server_public_key")
    statements.parse_public_key(server_key)
    return Identity(
        server_url=server_url.rstrip("/"),
        device_id=device_id,
        device_key=key,
        server_public_key=server_key,
        deputy=dict(deputy) if isinstance(deputy, dict) else {},
    )


def _explain(response: httpx.Response) -> str:
    try:
        detail = response.json().get("detail")
        if isinstance(detail, dict):
            return f"{detail.get('code')}: {detail.get('message')}"
        return str(detail)
    except ValueError:
        return response.text[:200]


async def enrol(
    server_url: str,
    code: str,
    folder: Path,
    passphrase: str,
    *,
    scrypt_n: int = DEFAULT_SCRYPT_N,
    client: httpx.AsyncClient | None = None,
) -> tuple[Vault, Identity]:
    """Enrol this kiosk with ``code``; the device key is sealed in the vault in ``folder``.

    A failed enrolment removes what it made (a new vault, a new folder), so that the retry does
    not meet a vault with another passphrase."""
    new_folder = not folder.exists()
    before = set(folder.iterdir()) if folder.is_dir() else set()
    try:
        return await _enrol(server_url, code, folder, passphrase, scrypt_n, client)
    except BaseException:
        if folder.is_dir():
            for path in set(folder.iterdir()) - before:
                if path.is_file():
                    path.unlink()
            if new_folder and not any(folder.iterdir()):
                folder.rmdir()
        raise


async def _enrol(
    server_url: str,
    code: str,
    folder: Path,
    passphrase: str,
    scrypt_n: int,
    client: httpx.AsyncClient | None,
) -> tuple[Vault, Identity]:
    vault = _open_or_create(folder, passphrase, scrypt_n)
    key = statements.generate_key()
    body = {"code": code, "device_public_key": statements.public_key_hex(key)}
    url = server_url.rstrip("/") + "/api/enrol"
    try:
        if client is None:
            async with httpx.AsyncClient(timeout=30) as c:
                response = await c.post(url, json=body)
        else:
            response = await client.post(url, json=body)
    except httpx.HTTPError as exc:
        raise EnrolError(f"cannot reach the server at {server_url}: {exc}") from exc
    if response.status_code == 409:
        raise EnrolError(f"this enrolment code was already used ({_explain(response)})")
    if response.status_code == 404:
        raise EnrolError(f"unknown enrolment code ({_explain(response)})")
    if response.status_code != 200:
        raise EnrolError(f"enrolment refused, HTTP {response.status_code}: {_explain(response)}")
    try:
        answer = response.json()
    except ValueError as exc:
        raise EnrolError("the server's enrolment answer is not JSON") from exc
    identity = _identity(server_url, key, answer)
    identity.save(vault)
    return vault, identity
