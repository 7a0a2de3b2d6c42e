"""``renda bench shuffle``: shuffle, decryption and verification against belenios-tool.

For each size (150 and 1,000 ballots by default) one archive is made: the setup by
belenios-tool (credentials, one single trustee, an RFC-3526-2048 election whose only question
is a 人大 election ballot, docs/ballots.md), the ballots by renda (random lawful ballots), the
encrypted tally. Then, on that same archive and in the same run:

* **shuffle** — one trustee's shuffle: ``belenios-tool election shuffle`` against renda
  reading the archive and running :func:`tally.shuffle.shuffle_ciphertexts` with a pool of
  ``--workers`` processes;
* **decryption** — after renda's shuffle and EndShuffles are appended: ``belenios-tool
  election decrypt`` against renda reading the archive and computing the partial decryption
  (:func:`tally.decryption.compute_partial_decryption`, the ciphertexts split over the pool);
* **verify** — after renda's partial decryption and result: ``belenios-tool election verify``
  against ``renda verify`` (a new process, as an auditor runs it).

Figures are wall-clock seconds, best of ``--repeat``; ratio = renda / belenios-tool (below 1
means renda is faster). Renda's shuffle and decryption include reading and parsing the archive,
as belenios-tool's do, but not starting Python (about 0.3 s; belenios-tool's own start is
included in its figures).
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from concurrent.futures import Executor, ProcessPoolExecutor
from pathlib import Path
from typing import Any

from gmpy2 import mpz

from tally.bench._common import machine, run_checked, tool_and_sizes, verify_commands, workdir
from tally.progress import progress

HELP = "time one trustee's shuffle, its decryption and verification against belenios-tool"
EXAMPLES = """examples:
  renda bench shuffle --sizes 150           # one archive of 150 ballots
  renda bench shuffle --sizes 150,1000 --workers 2   # the figures of docs/benchmarks.md"""

CANDIDATES = ("张三", "李四", "王五", "赵六", "孙七")
SEATS = 3
ROSTER_MAX = 300


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--sizes", default="150,1000", help="numbers of ballots, comma-separated (150,1000)"
    )
    parser.add_argument("--repeat", type=int, default=1, help="runs of each timing (best kept)")
    parser.add_argument("--workers", type=int, default=2, help="processes renda may use")
    parser.add_argument("--workdir", default=None, help="keep the archives in this folder")
    parser.add_argument("--belenios-tool", default=None, help="path of belenios-tool")


def _tool(tool: str, cwd: Path, *args: str) -> str:
    return run_checked([tool, *args], cwd=cwd)


