"""``renda bench verify``: renda verify vs belenios-tool election verify, and ballot creation.

On the same archives (made once by ``renda simulate``, BELENIOS-2048, one single trustee) of
100 and 1,000 ballots, each with a 3-answer motion and a 12-answer "choose up to 10"
question, it times, in one run and alternately:

* ``renda verify DIR`` (a new process, as an auditor runs it) against
  ``belenios-tool election verify --dir DIR``;
* ballot creation: ``tally.ballot.create_ballot`` in one process (as the kiosk does) against
  ``belenios-tool election generate-ballot`` (one process per ballot, as belenios-tool works);
  belenios-tool reads an archive holding only the Setup event, and the time it needs to start
  (``belenios-tool sha256-b64``) is shown too, so the ratio can also be read without it.

Each figure is the best of ``--repeat`` runs (wall-clock); ratios are renda / belenios-tool,
so below 1.0 means renda is faster. For verification the CPU time of each command (all its
processes) is given as well: it does not depend on the machine's load, and shows how much of
the wall-clock gain comes from using both cores. The machine's core count and load are
printed, since other processes make every figure slower.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tally.bench._common import machine, run_checked, tool_and_sizes, verify_commands, workdir
from tally.progress import progress

HELP = "time renda verify and ballot creation against belenios-tool on the same archives"
EXAMPLES = """examples:
  renda bench verify --sizes 100            # one archive of 100 ballots
  renda bench verify --sizes 100,1000 --repeat 3   # the figures of docs/benchmarks.md"""

TEMPLATE: dict[str, Any] = {
    "description": "renda bench verify",
    "name": "议案表决与民生实事项目",
    "questions": [
        {"answers": ["赞成", "反对", "弃权"], "min": 1, "max": 1, "question": "表决"},
        {
            "answers": [f"项目{i}" for i in range(1, 13)],
            "min": 0,
            "max": 10,
            "question": "choose up to 10",
        },
    ],
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--sizes", default="100,1000", help="numbers of ballots, comma-separated (100,1000)"
    )
    parser.add_argument("--repeat", type=int, default=1, help="runs of each timing (best kept)")
    parser.add_argument("--creations", type=int, default=10, help="ballots created per tool")
    parser.add_argument("--workers", type=int, default=2, help="renda verify --workers")
    parser.add_argument(
        "--workdir", default=None, help="keep (and reuse) the archives in this folder"
    )
    parser.add_argument("--belenios-tool", default=None, help="path of belenios-tool")


def _cpu_children() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _timed_cpu(cmd: list[str], stdin: str | None = None) -> tuple[float, float]:
    """(wall-clock seconds, CPU seconds of the command and every process it waited for)."""
    cpu = _cpu_children()
    start = time.perf_counter()
    run_checked(cmd, stdin=stdin)
    elapsed = time.perf_counter() - start
    return elapsed, _cpu_children() - cpu


def _timed(cmd: list[str], stdin: str | None = None) -> float:
    return _timed_cpu(cmd, stdin)[0]


def _best(repeat: int, fn: Callable[[], float]) -> float:
    return min(float(fn()) for _ in range(max(1, repeat)))


def _archive(workdir: Path, size: int) -> Path:
    from tally.simulate import simulate

    folder = workdir / f"ballots-{size}"
    if folder.is_dir() and len(list(folder.glob("*.bel"))) == 1:
        return folder
    if folder.exists():
        shutil.rmtree(folder)
    print(f"making an archive of {size} ballots with renda simulate…", flush=True)
    simulate(folder, TEMPLATE, size, seed=size)
    return folder


def run(args: argparse.Namespace) -> int:
    found = tool_and_sizes(args, "verify", "100,1000")
    if found is None:
        return 2
    tool, sizes = found
    with workdir(args, "renda-bench-") as folder:
        return _run(args, tool, sizes, folder)


