"""A trustee's key and its proof of knowledge (spec §4.5, "trustee_public_key").

``Hpok(X, A) = SHA256("pok|" + G + "|" + X + "|" + A) mod q`` where ``G`` is the group's
name exactly as written in the election (``"BELENIOS-2048"``, ``"RFC-3526-2048"``): this is
the string belenios-tool 2.0 hashes (its ``G.description``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gmpy2 import mpz

from keys import schnorr
from keys.group import Group, GroupError, to_str
from keys.hashing import sha256_hex
from keys.pki import PKIError, dump_json, expect_object, expect_string, hash_to_q, load_json
from keys.proof import Proof


class TrusteeKeyError(ValueError):
    """A trustee public key that is malformed or whose proof of knowledge is wrong."""


@dataclass(frozen=True)
class TrusteePublicKey:
    public_key: mpz
    pok: Proof
    name: str | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"pok": self.pok.to_json(), "public_key": to_str(self.public_key)}
        if self.name is not None:
            out["name"] = self.name
        return out

    def serialize(self) -> str:
        return dump_json(self.to_json())

    @staticmethod
    def from_json(group: Group, obj: Any, what: str = "trustee public key") -> TrusteePublicKey:
        """Structure, canonical numbers and group membership (the proof is not checked)."""
        try:
            obj = expect_object(obj, what, ("pok", "public_key"), ("name",))
            name = None if "name" not in obj else expect_string(obj["name"], f"{what}.name")
            return TrusteePublicKey(
                group.parse_element(obj["public_key"], f"{what}.public_key"),
                Proof.from_json(group, obj["pok"], f"{what}.pok"),
                name,
            )
        except (PKIError, GroupError) as exc:
            raise TrusteeKeyError(str(exc)) from None

    @staticmethod
    def parse(group: Group, text: str, what: str = "trustee public key") -> TrusteePublicKey:
        try:
            obj = load_json(text, what)
        except PKIError as exc:
            raise TrusteeKeyError(str(exc)) from None
        return TrusteePublicKey.from_json(group, obj, what)


def _pok_prefix(group: Group, public_key: mpz) -> str:
    return "pok|" + group.name + "|" + to_str(public_key) + "|"


def prove_trustee_key(group: Group, private_key: mpz) -> TrusteePublicKey:
    """``g^x`` with a Schnorr proof of knowledge of ``x``."""
    public_key = group.g_pow(private_key)
    prefix = _pok_prefix(group, public_key)
    pok = schnorr.prove(group, private_key, lambda a: hash_to_q(group, prefix, [a]))
    return TrusteePublicKey(public_key, pok)


def generate_trustee_key(group: Group) -> tuple[mpz, TrusteePublicKey]:
    """A fresh private key in [0, q) and its trustee public key."""
    private_key = group.random_exponent()
    return private_key, prove_trustee_key(group, private_key)


def pok_is_valid(group: Group, tpk: TrusteePublicKey) -> bool:
    y = tpk.public_key
    if not group.is_element(y):
        return False
    prefix = _pok_prefix(group, y)
    return schnorr.verify(group, y, tpk.pok, lambda a: hash_to_q(group, prefix, [a]))


def check_trustee_public_key(
    group: Group, tpk: TrusteePublicKey, what: str = "trustee public key"
) -> None:
    """Raise TrusteeKeyError unless the key is in the group and its proof of knowledge holds."""
    if not pok_is_valid(group, tpk):
        raise TrusteeKeyError(
            f"the proof of knowledge of {what} {key_id(tpk)} is invalid (for group {group.name})"
        )


def key_id(tpk: TrusteePublicKey) -> str:
    """belenios-tool's short name for a key: first 8 hex digits of SHA-256(y), upper case."""
    return sha256_hex(to_str(tpk.public_key))[:8].upper()
