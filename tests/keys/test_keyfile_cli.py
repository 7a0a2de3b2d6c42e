"""Key files (belenios-tool formats, private modes) and the ``renda keys`` command."""

from __future__ import annotations

from pathlib import Path

import pytest

from keys import keyfile
from keys import threshold as T
from keys.group import TEST_256, Group
from keys.keyfile import KeyFileError
from keys.trustee_key import check_trustee_public_key, generate_trustee_key
from tests.trustees.renda_cli import renda, renda_step

TEST = ("--group", TEST_256.name, "--allow-test-group")


def test_private_key_file_format(group: Group, tmp_path: Path) -> None:
    x, tpk = generate_trustee_key(group)
    path = tmp_path / "k.privkey"
    keyfile.write_private_key(path, x)
    assert path.read_text() == f'"{x}"\n'
    assert path.stat().st_mode & 0o777 == 0o600
    assert keyfile.read_private_key(group, path) == x
    with pytest.raises(KeyFileError, match="refusing to overwrite"):
        keyfile.write_private_key(path, x)
    keyfile.write_public_key(tmp_path / "k.pubkey", tpk)
    assert keyfile.read_public_key(group, tmp_path / "k.pubkey") == tpk
    for bad in ("123\n", '"abc"\n', f'"{group.q}"\n', ""):
        (tmp_path / "bad").write_text(bad)
        with pytest.raises(KeyFileError):
            keyfile.read_private_key(group, tmp_path / "bad")
    with pytest.raises(KeyFileError, match="cannot read"):
        keyfile.read_private_key(group, tmp_path / "missing")


def test_renda_keys_generate(tmp_path: Path) -> None:
    code, _, err = renda(tmp_path, "keys", "generate", *TEST)
    assert code == 0 and "keypair" in err
    priv = next(tmp_path.glob("*.privkey"))
    pub = tmp_path / f"{priv.stem}.pubkey"
    assert priv.stat().st_mode & 0o777 == 0o600
    tpk = keyfile.read_public_key(TEST_256, pub)
    check_trustee_public_key(TEST_256, tpk)
    assert TEST_256.g_pow(keyfile.read_private_key(TEST_256, priv)) == tpk.public_key


def test_renda_keys_threshold_ceremony(tmp_path: Path) -> None:
    d = tmp_path
    for _ in range(3):
        assert renda_step(d, TEST, 1)[0] == 0
    certs = sorted(d.glob("*.cert"))
    for c in certs:
        assert (d / f"{c.stem}.key").stat().st_mode & 0o777 == 0o600
    (d / "certs.jsons").write_text("".join(c.read_text() for c in certs))
    code, _, err = renda_step(d, TEST, 2)
    assert code == 0 and "certificates are valid" in err
    polys = ""
    for c in certs:
        code, out, _ = renda_step(d, TEST, 3, "--key", f"{c.stem}.key", "--threshold", "2")
        assert code == 0
        polys += out
    (d / "polynomials.jsons").write_text(polys)
    assert renda_step(d, TEST, 4, "--polynomials", "polynomials.jsons")[0] == 0
    voutputs = ""
    for c in certs:
        vinput = (d / f"{c.stem}.vinput").read_text()
        code, out, _ = renda_step(d, TEST, 5, "--key", f"{c.stem}.key", stdin=vinput)
        assert code == 0
        voutputs += out
    code, out, _ = renda_step(d, TEST, 6, "--polynomials", "polynomials.jsons", stdin=voutputs)
    assert code == 0
    params = T.ThresholdParameters.parse(TEST_256, out.strip())
    T.check_threshold_parameters(TEST_256, params)
    for c, vk in zip(certs, params.verification_keys, strict=True):
        dkey = d / f"{c.stem}.dkey"
        assert dkey.stat().st_mode & 0o777 == 0o600
        x = keyfile.read_threshold_private_key(TEST_256, d / f"{c.stem}.key", dkey)
        assert TEST_256.g_pow(x) == vk.public_key
    # a tampered voutput is refused with a message naming the trustee
    lines = voutputs.splitlines()
    lines[1], lines[2] = lines[2], lines[1]
    tampered = "\n".join(lines)
    code, _, err = renda_step(d, TEST, 6, "--polynomials", "polynomials.jsons", stdin=tampered)
    assert code == 1 and "trustee 2" in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("keys", "threshold", *TEST, "--step", "2"), "--certs is mandatory"),
        (("keys", "generate", "--group", "NOPE"), "unknown group"),
        (("keys", "threshold", *TEST, "--step", "3", "--certs", "missing"), "cannot read"),
    ],
)
def test_renda_keys_errors(tmp_path: Path, args: tuple[str, ...], message: str) -> None:
    code, _, err = renda(tmp_path, *args)
    assert code == 1 and message in err
    assert not any(tmp_path.iterdir())
