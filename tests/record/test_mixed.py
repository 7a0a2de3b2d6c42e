"""One election made by renda and belenios-tool together, in one archive.

renda writes the setup (one renda trustee key, one belenios-tool trustee key); ballots come
from renda, from belenios-tool's generate-ballot (appended by renda), and from belenios-tool
appending to renda's archive itself; renda computes the encrypted tally (byte-identical to
belenios-tool's) and one partial decryption, belenios-tool the other; the result is renda's
and belenios-tool's, identical; both verifiers accept the archive.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from keys.credentials import generate_private_credential, public_credential
from keys.group import BELENIOS_2048
from keys.trustee_key import TrusteePublicKey, generate_trustee_key
from tally.archive import ArchiveWriter, read_archive
from tally.ballot import check_ballot, create_ballot, parse_ballot
from tally.credentials import PublicCredential, serialize_public_credentials
from tally.decryption import compute_partial_decryption, parse_partial_decryption
from tally.election import generate_uuid, make_election
from tally.encrypted_tally import compute_encrypted_tally, serialize_encrypted_tally
from tally.result import compute_result
from tally.trustees import SingleTrustee, Trustees, combined_public_key, serialize_trustees
from tally.verify import verify_archive
from tests.belenios import DEMO_QUESTIONS as QUESTIONS
from tests.belenios import belenios_verify, generate_ballot, run

pytestmark = pytest.mark.belenios

G = BELENIOS_2048
VOTES = [[[1, 0], [0, 1, 0]], [[0, 1], [0, 0, 1]], [[0, 0], [1, 0, 0]]]


def test_renda_and_belenios_in_one_archive(belenios_tool: str, tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    run(belenios_tool, work, "setup", "generate-trustee-key", "--group", G.name)
    bel_pub = TrusteePublicKey.parse(G, next(work.glob("*.pubkey")).read_text().strip())
    bel_priv = next(work.glob("*.privkey"))
    renda_priv, renda_pub = generate_trustee_key(G)
    trustees = Trustees((SingleTrustee(renda_pub), SingleTrustee(bel_pub)))
    uuid = generate_uuid()
    election = make_election(
        QUESTIONS, uuid=uuid, group=G, public_key=combined_public_key(G, trustees)
    )
    private = [generate_private_credential() for _ in VOTES]
    creds = [PublicCredential(public_credential(G, uuid, c), 1) for c in private]
    folder = tmp_path / "record"
    folder.mkdir()
    path = folder / f"{uuid}.bel"
    with ArchiveWriter.create(path) as w:
        w.add_setup(election.raw, serialize_trustees(trustees), serialize_public_credentials(creds))
        w.add_ballot(create_ballot(election, private[0], VOTES[0]).raw)

    def belenios_ballot(i: int) -> str:
        return generate_ballot(belenios_tool, work, private[i], VOTES[i], "--dir", str(folder))

    # a belenios-tool ballot passes our checks and joins our archive through our writer
    ballot = belenios_ballot(1)
    check_ballot(election, parse_ballot(election, ballot))
    with ArchiveWriter.open(path) as w:
        w.add_ballot(ballot)
    # belenios-tool appends a ballot to the archive renda writes
    run(belenios_tool, folder, "archive", "add-event", "--type=Ballot", stdin=belenios_ballot(2))
    archive = read_archive(path)
    ballots = [parse_ballot(election, raw) for _, raw in archive.ballots()]
    assert len(ballots) == 3

    with ArchiveWriter.open(path) as w:
        w.end_ballots()
        tally = compute_encrypted_tally(election, ballots, [1, 1, 1])
        tally_raw = serialize_encrypted_tally(tally)
        bel_tally, bel_sized = run(
            belenios_tool, folder, "election", "compute-encrypted-tally"
        ).splitlines()
        assert tally_raw == bel_tally
        w.add_encrypted_tally(tally_raw, 3, 3)
        event = read_archive(path).events[-1]
        assert read_archive(path).payload(event) == bel_sized  # same sized_encrypted_tally
        mine = compute_partial_decryption(G, election.fingerprint, renda_priv, tally)
        w.add_partial_decryption(1, mine.serialize())
    pd_raw, owned_raw = run(
        belenios_tool,
        folder,
        "election",
        "decrypt",
        "--privkey",
        str(bel_priv),
        "--trustee-id",
        "2",
    ).splitlines()
    assert json.loads(owned_raw)["owner"] == 2
    theirs = parse_partial_decryption(G, pd_raw)
    with ArchiveWriter.open(path) as w:
        w.add_partial_decryption(2, pd_raw)
    result = compute_result(election, trustees, tally, {1: mine, 2: theirs}, total_weight=3)
    assert result.serialize() == run(belenios_tool, folder, "election", "compute-result").strip()
    assert json.loads(result.serialize())["result"] == [[1, 1], [1, 1, 1]]
    with ArchiveWriter.open(path) as w:
        w.add_result(result.serialize())

    done = belenios_verify(belenios_tool, folder)
    assert done.returncode == 0, done.stderr
    report = verify_archive(path, workers=1)
    assert report.ok, report.first_failure
