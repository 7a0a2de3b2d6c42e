"""Test helper: build small non-homomorphic Belenios archives with the real belenios-tool."""

from __future__ import annotations

import io
import json
import os
import subprocess
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

NH_TEMPLATE = {
    "description": "d",
    "name": "n",
    "questions": [
        {"answers": ["A", "B"], "min": 0, "max": 1, "question": "Q1?"},
        {"type": "NonHomomorphic", "value": {"answers": ["x", "y", "z"], "question": "Q2?"}},
    ],
}


def run_tool(tool: str, cwd: Path, *args: str, stdin: str = "") -> str:
    env = dict(os.environ, BELENIOS_USE_URANDOM="1")
    proc = subprocess.run(
        [tool, *args], cwd=cwd, input=stdin, capture_output=True, text=True, env=env, check=False
    )
    if proc.returncode != 0:
        raise AssertionError(f"belenios-tool {' '.join(args)} failed: {proc.stderr[-2000:]}")
    return proc.stdout


def make_nh_archive(
    tool: str,
    cwd: Path,
    votes: list[list[list[int]]],
    template: dict[str, Any] | None = None,
    trustees: int = 1,
) -> Path:
    """An RFC-3526-2048 election with single trustees, the given ballots, ended and tallied.

    Trustee ``i`` (1-based) has the ``i``-th ``*.privkey`` file in name order.
    """
    uuid = run_tool(tool, cwd, "setup", "generate-token").strip()
    grp = ("--group", "RFC-3526-2048")
    run_tool(
        tool, cwd, "setup", "generate-credentials", "--uuid", uuid, *grp, "--count", str(len(votes))
    )
    for f in cwd.glob("*.pubcreds"):
        f.rename(cwd / "public_creds.json")
    for f in cwd.glob("*.privcreds"):
        f.rename(cwd / "private_creds.txt")
    for _ in range(trustees):
        run_tool(tool, cwd, "setup", "generate-trustee-key", *grp)
    (cwd / "public_keys.jsons").write_text(
        "".join(f.read_text() for f in sorted(cwd.glob("*.pubkey")))
    )
    run_tool(tool, cwd, "setup", "make-trustees")
    (cwd / "public_keys.jsons").unlink()
    (cwd / "tpl.json").write_text(json.dumps(template or NH_TEMPLATE))
    run_tool(tool, cwd, "setup", "make-election", "--uuid", uuid, *grp, "--template", "tpl.json")
    run_tool(tool, cwd, "archive", "init")
    for name in ("election.json", "trustees.json", "public_creds.json"):
        (cwd / name).unlink()
    creds = [line.split()[1] for line in (cwd / "private_creds.txt").read_text().splitlines()]
    for cred, vote in zip(creds, votes, strict=True):
        (cwd / "cred.txt").write_text(cred + "\n")
        (cwd / "vote.json").write_text(json.dumps(vote))
        ballot = run_tool(
            tool,
            cwd,
            "election",
            "generate-ballot",
            "--privcred",
            "cred.txt",
            "--ballot",
            "vote.json",
        )
        run_tool(tool, cwd, "archive", "add-event", "--type=Ballot", stdin=ballot)
    run_tool(tool, cwd, "archive", "add-event", "--type=EndBallots")
    tally = run_tool(tool, cwd, "election", "compute-encrypted-tally")
    run_tool(tool, cwd, "archive", "add-event", "--type=EncryptedTally", stdin=tally)
    return next(cwd.glob("*.bel"))


@dataclass
class RawArchive:
    files: dict[str, str]  # sha256 hex -> raw text
    events: list[dict[str, Any]]

    def payload(self, event: dict[str, Any]) -> str:
        return self.files[event["payload"]]

    def setup(self) -> dict[str, str]:
        setup = json.loads(self.payload(self.events[0]))
        return {k: self.files[v] for k, v in setup.items()}


def read_raw_archive(path: Path) -> RawArchive:
    files: dict[str, str] = {}
    events: list[dict[str, Any]] = []
    with tarfile.open(path) as tar:
        for member in tar.getmembers():
            f = tar.extractfile(member)
            assert f is not None
            text = io.TextIOWrapper(f, encoding="utf-8").read()
            if member.name.endswith(".event.json"):
                events.append(json.loads(text))
            elif member.name.endswith(".data.json"):
                files[member.name.split(".")[0]] = text
    return RawArchive(files, events)


def privkeys(cwd: Path) -> list[Path]:
    return sorted(cwd.glob("*.privkey"))


def decrypt_and_finish(tool: str, cwd: Path, owners: list[int]) -> str:
    """belenios-tool partial decryptions by ``owners``, then the result; returns the result."""
    keys = privkeys(cwd)
    for owner in owners:
        pd = run_tool(
            tool,
            cwd,
            "election",
            "decrypt",
            "--privkey",
            keys[owner - 1].name,
            "--trustee-id",
            str(owner),
        )
        run_tool(tool, cwd, "archive", "add-event", "--type=PartialDecryption", stdin=pd)
    result = run_tool(tool, cwd, "election", "compute-result")
    run_tool(tool, cwd, "archive", "add-event", "--type=Result", stdin=result)
    return result
