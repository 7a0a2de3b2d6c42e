"""Trustees, ceremony, decryption and result against the real belenios-tool 2.0, both ways."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from keys import keyfile
from keys import threshold as T
from keys.elgamal import Ciphertext
from keys.group import BELENIOS_2048 as G
from keys.group import RFC_3526_2048, Group
from keys.pki import cert_id
from tally.decryption import (
    check_partial_decryption,
    combine_factors,
    compute_partial_decryption,
    owned_partial_decryption,
    parse_owned_partial_decryption,
    parse_partial_decryption,
)
from tally.election import parse_election
from tally.result import compute_result, parse_result
from tally.trustees import (
    PedersenTrustees,
    check_trustees,
    combined_public_key,
    parse_trustees,
    serialize_trustees,
    trustee_slots,
)
from tests.belenios import (
    GROUP,
    NH_GROUP,
    NH_TEMPLATE,
    add_event,
    add_shuffle,
    ceremony_step,
    copy_dir,
    decrypt,
    decrypt_threshold,
    generate_trustee_keys,
    read_raw_archive,
    run,
    setup_election,
    threshold_ceremony,
    verify,
    vote_and_tally,
)
from tests.trustees.renda_cli import renda, renda_step

pytestmark = pytest.mark.belenios

TEMPLATE: dict[str, Any] = {
    "description": "interop",
    "name": "interop",
    "questions": [
        {"answers": ["yes", "no"], "min": 0, "max": 1, "question": "Q1", "blank": True},
        {"answers": ["a", "b", "c"], "min": 1, "max": 2, "question": "Q2"},
    ],
}
VOTES = [[[0, 1, 0], [1, 1, 0]], [[0, 1, 0], [0, 0, 1]], [[1, 0, 0], [1, 0, 0]]]
EXPECTED = [[1, 2, 0], [2, 1, 1]]
NH_VOTES = [[[1, 0], [1, 2, 3]], [[0, 1], [0, 0, 7]], [[1, 0], [255, 0, 1]]]


def make_election(
    tool: str,
    d: Path,
    template: dict[str, Any] = TEMPLATE,
    votes: list[list[list[int]]] = VOTES,
    group: str = GROUP,
) -> str:
    """From the trustee keys in d: trustees, election, ballots, tally; returns the encrypted
    tally line printed by compute-encrypted-tally."""
    setup = setup_election(tool, d, template, len(votes), group)
    return vote_and_tally(tool, d, setup.credentials, votes).splitlines()[0]


@dataclass(frozen=True)
class ArchiveSetup:
    election: str
    trustees: str


def read_setup(d: Path) -> ArchiveSetup:
    """The raw election and trustees stored in the .bel of d."""
    setup = read_raw_archive(next(d.glob("*.bel"))).setup()
    return ArchiveSetup(setup["election"], setup["trustees"])


def parse_tally(group: Group, line: str) -> list[list[Ciphertext]]:
    return [[Ciphertext.from_json(group, c) for c in row] for row in json.loads(line)]


@pytest.fixture(scope="module")
def belenios_made(belenios_tool: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An election whose keys all come from belenios-tool: Single + Pedersen 2 of 3."""
    d = tmp_path_factory.mktemp("belenios_made")
    threshold_ceremony(belenios_tool, d, 3, 2)
    generate_trustee_keys(belenios_tool, d, 1)
    (d / "tally.json").write_text(make_election(belenios_tool, d))
    return d


def _renda(d: Path, *args: str, stdin: str = "") -> str:
    """``renda ARGS`` run in-process in directory d; its output. It must succeed."""
    code, out, _ = renda(d, *args, stdin=stdin)
    assert code == 0, f"renda {' '.join(args)} failed"
    return out


def _renda_step(d: Path, step: int, *args: str, certs: str = "certs.jsons", stdin: str = "") -> str:
    """``renda keys threshold`` step ``step`` (BELENIOS-2048) in d; its output. It must succeed."""
    code, out, _ = renda_step(d, ("--group", GROUP), step, *args, certs=certs, stdin=stdin)
    assert code == 0, f"renda keys threshold --step {step} failed"
    return out


def test_belenios_trustees_parse_and_check(belenios_made: Path) -> None:
    setup = read_setup(belenios_made)
    trustees = parse_trustees(G, setup.trustees)
    assert serialize_trustees(trustees) == setup.trustees
    check_trustees(G, trustees)
    election = parse_election(setup.election)
    assert combined_public_key(G, trustees) == election.public_key
    assert [s.owner for s in trustee_slots(trustees)] == [1, 2, 3, 4]


