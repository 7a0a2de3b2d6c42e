"""tally.box: the trackers of an archive's ballots, which one counts, finding one by its start."""

from __future__ import annotations

from pathlib import Path

from keys.hashing import hjson
from tally.archive import read_archive
from tally.box import box_entries, find_tracker, tracker_hex
from tally.tracker import group_tracker, ungroup_tracker
from tests.record.builder import build

Y = [[1, 0, 0], [0, 1, 0, 0]]
N = [[0, 1, 0], [0, 0, 1, 0]]


def test_trackers_in_order_and_a_replaced_ballot(tmp_path: Path) -> None:
    built = build(tmp_path, [Y, N, Y], revotes=[(1, Y)])
    archive = read_archive(built.path)
    raws = [raw for _e, raw in archive.ballots()]
    entries = box_entries(archive)
    assert [e.tracker for e in entries] == [hjson(r) for r in raws]
    assert [e.position for e in entries] == [1, 2, 3, 4]
    # voter 1's first ballot (#2) was replaced by the revote (#4)
    assert [e.counted for e in entries] == [True, False, True, True]
    assert all(len(e.tracker) == 43 for e in entries)
    import hashlib

    assert tracker_hex(entries[0].tracker) == hashlib.sha256(raws[0].encode()).hexdigest()


def test_find_by_the_first_groups(tmp_path: Path) -> None:
    built = build(tmp_path, [Y, N])
    entries = box_entries(read_archive(built.path))
    tracker = entries[1].tracker
    grouped = group_tracker(tracker)
    first_three = " ".join(grouped.split(" ")[:3])
    assert find_tracker(entries, ungroup_tracker(first_three)) == [entries[1]]
    assert find_tracker(entries, ungroup_tracker(grouped)) == [entries[1]]
    assert find_tracker(entries, "") == []
    assert find_tracker(entries, tracker + "A") == []


def test_renda_verify_prints_the_trackers_grouped(tmp_path: Path) -> None:
    import subprocess
    import sys

    built = build(tmp_path, [Y, N, Y], revotes=[(1, Y)])
    entries = box_entries(read_archive(built.path))
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "voting.cli",
            "verify",
            str(built.path),
            "--test-group",
            "--trackers",
            "--workers",
            "1",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "4 ballot(s), 3 counted" in out.stdout
    for e in entries:
        line = next(x for x in out.stdout.splitlines() if group_tracker(e.tracker) in x)
        assert line.split()[0] == str(e.position)
        assert ("replaced" in line) is (not e.counted)
        assert line.split()[12] == tracker_hex(e.tracker)
