"""The session's trustees as a tablet pins them: one pin per group (tally.session_groups).

A session encrypts its motions in one group and its elections in another; the key ceremony
made the scrutineers' key in each. The first poll of a group that the tablet sees brings that
group's trustees with the scrutineers' signatures of them: at least k must check (the
auditor's check, tally.session_trustees.check_session_trustees) before the tablet pins them,
sealed in its vault with the server key they came with. Every later poll of that group must be
encrypted to exactly the pinned trustees; a poll of a group the tablet has pinned other
trustees for is refused, whatever signatures it carries. 本机信息 shows one fingerprint per
group, as ``renda trustee`` prints them at the end of the ceremony.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from keys.group import Group
from tally.session_trustees import check_session_trustees

PINS_VERSION = 2  # one pin per group (version 1, before two groups, pinned one: redone)


class PinError(Exception):
    """The trustees are not the session's (in the deputy's words, then in English)."""


def load_pins(raw: bytes | None, server_public_key: str) -> dict[str, dict[str, Any]]:
    """Group name -> pin, as sealed in the vault (empty: nothing pinned for this server; an
    older pin, of one group without its name, is redone with the signatures)."""
    data = json.loads(raw) if raw is not None else None
    if not isinstance(data, dict) or data.get("version") != PINS_VERSION:
        return {}
    if data.get("server_public_key") != server_public_key:
        return {}
    groups = data.get("groups")
    return dict(groups) if isinstance(groups, dict) else {}


def dump_pins(pins: Mapping[str, Mapping[str, Any]], server_public_key: str) -> bytes:
    data = {"version": PINS_VERSION, "server_public_key": server_public_key, "groups": pins}
    return json.dumps(data).encode("utf-8")


def new_pin(
    pins: Mapping[str, Mapping[str, Any]],
    group: Group,
    trustees: str,
    signatures: Any,
    *,
    allow_server_only: bool,
) -> dict[str, Any] | None:
    """The pin to add for ``group`` (None: its trustees are pinned already and these are
    they); PinError if they differ from the pin, or are new and fewer than k scrutineers
    signed them."""
    pinned = pins.get(group.name)
    if pinned is not None:
        if pinned.get("trustees") != trustees:
            raise PinError(
                "监票人的密钥与本次会议的不符，本机拒绝投票，请联系秘书处 — the poll's trustees "
                f"are not the session's in {group.name}, as this kiosk pinned them"
            )
        return None
    try:
        check = check_session_trustees(
            group,
            trustees,
            [s.model_dump() if hasattr(s, "model_dump") else s for s in signatures or []],
            allow_server_only=allow_server_only,
        )
    except ValueError as exc:  # RecordError; GroupError: trustees of another group
        raise PinError(
            "本次会议的监票人密钥没有足够的监票人签名确认，本机拒绝投票，请联系秘书处 — "
            f"the session's trustees are not signed by enough scrutineers: {exc}"
        ) from None
    return {
        "trustees": trustees,
        "fingerprint": check.fingerprint,
        "signers": list(check.signers),
        "needed": check.needed,
    }


def pins_info(pins: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """What 本机信息 shows: each pinned group's fingerprint and the scrutineers who signed."""
    if not pins:
        return {}
    return {
        "groups": [
            {"group": name, **{k: pin[k] for k in ("fingerprint", "signers", "needed")}}
            for name, pin in pins.items()
        ]
    }
