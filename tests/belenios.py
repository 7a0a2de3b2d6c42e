"""Test helper: the real belenios-tool 2.0 driven as its examples/demo*.sh do, in a folder.

Every command runs with BELENIOS_USE_URANDOM=1 in the given folder and must succeed (an
AssertionError with belenios-tool's message otherwise). The steps of an election are small
functions (keys, credentials, trustees, election and archive, ballots, tally, shuffles,
decryptions, result, verify); ``demo_election`` chains them into a whole election.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

GROUP = "BELENIOS-2048"
NH_GROUP = "RFC-3526-2048"  # non-homomorphic questions need a group with an embedding
Vote = list[list[int]]


def _process(
    tool: str, cwd: Path, args: tuple[str, ...], stdin: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [tool, *args],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        text=True,
        env={**os.environ, "BELENIOS_USE_URANDOM": "1"},
        timeout=300,
        check=False,
    )


def run(tool: str, cwd: Path, *args: str, stdin: str = "") -> str:
    """``belenios-tool ARGS`` in ``cwd``; its standard output. Fails the test if it fails."""
    done = _process(tool, cwd, args, stdin)
    if done.returncode != 0:
        raise AssertionError(f"belenios-tool {' '.join(args)} failed: {done.stderr[-2000:]}")
    return done.stdout


def belenios_verify(tool: str, folder: Path) -> subprocess.CompletedProcess[str]:
    """``belenios-tool election verify`` on ``folder``, not checked (for tests of refusals)."""
    return _process(tool, folder, ("election", "verify", "--dir", str(folder)), "")


def verify(tool: str, cwd: Path) -> None:
    run(tool, cwd, "election", "verify")


def add_event(tool: str, cwd: Path, kind: str, stdin: str = "") -> None:
    run(tool, cwd, "archive", "add-event", f"--type={kind}", stdin=stdin)


# -- setup ----------------------------------------------------------------------------------


def generate_trustee_keys(tool: str, cwd: Path, count: int, group: str = GROUP) -> None:
    """``count`` single trustees' key pairs (*.privkey, *.pubkey)."""
    for _ in range(count):
        run(tool, cwd, "setup", "generate-trustee-key", "--group", group)


def ceremony_step(tool: str, cwd: Path, step: int, *args: str, stdin: str = "") -> str:
    """One step of belenios-tool's threshold ceremony (BELENIOS-2048); after step 1 with
    --certs certs.jsons."""
    certs = ("--certs", "certs.jsons") if step > 1 else ()
    cmd = ("setup", "generate-trustee-key-threshold", "--group", GROUP, *certs)
    return run(tool, cwd, *cmd, "--step", str(step), *args, stdin=stdin)


def threshold_ceremony(tool: str, cwd: Path, n: int, threshold: int) -> None:
    """The whole ceremony (demo-threshold.sh): *.key, *.cert, certs.jsons, polynomials.jsons,
    *.vinput, voutputs.jsons, *.dkey and threshold.json in ``cwd``."""
    for _ in range(n):
        ceremony_step(tool, cwd, 1)
    (cwd / "certs.jsons").write_text("".join(p.read_text() for p in sorted(cwd.glob("*.cert"))))
    ceremony_step(tool, cwd, 2)
    keys = sorted(cwd.glob("*.key"))
    polys = "".join(
        ceremony_step(tool, cwd, 3, "--key", k.name, "--threshold", str(threshold)) for k in keys
    )
    (cwd / "polynomials.jsons").write_text(polys)
    ceremony_step(tool, cwd, 4, "--polynomials", "polynomials.jsons")
    voutputs = "".join(
        ceremony_step(tool, cwd, 5, "--key", k.name, stdin=(cwd / f"{k.stem}.vinput").read_text())
        for k in keys
    )
    out = ceremony_step(tool, cwd, 6, "--polynomials", "polynomials.jsons", stdin=voutputs)
    (cwd / "voutputs.jsons").write_text(voutputs)
    (cwd / "threshold.json").write_text(out)


@dataclass(frozen=True)
class Setup:
    dir: Path
    uuid: str
    election_json: str  # as belenios-tool wrote election.json, final newline removed
    credentials: list[str]  # private credentials, in .privcreds order

    @property
    def archive(self) -> Path:
        return self.dir / f"{self.uuid}.bel"


