"""The kiosk's vault (device key encrypted with a passphrase), outbox and backoff."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from kiosk.backoff import Backoff
from kiosk.identity import Identity, forget_credential, load_credential, store_credential
from kiosk.outbox import Outbox, PendingBallot
from kiosk.vault import Vault, VaultError, WrongPassphrase
from tally import statements

FAST = 2**10  # cheap scrypt cost for tests


def _identity() -> Identity:
    return Identity(
        server_url="http://127.0.0.1:1",
        device_id="dev-1",
        device_key=statements.generate_key(),
        server_public_key=statements.public_key_hex(statements.generate_key()),
        deputy={"name": "王五", "seat": "12"},
    )


def test_device_key_is_encrypted_and_reopens(tmp_path: Path) -> None:
    vault = Vault.create(tmp_path / "v", "correct horse", scrypt_n=FAST)
    ident = _identity()
    ident.save(vault)
    sealed = (tmp_path / "v" / "device.sealed").read_bytes()
    seed = statements.private_key_bytes(ident.device_key)
    assert seed not in sealed and seed.hex().encode() not in sealed
    assert b"dev-1" not in sealed
    for f in (tmp_path / "v").iterdir():
        assert stat.S_IMODE(f.stat().st_mode) == 0o600
    again = Identity.load(Vault.open(tmp_path / "v", "correct horse"))
    assert again.device_public_key == ident.device_public_key
    assert again.server_public_key == ident.server_public_key
    assert again.deputy == {"name": "王五", "seat": "12"}


def test_wrong_passphrase_is_refused(tmp_path: Path) -> None:
    Vault.create(tmp_path / "v", "correct horse", scrypt_n=FAST)
    with pytest.raises(WrongPassphrase, match="wrong passphrase"):
        Vault.open(tmp_path / "v", "wrong horse")


def test_tampered_secret_is_refused(tmp_path: Path) -> None:
    vault = Vault.create(tmp_path / "v", "pw", scrypt_n=FAST)
    _identity().save(vault)
    path = tmp_path / "v" / "device.sealed"
    data = bytearray(path.read_bytes())
    data[-1] ^= 1
    path.write_bytes(bytes(data))
    with pytest.raises(VaultError, match="damaged or was altered"):
        Identity.load(Vault.open(tmp_path / "v", "pw"))


def test_swapped_secret_files_are_refused(tmp_path: Path) -> None:
    vault = Vault.create(tmp_path / "v", "pw", scrypt_n=FAST)
    store_credential(vault, "p1", "cred-one")
    store_credential(vault, "p2", "cred-two")
    d = tmp_path / "v"
    (d / "credential-p1.sealed").write_bytes((d / "credential-p2.sealed").read_bytes())
    with pytest.raises(VaultError):
        load_credential(vault, "p1")


def test_credential_deleted_after_poll(tmp_path: Path) -> None:
    vault = Vault.create(tmp_path / "v", "pw", scrypt_n=FAST)
    store_credential(vault, "poll-7", "abc")
    assert load_credential(vault, "poll-7") == "abc"
    forget_credential(vault, "poll-7")
    assert load_credential(vault, "poll-7") is None
    assert not list((tmp_path / "v").glob("credential-*"))


def test_vault_not_overwritten(tmp_path: Path) -> None:
    Vault.create(tmp_path / "v", "pw", scrypt_n=FAST)
    with pytest.raises(VaultError, match="already exists"):
        Vault.create(tmp_path / "v", "other", scrypt_n=FAST)


def test_outbox_survives_a_restart(tmp_path: Path) -> None:
    box = Outbox(tmp_path)
    box.put(PendingBallot("p1", "m1", '{"ballot":1}', "TRK"))
    assert stat.S_IMODE((tmp_path / "outbox.json").stat().st_mode) == 0o600
    reopened = Outbox(tmp_path)  # as after a crash
    assert reopened.pending() == [PendingBallot("p1", "m1", '{"ballot":1}', "TRK")]
    reopened.acknowledge("p1", {"tracker": "TRK"})
    assert Outbox(tmp_path).pending() == []
    assert Outbox(tmp_path).receipt("p1") == {"tracker": "TRK"}


def test_damaged_outbox_is_reported(tmp_path: Path) -> None:
    (tmp_path / "outbox.json").write_text("{not json")
    with pytest.raises(Exception, match="damaged"):
        Outbox(tmp_path)
    (tmp_path / "outbox.json").write_text(json.dumps({"p": {"x": 1}}))
    with pytest.raises(Exception, match="damaged"):
        Outbox(tmp_path)


def test_backoff_grows_and_resets() -> None:
    b = Backoff(initial=0.1, factor=2, maximum=1.0, jitter=0)
    assert [b.next() for _ in range(6)] == [0.1, 0.2, 0.4, 0.8, 1.0, 1.0]
    b.reset()
    assert b.next() == 0.1
    j = Backoff(initial=1, factor=2, maximum=8, jitter=0.5)
    for k in range(5):
        d = j.next()
        assert min(8, 2**k) * 0.5 <= d <= min(8, 2**k)
    with pytest.raises(ValueError):
        Backoff(initial=0)
