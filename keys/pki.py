"""The trustees' public key infrastructure of Belenios 2.0 (spec §4.6.1–§4.6.3).

A trustee of a threshold ("Pedersen") group keeps one secret *seed*; from it derive a signing
key ``sk`` (verification key ``g^sk``) and a decryption key ``dk`` (encryption key ``g^dk``).
Messages between trustees travel through the server as ``send(sk, recipient, message)``:
a ``channel_msg`` signed with ``sk`` and encrypted for ``recipient`` with ElGamal + AES-CCM,
exactly as belenios-tool 2.0 does it (AES-256, 13-byte nonce for messages under 64 KiB,
8-byte tag, data in lower-case hexadecimal).

This module also holds the JSON reader and writer shared by the trustee modules: the writer
produces Belenios's compact serialization (fields in the order given, no spaces).
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESCCM
from gmpy2 import mpz

from keys import schnorr
from keys.group import Group, GroupError, to_str
from keys.hashing import sha256_hex
from keys.proof import Proof

B58_DIGITS = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
SEED_LENGTH = 22
_SEED_RE = re.compile(f"[{B58_DIGITS}]{{{SEED_LENGTH}}}\\Z")
_HEX_RE = re.compile(r"(?:[0-9a-f]{2})*\Z")
_TAG_BYTES = 8  # belenios-tool uses a 64-bit CCM tag
_MAX_MESSAGE = 1 << 20  # far above anything the ceremony sends


class PKIError(ValueError):
    """A PKI message (signed or encrypted) that is malformed, forged or not for us."""


# -- JSON ---------------------------------------------------------------------------------


def dump_json(obj: Any) -> str:
    """Compact JSON as Belenios (Yojson) writes it: no spaces, UTF-8 kept, DEL escaped."""
    text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return text.replace("\x7f", "\\u007f")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"duplicate field {key!r}")
        out[key] = value
    return out


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not allowed in JSON")


def load_json(text: str | bytes, what: str) -> Any:
    """Parse JSON strictly (no duplicate fields, no NaN); raise ValueError naming ``what``."""
    try:
        return json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_no_constant)
    except (ValueError, RecursionError) as exc:
        raise PKIError(f"{what} is not valid JSON: {exc}") from None


def expect_object(
    obj: Any, what: str, required: Sequence[str], optional: Sequence[str] = ()
) -> dict[str, Any]:
    """Check that ``obj`` is an object with exactly the ``required`` fields (plus optional)."""
    if not isinstance(obj, dict):
        raise PKIError(f"{what} must be a JSON object")
    missing = [k for k in required if k not in obj]
    if missing:
        raise PKIError(f"{what} lacks the field(s) {', '.join(missing)}")
    extra = sorted(set(obj) - set(required) - set(optional))
    if extra:
        raise PKIError(f"{what} has unexpected field(s) {', '.join(extra)}")
    return obj


def expect_string(obj: Any, what: str) -> str:
    if not isinstance(obj, str):
        raise PKIError(f"{what} must be a JSON string")
    return obj


def expect_list(obj: Any, what: str) -> list[Any]:
    if not isinstance(obj, list):
        raise PKIError(f"{what} must be a JSON array")
    return obj


def hash_to_q(group: Group, prefix: str, elements: Sequence[mpz]) -> mpz:
    """Belenios's ``G.hash``: SHA-256 of ``prefix`` + comma-separated numbers, modulo q."""
    data = prefix + ",".join(to_str(x) for x in elements)
    return mpz(int(sha256_hex(data), 16)) % group.q


# -- seeds and derived keys -----------------------------------------------------------------


def generate_seed() -> str:
    """A fresh secret seed: 22 random Base58 characters (spec §4.6.1)."""
    return "".join(secrets.choice(B58_DIGITS) for _ in range(SEED_LENGTH))


def check_seed(seed: str) -> str:
    if not isinstance(seed, str) or not _SEED_RE.match(seed):
        raise PKIError(f"a trustee seed is {SEED_LENGTH} Base58 characters")
    return seed