def setup_election(
    tool: str,
    cwd: Path,
    template: dict[str, Any],
    voters: int,
    group: str = GROUP,
    *,
    keep_files: bool = False,
) -> Setup:
    """Credentials, trustees (from every *.pubkey in name order, then threshold.json if
    there), the election and its archive. election.json, trustees.json and public_creds.json
    are removed afterwards (the archive holds them) unless ``keep_files``."""
    uuid = run(tool, cwd, "setup", "generate-token").strip()
    count = ("--count", str(voters))
    run(tool, cwd, "setup", "generate-credentials", "--uuid", uuid, "--group", group, *count)
    next(cwd.glob("*.pubcreds")).rename(cwd / "public_creds.json")
    privcreds = next(cwd.glob("*.privcreds")).read_text()
    credentials = [line.split()[1] for line in privcreds.splitlines() if line.strip()]
    pubkeys = "".join(p.read_text() for p in sorted(cwd.glob("*.pubkey")))
    (cwd / "public_keys.jsons").write_text(pubkeys)
    run(tool, cwd, "setup", "make-trustees")
    (cwd / "public_keys.jsons").unlink()
    (cwd / "threshold.json").unlink(missing_ok=True)
    (cwd / "template.json").write_text(json.dumps(template, ensure_ascii=False))
    tpl = ("--template", "template.json")
    run(tool, cwd, "setup", "make-election", "--uuid", uuid, "--group", group, *tpl)
    election_json = (cwd / "election.json").read_text(encoding="utf-8").removesuffix("\n")
    run(tool, cwd, "archive", "init")
    if not keep_files:
        for name in ("election.json", "trustees.json", "public_creds.json"):
            (cwd / name).unlink()
    return Setup(cwd, uuid, election_json, credentials)


# -- ballots, tally, shuffles, decryptions, result ------------------------------------------


def generate_ballot(tool: str, cwd: Path, credential: str, vote: Vote, *args: str) -> str:
    """A ballot by ``election generate-ballot`` (its output line, newline removed)."""
    (cwd / "cred.txt").write_text(credential + "\n")
    (cwd / "vote.txt").write_text(json.dumps(vote) + "\n")
    ballot = run(
        tool,
        cwd,
        "election",
        "generate-ballot",
        *args,
        "--privcred",
        "cred.txt",
        "--ballot",
        "vote.txt",
    )
    return ballot.rstrip("\n")


def cast(tool: str, cwd: Path, credential: str, vote: Vote) -> None:
    add_event(tool, cwd, "Ballot", generate_ballot(tool, cwd, credential, vote) + "\n")


def end_ballots(tool: str, cwd: Path) -> str:
    """EndBallots, then the encrypted tally computed and added; returns the tool's output."""
    add_event(tool, cwd, "EndBallots")
    tally = run(tool, cwd, "election", "compute-encrypted-tally")
    add_event(tool, cwd, "EncryptedTally", tally)
    return tally


def vote_and_tally(tool: str, cwd: Path, credentials: list[str], votes: list[Vote]) -> str:
    """One ballot per credential, then ``end_ballots``; returns the encrypted tally output."""
    for cred, vote in zip(credentials, votes, strict=True):
        cast(tool, cwd, cred, vote)
    return end_ballots(tool, cwd)


def add_shuffle(tool: str, cwd: Path, trustee_id: int) -> str:
    """A shuffle by trustee ``trustee_id``, added; returns the tool's output."""
    out = run(tool, cwd, "election", "shuffle", f"--trustee-id={trustee_id}")
    add_event(tool, cwd, "Shuffle", out)
    return out


def privkeys(cwd: Path) -> list[Path]:
    """The single trustees' private keys in name order."""
    return sorted(cwd.glob("*.privkey"))


def decrypt(tool: str, cwd: Path, privkey: str, trustee_id: int) -> str:
    """A single trustee's partial decryption (not added): the tool's two output lines."""
    cmd = ("election", "decrypt", "--privkey", privkey, "--trustee-id", str(trustee_id))
    return run(tool, cwd, *cmd)


def decrypt_threshold(
    tool: str, cwd: Path, key: str, trustee_id: int, dkey: str | None = None
) -> str:
    """A threshold trustee's partial decryption (not added), with ``key``'s .dkey by default."""
    return run(
        tool,
        cwd,
        "election",
        "decrypt-threshold",
        "--key",
        key,
        "--decryption-key",
        dkey or f"{Path(key).stem}.dkey",
        "--trustee-id",
        str(trustee_id),
    )


def add_result(tool: str, cwd: Path) -> str:
    """The result computed and added; returns the tool's output."""
    result = run(tool, cwd, "election", "compute-result")
    add_event(tool, cwd, "Result", result)
    return result


