"""The scrutineer's side (voting/cli_trustee.py): ceremony steps and partial decryptions.

The server's side of the ceremony is played here with keys.threshold (steps 4 and 6), so the
scrutineer's code is tested without a server; the whole flow over websockets is in tests/e2e.
"""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from keys.group import TEST_256
from keys.threshold import (
    Polynomial,
    Voutput,
    make_threshold_parameters,
    make_vinputs,
    parse_certs,
)
from keys.trustee_key import generate_trustee_key
from tally import messages as m
from tally.ballot import create_ballot
from tally.decryption import compute_partial_decryption, parse_partial_decryption
from tally.election import generate_uuid, make_election
from tally.encrypted_tally import compute_encrypted_tally, serialize_encrypted_tally
from tally.result import compute_result
from tally.trustees import (
    PedersenTrustees,
    SingleTrustee,
    Trustees,
    combined_public_key,
    serialize_trustees,
)
from voting.cli_trustee import GroupShare, KeyFile, Scrutineer, TrusteeError

G = TEST_256.name
TEMPLATE = {
    "description": "d",
    "name": "议案",
    "questions": [{"answers": ["赞成", "反对", "弃权"], "min": 1, "max": 1, "question": "议案"}],
}


def _ceremony(tmp_path: Path, n: int = 3, k: int = 2) -> tuple[list[Scrutineer], str, object]:
    scr = []
    for i in range(1, n + 1):
        kf = KeyFile(server="http://x", token="t" * 20, trustee_index=i)
        scr.append(Scrutineer(tmp_path / f"s{i}.json", kf, check_record=False))

    def req(step: int, **kw: object) -> m.CeremonyRequest:
        return m.CeremonyRequest(
            id="r1", ceremony_id="c1", step=step, group=G, threshold=k, count=n, **kw
        )

    certs = [s.ceremony_step(req(1)) for s in scr]
    # asked again (after a reconnect): the same certificate
    assert scr[0].ceremony_step(req(1)) == certs[0]
    polys = [s.ceremony_step(req(3, certs=certs)) for s in scr]
    assert scr[1].ceremony_step(req(3, certs=certs)) == polys[1]
    parsed_certs = parse_certs(TEST_256, certs)
    polynomials = [Polynomial.parse(TEST_256, p) for p in polys]
    vinputs = make_vinputs(TEST_256, parsed_certs, polynomials)
    vouts = [
        s.ceremony_step(req(5, certs=certs, vinput=v.serialize()))
        for s, v in zip(scr, vinputs, strict=True)
    ]
    params, _ = make_threshold_parameters(
        TEST_256, parsed_certs, polynomials, [Voutput.parse(TEST_256, v) for v in vouts]
    )
    x_server, tpk = generate_trustee_key(TEST_256)
    trustees = Trustees((SingleTrustee(tpk), PedersenTrustees(params)))
    raw = serialize_trustees(trustees)
    for s in scr:
        s.finish_ceremony(m.CeremonyDone(id="d", ceremony_id="c1", trustees=raw))
    return scr, raw, (x_server, trustees)


def test_ceremony_then_two_of_three_decrypt(tmp_path: Path) -> None:
    scr, trustees_raw, (x_server, trustees) = _ceremony(tmp_path)
    for i in range(1, 4):
        path = tmp_path / f"s{i}.json"
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert KeyFile.load(path).trustees(G) == trustees_raw
    y = combined_public_key(TEST_256, trustees)  # type: ignore[arg-type]
    election = make_election(TEMPLATE, uuid=generate_uuid(), group=TEST_256, public_key=y)
    from keys.credentials import generate_private_credential

    votes = [[[1, 0, 0]], [[1, 0, 0]], [[0, 0, 1]]]
    ballots = [create_ballot(election, generate_private_credential(), v) for v in votes]
    tally = compute_encrypted_tally(election, ballots, [1, 1, 1])
    tally_raw = serialize_encrypted_tally(tally)
    partials = {1: compute_partial_decryption(TEST_256, election.fingerprint, x_server, tally)}
    for s, tid in ((scr[0], 2), (scr[2], 4)):  # scrutineers 1 and 3: trustee ids 2 and 4
        req = m.DecryptionRequest(
            id="q",
            poll_id="p1",
            uuid=election.uuid,
            election=election.raw,
            trustees=trustees_raw,
            encrypted_tally=tally_raw,
            trustee_id=tid,
        )
        partials[tid] = parse_partial_decryption(TEST_256, s.decrypt(req))
    result = compute_result(election, trustees, tally, partials)  # type: ignore[arg-type]
    assert result.result == ((2, 0, 1),)


def test_decryption_for_another_trustee_id_is_refused(tmp_path: Path) -> None:
    scr, trustees_raw, _ = _ceremony(tmp_path)
    req = m.DecryptionRequest(
        id="q",
        poll_id="p1",
        uuid="1" * 14,
        election='{"uuid":"11111111111111","group":"' + G + '"}',
        trustees=trustees_raw,
        encrypted_tally="[[]]",
        trustee_id=3,  # scrutineer 2's id, asked of scrutineer 1
    )
    with pytest.raises(TrusteeError, match="not this scrutineer's key"):
        scr[0].decrypt(req)


