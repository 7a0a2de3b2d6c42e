"""Ballots and elections against the real belenios-tool 2.0, in both directions.

Each setup is a tiny election of 3 voters made by belenios-tool as in its examples/demo.sh.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from keys.credentials import parse_privcreds
from keys.group import BELENIOS_2048, RFC_3526_2048, Group
from keys.hashing import hjson
from tally.ballot import check_ballot, check_ballot_raw, create_ballot, parse_ballot
from tally.credentials import parse_public_credentials, serialize_public_credentials
from tally.election import Election, make_election, parse_election
from tally.errors import RecordError
from tests.belenios import (
    add_event,
    add_shuffle,
    archive_members,
    decrypt_and_finish,
    end_ballots,
    generate_ballot,
    generate_trustee_keys,
    run,
    setup_election,
    verify,
)

pytestmark = pytest.mark.belenios

TEMPLATE: dict[str, Any] = {
    "description": '关于《某某决议（草案）》的表决 "引号" \\ / \t 第二行\n\x01\x7f é',
    "name": "某县第十八届人民代表大会第三次会议",
    "questions": [
        {"answers": ["赞成", "反对"], "blank": True, "min": 1, "max": 1, "question": "是否通过？"},
        {"answers": [f"候选人{i + 1}" for i in range(12)], "min": 0, "max": 10, "question": "选举"},
        {"answers": ["甲", "乙", "丙"], "blank": True, "min": 0, "max": 2, "question": "项目"},
    ],
    "administrator": "大会秘书处",
}

TEMPLATE_NH: dict[str, Any] = {
    "description": "Description of the election.",
    "name": "Name of the election",
    "questions": [
        {"answers": ["Answer 1", "Answer 2"], "min": 0, "max": 1, "question": "Question 1?"},
        {
            "type": "NonHomomorphic",
            "value": {"answers": ["甲", "乙", "丙"], "question": "排序"},
            "extra": {"method": "Schulze", "blank": True},
        },
    ],
}


@dataclass
class Setup:
    exe: str
    dir: Path
    uuid: str
    group: Group
    election_json: str  # as written to election.json, final newline removed
    credentials: list[str]  # private credentials, in .privcreds order

    def archive_files(self) -> list[tuple[str, str]]:
        return archive_members(next(self.dir.glob("*.bel")))

    def election(self) -> Election:
        return parse_election(self.election_json)

    def add_ballot(self, raw: str) -> None:
        add_event(self.exe, self.dir, "Ballot", raw + "\n")

    def tool_ballot(self, index: int, vote: list[list[int]]) -> str:
        return generate_ballot(self.exe, self.dir, self.credentials[index], vote)


def _setup(exe: str, d: Path, group: Group, template: dict[str, Any]) -> Setup:
    generate_trustee_keys(exe, d, 1, group.name)
    s = setup_election(exe, d, template, 3, group.name, keep_files=True)
    return Setup(exe, d, s.uuid, group, s.election_json, s.credentials)


@pytest.fixture(scope="module")
def hom(belenios_tool: str, tmp_path_factory: pytest.TempPathFactory) -> Setup:
    return _setup(belenios_tool, tmp_path_factory.mktemp("hom"), BELENIOS_2048, TEMPLATE)


@pytest.fixture(scope="module")
def nh(belenios_tool: str, tmp_path_factory: pytest.TempPathFactory) -> Setup:
    return _setup(belenios_tool, tmp_path_factory.mktemp("nh"), RFC_3526_2048, TEMPLATE_NH)


@pytest.mark.parametrize("which", ["hom", "nh"])
def test_our_election_equals_belenios_tool_output(
    which: str, request: pytest.FixtureRequest
) -> None:
    s: Setup = request.getfixturevalue(which)
    trustees = json.loads((s.dir / "trustees.json").read_text())
    public_key = s.group.parse_element(trustees[0][1]["public_key"])
    template = TEMPLATE if which == "hom" else TEMPLATE_NH
    ours = make_election(template, uuid=s.uuid, group=s.group, public_key=public_key)
    assert ours.raw == s.election_json
    files = s.archive_files()
    # The archive stores election, trustees, public credentials, setup data, in this order.
    assert files[1][1] == s.election_json
    assert ours.fingerprint == hjson(files[1][1])
    creds_raw = files[3][1]
    creds = parse_public_credentials(s.group, creds_raw)
    assert len(creds) == 3
    assert serialize_public_credentials(creds) == creds_raw


def test_belenios_ballot_passes_our_checks_and_ours_pass_belenios_verify(hom: Setup) -> None:
    election = hom.election()
    for vote in ([[0, 1, 0], [1] * 10 + [0, 0], [0, 0, 0, 0]], [[1, 0, 0], [0] * 12, [1, 0, 0, 0]]):
        tool_raw = hom.tool_ballot(0, vote)  # the second is a revote, blank twice
        ballot = parse_ballot(election, tool_raw)
        check_ballot(election, ballot)
        assert check_ballot_raw(hom.election_json, tool_raw) is None
        hom.add_ballot(tool_raw)

    ours = [
        create_ballot(election, hom.credentials[1], [[1, 0, 0], [0] * 12, [1, 0, 0, 0]]),
        create_ballot(election, hom.credentials[2], [[0, 0, 1], [0, 1] * 6, [0, 1, 0, 1]]),
    ]
    for b in ours:
        hom.add_ballot(b.raw)
    out = run(hom.exe, hom.dir, "election", "verify")
    assert "error" not in out.lower()

    # A ballot changed after signing is refused by both.
    tampered = ours[0].raw.replace('"challenge":"', '"challenge":"1', 1)
    assert check_ballot_raw(hom.election_json, tampered) is not None
    with pytest.raises(RecordError):
        check_ballot(election, parse_ballot(election, tampered))


def test_nh_ballots_both_ways_and_decrypted_by_belenios(nh: Setup) -> None:
    election = nh.election()
    tool_raw = nh.tool_ballot(0, [[1, 0], [1, 2, 3]])
    check_ballot(election, parse_ballot(election, tool_raw))
    nh.add_ballot(tool_raw)
    ours = [
        create_ballot(election, nh.credentials[1], [[0, 1], [3, 0, 255]]),
        create_ballot(election, nh.credentials[2], [[0, 0], [0, 0, 0]]),
    ]
    for b in ours:
        nh.add_ballot(b.raw)
    verify(nh.exe, nh.dir)

    # Let belenios-tool tally, shuffle and decrypt: our vectors come out unchanged.
    end_ballots(nh.exe, nh.dir)
    add_shuffle(nh.exe, nh.dir, 1)
    add_event(nh.exe, nh.dir, "EndShuffles")
    res = decrypt_and_finish(nh.exe, nh.dir, [1])
    verify(nh.exe, nh.dir)
    result = json.loads(res.splitlines()[0])["result"]
    assert result[0] == [1, 1]
    assert sorted(result[1]) == sorted([[1, 2, 3], [3, 0, 255], [0, 0, 0]])


def test_our_credentials_are_derived_alike_by_belenios(hom: Setup) -> None:
    from keys.credentials import generate_private_credential, public_credential

    cred = generate_private_credential()
    out = run(
        hom.exe,
        hom.dir,
        "setup",
        "generate-credentials",
        "--uuid",
        hom.uuid,
        "--group",
        hom.group.name,
        "--derive",
        cred,
    )
    assert out.strip() == str(public_credential(hom.group, hom.uuid, cred))
    # And the tool's own credentials give the public credentials it published.
    creds = parse_public_credentials(hom.group, hom.archive_files()[3][1])
    ours = {public_credential(hom.group, hom.uuid, c) for c in hom.credentials}
    assert ours == {c.key for c in creds}


def test_weighted_public_credentials_as_belenios_writes_them(
    belenios_tool: str, tmp_path: Path
) -> None:
    from tally.credentials import strip_ids

    (tmp_path / "voters.txt").write_text(
        "a@example.com,a,3\nb@example.com,b,1\nc@example.com,,1000000000000\n"
    )
    uuid = run(belenios_tool, tmp_path, "setup", "generate-token").strip()
    run(
        belenios_tool,
        tmp_path,
        "setup",
        "generate-credentials",
        "--uuid",
        uuid,
        "--group",
        "BELENIOS-2048",
        "--file",
        "voters.txt",
    )
    with_ids = next(tmp_path.glob("*.pubcreds")).read_text()
    archived = strip_ids(with_ids)
    creds = parse_public_credentials(BELENIOS_2048, archived)
    assert sorted(c.weight for c in creds) == [1, 3, 1000000000000]
    assert serialize_public_credentials(creds) == archived
    privs = parse_privcreds(next(tmp_path.glob("*.privcreds")).read_text())
    from keys.credentials import public_credential

    keys = {public_credential(BELENIOS_2048, uuid, cred) for _, cred in privs}
    assert keys == {c.key for c in creds}