def decrypt_and_finish(tool: str, cwd: Path, owners: list[int]) -> str:
    """Partial decryptions by the single trustees ``owners`` (trustee ``i`` holds the
    ``i``-th *.privkey in name order), then the result; returns the result."""
    keys = privkeys(cwd)
    for owner in owners:
        add_event(tool, cwd, "PartialDecryption", decrypt(tool, cwd, keys[owner - 1].name, owner))
    return add_result(tool, cwd)


# -- whole elections ------------------------------------------------------------------------

DEMO_QUESTIONS: dict[str, Any] = {
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
DEMO_VOTES = [[[1, 0], [0, 1, 0]], [[0, 1], [1, 0, 0]], [[0, 0], [0, 0, 1]]]


def demo_election(
    tool: str,
    folder: Path,
    *,
    threshold: bool = False,
    votes: list[Vote] = DEMO_VOTES,
    revote: bool = True,
) -> Path:
    """A complete homomorphic election (BELENIOS-2048) in ``folder``, verified; the .bel path.

    Trustees: two single ones, or one single and a 2-of-3 threshold group of which trustees
    2 and 3 decrypt. With ``revote`` the first voter votes again as the last one did."""
    folder.mkdir(parents=True, exist_ok=True)
    if threshold:
        threshold_ceremony(tool, folder, 3, 2)
    generate_trustee_keys(tool, folder, 1 if threshold else 2)
    setup = setup_election(tool, folder, DEMO_QUESTIONS, len(votes))
    for cred, vote in zip(setup.credentials, votes, strict=True):
        cast(tool, folder, cred, vote)
    if revote:
        cast(tool, folder, setup.credentials[0], votes[-1])
    end_ballots(tool, folder)
    if threshold:
        keys = sorted(folder.glob("*.key"))
        for tid, k in enumerate(keys[:2], start=2):  # 2 of the 3 threshold trustees
            add_event(
                tool, folder, "PartialDecryption", decrypt_threshold(tool, folder, k.name, tid)
            )
        add_event(
            tool, folder, "PartialDecryption", decrypt(tool, folder, privkeys(folder)[0].name, 1)
        )
        add_result(tool, folder)
    else:
        decrypt_and_finish(tool, folder, [1, 2])
    verify(tool, folder)
    return setup.archive


NH_TEMPLATE: dict[str, Any] = {
    "description": "d",
    "name": "n",
    "questions": [
        {"answers": ["A", "B"], "min": 0, "max": 1, "question": "Q1?"},
        {"type": "NonHomomorphic", "value": {"answers": ["x", "y", "z"], "question": "Q2?"}},
    ],
}


def nh_archive(
    tool: str,
    cwd: Path,
    votes: list[Vote],
    template: dict[str, Any] = NH_TEMPLATE,
    trustees: int = 1,
) -> Path:
    """An RFC-3526-2048 election with ``trustees`` single trustees and the given ballots,
    ended and tallied; the .bel path. Trustee ``i`` holds the ``i``-th *.privkey by name."""
    generate_trustee_keys(tool, cwd, trustees, NH_GROUP)
    setup = setup_election(tool, cwd, template, len(votes), NH_GROUP)
    vote_and_tally(tool, cwd, setup.credentials, votes)
    return setup.archive


# -- reading archives and folders -----------------------------------------------------------


def archive_members(bel: Path) -> list[tuple[str, str]]:
    """(name, text) of every member of a .bel archive, in archive order."""
    out = []
    with tarfile.open(bel) as tar:
        for member in tar.getmembers():
            f = tar.extractfile(member)
            assert f is not None
            out.append((member.name, io.TextIOWrapper(f, encoding="utf-8").read()))
    return out


@dataclass
class RawArchive:
    files: dict[str, str]  # sha256 hex -> raw text
    events: list[dict[str, Any]]

    def payload(self, event: dict[str, Any]) -> str:
        return self.files[event["payload"]]

    def setup(self) -> dict[str, str]:
        """The Setup event's raw election, trustees and credentials, by field name."""
        setup = json.loads(self.payload(self.events[0]))
        return {k: self.files[v] for k, v in setup.items()}


def read_raw_archive(path: Path) -> RawArchive:
    files: dict[str, str] = {}
    events: list[dict[str, Any]] = []
    for name, text in archive_members(path):
        if name.endswith(".event.json"):
            events.append(json.loads(text))
        elif name.endswith(".data.json"):
            files[name.split(".")[0]] = text
    return RawArchive(files, events)


def copy_dir(src: Path, dst: Path) -> Path:
    """A copy of an election folder, with private key files private as belenios-tool wants."""
    shutil.copytree(src, dst)
    for p in dst.iterdir():
        p.chmod(0o600 if p.suffix in (".key", ".dkey", ".privkey") else 0o644)
    return dst