def derive_sk(seed: str) -> mpz:
    """The signing key: SHA-256 of ``sk|seed`` read as a number (not reduced, like Belenios)."""
    return mpz(int(sha256_hex("sk|" + seed), 16))


def derive_dk(seed: str) -> mpz:
    """The decryption key: SHA-256 of ``dk|seed`` read as a number."""
    return mpz(int(sha256_hex("dk|" + seed), 16))


# -- signed messages ------------------------------------------------------------------------


@dataclass(frozen=True)
class SignedMsg:
    message: str
    signature: Proof

    def to_json(self) -> dict[str, Any]:
        return {"message": self.message, "signature": self.signature.to_json()}

    def serialize(self) -> str:
        return dump_json(self.to_json())

    @staticmethod
    def from_json(group: Group, obj: Any, what: str = "signed message") -> SignedMsg:
        obj = expect_object(obj, what, ("message", "signature"))
        try:
            signature = Proof.from_json(group, obj["signature"], f"{what}.signature")
        except GroupError as exc:
            raise PKIError(str(exc)) from None
        return SignedMsg(expect_string(obj["message"], f"{what}.message"), signature)

    @staticmethod
    def parse(group: Group, text: str, what: str = "signed message") -> SignedMsg:
        return SignedMsg.from_json(group, load_json(text, what), what)


def _sig_prefix(message: str) -> str:
    return "sigmsg|" + message + "|"


def sign(group: Group, sk: mpz, message: str) -> SignedMsg:
    """Schnorr signature of ``message`` (spec §4.6.1 "Signing")."""
    proof = schnorr.prove(group, sk, lambda a: hash_to_q(group, _sig_prefix(message), [a]))
    return SignedMsg(message, proof)


def verify_signature(group: Group, vk: mpz, signed: SignedMsg) -> bool:
    """True when ``signed`` is a valid signature under the verification key ``vk``."""
    prefix = _sig_prefix(signed.message)
    return schnorr.verify(group, vk, signed.signature, lambda a: hash_to_q(group, prefix, [a]))


# -- encrypted messages ---------------------------------------------------------------------


@dataclass(frozen=True)
class EncryptedMsg:
    alpha: mpz
    beta: mpz
    data: str

    def to_json(self) -> dict[str, str]:
        return {"alpha": to_str(self.alpha), "beta": to_str(self.beta), "data": self.data}

    def serialize(self) -> str:
        return dump_json(self.to_json())

    @staticmethod
    def from_json(group: Group, obj: Any, what: str = "encrypted message") -> EncryptedMsg:
        obj = expect_object(obj, what, ("alpha", "beta", "data"))
        try:
            alpha = group.parse_element(obj["alpha"], f"{what}.alpha")
            beta = group.parse_element(obj["beta"], f"{what}.beta")
        except GroupError as exc:
            raise PKIError(str(exc)) from None
        data = expect_string(obj["data"], f"{what}.data")
        if not _HEX_RE.match(data) or len(data) < 2 * _TAG_BYTES or len(data) > 2 * _MAX_MESSAGE:
            raise PKIError(f"{what}.data is not lower-case hexadecimal AES-CCM output")
        return EncryptedMsg(alpha, beta, data)

    @staticmethod
    def parse(group: Group, text: str, what: str = "encrypted message") -> EncryptedMsg:
        return EncryptedMsg.from_json(group, load_json(text, what), what)


def _nonce(iv: bytes, message_length: int) -> bytes:
    """SJCL's CCM: length field L is 2, 3 or 4 bytes by message length; nonce = iv[:15-L]."""
    ll = 2
    while ll < 4 and message_length >> (8 * ll) != 0:
        ll += 1
    return iv[: 15 - ll]


def _symmetric(group: Group, shared: mpz, alpha: mpz) -> tuple[AESCCM, bytes]:
    key = bytes.fromhex(sha256_hex("key|" + to_str(shared)))
    iv = bytes.fromhex(sha256_hex("iv|" + to_str(alpha)))
    return AESCCM(key, tag_length=_TAG_BYTES), iv