def _timed(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    best, value = float("inf"), None
    for _ in range(max(1, repeat)):
        start = time.perf_counter()
        value = fn()
        best = min(best, time.perf_counter() - start)
    return best, value


def _template() -> dict[str, Any]:
    from tally.election_ballot import ElectionLayout, question_json

    layout = ElectionLayout(CANDIDATES, SEATS, ROSTER_MAX)
    return {
        "description": "renda bench shuffle",
        "name": "副镇长选举",
        "questions": [question_json(layout, "副镇长")],
    }


def _make_archive(tool: str, folder: Path, size: int, workers: int) -> Path:
    """Setup by belenios-tool, ballots and encrypted tally by renda; returns the .bel."""
    import random

    from tally.archive import ArchiveWriter, read_archive
    from tally.election import parse_election
    from tally.encrypted_tally import (
        TallyInput,
        question_sizes,
        serialize_encrypted_tally,
        tally_choices,
    )
    from tally.simulate import make_ballots, random_plaintext

    folder.mkdir(parents=True)
    uuid = _tool(tool, folder, "setup", "generate-token").strip()
    grp = ("--group", "RFC-3526-2048")
    _tool(tool, folder, "setup", "generate-credentials", "--uuid", uuid, *grp, "--count", str(size))
    next(folder.glob("*.pubcreds")).rename(folder / "public_creds.json")
    privcreds = next(folder.glob("*.privcreds"))
    _tool(tool, folder, "setup", "generate-trustee-key", *grp)
    (folder / "public_keys.jsons").write_text(next(folder.glob("*.pubkey")).read_text())
    _tool(tool, folder, "setup", "make-trustees")
    (folder / "public_keys.jsons").unlink()
    (folder / "template.json").write_text(json.dumps(_template(), ensure_ascii=False))
    _tool(
        tool, folder, "setup", "make-election", "--uuid", uuid, *grp, "--template", "template.json"
    )
    _tool(tool, folder, "archive", "init")
    for name in ("election.json", "trustees.json", "public_creds.json", "template.json"):
        (folder / name).unlink()
    path = folder / f"{uuid}.bel"
    election = parse_election(read_archive(path).setup()[1])
    rng = random.Random(size)
    creds = [line.split()[1] for line in privcreds.read_text().splitlines() if line.strip()]
    privcreds.unlink()
    ballots = make_ballots(
        election, [(c, random_plaintext(election, rng)) for c in creds], workers=workers
    )
    from keys.elgamal import Ciphertext

    inputs = []
    for raw in ballots:
        answer = json.loads(raw)["answers"][0]["choices"]
        inputs.append(TallyInput(1, ((Ciphertext(mpz(answer["alpha"]), mpz(answer["beta"])),),)))
    kinds, sizes = question_sizes(election)
    tally = tally_choices(election.group, kinds, sizes, inputs)
    with ArchiveWriter.open(path) as writer:
        for raw in ballots:
            writer.add_ballot(raw)
        writer.end_ballots()
        writer.add_encrypted_tally(serialize_encrypted_tally(tally), size, size)
    return path


def _renda_shuffle(path: Path, executor: Executor) -> Any:
    from tally.archive import read_archive
    from tally.election import parse_election
    from tally.encrypted_tally import parse_encrypted_tally
    from tally.shuffle import nh_ciphertexts, shuffle_ciphertexts

    archive = read_archive(path)
    election = parse_election(archive.setup()[1])
    found = archive.sized_encrypted_tally()
    assert found is not None
    tally = parse_encrypted_tally(election.group, found[2])
    return shuffle_ciphertexts(election, nh_ciphertexts(election, tally), executor=executor)


def _decrypt_part(fingerprint: str, key: mpz, rows: Any) -> Any:
    from keys.group import RFC_3526_2048
    from tally.decryption import compute_partial_decryption

    # a worker draws no bar of its own: the parent shows the parts done (_renda_decrypt)
    return compute_partial_decryption(RFC_3526_2048, fingerprint, key, rows, lambda _n: None)


def _renda_decrypt(path: Path, key: mpz, executor: Executor, parts: int) -> Any:
    """Read the archive, merge the last shuffle, compute trustee 1's partial decryption."""
    from keys.multiexp import split_evenly
    from tally.archive import read_archive
    from tally.decryption import PartialDecryption
    from tally.election import parse_election
    from tally.encrypted_tally import parse_encrypted_tally
    from tally.shuffle import merge_nh, parse_shuffle

    archive = read_archive(path)
    election = parse_election(archive.setup()[1])
    found = archive.sized_encrypted_tally()
    assert found is not None
    tally = parse_encrypted_tally(election.group, found[2])
    last = parse_shuffle(election.group, archive.owned_items("Shuffle")[-1][2])
    merged = merge_nh(election, tally, last.ciphertexts)
    # Every ciphertext's factor and proof are independent: cut each row over the pool.
    jobs = []
    for row in merged:
        pieces = split_evenly(len(row), parts)
        jobs.append(
            [
                executor.submit(_decrypt_part, election.fingerprint, key, (row[r.start : r.stop],))
                for r in pieces
            ]
        )
    factors, proofs = [], []
    with progress(sum(len(row) for row in merged), "解密 (decrypting)", "ciphertext") as advance:
        for row_jobs in jobs:
            f_row: list[Any] = []
            p_row: list[Any] = []
            for job in row_jobs:
                part = job.result()
                f_row.extend(part.decryption_factors[0])
                p_row.extend(part.decryption_proofs[0])
                advance(len(part.decryption_factors[0]))
            factors.append(tuple(f_row))
            proofs.append(tuple(p_row))
    return PartialDecryption(tuple(factors), tuple(proofs)), election, merged


def _warm_up(_: int) -> None:
    import keys.shuffle  # noqa: F401
    import tally.decryption  # noqa: F401

    time.sleep(0.2)


def run(args: argparse.Namespace) -> int:
    found = tool_and_sizes(args, "shuffle", "150,1000")
    if found is None:
        return 2
    tool, sizes = found
    with (
        workdir(args, "renda-bench-shuffle-") as folder,
        ProcessPoolExecutor(max_workers=max(1, args.workers)) as pool,
    ):
        # Start the workers and import the crypto modules before anything is timed.
        list(pool.map(_warm_up, range(max(1, args.workers))))
        return _run(args, tool, sizes, folder, pool)


def _run(
    args: argparse.Namespace, tool: str, sizes: list[int], workdir: Path, pool: Executor
) -> int:
    print(f"renda bench shuffle — {machine()}, renda workers {args.workers}")
    rows: list[tuple[str, float, float]] = []

    def row(label: str, r: float, b: float) -> None:
        rows.append((label, r, b))
        print(
            f"  {label:<28} renda {r:8.2f} s   belenios-tool {b:8.2f} s   ratio {r / b:5.2f}",
            flush=True,
        )

    for size in sizes:
        _one_size(args, tool, size, workdir, pool, row)

    print()
    print("| step | renda (s) | belenios-tool (s) | ratio |")
    print("|---|---:|---:|---:|")
    for label, r, b in rows:
        print(f"| {label} | {r:.2f} | {b:.2f} | {r / b:.2f} |")
    return 0


def _one_size(
    args: argparse.Namespace,
    tool: str,
    size: int,
    workdir: Path,
    pool: Executor,
    row: Callable[[str, float, float], None],
) -> None:
    from tally.archive import ArchiveWriter, read_archive
    from tally.result import compute_result
    from tally.trustees import parse_trustees

    folder = workdir / f"ballots-{size}-{int(time.time())}"
    print(f"making an archive of {size} ballots…", flush=True)
    path = _make_archive(tool, folder, size, args.workers)
    privkey = next(folder.glob("*.privkey"))
    key = mpz(json.loads(privkey.read_text()))

    b_shuffle, _ = _timed(
        lambda: _tool(tool, folder, "election", "shuffle", "--trustee-id=1"), args.repeat
    )
    r_shuffle, shuffle = _timed(lambda: _renda_shuffle(path, pool), args.repeat)
    row(f"shuffle, {size} ballots", r_shuffle, b_shuffle)

    with ArchiveWriter.open(path) as writer:
        writer.add_shuffle(1, shuffle.raw)
        writer.end_shuffles()
    b_decrypt, _ = _timed(
        lambda: _tool(
            tool, folder, "election", "decrypt", "--privkey", privkey.name, "--trustee-id", "1"
        ),
        args.repeat,
    )
    r_decrypt, (pd, election, merged) = _timed(
        lambda: _renda_decrypt(path, key, pool, max(1, args.workers)), args.repeat
    )
    row(f"decryption, {size} ballots", r_decrypt, b_decrypt)

    trustees = parse_trustees(election.group, read_archive(path).setup()[2])
    result = compute_result(election, trustees, merged, {1: pd}, total_weight=size)
    with ArchiveWriter.open(path) as writer:
        writer.add_partial_decryption(1, pd.serialize())
        writer.add_result(result.serialize())
    renda_cmd, bel_cmd = verify_commands(tool, folder, args.workers)
    b_verify, _ = _timed(lambda: run_checked(bel_cmd), args.repeat)
    r_verify, _ = _timed(lambda: run_checked(renda_cmd), args.repeat)
    row(f"verify, {size} ballots", r_verify, b_verify)
