"""A tablet pins the session's trustees group by group (kiosk.trustee_pins, issue 13).

A session encrypts motions in one group and elections in another; each group has its own
trustees, signed by the scrutineers. The tablet pins each group's trustees after checking k
signatures, and then refuses a poll of that group whose trustees are not the pin — trustees of
the other group, or of another ceremony in the same group, whatever signatures they carry.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from keys.group import BELENIOS_2048, TEST_256, Group
from keys.pki import derive_sk
from keys.threshold import (
    generate_cert,
    make_polynomial,
    make_threshold_parameters,
    make_vinputs,
    make_voutput,
)
from keys.trustee_key import generate_trustee_key
from kiosk.trustee_pins import PINS_VERSION, PinError, dump_pins, load_pins, new_pin, pins_info
from tally.session_trustees import sign_trustees, trustees_fingerprint
from tally.trustees import PedersenTrustees, SingleTrustee, Trustees, serialize_trustees

SERVER = "ab" * 32


def signed_trustees(group: Group, n: int = 2, k: int = 2) -> tuple[str, list[dict[str, Any]]]:
    """A ceremony's trustees in ``group`` (the server's key, n scrutineers k of n) and each
    scrutineer's signature of them."""
    made = [generate_cert(group) for _ in range(n)]
    certs = [cert for _seed, cert in made]
    polys = [make_polynomial(group, certs, seed, k) for seed, _cert in made]
    vinputs = make_vinputs(group, certs, polys)
    vouts = [
        make_voutput(group, certs, seed, v) for (seed, _c), v in zip(made, vinputs, strict=True)
    ]
    params, _ = make_threshold_parameters(group, certs, polys, vouts)
    _x, tpk = generate_trustee_key(group)
    raw = serialize_trustees(Trustees((SingleTrustee(tpk), PedersenTrustees(params))))
    signatures = [
        {"trustee_id": i + 2, "signature": sign_trustees(group, derive_sk(seed), raw)}
        for i, (seed, _c) in enumerate(made)
    ]
    return raw, signatures


@pytest.fixture(scope="module")
def two_groups() -> dict[str, tuple[str, list[dict[str, Any]]]]:
    return {
        TEST_256.name: signed_trustees(TEST_256),
        BELENIOS_2048.name: signed_trustees(BELENIOS_2048),
    }


def test_each_group_is_pinned_on_its_own(two_groups: dict[str, Any]) -> None:
    pins: dict[str, Any] = {}
    for group in (TEST_256, BELENIOS_2048):
        raw, sigs = two_groups[group.name]
        pin = new_pin(pins, group, raw, sigs, allow_server_only=False)
        assert pin is not None and pin["fingerprint"] == trustees_fingerprint(raw)
        assert pin["signers"] == [2, 3] and pin["needed"] == 2
        pins[group.name] = pin
        # the same trustees again: nothing new to pin
        assert new_pin(pins, group, raw, [], allow_server_only=False) is None
    info = pins_info(pins)["groups"]
    assert [g["group"] for g in info] == [TEST_256.name, BELENIOS_2048.name]
    assert [g["fingerprint"] for g in info] == [
        trustees_fingerprint(two_groups[n][0]) for n in (TEST_256.name, BELENIOS_2048.name)
    ]
    # sealed and read back for the same server; another server's pins are not these
    blob = dump_pins(pins, SERVER)
    assert load_pins(blob, SERVER) == pins and load_pins(blob, "cd" * 32) == {}


def test_trustees_of_the_wrong_group_are_refused(two_groups: dict[str, Any]) -> None:
    motion_raw, motion_sigs = two_groups[BELENIOS_2048.name]
    # an election (TEST_256 here) handed the motions' trustees and their valid signatures
    with pytest.raises(PinError, match="not signed by enough scrutineers"):
        new_pin({}, TEST_256, motion_raw, motion_sigs, allow_server_only=False)
    # ... and once the election group is pinned, the motions' trustees are not its pin
    raw, sigs = two_groups[TEST_256.name]
    pins = {TEST_256.name: new_pin({}, TEST_256, raw, sigs, allow_server_only=False)}
    with pytest.raises(PinError, match="not the session's in RENDA-TEST-256"):
        new_pin(pins, TEST_256, motion_raw, motion_sigs, allow_server_only=False)


def test_another_ceremony_in_a_pinned_group_is_refused(two_groups: dict[str, Any]) -> None:
    raw, sigs = two_groups[TEST_256.name]
    pins = {TEST_256.name: new_pin({}, TEST_256, raw, sigs, allow_server_only=False)}
    other, other_sigs = signed_trustees(TEST_256)  # k-signed, but not the pinned ceremony
    with pytest.raises(PinError, match="as this kiosk pinned them"):
        new_pin(pins, TEST_256, other, other_sigs, allow_server_only=False)
    # a group with too few signatures is not pinned at all
    with pytest.raises(PinError, match="only 1 of the 2"):
        new_pin({}, TEST_256, other, other_sigs[:1], allow_server_only=False)


def test_a_pin_of_one_unnamed_group_is_redone() -> None:
    """A pin made before sessions had two groups names no group: it is checked again (with
    the signatures) at the next poll of each group."""
    old = {"server_public_key": SERVER, "trustees": "[]", "fingerprint": "X", "needed": 2}
    assert load_pins(json.dumps(old).encode(), SERVER) == {}
    assert PINS_VERSION == 2
