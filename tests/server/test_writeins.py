"""An election with write-ins (另选他人) end to end: shuffle, decryption, rules engine outcome."""

from __future__ import annotations

import json
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from tally import messages as m
from tally.election_ballot import ElectionBallot, ElectionLayout, Mark, encode_ballot, question_json
from tests.server.helpers import Session, connect_kiosks, open_poll, session, wait_state

Y, N = Mark.FOR, Mark.AGAINST
LAYOUT = ElectionLayout(("甲", "乙", "丙"), seats=2, roster_max=255)
TEMPLATE = {
    "description": "选举人大副主席（可另选他人）",
    "name": "人大副主席",
    "questions": [question_json(LAYOUT, "人大副主席")],
}
RULES = {
    "id": "vice-chair",
    "kind": "election",
    "title": "选举镇人大副主席",
    "post": "人大副主席",
    "post_type": "deputy",
    "organ": "township_congress",
    "seats": 2,
    "candidates": [{"id": "A", "name": "甲"}, {"id": "B", "name": "乙"}, {"id": "C", "name": "丙"}],
}


def vote(marks: tuple[Mark, ...], *write_ins: int) -> list[int]:
    slots = (*write_ins, *([None] * (2 - len(write_ins))))
    return encode_ballot(LAYOUT, ElectionBallot(marks, slots))


BALLOTS = [
    vote((Y, N, N), 4),
    vote((Y, N, N), 4),
    vote((Y, N, N), 4),
    vote((Y, N, N), 4),
    vote((Y, Y, N), 4),  # 3 choices for 2 seats: void (overvote), still counted as returned
    [7, 1, 1, 0, 0],  # an unknown mark code: void (malformed)
]


def tally_write_in_election(s: Session, stack: ExitStack) -> tuple[str, dict[str, Any]]:
    """Connects a kiosk per deputy, casts BALLOTS in the write-in election, closes it and waits
    for its tally; the poll id and the tallied poll."""
    kiosks = connect_kiosks(s, stack)
    body = {"title": "选举", "kind": "election", "template": TEMPLATE, "rules": RULES}
    pid = open_poll(s, kiosks, body)
    for k, v in zip(kiosks, BALLOTS, strict=True):
        assert isinstance(k.cast(pid, k.ballot(pid, [v])), m.Ack)
    s.post(f"/api/polls/{pid}/close")
    return pid, wait_state(s, pid, "tallied", tries=2000)


def test_write_in_election_gets_an_outcome_and_a_count_report(
    tmp_path: Path, db: dict[str, Any]
) -> None:
    with session(tmp_path / "s", n=6, **db) as s, ExitStack() as stack:
        _pid, done = tally_write_in_election(s, stack)
    outcome: dict[str, Any] = done["outcome"]
    assert "error" not in outcome, outcome
    assert sorted(map(tuple, done["result"]["result"][0])) == sorted(map(tuple, BALLOTS))
    assert outcome["returned"] == 6
    assert outcome["valid_ballots"] == 4 and outcome["void_ballots"] == 2
    items = {i["id"]: i for i in outcome["items"]}
    assert items["A"]["yes"] == 4 and items["A"]["status"] == "elected"
    assert items["B"]["yes"] == 0 and items["B"]["status"] == "not_elected"
    # the write-in, roster number 4 = seat 004, resolved to the deputy's name
    assert items["4"]["yes"] == 4 and items["4"]["write_in"] is True
    assert items["4"]["name"] == "代表4" and items["4"]["status"] == "elected"
    report = outcome["report"]
    assert report["void"] == 2 and report["valid"] == 4
    assert dict(map(tuple, outcome["void_reasons"])) == {"malformed": 1, "overvote": 1}
    assert any("代表4" in json.dumps(row, ensure_ascii=False) for row in report["rows"])


def test_tie_with_a_written_in_deputy_gives_a_write_in_revote() -> None:
    """甲, 乙 and the written-in 代表4 tie (4 votes each of 6) for 2 seats: the re-vote is a
    write-in ballot listing the three, 代表4 by name, for the 2 seats."""
    from voting.models import Poll
    from voting.session.outcome import outcome_for, roster_numbers

    ballots = [vote((Y, Y, N))] * 2 + [vote((Y, N, N), 4)] * 2 + [vote((N, Y, N), 4)] * 2
    counts = {"total": 6, "present": 6, "issued": 6, "received": 6, "result": [ballots]}
    poll = Poll(id="p1", template=json.dumps(TEMPLATE, ensure_ascii=False))
    roster = roster_numbers({f"{i:03d}": f"代表{i}" for i in range(1, 7)})
    outcome = outcome_for(RULES, poll, counts, roster)
    assert {i["id"]: i["status"] for i in outcome["items"]} == {
        "A": "tied",
        "B": "tied",
        "C": "not_elected",
        "4": "tied",
    }
    (follow,) = outcome["followups"]
    assert follow["relation"] == "tie_revote"
    question = follow["template"]["questions"][0]
    assert question["value"]["answers"][:3] == ["甲", "乙", "代表4"]
    assert question["extra"]["seats"] == 2
    assert [c["id"] for c in follow["rules"]["candidates"]] == ["A", "B", "4"]
    # the re-vote's own ballots are read with the re-vote's rules and layout
    revote = Poll(id="p2", template=json.dumps(follow["template"], ensure_ascii=False))
    again = [[1, 1, 2, 0, 0], [1, 2, 1, 0, 0], [1, 2, 2, 0, 0]] * 2
    result = {"total": 6, "present": 6, "issued": 6, "received": 6, "result": [again]}
    second = outcome_for(follow["rules"], revote, result, roster)
    assert {i["id"]: i["status"] for i in second["items"]}["A"] == "elected"
