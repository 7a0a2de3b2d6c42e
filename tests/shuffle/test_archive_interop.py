"""Shuffled archives across belenios-tool and renda, and tampering refused by renda verify."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from gmpy2 import mpz

from keys.group import to_str
from tally.archive import ArchiveWriter, read_archive
from tally.decryption import compute_partial_decryption, owned_partial_decryption
from tally.election import parse_election
from tally.encrypted_tally import parse_encrypted_tally
from tally.json_format import compact
from tally.shuffle import Shuffle, nh_ciphertexts, parse_shuffle, serialize_shuffle
from tally.shuffle import shuffle_ciphertexts as renda_shuffle
from tally.verify import verify_archive
from tests.belenios import (
    add_event,
    add_shuffle,
    decrypt_and_finish,
    nh_archive,
    privkeys,
    run,
)

VOTES = [[[1, 0], [1, 2, 3]], [[0, 1], [3, 1, 2]], [[0, 0], [2, 3, 1]]]


def _renda_shuffle_event(tool: str, cwd: Path, owner: int) -> None:
    """Shuffle the current ciphertexts (tally or last shuffle) with renda, add the event."""
    archive = read_archive(next(cwd.glob("*.bel")))
    _, election_raw, _, _ = archive.setup()
    election = parse_election(election_raw)
    found = archive.sized_encrypted_tally()
    assert found is not None
    tally = parse_encrypted_tally(election.group, found[2])
    shuffles = archive.owned_items("Shuffle")
    current = (
        parse_shuffle(election.group, shuffles[-1][2]).ciphertexts
        if shuffles
        else nh_ciphertexts(election, tally)
    )
    shuffle = renda_shuffle(election, current)
    owned = f'{{"owner":{owner},"payload":"{shuffle.hash}"}}'
    add_event(tool, cwd, "Shuffle", f"{shuffle.raw}\n{owned}\n")


def _assert_both_accept(tool: str, cwd: Path) -> None:
    run(tool, cwd, "election", "verify")
    report = verify_archive(cwd)
    assert report.ok, report.first_failure


@pytest.mark.belenios
def test_belenios_then_renda_shuffle_pass_both_verifiers(
    belenios_tool: str, tmp_path: Path
) -> None:
    nh_archive(belenios_tool, tmp_path, VOTES, trustees=2)
    add_shuffle(belenios_tool, tmp_path, 1)
    _renda_shuffle_event(belenios_tool, tmp_path, owner=2)
    add_event(belenios_tool, tmp_path, "EndShuffles")
    result = decrypt_and_finish(belenios_tool, tmp_path, [1, 2])
    assert sorted(json.loads(result)["result"][1]) == sorted(v[1] for v in VOTES)
    _assert_both_accept(belenios_tool, tmp_path)


@pytest.fixture(scope="module")
def renda_first_archive(belenios_tool: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Renda shuffles first (trustee 1), belenios-tool second (trustee 2); trustee 1's
    partial decryption is made by renda, trustee 2's by belenios-tool."""
    cwd = tmp_path_factory.mktemp("renda_first")
    nh_archive(belenios_tool, cwd, VOTES, trustees=2)
    _renda_shuffle_event(belenios_tool, cwd, owner=1)
    add_shuffle(belenios_tool, cwd, 2)
    add_event(belenios_tool, cwd, "EndShuffles")
    archive = read_archive(next(cwd.glob("*.bel")))
    election = parse_election(archive.setup()[1])
    found = archive.sized_encrypted_tally()
    assert found is not None
    tally = list(parse_encrypted_tally(election.group, found[2]))
    last = parse_shuffle(election.group, archive.owned_items("Shuffle")[-1][2])
    tally[1] = last.ciphertexts[0]
    key = mpz(json.loads(privkeys(cwd)[0].read_text()))
    pd = compute_partial_decryption(election.group, election.fingerprint, key, tuple(tally))
    owned = owned_partial_decryption(1, pd.serialize())
    add_event(belenios_tool, cwd, "PartialDecryption", f"{pd.serialize()}\n{owned.serialize()}\n")
    decrypt_and_finish(belenios_tool, cwd, [2])
    return cwd


@pytest.mark.belenios
def test_renda_then_belenios_shuffle_pass_both_verifiers(
    belenios_tool: str, renda_first_archive: Path
) -> None:
    _assert_both_accept(belenios_tool, renda_first_archive)


# -- tampering -------------------------------------------------------------------------------

Alter = Callable[[str, int, str], str]


