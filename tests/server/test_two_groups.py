"""A session holds polls of two groups (issue 13, DESIGN §2.2, tally.session_groups).

Motions in the homomorphic group (BELENIOS-2048), a poll with a non-homomorphic question (the
election ballot, write-ins) in the election group (RFC-3526-2048). One ceremony sitting makes
the scrutineers' key in both; each poll is encrypted to its own group's trustees, shuffled and
decrypted there by the same scrutineers (the same trustee ids in both groups, so that none of
them drops off at decryption). A poll whose group has no key yet is refused at opening.
"""

from __future__ import annotations

import json
import sqlite3
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest

from tally import messages as m
from tests.server.helpers import (
    Kiosk,
    add_scrutineers,
    checked_in,
    connect_kiosks,
    open_motion,
    open_poll,
    run_ceremony,
    scrutineer_config,
    wait_state,
)
from tests.server.helpers import Session as TSession
from tests.server.test_scrutineers import NH_TEMPLATE, Scrutineer, belenios_verify
from voting.config import ServerConfig, read_tokens

# a non-homomorphic poll (kind "other": an election proper needs the election ballot and rules)
NH_POLL = {"title": "逐张计票", "kind": "other", "template": NH_TEMPLATE}


def _ceremony_groups(scrs: list[Scrutineer]) -> list[str]:
    """The groups of the step-1 requests the first scrutineer received, in order."""
    return [r.group for r in scrs[0].requests if isinstance(r, m.CeremonyRequest) and r.step == 1]


def _vote_and_tally(s: Any, kiosks: list[Any], pid: str, votes: list[Any]) -> dict[str, Any]:
    for k, v in zip(kiosks, votes, strict=True):
        assert isinstance(k.cast(pid, k.ballot(pid, v)), m.Ack)
    s.post(f"/api/polls/{pid}/close", role="chair")
    return wait_state(s, pid, "tallied", tries=3000)


@pytest.mark.belenios
@pytest.mark.slow
def test_a_motion_and_an_election_each_in_its_group(tmp_path: Path, belenios_tool: str) -> None:
    from fastapi.testclient import TestClient

    from tally.archive import read_archive
    from tally.verify import verify_archive
    from voting.api.app import create_app

    data = tmp_path / "s"
    app = create_app(scrutineer_config(data, "BELENIOS-2048"))
    with TestClient(app) as client, ExitStack() as stack:
        s = checked_in(client, data, 3)
        # scrutineer 2 sends wrong partial decryptions (refused); 1 and 3 make k = 2
        _, scrs = add_scrutineers(s, 3, lambda i, t: Scrutineer(client, t, bad=i == 1), stack)
        state = run_ceremony(s, 2)
        assert state["state"] == "done", state
        assert state["groups"] == ["BELENIOS-2048", "RFC-3526-2048"]
        assert _ceremony_groups(scrs) == ["BELENIOS-2048", "RFC-3526-2048"]  # one sitting
        for sc in scrs:  # each scrutineer made a key in each group
            assert set(sc.keys) == {"BELENIOS-2048", "RFC-3526-2048"}
        kiosks = connect_kiosks(s, stack)
        motion = open_motion(s, kiosks)
        election = open_poll(s, kiosks, NH_POLL)
        polls = {pid: s.get(f"/api/polls/{pid}") for pid in (motion, election)}
        assert polls[motion]["group"] == "BELENIOS-2048"
        assert polls[election]["group"] == "RFC-3526-2048"
        motion_votes = [[[0, 1, 0, 0]], [[0, 0, 1, 0]], [[0, 1, 0, 0]]]
        result = _vote_and_tally(s, kiosks, motion, motion_votes)["result"]
        assert result == {"result": [[0, 2, 1, 0]]}
        ballots = _vote_and_tally(s, kiosks, election, [[[1, 0, 2]], [[0, 1, 0]], [[1, 0, 2]]])
        assert sorted(map(tuple, ballots["result"]["result"][0])) == [
            (0, 1, 0),
            (1, 0, 2),
            (1, 0, 2),
        ]
        # the same scrutineers shuffled and decrypted the election as the motion
        answered = [sc for sc in scrs if any(isinstance(r, m.ShuffleRequest) for r in sc.requests)]
        assert len(answered) >= 2
        assert [e.code for e in scrs[1].errors] == [m.ErrorCode.INVALID_DECRYPTION] * 2
        record = s.get("/api/record")["session"]
    # two groups, two sets of trustees, each poll encrypted to its own
    assert record["group"] == "BELENIOS-2048" and record["election_group"] == "RFC-3526-2048"
    assert record["trustees"] != record["election_trustees"]
    for pid, group in ((motion, "BELENIOS-2048"), (election, "RFC-3526-2048")):
        archive = data / "archives" / f"{pid}.bel"
        assert verify_archive(archive, workers=1).ok
        out = belenios_verify(belenios_tool, archive, tmp_path / f"v-{pid}" / "x.bel")
        assert out.returncode == 0, out.stderr + out.stdout
        election_raw = read_archive(archive).setup()[1]
        assert json.loads(election_raw)["group"] == group


