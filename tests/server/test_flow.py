from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path
from typing import Any

from tally import messages as m
from tally import statements as st
from tally.election_ballot import ElectionLayout, question_json
from tests.server.helpers import connect_kiosks, open_motion, session, wait_state


def test_motion_session_end_to_end(tmp_path: Path, db: dict[str, Any]) -> None:
    with session(tmp_path / "s", n=3, **db) as s, ExitStack() as stack:
        kiosks = connect_kiosks(s, stack)
        pid = open_motion(s, kiosks)
        choices = [[[0, 1, 0, 0]], [[0, 1, 0, 0]], [[0, 0, 1, 0]]]
        for k, c in zip(kiosks, choices, strict=True):
            ack = k.cast(pid, k.ballot(pid, c))
            assert isinstance(ack, m.Ack), ack
            st.verify_statement(ack.receipt, expected_signer=k.server_key, kind="receipt")
        assert s.get(f"/api/polls/{pid}")["received"] == 3
        s.post(f"/api/polls/{pid}/close", role="chair")
        poll = wait_state(s, pid, "tallied")
        assert poll["result"] == {"result": [[0, 2, 1, 0]]}
        s.post(f"/api/polls/{pid}/publish", role="chair")
        res = kiosks[0].recv_until(m.ResultMsg)
        st.verify_statement(res.statement, expected_signer=kiosks[0].server_key, kind="result")


ELECTION = {  # the 人大 election ballot (docs/ballots.md), write-ins by seat up to 5
    "description": "选举副镇长",
    "name": "副镇长选举",
    "questions": [question_json(ElectionLayout(("甲", "乙", "丙"), 2, 5), "副镇长")],
}
ELECTION_RULES = {
    "id": "vice",
    "kind": "election",
    "title": "副镇长选举",
    "post": "副镇长",
    "post_type": "deputy",
    "organ": "government",
    "seats": 2,
    "candidates": [
        {"id": "C1", "name": "甲"},
        {"id": "C2", "name": "乙"},
        {"id": "C3", "name": "丙"},
    ],
}


def test_rules_outcome_and_tie_revote(tmp_path: Path, db: dict[str, Any]) -> None:
    # 5 deputies, 2 seats, each ballot 2 赞成 (3 would be an overvote, 选举法 第四十四条):
    # 甲 4, 乙 and 丙 3 each (a majority of 5): tie across the last seat
    with session(tmp_path / "s", n=5, **db) as s, ExitStack() as stack:
        kiosks = connect_kiosks(s, stack)
        poll = s.post(
            "/api/polls",
            {
                "title": "副镇长选举",
                "kind": "election",
                "template": ELECTION,
                "rules": ELECTION_RULES,
            },
        )
        pid = poll["poll_id"]
        s.post(f"/api/polls/{pid}/open")
        for k in kiosks:
            k.answer_request(k.recv_until(m.CredentialRequest))
        for k in kiosks:
            k.ready(pid)
        Y, N = 1, 2  # marks; two empty write-in slots
        votes = [[Y, Y, N], [Y, Y, N], [Y, N, Y], [Y, N, Y], [N, Y, Y]]
        for k, v in zip(kiosks, votes, strict=True):
            assert isinstance(k.cast(pid, k.ballot(pid, [[*v, 0, 0]])), m.Ack)
        s.post(f"/api/polls/{pid}/close")
        done = wait_state(s, pid, "tallied")
        outcome = done["outcome"]
        assert "error" not in outcome, outcome
        assert outcome["verdict"] == "valid"
        elected = [i["id"] for i in outcome["items"] if i.get("status") == "elected"]
        assert elected == ["C1"]
        assert done["followups"], outcome
        follow = s.get(f"/api/polls/{done['followups'][0]}")
        assert follow["relation"] == "tie_revote" and follow["parent_id"] == pid
        (question,) = follow["template"]["questions"]  # the election ballot again
        assert question["value"]["answers"] == ["乙", "丙", "另选他人 1"]
        assert follow["state"] == "draft"
