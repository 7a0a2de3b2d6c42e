"""PKI of the threshold ceremony: signatures, AES-CCM channels, certificates."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from keys import pki
from keys.group import TEST_256, Group
from keys.pki import PKIError


def test_seed_and_derived_keys_are_deterministic() -> None:
    seed = pki.generate_seed()
    assert len(seed) == 22 and all(c in pki.B58_DIGITS for c in seed)
    assert pki.check_seed(seed) == seed
    assert pki.derive_sk(seed) == pki.derive_sk(seed)
    assert pki.derive_sk(seed) != pki.derive_dk(seed)
    # SHA-256 of "sk|" + seed, read as a big-endian number (spec §4.6.1)
    assert pki.derive_sk("1" * 22) == int(
        __import__("hashlib").sha256(b"sk|" + b"1" * 22).hexdigest(), 16
    )


@pytest.mark.parametrize("bad", ["", "0" * 22, "1" * 21, "1" * 23, "l" * 22, "1" * 21 + "\n"])
def test_bad_seed_refused(bad: str) -> None:
    with pytest.raises(PKIError):
        pki.check_seed(bad)


@given(message=st.text(max_size=200))
@settings(max_examples=25, deadline=None)
def test_sign_verify(message: str) -> None:
    group = TEST_256
    sk = group.random_exponent()
    vk = group.g_pow(sk)
    signed = pki.sign(group, sk, message)
    assert pki.verify_signature(group, vk, signed)
    assert pki.SignedMsg.parse(group, signed.serialize()) == signed
    assert not pki.verify_signature(group, group.mul(vk, group.g), signed)
    assert not pki.verify_signature(group, vk, pki.SignedMsg(message + "x", signed.signature))


def test_signature_hash_is_sigmsg_message_commitment(group: Group) -> None:
    sk = group.random_exponent()
    signed = pki.sign(group, sk, "hello")
    c, r = signed.signature.challenge, signed.signature.response
    a = group.mul(group.g_pow(r), group.pow(group.g_pow(sk), c))
    digest = __import__("hashlib").sha256(f"sigmsg|hello|{a}".encode()).hexdigest()
    assert int(digest, 16) % group.q == c


@given(message=st.text(max_size=300))
@settings(max_examples=25, deadline=None)
def test_encrypt_decrypt_round_trip(message: str) -> None:
    group = TEST_256
    dk = group.random_exponent()
    msg = pki.encrypt(group, group.g_pow(dk), message)
    assert len(msg.data) == 2 * (len(message.encode()) + 8)  # CCM: same length + 8-byte tag
    assert pki.decrypt(group, dk, pki.EncryptedMsg.parse(group, msg.serialize())) == message
    with pytest.raises(PKIError):
        pki.decrypt(group, dk + 1, msg)


def test_long_message_uses_shorter_nonce(group: Group) -> None:
    dk = group.random_exponent()
    text = "x" * 70000  # above 64 KiB: length field of 3 bytes, nonce of 12
    assert pki.decrypt(group, dk, pki.encrypt(group, group.g_pow(dk), text)) == text


def test_tampered_ciphertext_refused(group: Group) -> None:
    dk = group.random_exponent()
    msg = pki.encrypt(group, group.g_pow(dk), "secret")
    flipped = ("0" if msg.data[0] != "0" else "1") + msg.data[1:]
    with pytest.raises(PKIError, match="does not decrypt"):
        pki.decrypt(group, dk, pki.EncryptedMsg(msg.alpha, msg.beta, flipped))
    for bad in ("ABCDEF" + msg.data[6:], msg.data[:-1], ""):
        with pytest.raises(PKIError):
            pki.EncryptedMsg.from_json(
                group, {"alpha": str(msg.alpha), "beta": str(msg.beta), "data": bad}
            )


def test_channel_round_trip_and_checks(group: Group) -> None:
    sk1, dk2 = group.random_exponent(), group.random_exponent()
    vk1, ek2 = group.g_pow(sk1), group.g_pow(dk2)
    text = pki.send(group, sk1, ek2, '{"secret":"42"}')
    assert pki.recv(group, dk2, vk1, text) == '{"secret":"42"}'
    with pytest.raises(PKIError, match="not signed by the expected trustee"):
        pki.recv(group, dk2, group.mul(vk1, group.g), text)
    # a message signed by trustee 1 for another recipient, re-encrypted for trustee 2
    other = group.random_exponent()
    inner = pki.sign(
        group, sk1, pki.dump_json({"recipient": str(group.g_pow(other)), "message": "m"})
    )
    forwarded = pki.encrypt(group, ek2, inner.serialize()).serialize()
    with pytest.raises(PKIError, match="addressed to another trustee"):
        pki.recv(group, dk2, vk1, forwarded)


def test_cert(group: Group) -> None:
    seed = pki.generate_seed()
    sk, dk = pki.derive_sk(seed), pki.derive_dk(seed)
    cert = pki.make_cert(group, sk, dk)
    keys = pki.cert_keys(group, cert)
    assert (keys.verification, keys.encryption) == (group.g_pow(sk), group.g_pow(dk))
    assert cert.message == (
        f'{{"verification":"{group.g_pow(sk)}","encryption":"{group.g_pow(dk)}"}}'
    )
    forged = pki.SignedMsg(
        cert.message.replace('"encryption":"', '"encryption":"1'), cert.signature
    )
    with pytest.raises(PKIError):
        pki.cert_keys(group, forged)


def test_strict_json() -> None:
    with pytest.raises(PKIError, match="duplicate"):
        pki.load_json('{"a":1,"a":2}', "x")
    with pytest.raises(PKIError):
        pki.load_json("NaN", "x")
    assert pki.dump_json({"b": "é\x7f\n", "a": [1]}) == '{"b":"é\\u007f\\n","a":[1]}'
