"""Test helper: small homomorphic Belenios elections driven by the real belenios-tool."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from keys.elgamal import Ciphertext
from keys.group import Group

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
GROUP_OPT = ("--group", "BELENIOS-2048")


def run(tool: str, cwd: Path, *args: str, stdin: str = "") -> str:
    env = dict(os.environ, BELENIOS_USE_URANDOM="1")
    proc = subprocess.run(
        [tool, *args], cwd=cwd, input=stdin, capture_output=True, text=True, env=env, check=False
    )
    if proc.returncode != 0:
        raise AssertionError(f"{Path(tool).name} {' '.join(args)} failed: {proc.stderr[-2000:]}")
    return proc.stdout


def belenios_ceremony(tool: str, d: Path, n: int, threshold: int) -> None:
    """belenios-tool's threshold ceremony (demo-threshold.sh) writing threshold.json in d."""
    step = (*GROUP_OPT,)
    cmd = ("setup", "generate-trustee-key-threshold", *step)
    for _ in range(n):
        run(tool, d, *cmd, "--step", "1")
    (d / "certs.jsons").write_text("".join(p.read_text() for p in sorted(d.glob("*.cert"))))
    run(tool, d, *cmd, "--certs", "certs.jsons", "--step", "2")
    keys = sorted(d.glob("*.key"))
    polys = "".join(
        run(
            tool,
            d,
            *cmd,
            "--certs",
            "certs.jsons",
            "--key",
            k.name,
            "--step",
            "3",
            "--threshold",
            str(threshold),
        )
        for k in keys
    )
    (d / "polynomials.jsons").write_text(polys)
    run(
        tool, d, *cmd, "--certs", "certs.jsons", "--step", "4", "--polynomials", "polynomials.jsons"
    )
    voutputs = "".join(
        run(
            tool,
            d,
            *cmd,
            "--certs",
            "certs.jsons",
            "--key",
            k.name,
            "--step",
            "5",
            stdin=(d / f"{k.stem}.vinput").read_text(),
        )
        for k in keys
    )
    out = run(
        tool,
        d,
        *cmd,
        "--certs",
        "certs.jsons",
        "--step",
        "6",
        "--polynomials",
        "polynomials.jsons",
        stdin=voutputs,
    )
    (d / "voutputs.jsons").write_text(voutputs)
    (d / "threshold.json").write_text(out)


NH_TEMPLATE: dict[str, Any] = {
    "description": "nh",
    "name": "nh",
    "questions": [
        {"answers": ["yes", "no"], "min": 0, "max": 1, "question": "Q1"},
        {"type": "NonHomomorphic", "value": {"answers": ["x", "y", "z"], "question": "Q2"}},
    ],
}
NH_VOTES = [[[1, 0], [1, 2, 3]], [[0, 1], [0, 0, 7]], [[1, 0], [255, 0, 1]]]
NH_GROUP_OPT = ("--group", "RFC-3526-2048")


def make_election(
    tool: str,
    d: Path,
    template: dict[str, Any] = TEMPLATE,
    votes: list[list[list[int]]] = VOTES,
    group_opt: tuple[str, str] = GROUP_OPT,
) -> str:
    """From public_keys.jsons and threshold.json in d: trustees, election, ballots, tally.

    Returns the encrypted tally line printed by compute-encrypted-tally."""
    uuid = run(tool, d, "setup", "generate-token").strip()
    count = str(len(votes))
    run(tool, d, "setup", "generate-credentials", "--uuid", uuid, *group_opt, "--count", count)
    next(d.glob("*.pubcreds")).rename(d / "public_creds.json")
    privcreds = next(d.glob("*.privcreds"))
    creds = [line.split()[1] for line in privcreds.read_text().splitlines() if line.strip()]
    run(tool, d, "setup", "make-trustees")
    (d / "threshold.json").unlink(missing_ok=True)
    (d / "template.json").write_text(json.dumps(template))
    run(
        tool, d, "setup", "make-election", "--uuid", uuid, *group_opt, "--template", "template.json"
    )
    run(tool, d, "archive", "init")
    for name in ("election.json", "trustees.json", "public_creds.json"):
        (d / name).unlink()
    for cred, vote in zip(creds, votes, strict=True):
        (d / "cred.txt").write_text(cred + "\n")
        (d / "vote.json").write_text(json.dumps(vote) + "\n")
        ballot = run(
            tool,
            d,
            "election",
            "generate-ballot",
            "--privcred",
            "cred.txt",
            "--ballot",
            "vote.json",
        )
        run(tool, d, "archive", "add-event", "--type=Ballot", stdin=ballot)
    run(tool, d, "archive", "add-event", "--type=EndBallots")
    tally = run(tool, d, "election", "compute-encrypted-tally")
    run(tool, d, "archive", "add-event", "--type=EncryptedTally", stdin=tally)
    return tally.splitlines()[0]


@dataclass(frozen=True)
class ArchiveSetup:
    election: str
    trustees: str


def read_setup(d: Path) -> ArchiveSetup:
    """The raw election and trustees stored in the .bel of d (a tar of hash-named files)."""
    bel = next(d.glob("*.bel"))
    files: dict[str, str] = {}
    events: list[dict[str, Any]] = []
    with tarfile.open(bel) as tar:
        for member in tar.getmembers():
            f = tar.extractfile(member)
            if f is None:
                continue
            text = f.read().decode("utf-8")
            if member.name.endswith(".event.json"):
                events.append(json.loads(text))
            files[member.name.split(".")[0]] = text
    setup = next(e for e in events if e["type"] == "Setup")
    data = json.loads(files[setup["payload"]])
    return ArchiveSetup(files[data["election"]], files[data["trustees"]])


def parse_tally(group: Group, line: str) -> list[list[Ciphertext]]:
    return [[Ciphertext.from_json(group, c) for c in row] for row in json.loads(line)]


def copy_dir(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    for p in dst.iterdir():
        p.chmod(0o600 if p.suffix in (".key", ".dkey", ".privkey") else 0o644)
    return dst