def test_key_file_readable_by_others_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "k.json"
    KeyFile(server="http://x", token="t" * 20).save(path)
    path.chmod(0o644)
    with pytest.raises(TrusteeError, match="readable by others"):
        KeyFile.load(path)


def test_step_of_an_unknown_ceremony_is_refused(tmp_path: Path) -> None:
    s = Scrutineer(tmp_path / "k.json", KeyFile(server="http://x", token="t" * 20))
    assert s.check_record  # on by default
    req = m.CeremonyRequest(
        id="r", ceremony_id="c9", step=3, group=G, threshold=2, count=3, certs=["{}"]
    )
    with pytest.raises(TrusteeError, match="did not start"):
        s.ceremony_step(req)


def _record(tmp_path: Path, votes: list[list[list[int]]]) -> tuple[object, list[object], bytes]:
    from keys.credentials import generate_private_credential, public_credential
    from tally.archive import ArchiveWriter
    from tally.credentials import PublicCredential, serialize_public_credentials

    x = TEST_256.random_exponent()
    election = make_election(
        TEMPLATE, uuid=generate_uuid(), group=TEST_256, public_key=TEST_256.g_pow(x)
    )
    privs = [generate_private_credential() for _ in votes]
    creds = [PublicCredential(public_credential(TEST_256, election.uuid, p)) for p in privs]
    ballots = [create_ballot(election, p, v) for p, v in zip(privs, votes, strict=True)]
    path = tmp_path / f"{election.uuid}.bel"
    with ArchiveWriter.create(path, sync=False) as w:
        _, tpk = generate_trustee_key(TEST_256)
        w.add_setup(
            election.raw,
            serialize_trustees(Trustees((SingleTrustee(tpk),))),
            serialize_public_credentials(creds),
        )
        for b in ballots:
            w.add_ballot(b.raw)
    return election, ballots, path.read_bytes()


def test_tally_is_recomputed_from_the_public_record(tmp_path: Path) -> None:
    from voting.cli_trustee import tally_from_record

    election, ballots, blob = _record(tmp_path, [[[1, 0, 0]], [[0, 1, 0]], [[1, 0, 0]]])
    honest = compute_encrypted_tally(election, ballots, [1, 1, 1])  # type: ignore[arg-type]
    got = tally_from_record(blob, election.raw)  # type: ignore[attr-defined]
    assert serialize_encrypted_tally(got) == serialize_encrypted_tally(honest)
    # one deputy's ballot alone, passed off as a tally, is not what the record implies
    single = compute_encrypted_tally(election, ballots[:1], [1])  # type: ignore[arg-type]
    assert serialize_encrypted_tally(got) != serialize_encrypted_tally(single)
    with pytest.raises(TrusteeError, match="not the one sent"):
        tally_from_record(blob, election.raw.replace("议案", "议按"))  # type: ignore[attr-defined]


def _nh_record(tmp_path: Path) -> tuple[object, bytes, object]:
    """An election ballot poll (one non-homomorphic question) with three ballots."""
    from keys.credentials import generate_private_credential, public_credential
    from tally.archive import ArchiveWriter
    from tally.credentials import PublicCredential, serialize_public_credentials
    from tally.election_ballot import ElectionLayout, question_json

    layout = ElectionLayout(("张三", "李四"), seats=1, roster_max=9)
    template = {"description": "d", "name": "选举", "questions": [question_json(layout, "选举")]}
    x, tpk = generate_trustee_key(TEST_256)
    election = make_election(
        template, uuid=generate_uuid(), group=TEST_256, public_key=tpk.public_key
    )
    privs = [generate_private_credential() for _ in range(3)]
    creds = [PublicCredential(public_credential(TEST_256, election.uuid, p)) for p in privs]
    path = tmp_path / f"{election.uuid}.bel"
    with ArchiveWriter.create(path, sync=False) as w:
        w.add_setup(
            election.raw,
            serialize_trustees(Trustees((SingleTrustee(tpk),))),
            serialize_public_credentials(creds),
        )
        for p, v in zip(privs, ([1, 2, 0], [2, 1, 5], [1, 1, 0]), strict=True):
            w.add_ballot(create_ballot(election, p, [v]).raw)
    return election, path.read_bytes(), x


class _Response:
    def __init__(self, content: bytes) -> None:
        self.content = content