def _rebuild(source: Path, out: Path, alter: Alter) -> Path:
    """Write ``source`` again event by event; ``alter(kind, index, raw)`` may change a payload
    (kind: "shuffle", "partial_decryption" or "result"; index counts from 0)."""
    a = read_archive(source)
    _, election, trustees, creds = a.setup()
    found = a.sized_encrypted_tally()
    assert found is not None
    _, sized, tally_raw = found
    out.mkdir()
    path = out / source.name
    with ArchiveWriter.create(path, timestamp=a.timestamp, sync=False) as w:
        w.add_setup(election, trustees, creds)
        for _, raw in a.ballots():
            w.add_ballot(raw)
        w.end_ballots()
        w.add_encrypted_tally(tally_raw, sized.num_tallied, sized.total_weight)
        for k, (_, owned, raw) in enumerate(a.owned_items("Shuffle")):
            w.add_shuffle(owned.owner, alter("shuffle", k, raw))
        w.end_shuffles()
        for k, (_, owned, raw) in enumerate(a.owned_items("PartialDecryption")):
            w.add_partial_decryption(owned.owner, alter("partial_decryption", k, raw))
        result = a.result()
        assert result is not None
        w.add_result(alter("result", 0, result[1]))
    return path


def _on_shuffle(index: int, change: Callable[[Shuffle], Shuffle]) -> Alter:
    def alter(kind: str, k: int, raw: str) -> str:
        if kind != "shuffle" or k != index:
            return raw
        from keys.group import RFC_3526_2048

        return change(parse_shuffle(RFC_3526_2048, raw)).raw

    return alter


def _rows(s: Shuffle, row: tuple) -> Shuffle:  # type: ignore[type-arg]
    cts = (row, *s.ciphertexts[1:])
    return Shuffle(cts, s.proofs, serialize_shuffle(cts, s.proofs))


def _swap(s: Shuffle) -> Shuffle:
    r = s.ciphertexts[0]
    return _rows(s, (r[1], r[0], *r[2:]))


def _drop(s: Shuffle) -> Shuffle:
    return _rows(s, s.ciphertexts[0][:-1])


def _duplicate(s: Shuffle) -> Shuffle:
    r = s.ciphertexts[0]
    return _rows(s, (*r[:-1], r[0]))


def _wrong_proof_alter() -> Alter:
    proofs: dict[int, str] = {}

    def alter(kind: str, k: int, raw: str) -> str:
        if kind != "shuffle":
            return raw
        obj = json.loads(raw)
        if k == 0:
            # s1 of the first shuffle's proof, plus one.
            obj["proofs"][0][1][0] = str(int(obj["proofs"][0][1][0]) + 1)
            proofs[0] = compact(obj)
            return proofs[0]
        return raw

    return alter


def _wrong_factor(kind: str, k: int, raw: str) -> str:
    if kind != "partial_decryption" or k != 0:
        return raw
    obj = json.loads(raw)
    factor = int(obj["decryption_factors"][1][0])
    obj["decryption_factors"][1][0] = to_str(mpz(factor) * 4 % _p())
    return compact(obj)


def _changed_ballot(kind: str, k: int, raw: str) -> str:
    if kind != "result":
        return raw
    obj = json.loads(raw)
    ballot = obj["result"][1][0]
    ballot[0] = 3 if ballot[0] != 3 else 2
    return compact(obj)


def _p() -> mpz:
    from keys.group import RFC_3526_2048

    return RFC_3526_2048.p


CASES: dict[str, tuple[Alter, str]] = {
    "two ciphertexts swapped after the second shuffle": (
        _on_shuffle(1, _swap),
        "shuffle #2 by trustee 2",
    ),
    "a wrong proof in the first shuffle": (_wrong_proof_alter(), "shuffle #1 by trustee 1"),
    "a ciphertext dropped from the first shuffle": (_on_shuffle(0, _drop), "dropped or added"),
    "a ciphertext duplicated in the second shuffle": (
        _on_shuffle(1, _duplicate),
        "shuffle #2 by trustee 2",
    ),
    "a wrong decryption factor": (_wrong_factor, "partial decryption of trustee 1"),
    "a changed decrypted ballot in the result": (_changed_ballot, "ballot 1"),
}


@pytest.mark.belenios
def test_rebuilt_archive_still_passes(renda_first_archive: Path, tmp_path: Path) -> None:
    path = _rebuild(
        next(renda_first_archive.glob("*.bel")), tmp_path / "same", lambda kind, k, raw: raw
    )
    assert path.read_bytes() == next(renda_first_archive.glob("*.bel")).read_bytes()


@pytest.mark.belenios
@pytest.mark.parametrize("case", list(CASES))
def test_tampering_is_refused_with_a_plain_message(
    case: str, renda_first_archive: Path, tmp_path: Path
) -> None:
    alter, expected = CASES[case]
    path = _rebuild(next(renda_first_archive.glob("*.bel")), tmp_path / "bad", alter)
    report = verify_archive(path)
    failure = report.first_failure
    assert failure is not None and not report.ok, case
    assert expected in failure.detail, failure.detail


@pytest.mark.belenios
def test_belenios_refuses_the_swapped_and_the_changed_ballot_too(
    belenios_tool: str, renda_first_archive: Path, tmp_path: Path
) -> None:
    for name in (
        "two ciphertexts swapped after the second shuffle",
        "a changed decrypted ballot in the result",
    ):
        folder = tmp_path / name.replace(" ", "_")
        _rebuild(next(renda_first_archive.glob("*.bel")), folder, CASES[name][0])
        with pytest.raises(AssertionError):
            run(belenios_tool, folder, "election", "verify")
