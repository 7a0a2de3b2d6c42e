from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from keys.credentials import (
    BASE58_DIGITS,
    CredentialError,
    check_private_credential,
    derive_secret,
    format_privcreds,
    generate_private_credential,
    is_valid_private_credential,
    parse_privcreds,
    public_credential,
)
from keys.group import BELENIOS_2048, TEST_256

# Produced by belenios-tool 2.0: `setup generate-credentials --uuid mnT9reiASR7zJv
# --group BELENIOS-2048 --count 3` printed this credential, and `--derive` gave its key.
TOOL_UUID = "mnT9reiASR7zJv"
TOOL_CREDENTIAL = "va7-E1w-Bgp-X1U-ovr"
TOOL_PUBLIC_PREFIX = "11643809766814941522499887376391550467813780383476352430906124358637"


def test_generated_credentials_have_belenios_form() -> None:
    for _ in range(50):
        cred = generate_private_credential()
        assert len(cred) == 19 and [cred[i] for i in (3, 7, 11, 15)] == ["-"] * 4
        assert all(c in BASE58_DIGITS for c in cred.replace("-", ""))
        assert check_private_credential(cred) == cred
        assert is_valid_private_credential(cred.replace("-", ""))


def test_belenios_tool_credential_is_valid() -> None:
    assert is_valid_private_credential(TOOL_CREDENTIAL)
    assert is_valid_private_credential(TOOL_CREDENTIAL.replace("-", ""))
    assert check_private_credential(f"  {TOOL_CREDENTIAL}\n") == TOOL_CREDENTIAL


def test_derivation_depends_on_the_exact_text_and_uuid() -> None:
    a = derive_secret(TEST_256, TOOL_UUID, TOOL_CREDENTIAL)
    assert a == derive_secret(TEST_256, TOOL_UUID, TOOL_CREDENTIAL)
    assert a != derive_secret(TEST_256, TOOL_UUID, TOOL_CREDENTIAL.replace("-", ""))
    assert a != derive_secret(TEST_256, TOOL_UUID + "x", TOOL_CREDENTIAL)
    assert 0 <= a < TEST_256.q


def test_public_credential_matches_known_pbkdf2_vector() -> None:
    # Value computed independently with hashlib.pbkdf2_hmac, as spec §4.8 describes.
    import hashlib

    block = hashlib.pbkdf2_hmac("sha256", TOOL_CREDENTIAL.encode(), TOOL_UUID.encode(), 1000, 32)
    secret = int.from_bytes(block, "big") % int(BELENIOS_2048.q)
    assert derive_secret(BELENIOS_2048, TOOL_UUID, TOOL_CREDENTIAL) == secret
    pub = public_credential(BELENIOS_2048, TOOL_UUID, TOOL_CREDENTIAL)
    assert pub == BELENIOS_2048.g_pow(secret)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "va7-E1w-Bgp-X1U-ovs",  # wrong checksum
        "va7-E1w-Bgp-X1U-ov",  # too short
        "va7E1w-Bgp-X1U-ovr-",  # dashes misplaced
        "va7-E1w-Bgp-X1U-ov0",  # 0 is not Base58
        "va7-E1w-Bgp-X1U-ovrr",
        "va7-E1w-Bgp-X1U-ovr-abc",
        "va7-E1w-Bgp-X1O-ovr",  # O is not Base58
    ],
)
def test_invalid_credentials_are_refused(text: str) -> None:
    assert not is_valid_private_credential(text)
    with pytest.raises(CredentialError):
        check_private_credential(text)
    with pytest.raises(CredentialError):
        derive_secret(TEST_256, TOOL_UUID, text)


@given(st.integers(min_value=0, max_value=14), st.sampled_from(BASE58_DIGITS))
def test_changing_one_character_is_detected_unless_congruent(pos: int, digit: str) -> None:
    raw = TOOL_CREDENTIAL.replace("-", "")
    old = BASE58_DIGITS.index(raw[pos])
    new = BASE58_DIGITS.index(digit)
    changed = raw[:pos] + digit + raw[pos + 1 :]
    weight = 58 ** (13 - pos) if pos < 14 else 1
    # The checksum catches every change except those that are multiples of 53 modulo 53.
    expected = (new - old) * weight % 53 == 0
    assert is_valid_private_credential(changed) == expected


def test_privcreds_file_round_trip() -> None:
    text = f"1 {TOOL_CREDENTIAL}\n2 {generate_private_credential()}\n"
    items = parse_privcreds(text)
    assert items[0] == ("1", TOOL_CREDENTIAL)
    assert format_privcreds(items) == text
    with pytest.raises(CredentialError):
        parse_privcreds("1 va7-E1w-Bgp-X1U-ovs\n")
    with pytest.raises(CredentialError):
        parse_privcreds(TOOL_CREDENTIAL + "\n")
