"""The ``proof`` structure of spec §4.3: a (challenge, response) pair of exponents."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gmpy2 import mpz

from keys.group import Group, GroupError, to_str


@dataclass(frozen=True)
class Proof:
    challenge: mpz
    response: mpz

    def to_json(self) -> dict[str, str]:
        return {"challenge": to_str(self.challenge), "response": to_str(self.response)}

    @staticmethod
    def from_json(group: Group, obj: Any, what: str = "proof") -> Proof:
        if not isinstance(obj, dict) or set(obj) != {"challenge", "response"}:
            raise GroupError(f"{what} must be an object with exactly challenge and response")
        return Proof(
            group.parse_exponent(obj["challenge"], f"{what}.challenge"),
            group.parse_exponent(obj["response"], f"{what}.response"),
        )