def test_a_poll_in_a_group_without_a_key_is_refused(tmp_path: Path) -> None:
    """A session started before it had two groups (one group in its settings, its ceremony
    done there) restarted with an election group: motions open; an election is refused at
    opening (``no_ceremony``, naming the group) until a ceremony makes the key of that group
    only; then it opens, and is shuffled and decrypted there."""
    from fastapi.testclient import TestClient

    from voting.api.app import create_app
    from voting.session.context import SessionContext
    from voting.session.errors import ActionError

    data = tmp_path / "s"
    one = ServerConfig(**{**scrutineer_config(data).__dict__, "election_group": "RENDA-TEST-256"})
    with TestClient(create_app(one)) as client, ExitStack() as stack:
        s = checked_in(client, data, 3)
        kiosks = [Kiosk(s, d["enrolment_code"]) for d in s.deputies]  # enrolled tablets
        tokens, _scrs = add_scrutineers(s, 3, lambda _i, t: Scrutineer(client, t), stack)
        assert run_ceremony(s, 2)["state"] == "done"
    with sqlite3.connect(data / "session.db") as db:  # as a folder of an older version
        db.execute("DELETE FROM meta WHERE key = 'election_group'")
    two = ServerConfig(**{**one.__dict__, "election_group": "RFC-3526-2048"})
    with TestClient(create_app(two)) as client, ExitStack() as stack:
        s = TSession(client, data, read_tokens(data))
        scrs = [Scrutineer(client, t) for t in tokens]
        for sc in scrs:
            assert sc.ready.wait(30)
            stack.callback(sc.close)
        for k in kiosks:  # the same tablets, reconnecting to the restarted server
            k.s = s
            stack.enter_context(k.connect())
        motion = open_motion(s, kiosks)  # the homomorphic group has its key
        assert s.get(f"/api/polls/{motion}")["group"] == "RENDA-TEST-256"
        pid = s.post("/api/polls", NH_POLL)["poll_id"]
        r = client.post(f"/api/polls/{pid}/open", headers=s.h())
        assert r.status_code == 409, r.text
        assert r.json()["detail"]["code"] == "no_ceremony"
        assert "RFC-3526-2048" in r.json()["detail"]["message"]
        assert s.get(f"/api/polls/{pid}")["state"] == "draft"
        assert s.get("/api/ceremony")["missing"] == ["RFC-3526-2048"]
        # a new ceremony makes the missing group's key, and only that one, with the same k
        r = client.post("/api/ceremony", json={"threshold": 1}, headers=s.h())
        assert r.status_code == 422 and "2 of 3" in r.text, r.text
        assert run_ceremony(s, 2)["state"] == "done"
        assert _ceremony_groups(scrs) == ["RFC-3526-2048"]
        state = s.get("/api/ceremony")
        assert state["groups"] == ["RFC-3526-2048"] and state["missing"] == []
        r = client.post("/api/ceremony", json={"threshold": 2}, headers=s.h())
        assert r.status_code == 409  # every group has its key now
        s.post(f"/api/polls/{pid}/open")
        for k in kiosks:
            k.answer_request(k.recv_until(m.CredentialRequest))
        for k in kiosks:
            k.ready(pid)
        assert s.get(f"/api/polls/{pid}")["group"] == "RFC-3526-2048"
        tallied = _vote_and_tally(s, kiosks, pid, [[[1, 0, 2]], [[0, 1, 0]], [[1, 0, 2]]])
        assert len(tallied["result"]["result"][0]) == 3
    # the session now has two groups: a restart with another election group is refused
    other = ServerConfig(**{**one.__dict__, "election_group": "RENDA-TEST-256"})
    with pytest.raises(ActionError, match="election group RFC-3526-2048"):
        SessionContext(other)