def encrypt(group: Group, ek: mpz, plaintext: str) -> EncryptedMsg:
    """Encrypt ``plaintext`` for the holder of the decryption key of ``ek`` (spec §4.6.1)."""
    data = plaintext.encode("utf-8")
    if len(data) > _MAX_MESSAGE:
        raise PKIError("message too long to encrypt")
    r, s = group.random_exponent(), group.random_exponent()
    shared = group.g_pow(s)
    alpha = group.g_pow(r)
    beta = group.mul(group.pow(ek, r), shared)
    aes, iv = _symmetric(group, shared, alpha)
    return EncryptedMsg(alpha, beta, aes.encrypt(_nonce(iv, len(data)), data, None).hex())


def decrypt(group: Group, dk: mpz, msg: EncryptedMsg) -> str:
    """Decrypt ``msg`` with the decryption key ``dk``; PKIError if it does not authenticate."""
    shared = group.div(msg.beta, group.pow(msg.alpha, dk))
    aes, iv = _symmetric(group, shared, msg.alpha)
    raw = bytes.fromhex(msg.data)
    try:
        plain = aes.decrypt(_nonce(iv, len(raw) - _TAG_BYTES), raw, None)
        return plain.decode("utf-8")
    except (InvalidTag, UnicodeDecodeError, ValueError):
        raise PKIError("an encrypted message does not decrypt with this key") from None


# -- certificates (§4.6.2) ------------------------------------------------------------------


@dataclass(frozen=True)
class CertKeys:
    verification: mpz
    encryption: mpz

    def serialize(self) -> str:
        return dump_json(
            {"verification": to_str(self.verification), "encryption": to_str(self.encryption)}
        )

    @staticmethod
    def parse(group: Group, text: str, what: str = "certificate keys") -> CertKeys:
        obj = expect_object(load_json(text, what), what, ("verification", "encryption"))
        try:
            return CertKeys(
                group.parse_element(obj["verification"], f"{what}.verification"),
                group.parse_element(obj["encryption"], f"{what}.encryption"),
            )
        except GroupError as exc:
            raise PKIError(str(exc)) from None


def make_cert(group: Group, sk: mpz, dk: mpz) -> SignedMsg:
    """A certificate: the signed cert_keys ``(g^sk, g^dk)``."""
    keys = CertKeys(group.g_pow(sk), group.g_pow(dk))
    return sign(group, sk, keys.serialize())


def cert_keys(group: Group, cert: SignedMsg, what: str = "certificate") -> CertKeys:
    """The keys inside ``cert`` once its self-signature is checked; PKIError otherwise."""
    keys = CertKeys.parse(group, cert.message, f"{what} message")
    if not verify_signature(group, keys.verification, cert):
        raise PKIError(f"{what} is not signed by its own verification key")
    return keys


def cert_id(cert: SignedMsg) -> str:
    """The name belenios-tool gives a certificate's files: SHA-256 (hex) of its message."""
    return sha256_hex(cert.message)


# -- channels (§4.6.3) -----------------------------------------------------------------------


def send(group: Group, sk: mpz, recipient: mpz, message: str) -> str:
    """``send(sk, recipient, message)``: sign a channel_msg, then encrypt it; a string."""
    channel = dump_json({"recipient": to_str(recipient), "message": message})
    signed = sign(group, sk, channel)
    return encrypt(group, recipient, signed.serialize()).serialize()


def recv(group: Group, dk: mpz, vk: mpz, text: str, what: str = "channel message") -> str:
    """Open a ``send`` output: decrypt with ``dk``, check the signature by ``vk`` and that
    the message was meant for ``g^dk``; return the inner message."""
    encrypted = EncryptedMsg.parse(group, text, what)
    signed = SignedMsg.parse(group, decrypt(group, dk, encrypted), f"{what} (decrypted)")
    if not verify_signature(group, vk, signed):
        raise PKIError(f"{what} is not signed by the expected trustee")
    obj = expect_object(load_json(signed.message, what), what, ("recipient", "message"))
    try:
        recipient = group.parse_element(obj["recipient"], f"{what}.recipient")
    except GroupError as exc:
        raise PKIError(str(exc)) from None
    if recipient != group.g_pow(dk):
        raise PKIError(f"{what} was addressed to another trustee")
    return expect_string(obj["message"], f"{what}.message")