def test_belenios_ceremony_files_with_our_steps(belenios_made: Path) -> None:
    """Our server steps 4 and 6 and trustee step 5 on belenios-tool's certs, polynomials,
    vinputs and voutputs give the same bytes and the same keys."""
    d = belenios_made
    certs = T.parse_certs(G, (d / "certs.jsons").read_text().splitlines())
    T.check_certs(G, certs)
    polys = [T.Polynomial.parse(G, x) for x in (d / "polynomials.jsons").read_text().splitlines()]
    assert [p.serialize() for p in polys] == (d / "polynomials.jsons").read_text().splitlines()
    vinputs = T.make_vinputs(G, certs, polys)
    voutputs = [T.Voutput.parse(G, x) for x in (d / "voutputs.jsons").read_text().splitlines()]
    for i, (cert, vinput, vo) in enumerate(zip(certs, vinputs, voutputs, strict=True), start=1):
        ident = cert_id(cert)
        assert vinput.serialize() == (d / f"{ident}.vinput").read_text().strip()
        T.check_voutput(G, certs, i, polys, vo)
        seed = keyfile.read_seed(d / f"{ident}.key")
        ours = T.make_voutput(G, certs, seed, vinput)
        assert ours.public_key.public_key == vo.public_key.public_key
        assert T.decryption_key(G, seed, ours.private_key) == T.decryption_key(
            G, seed, (d / f"{ident}.dkey").read_text()
        )
    params, dkeys = T.make_threshold_parameters(G, certs, polys, voutputs)
    assert dkeys == [(d / f"{cert_id(c)}.dkey").read_text().strip() for c in certs]
    trustees = parse_trustees(G, read_setup(d).trustees)
    assert trustees.items[1] == PedersenTrustees(params)


def test_belenios_decryptions_check_and_combine_with_ours(
    belenios_tool: str, belenios_made: Path, tmp_path: Path
) -> None:
    d = copy_dir(belenios_made, tmp_path / "e")
    setup = read_setup(d)
    election = parse_election(setup.election)
    trustees = parse_trustees(G, setup.trustees)
    slots = trustee_slots(trustees)
    tally = parse_tally(G, (d / "tally.json").read_text())
    out = decrypt(belenios_tool, d, next(d.glob("*.privkey")).name, 1)
    lines = {1: out.splitlines()}
    keys = sorted(d.glob("*.key"))
    for owner, key in ((3, keys[1]), (4, keys[2])):
        lines[owner] = decrypt_threshold(belenios_tool, d, key.name, owner).splitlines()
    partials = {}
    for owner, (pd_raw, owned_raw) in lines.items():
        pd = parse_partial_decryption(G, pd_raw)
        assert pd.serialize() == pd_raw
        check_partial_decryption(
            G, election.fingerprint, slots[owner - 1].key.public_key, tally, pd
        )
        assert parse_owned_partial_decryption(owned_raw) == owned_partial_decryption(owner, pd_raw)
        assert owned_partial_decryption(owner, pd_raw).serialize() == owned_raw
        partials[owner] = pd
        add_event(belenios_tool, d, "PartialDecryption", f"{pd_raw}\n{owned_raw}\n")
    ours = compute_result(election, trustees, tally, partials, total_weight=3)
    assert [list(r) for r in ours.result] == EXPECTED
    theirs = run(belenios_tool, d, "election", "compute-result").strip()
    assert ours.serialize() == theirs
    assert parse_result(election, theirs) == ours
    factors = combine_factors(G, trustees, partials)
    assert len(factors) == 2


def test_our_decryptions_pass_belenios(
    belenios_tool: str, belenios_made: Path, tmp_path: Path
) -> None:
    """Partial decryptions by Renda, with key files written by belenios-tool."""
    d = copy_dir(belenios_made, tmp_path / "e")
    setup = read_setup(d)
    election = parse_election(setup.election)
    trustees = parse_trustees(G, setup.trustees)
    tally = parse_tally(G, (d / "tally.json").read_text())
    keys = sorted(d.glob("*.key"))
    private = {
        1: keyfile.read_private_key(G, next(d.glob("*.privkey"))),
        2: keyfile.read_threshold_private_key(G, keys[0], d / f"{keys[0].stem}.dkey"),
    }
    partials = {}
    for owner, x in private.items():
        pd = compute_partial_decryption(G, election.fingerprint, x, tally)
        raw = pd.serialize()
        owned = owned_partial_decryption(owner, raw).serialize()
        add_event(belenios_tool, d, "PartialDecryption", f"{raw}\n{owned}\n")
        partials[owner] = pd
    # one threshold trustee with belenios-tool, to mix both
    out = decrypt_threshold(belenios_tool, d, keys[2].name, 4)
    add_event(belenios_tool, d, "PartialDecryption", out)
    partials[4] = parse_partial_decryption(G, out.splitlines()[0])
    ours = compute_result(election, trustees, tally, partials, total_weight=3)
    theirs = run(belenios_tool, d, "election", "compute-result").strip()
    assert ours.serialize() == theirs
    add_event(belenios_tool, d, "Result", ours.serialize() + "\n")
    verify(belenios_tool, d)


