"""The demo's staged session keeps its promises for every size it accepts (no server)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from voting.demo import plan as p


@given(st.integers(9, 700))
def test_staged_outcomes(n: int) -> None:
    att = p.attendance(n)
    present = att.present(n)
    voters = len(present)
    assert voters * 3 >= n * 2  # quorum
    assert att.absent and (att.on_leave or n < 20)

    motion = Counter(p.motion_choices(voters, n))
    assert motion[p.YES] * 2 > n and motion[p.SKIP] == 1
    assert sum(motion.values()) == voters

    projects = p.project_choices(voters)
    assert all(len(b) == p.PROJECTS_SELECT and len(set(b)) == len(b) for b in projects)
    counts = Counter(x for b in projects for x in b)
    ranked = sorted(p.PROJECTS, key=lambda x: -counts[x])
    assert counts[ranked[p.PROJECTS_SELECT - 1]] > counts[ranked[p.PROJECTS_SELECT]]

    ballots = p.election_choices(voters, n)
    assert all(sum(v == p.YES for v in b.values()) + len(b.get(p.WRITE_IN, [])) <= p.SEATS
               for b in ballots)  # fmt: skip
    written = [b for b in ballots if b.get(p.WRITE_IN)]
    assert len(written) == (0 if n == 10 else 1)  # 10: 8 + 7 + 6 + 6 赞成 fill every place
    assert all(p.NO in b.values() for b in written)  # the pairing rule: with a 反对
    yes = [sum(b[c] == p.YES for b in ballots) for c in p.CANDIDATES]
    assert yes[0] > yes[1] > yes[2] == yes[3]  # a tie across the last seat
    assert yes[2] * 2 > n  # both tied candidates have a majority

    tied = list(p.CANDIDATES[2:])
    revote = p.revote_choices(voters, n, tied)
    assert all(sum(v == p.YES for v in b.values()) <= 1 for b in revote)
    r = [sum(b[c] == p.YES for b in revote) for c in tied]
    assert r[0] * 2 > n and r[0] > r[1]


def test_roster_names_are_distinct() -> None:
    names = [d.name for d in p.roster(700)]
    assert len(set(names)) == 700
    assert p.roster_csv(p.roster(2)).splitlines()[0] == "name,delegation,seat"


def test_too_few_deputies_are_refused() -> None:
    with pytest.raises(ValueError):
        p.attendance(8)


def test_record_folder_is_never_someone_elses(tmp_path: Path) -> None:
    from voting.demo.town import DemoError, prepare_out

    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "thesis.txt").write_text("keep me")
    with pytest.raises(DemoError, match="not empty"):
        prepare_out(mine)
    assert (mine / "thesis.txt").exists()
    out = tmp_path / "record"
    prepare_out(out)
    (out / "01-motion-p1").mkdir()
    prepare_out(out)  # an earlier demo's record is replaced
    assert not (out / "01-motion-p1").exists()


@settings(max_examples=40, deadline=None)
@given(st.integers(9, 300))
def test_the_rules_engine_counts_the_staged_election(n: int) -> None:
    """The plan's ballots, encoded as the kiosk encodes them on the demo's election ballot and
    counted by the pipeline the server runs: what the demo expects (2 elected, a tie of 2, the
    write-in credited to the deputy written in, no void ballot)."""
    from types import SimpleNamespace

    from kiosk.choices import election_plaintext
    from tally.poll_outcome import evaluate_poll
    from voting.demo.town import election_rules

    voters = len(p.attendance(n).present(n))
    template = p.election_template(p.ELECTION_TITLE, p.CANDIDATES, n)
    q = template["questions"][0]
    question = SimpleNamespace(question=p.POST, answers=q["value"]["answers"], extra=q["extra"])
    vectors = [election_plaintext(question, b) for b in p.election_choices(voters, n)]
    counts = {"total": n, "present": voters, "issued": voters, "received": voters,
              "result": [vectors]}  # fmt: skip
    roster = {d.seat: d.name for d in p.roster(n)}
    out = evaluate_poll(election_rules(), template, counts, roster)
    assert out["void_ballots"] == 0 and out["valid_ballots"] == voters
    status = Counter(i["status"] for i in out["items"] if not i.get("write_in"))
    assert status == Counter({"elected": p.SEATS - 1, "tied": 2})
    written = [i for i in out["items"] if i.get("write_in")]
    if n != 10:
        assert [(i["id"], i["yes"]) for i in written] == [(str(p.WRITE_IN_SEAT), 1)]
    assert [f["relation"] for f in out["followups"]] == ["tie_revote"]
