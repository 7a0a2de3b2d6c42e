"""Exponential ElGamal ciphertexts over a :class:`keys.group.Group` (spec §4.3, §4.11.1)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from gmpy2 import mpz

from keys.group import Group, GroupError, to_str


@dataclass(frozen=True)
class Ciphertext:
    alpha: mpz
    beta: mpz

    def to_json(self) -> dict[str, str]:
        return {"alpha": to_str(self.alpha), "beta": to_str(self.beta)}

    @staticmethod
    def from_json(group: Group, obj: Any, what: str = "ciphertext") -> Ciphertext:
        if not isinstance(obj, dict) or set(obj) != {"alpha", "beta"}:
            raise GroupError(f"{what} must be an object with exactly alpha and beta")
        return Ciphertext(
            group.parse_element(obj["alpha"], f"{what}.alpha"),
            group.parse_element(obj["beta"], f"{what}.beta"),
        )


def encrypt_exponent(group: Group, y: mpz, m: int, r: mpz) -> Ciphertext:
    """``(g^r, y^r g^m)``: the homomorphic encryption of a small integer ``m``."""
    return Ciphertext(group.g_pow(r), group.mul(group.pow(y, r), group.g_pow(m)))


def encrypt_element(group: Group, y: mpz, element: mpz, r: mpz) -> Ciphertext:
    """``(g^r, y^r * element)``: the encryption of a group element (non-homomorphic answers)."""
    return Ciphertext(group.g_pow(r), group.mul(group.pow(y, r), element))


def product(group: Group, items: Iterable[Ciphertext]) -> Ciphertext:
    alpha, beta = mpz(1), mpz(1)
    for c in items:
        alpha = group.mul(alpha, c.alpha)
        beta = group.mul(beta, c.beta)
    return Ciphertext(alpha, beta)
