"""The auditor checks each poll against its own group's trustees (tally.record_trustees)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from keys.group import BELENIOS_2048, RFC_3526_2048, TEST_256
from tally.errors import RecordError
from tally.record_trustees import RecordedPoll, check_record_trustees
from tally.session_groups import SessionGroups, record_groups
from tests.kiosk.test_trustee_pins import signed_trustees

GROUPS = SessionGroups(BELENIOS_2048, TEST_256)  # motions, elections (the test group here)


@pytest.fixture(scope="module")
def session() -> dict[str, Any]:
    motions, motion_sigs = signed_trustees(BELENIOS_2048)
    elections, election_sigs = signed_trustees(TEST_256)
    return {
        "group": BELENIOS_2048.name,
        "election_group": TEST_256.name,
        "trustees": motions,
        "trustees_signatures": motion_sigs,
        "election_trustees": elections,
        "election_trustees_signatures": election_sigs,
    }


def _poll(name: str, group: str, trustees: str) -> RecordedPoll:
    return RecordedPoll(name, json.dumps({"group": group}), trustees)


def _check(session: dict[str, Any], polls: list[RecordedPoll]) -> str:
    groups = record_groups(session, allow_test_group=True)
    return check_record_trustees(session, groups, polls, allow_test_group=False)


def test_each_poll_checks_against_its_group(session: dict[str, Any]) -> None:
    assert record_groups(session, allow_test_group=True) == GROUPS
    words = _check(
        session,
        [
            _poll("motion p1", BELENIOS_2048.name, session["trustees"]),
            _poll("election p2", TEST_256.name, session["election_trustees"]),
        ],
    )
    assert "BELENIOS-2048: 1 poll(s)" in words and "RENDA-TEST-256: 1 poll(s)" in words


def test_an_election_encrypted_to_the_motions_trustees_is_refused(session: dict[str, Any]) -> None:
    with pytest.raises(RecordError, match="election p2 is not encrypted to the session's trustees"):
        _check(session, [_poll("election p2", TEST_256.name, session["trustees"])])
    with pytest.raises(RecordError, match="is encrypted in the group 'RFC-3526-2048'"):
        _check(session, [_poll("election p2", "RFC-3526-2048", session["election_trustees"])])


def test_each_group_needs_k_signatures(session: dict[str, Any]) -> None:
    short = dict(session, election_trustees_signatures=session["election_trustees_signatures"][:1])
    with pytest.raises(RecordError, match="only 1 of the 2"):
        _check(short, [_poll("election p2", TEST_256.name, session["election_trustees"])])
    # a session whose election group has no key yet, and no election: the motions verify
    none = {k: v for k, v in session.items() if not k.startswith("election_trustees")}
    assert "1 poll(s)" in _check(none, [_poll("m", BELENIOS_2048.name, session["trustees"])])
    with pytest.raises(RecordError, match="does not carry the session's trustees in"):
        _check(none, [_poll("election p2", TEST_256.name, session["election_trustees"])])


def test_a_record_of_one_group_reads_as_before(session: dict[str, Any]) -> None:
    one = {k: v for k, v in session.items() if not k.startswith("election_")}
    assert record_groups(one, allow_test_group=True).election == RFC_3526_2048
    words = _check(one, [_poll("motion p1", BELENIOS_2048.name, session["trustees"])])
    assert words == (
        "BELENIOS-2048: 1 poll(s) encrypted to them; scrutineers [2, 3] signed them (2 needed)"
    )
    test = {"group": TEST_256.name, "trustees": session["election_trustees"]}
    test["trustees_signatures"] = session["election_trustees_signatures"]
    assert record_groups(test, allow_test_group=True).all == (TEST_256,)
    words = _check(test, [_poll("p1", TEST_256.name, session["election_trustees"])])
    assert words == "1 poll(s) encrypted to them; scrutineers [2, 3] signed them (2 needed)"