def _run(args: argparse.Namespace, tool: str, sizes: list[int], workdir: Path) -> int:
    print(f"renda bench verify — {machine()}")
    rows: list[tuple[str, float, float]] = []
    cpu_rows: list[tuple[str, float, float]] = []
    runs = len(sizes) * max(1, args.repeat) * 2
    with progress(runs, "基准测试 (benchmark runs)", "run") as advance:
        for size in sizes:
            folder = _archive(workdir, size)
            renda_cmd, bel_cmd = verify_commands(tool, folder, args.workers)
            r_best, b_best = float("inf"), float("inf")
            r_cpu, b_cpu = float("inf"), float("inf")
            for _ in range(max(1, args.repeat)):
                wall, cpu = _timed_cpu(bel_cmd)
                b_best, b_cpu = min(b_best, wall), min(b_cpu, cpu)
                advance(1)
                wall, cpu = _timed_cpu(renda_cmd)
                r_best, r_cpu = min(r_best, wall), min(r_cpu, cpu)
                advance(1)
            rows.append((f"verify, {size} ballots", r_best, b_best))
            cpu_rows.append((f"verify, {size} ballots (CPU time)", r_cpu, b_cpu))
            print(
                f"  verify {size:>5} ballots: renda {r_best:8.2f} s   belenios-tool "
                f"{b_best:8.2f} s   ratio {r_best / b_best:5.2f}   (CPU {r_cpu:.1f} s vs "
                f"{b_cpu:.1f} s)",
                flush=True,
            )

    # ballot creation
    from keys.credentials import generate_private_credential
    from tally.archive import ArchiveWriter, read_archive
    from tally.ballot import create_ballot
    from tally.election import parse_election

    # belenios-tool reads the archive in --dir before making a ballot: give it one that holds
    # only the Setup event, so that the comparison is about making the ballot.
    source = read_archive(_archive(workdir, sizes[0]))
    _, election_raw, trustees_raw, creds_raw = source.setup()
    election = parse_election(election_raw)
    folder = workdir / "setup-only"
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir()
    with ArchiveWriter.create(folder / f"{election.uuid}.bel", timestamp=source.timestamp) as w:
        w.add_setup(election_raw, trustees_raw, creds_raw)
    vote = [[1, 0, 0], [1, 1, 1, 0, 1, 0, 1, 0, 1, 0, 0, 1]]
    n: int = max(1, int(args.creations))
    (folder / "vote.txt").write_text(f"{vote}\n".replace(" ", ""), encoding="utf-8")
    creds = [generate_private_credential() for _ in range(n)]

    def renda_create() -> float:
        start = time.perf_counter()
        for c in creds:
            create_ballot(election, c, vote)
        return (time.perf_counter() - start) / n

    def belenios_create() -> float:
        total = 0.0
        for c in creds:
            (folder / "cred.txt").write_text(c + "\n", encoding="utf-8")
            total += _timed(
                [
                    tool,
                    "election",
                    "generate-ballot",
                    "--dir",
                    str(folder),
                    "--privcred",
                    str(folder / "cred.txt"),
                    "--ballot",
                    str(folder / "vote.txt"),
                ]
            )
        return total / n

    def belenios_start() -> float:
        return sum(_timed([tool, "sha256-b64"], stdin="x") for _ in range(n)) / n

    r_create = _best(args.repeat, renda_create)
    b_create = _best(args.repeat, belenios_create)
    b_start = _best(args.repeat, belenios_start)
    for name in ("cred.txt", "vote.txt"):
        (folder / name).unlink(missing_ok=True)
    rows.append(("create one ballot", r_create, b_create))
    print(
        f"  create one ballot:   renda {r_create * 1000:8.1f} ms  belenios-tool "
        f"{b_create * 1000:8.1f} ms  ratio {r_create / b_create:5.2f}"
    )
    net = b_create - b_start
    if net > 0:
        print(
            f"    (belenios-tool process start {b_start * 1000:.1f} ms; without it "
            f"{net * 1000:.1f} ms, ratio {r_create / net:5.2f})"
        )
    print()
    print("| measure | renda | belenios-tool | ratio |")
    print("|---|---|---|---|")
    for name, r, b in rows + cpu_rows:
        unit, k = ("ms", 1000.0) if name.startswith("create") else ("s", 1.0)
        print(f"| {name} | {r * k:.2f} {unit} | {b * k:.2f} {unit} | {r / b:.2f} |")
    return 0