def test_our_ceremony_and_keys_accepted_by_belenios(belenios_tool: str, tmp_path: Path) -> None:
    """Certificates, polynomials, voutputs and key files by `renda keys`; belenios-tool
    checks them (steps 2, 4, 6 give the same bytes), makes the election and decrypts."""
    d = tmp_path
    for _ in range(3):
        _renda_step(d, 1)
    certs = sorted(d.glob("*.cert"))
    (d / "certs.jsons").write_text("".join(p.read_text() for p in certs))
    ceremony_step(belenios_tool, d, 2)
    polys = "".join(_renda_step(d, 3, "--key", f"{c.stem}.key", "--threshold", "2") for c in certs)
    (d / "polynomials.jsons").write_text(polys)
    (d / "ours").mkdir()  # renda's server steps 4 and 6 write their files apart
    ours_polys = ("--polynomials", "../polynomials.jsons")
    _renda_step(d / "ours", 4, *ours_polys, certs="../certs.jsons")
    ceremony_step(belenios_tool, d, 4, "--polynomials", "polynomials.jsons")
    for c in certs:
        assert (d / f"{c.stem}.vinput").read_text() == (d / "ours" / f"{c.stem}.vinput").read_text()
    voutputs = "".join(
        _renda_step(d, 5, "--key", f"{c.stem}.key", stdin=(d / f"{c.stem}.vinput").read_text())
        for c in certs
    )
    ours = _renda_step(d / "ours", 6, *ours_polys, certs="../certs.jsons", stdin=voutputs)
    theirs = ceremony_step(
        belenios_tool, d, 6, "--polynomials", "polynomials.jsons", stdin=voutputs
    )
    assert ours == theirs
    for c in certs:  # our .dkey files are private
        assert (d / "ours" / f"{c.stem}.dkey").stat().st_mode & 0o777 == 0o600
        assert (d / f"{c.stem}.key").stat().st_mode & 0o777 == 0o600
    (d / "threshold.json").write_text(ours)
    _renda(d, "keys", "generate", "--group", GROUP)
    assert next(d.glob("*.privkey")).stat().st_mode & 0o777 == 0o600
    make_election(belenios_tool, d)
    setup = read_setup(d)
    check_trustees(G, parse_trustees(G, setup.trustees))
    out = decrypt(belenios_tool, d, next(d.glob("*.privkey")).name, 1)
    add_event(belenios_tool, d, "PartialDecryption", out)
    for owner, c in ((2, certs[0]), (4, certs[2])):
        out = decrypt_threshold(belenios_tool, d, f"{c.stem}.key", owner, f"ours/{c.stem}.dkey")
        add_event(belenios_tool, d, "PartialDecryption", out)
    result = run(belenios_tool, d, "election", "compute-result")
    election = parse_election(setup.election)
    assert [list(r) for r in parse_result(election, result).result] == EXPECTED
    add_event(belenios_tool, d, "Result", result)
    verify(belenios_tool, d)


def test_non_homomorphic_after_belenios_shuffle(belenios_tool: str, tmp_path: Path) -> None:
    """Our decryption and result on a shuffled non-homomorphic tally (RFC-3526-2048)."""
    d = tmp_path
    generate_trustee_keys(belenios_tool, d, 1, NH_GROUP)
    line = make_election(belenios_tool, d, NH_TEMPLATE, NH_VOTES, NH_GROUP)
    shuffle = add_shuffle(belenios_tool, d, 1)
    add_event(belenios_tool, d, "EndShuffles")
    group = RFC_3526_2048
    setup = read_setup(d)
    election = parse_election(setup.election)
    trustees = parse_trustees(group, setup.trustees)
    tally = parse_tally(group, line)
    shuffled = json.loads(shuffle.splitlines()[0])["ciphertexts"]
    tally[1] = [Ciphertext.from_json(group, c) for c in shuffled[0]]
    x = keyfile.read_private_key(group, next(d.glob("*.privkey")))
    pd = compute_partial_decryption(group, election.fingerprint, x, tally)
    raw = pd.serialize()
    owned = owned_partial_decryption(1, raw).serialize()
    add_event(belenios_tool, d, "PartialDecryption", f"{raw}\n{owned}\n")
    ours = compute_result(election, trustees, tally, {1: pd}, total_weight=3)
    assert ours.result[0] == (2, 1)
    assert sorted(ours.result[1]) == sorted(tuple(v[1]) for v in NH_VOTES)
    theirs = run(belenios_tool, d, "election", "compute-result").strip()
    assert ours.serialize() == theirs
    add_event(belenios_tool, d, "Result", theirs + "\n")
    verify(belenios_tool, d)
