"""Whole elections made by belenios-tool alone, as its demo scripts do (demo.sh and
demo-threshold.sh), in a temporary folder."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

QUESTIONS: dict[str, Any] = {
    "description": "Description of the election.",
    "name": "Name of the election",
    "questions": [
        {"answers": ["Answer 1", "Answer 2"], "min": 0, "max": 1, "question": "Question 1?"},
        {
            "answers": ["Answer 1", "Answer 2"],
            "blank": True,
            "min": 1,
            "max": 1,
            "question": "Question 2?",
        },
    ],
}
VOTES = [[[1, 0], [0, 1, 0]], [[0, 1], [1, 0, 0]], [[0, 0], [0, 0, 1]]]


def _env() -> dict[str, str]:
    return {**os.environ, "BELENIOS_USE_URANDOM": "1"}


def run(tool: str, folder: Path, *args: str, stdin: str | None = None) -> str:
    done = subprocess.run(
        [tool, *args],
        cwd=folder,
        input=stdin,
        capture_output=True,
        text=True,
        env=_env(),
        timeout=120,
        check=False,
    )
    if done.returncode != 0:
        raise AssertionError(f"belenios-tool {' '.join(args)} failed: {done.stderr}")
    return done.stdout


def belenios_election(
    tool: str,
    folder: Path,
    *,
    threshold: bool = False,
    votes: list[list[list[int]]] = VOTES,
    revote: bool = True,
) -> Path:
    """Run a complete election with belenios-tool in ``folder``; return the .bel path."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "q.json").write_text(json.dumps(QUESTIONS), encoding="utf-8")
    uuid = run(tool, folder, "setup", "generate-token").strip()
    group = ["--group", "BELENIOS-2048"]
    run(
        tool,
        folder,
        "setup",
        "generate-credentials",
        "--uuid",
        uuid,
        *group,
        "--count",
        str(len(votes)),
    )
    (next(folder.glob("*.pubcreds"))).rename(folder / "public_creds.json")
    privcreds = next(folder.glob("*.privcreds"))
    creds = [line.split()[1] for line in privcreds.read_text().splitlines() if line.strip()]
    if threshold:
        for _ in range(3):
            run(tool, folder, "setup", "generate-trustee-key-threshold", *group, "--step", "1")
        certs = "".join(p.read_text() for p in sorted(folder.glob("*.cert")))
        (folder / "certs.jsons").write_text(certs)
        tk = ["setup", "generate-trustee-key-threshold", *group, "--certs", "certs.jsons"]
        run(tool, folder, *tk, "--step", "2")
        keys = sorted(folder.glob("*.key"))
        polys = "".join(
            run(tool, folder, *tk, "--key", k.name, "--step", "3", "--threshold", "2") for k in keys
        )
        (folder / "polynomials.jsons").write_text(polys)
        run(tool, folder, *tk, "--step", "4", "--polynomials", "polynomials.jsons")
        for k in keys:
            vin = (folder / f"{k.stem}.vinput").read_text()
            out = run(tool, folder, *tk, "--key", k.name, "--step", "5", stdin=vin)
            (folder / f"{k.stem}.voutput").write_text(out)
        vouts = "".join((folder / f"{k.stem}.voutput").read_text() for k in keys)
        threshold_json = run(
            tool, folder, *tk, "--step", "6", "--polynomials", "polynomials.jsons", stdin=vouts
        )
        (folder / "threshold.json").write_text(threshold_json)
        run(tool, folder, "setup", "generate-trustee-key", *group)
    else:
        keys = []
        run(tool, folder, "setup", "generate-trustee-key", *group)
        run(tool, folder, "setup", "generate-trustee-key", *group)
    pubkeys = "".join(p.read_text() for p in sorted(folder.glob("*.pubkey")))
    (folder / "public_keys.jsons").write_text(pubkeys)
    run(tool, folder, "setup", "make-trustees")
    (folder / "public_keys.jsons").unlink()
    if threshold:
        (folder / "threshold.json").unlink()
    run(tool, folder, "setup", "make-election", "--uuid", uuid, *group, "--template", "q.json")
    run(tool, folder, "archive", "init")
    for name in ("election.json", "trustees.json", "public_creds.json"):
        (folder / name).unlink()

    def vote(cred: str, plain: list[list[int]]) -> None:
        (folder / "cred.txt").write_text(cred + "\n")
        (folder / "vote.txt").write_text(json.dumps(plain) + "\n")
        ballot = run(
            tool,
            folder,
            "election",
            "generate-ballot",
            "--privcred",
            "cred.txt",
            "--ballot",
            "vote.txt",
        )
        run(tool, folder, "archive", "add-event", "--type=Ballot", stdin=ballot)

    for cred, plain in zip(creds, votes, strict=True):
        vote(cred, plain)
    if revote:
        vote(creds[0], votes[-1])
    run(tool, folder, "archive", "add-event", "--type=EndBallots", stdin="")
    tally = run(tool, folder, "election", "compute-encrypted-tally")
    run(tool, folder, "archive", "add-event", "--type=EncryptedTally", stdin=tally)
    if threshold:
        for tid, k in enumerate(keys[:2], start=2):  # 2 of the 3 threshold trustees
            pd = run(
                tool,
                folder,
                "election",
                "decrypt-threshold",
                "--key",
                k.name,
                "--decryption-key",
                f"{k.stem}.dkey",
                "--trustee-id",
                str(tid),
            )
            run(tool, folder, "archive", "add-event", "--type=PartialDecryption", stdin=pd)
        privkeys = sorted(folder.glob("*.privkey"))
        pd = run(
            tool, folder, "election", "decrypt", "--privkey", privkeys[0].name, "--trustee-id", "1"
        )
        run(tool, folder, "archive", "add-event", "--type=PartialDecryption", stdin=pd)
    else:
        for tid, k in enumerate(sorted(folder.glob("*.privkey")), start=1):
            pd = run(
                tool, folder, "election", "decrypt", "--privkey", k.name, "--trustee-id", str(tid)
            )
            run(tool, folder, "archive", "add-event", "--type=PartialDecryption", stdin=pd)
    result = run(tool, folder, "election", "compute-result")
    run(tool, folder, "archive", "add-event", "--type=Result", stdin=result)
    run(tool, folder, "election", "verify")
    return folder / f"{uuid}.bel"


def belenios_verify(tool: str, folder: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [tool, "election", "verify", "--dir", str(folder)],
        capture_output=True,
        text=True,
        env=_env(),
        timeout=300,
        check=False,
    )