def test_shuffle_checked_against_the_record(tmp_path: Path) -> None:
    from tally.encrypted_tally import parse_encrypted_tally
    from tally.shuffle import check_shuffle, parse_shuffle
    from voting.cli_trustee import record_state

    election, blob, x = _nh_record(tmp_path)
    kf = KeyFile(server="http://x", token="t" * 20, shares={G: GroupShare(seed="s", dkey="d")})
    s = Scrutineer(tmp_path / "k.json", kf)
    s.keyfile.private_key = lambda _g: (TEST_256, x)  # type: ignore[method-assign]
    s._fetch_record = lambda _p, _u: _Response(blob)  # type: ignore[method-assign]
    _e, _tally, rows = record_state(blob, election.raw)  # type: ignore[attr-defined]
    req = m.ShuffleRequest(
        id="q",
        poll_id="p1",
        election=election.raw,  # type: ignore[attr-defined]
        ciphertexts=serialize_encrypted_tally(rows),
        trustee_id=1,
    )
    raw = s.shuffle(req)
    check_shuffle(election, rows, parse_shuffle(TEST_256, raw))  # type: ignore[arg-type]
    # rows that are not the record's (one ballot dropped) are refused
    fewer = tuple(tuple(r[:-1]) for r in parse_encrypted_tally(TEST_256, req.ciphertexts))
    forged = req.model_copy(update={"ciphertexts": serialize_encrypted_tally(fewer)})
    with pytest.raises(TrusteeError, match="refusing to shuffle"):
        s.shuffle(forged)


def test_tokens_starting_with_a_dash_are_read(tmp_path: Path) -> None:
    """About 1 in 64 url-safe tokens starts with '-': --token-file and the environment read
    them (a token is never given on the command line)."""
    import argparse

    from voting.cli_trustee import add_arguments, token_from

    parser = argparse.ArgumentParser()
    add_arguments(parser)
    (tmp_path / "t").write_text("--dash-token\n")
    args = parser.parse_args(["--key", "k.json", "--token-file", str(tmp_path / "t")])
    assert token_from(args) == "--dash-token"
    (tmp_path / "empty").write_text("")
    args = parser.parse_args(["--key", "k.json", "--token-file", str(tmp_path / "empty")])
    with pytest.raises(TrusteeError, match="empty"):
        token_from(args)


def test_a_token_on_the_command_line_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from voting.cli import main

    key = tmp_path / "k.json"
    args = ["trustee", "ceremony", "--server", "http://x", "--key", str(key), "--token=-Abc"]
    assert main(args) == 2
    assert "visible to every user" in capsys.readouterr().err
    assert not key.exists()


def test_the_key_file_is_sealed(tmp_path: Path) -> None:
    path = tmp_path / "k.json"
    token = "secret-token-" + "x" * 20
    share = GroupShare(seed="seed-secret")
    KeyFile(server="http://x", token=token, shares={G: share}, passphrase="pw").save(path)
    blob = path.read_text()
    assert token not in blob and "seed-secret" not in blob
    assert path.stat().st_mode & 0o777 == 0o600
    assert KeyFile.load(path, "pw").token == token
    assert KeyFile.load(path, lambda: "pw").share(G).seed == "seed-secret"
    with pytest.raises(TrusteeError, match="wrong passphrase"):
        KeyFile.load(path, "other")
    with pytest.raises(TrusteeError, match="passphrase is needed"):
        KeyFile.load(path)
    # saved again (as the ceremony does after each step), it stays sealed with the same one
    kf = KeyFile.load(path, "pw")
    kf.trustee_index = 2
    kf.save(path)
    assert token not in path.read_text() and KeyFile.load(path, "pw").trustee_index == 2


def test_the_signed_count_report_is_shown() -> None:
    from tally.report_signatures import count_report, report_text
    from voting.cli_trustee import describe_report

    report = count_report(
        session="青石镇",
        poll_id="p1",
        uuid="U1",
        result_raw='{"result":[[3,1,0]]}',
        counts={"total": 5, "present": 4, "issued": 4, "received": 4, "result": [[3, 1, 0]]},
        outcome={
            "verdict": "valid",
            "items": [{"id": "m1", "name": "议案一", "status": "passed", "yes": 3}],
        },
    )
    text = describe_report(report_text(report))
    assert "poll p1" in text and "应到 total 5" in text and "收回 received 4" in text
    assert "verdict 结论: valid" in text and "议案一: passed {'yes': 3}" in text


# A forged tally, a poll not encrypted to the ceremony, an open ballot box, figures that are not
# the archive's: tests/security/test_scrutineer_attacks.py, against a server over websockets.


def test_a_key_file_of_one_group_reads_as_one_share(tmp_path: Path) -> None:
    """A key file written before sessions had two groups (the share's fields at the top
    level) opens as a file of one share, and is written back in the new layout."""
    path = tmp_path / "old.json"
    old = {"server": "http://x", "token": "t" * 20, "group": G, "ceremony_id": "c1",
           "trustee_index": 2, "seed": "s", "cert": "c", "polynomial": "p", "dkey": "d",
           "trustees": "[]", "decrypted": ["p1"], "server_public_key": None,
           "decided": {}}  # fmt: skip
    path.write_text(json.dumps(old))
    path.chmod(0o600)
    kf = KeyFile.load(path)
    assert list(kf.shares) == [G] and kf.main_group == G and kf.trustee_index == 2
    assert kf.share(G) == GroupShare("c1", "s", "c", "p", "d", "[]") and kf.share(G).finished
    assert kf.trustees(G) == "[]" and kf.trustees("RFC-3526-2048") is None
    with pytest.raises(TrusteeError, match="no key of the group RFC-3526-2048"):
        kf.private_key("RFC-3526-2048")
    kf.save(path)
    assert KeyFile.load(path) == kf and "shares" in json.loads(path.read_text())
