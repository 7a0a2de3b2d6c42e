"""The ``trustees`` structure of an election (spec §4.7).

``[["Single", trustee_public_key], ["Pedersen", threshold_parameters], ...]``. Each item gives
a sub-key; the election public key is their product. Trustee ids (the ``owner`` of a partial
decryption, belenios-tool's ``--trustee-id``) are 1-based over the flattened list: a Single
item takes one id, a Pedersen item one id per verification key, in order.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from gmpy2 import mpz

from keys.group import Group
from keys.pki import PKIError, dump_json, expect_list, load_json
from keys.threshold import (
    PedersenError,
    ThresholdParameters,
    check_threshold_parameters,
    threshold_public_key,
)
from keys.trustee_key import TrusteeKeyError, TrusteePublicKey, check_trustee_public_key
from tally.errors import RecordError


@dataclass(frozen=True)
class SingleTrustee:
    key: TrusteePublicKey

    def to_json(self) -> list[Any]:
        return ["Single", self.key.to_json()]


@dataclass(frozen=True)
class PedersenTrustees:
    params: ThresholdParameters

    @property
    def threshold(self) -> int:
        return self.params.threshold

    @property
    def size(self) -> int:
        return len(self.params.verification_keys)

    def to_json(self) -> list[Any]:
        return ["Pedersen", self.params.to_json()]


TrusteeItem = SingleTrustee | PedersenTrustees


@dataclass(frozen=True)
class Trustees:
    items: tuple[TrusteeItem, ...]

    def __iter__(self) -> Iterator[TrusteeItem]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)


@dataclass(frozen=True)
class TrusteeSlot:
    """One trustee id: which item it belongs to and the key its decryptions are checked with."""

    owner: int
    item: int
    key: TrusteePublicKey
    index_in_item: int  # 1-based position inside a Pedersen item (1 for Single)


def trustee_slots(trustees: Trustees) -> list[TrusteeSlot]:
    """Every trustee id with its verification key, in belenios-tool's numbering."""
    out: list[TrusteeSlot] = []
    for i, item in enumerate(trustees.items):
        if isinstance(item, SingleTrustee):
            out.append(TrusteeSlot(len(out) + 1, i, item.key, 1))
        else:
            for z, key in enumerate(item.params.verification_keys, start=1):
                out.append(TrusteeSlot(len(out) + 1, i, key, z))
    return out


def trustee_count(trustees: Trustees) -> int:
    return len(trustee_slots(trustees))


def _parse_item(group: Group, obj: Any, n: int) -> TrusteeItem:
    what = f"trustees item {n}"
    if not isinstance(obj, list) or len(obj) != 2 or not isinstance(obj[0], str):
        raise RecordError(f'{what} must be ["Single", key] or ["Pedersen", parameters]')
    kind, body = obj
    try:
        if kind == "Single":
            return SingleTrustee(TrusteePublicKey.from_json(group, body, f"{what} (Single)"))
        if kind == "Pedersen":
            return PedersenTrustees(
                ThresholdParameters.from_json(group, body, f"{what} (Pedersen)")
            )
    except (TrusteeKeyError, PedersenError, PKIError) as exc:
        raise RecordError(str(exc)) from None
    raise RecordError(f"{what} has unknown kind {kind!r} (expected Single or Pedersen)")


def parse_trustees(group: Group, raw: str | bytes) -> Trustees:
    """Parse a trustees structure strictly (structure, canonical numbers, group membership).

    The proofs are checked by :func:`check_trustees`."""
    try:
        items = expect_list(load_json(raw, "trustees"), "trustees")
    except PKIError as exc:
        raise RecordError(str(exc)) from None
    if not items:
        raise RecordError("trustees must contain at least one item")
    return Trustees(tuple(_parse_item(group, x, n) for n, x in enumerate(items, start=1)))


def serialize_trustees(trustees: Trustees) -> str:
    """The compact JSON belenios-tool writes in trustees.json (without the final newline)."""
    return dump_json([item.to_json() for item in trustees.items])


def combined_public_key(group: Group, trustees: Trustees) -> mpz:
    """The election public key: product of every item's sub-key (spec §3.1.1)."""
    y = mpz(1)
    for n, item in enumerate(trustees.items, start=1):
        if isinstance(item, SingleTrustee):
            y = group.mul(y, item.key.public_key)
        else:
            try:
                y = group.mul(y, threshold_public_key(group, item.params))
            except PedersenError as exc:
                raise RecordError(f"trustees item {n} (Pedersen): {exc}") from None
    return y


def check_trustees(group: Group, trustees: Trustees) -> None:
    """Every proof of knowledge, certificate, coefexps signature and verification key.

    Raises RecordError naming the item and the trustee that fails."""
    if not trustees.items:
        raise RecordError("trustees must contain at least one item")
    for n, item in enumerate(trustees.items, start=1):
        try:
            if isinstance(item, SingleTrustee):
                check_trustee_public_key(group, item.key, f"trustee (item {n}, Single)")
            else:
                check_threshold_parameters(group, item.params)
        except (TrusteeKeyError, PedersenError) as exc:
            kind = "Single" if isinstance(item, SingleTrustee) else "Pedersen"
            raise RecordError(f"trustees item {n} ({kind}): {exc}") from None
