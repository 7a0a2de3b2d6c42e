"""Every stuck step says why: the tally names the scrutineers it waits for (and since when);
a shuffle request with no answer in time goes to the next scrutineer; a key ceremony the
server stopped in the middle of says ``failed`` and why."""

from __future__ import annotations

import dataclasses
import threading
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from tally import messages as m
from tally.archive import read_archive
from tests.server.helpers import (
    add_scrutineers,
    checked_in,
    connect_kiosks,
    mid,
    open_motion,
    open_poll,
    run_ceremony,
    scrutineer_config,
    wait_state,
)
from tests.server.test_scrutineers import Scrutineer
from tests.server.test_writeins import BALLOTS, RULES, TEMPLATE
from voting.api.app import create_app
from voting.config import read_tokens


def _wait_message(s: Any, pid: str, *words: str, tries: int = 600) -> str:
    message = ""
    for _ in range(tries):
        message = s.get(f"/api/polls/{pid}")["message"]
        if all(w in message for w in words):
            return message
        time.sleep(0.05)
    raise AssertionError(f"the poll's message is {message!r}, without {words}")


def test_tally_waiting_for_scrutineers_says_which_and_since_when(tmp_path: Path) -> None:
    data = tmp_path / "s"
    with TestClient(create_app(scrutineer_config(data))) as client, ExitStack() as stack:
        s = checked_in(client, data, 3)
        # scrutineer 1 decrypts, 2 and 3 do not answer: k = 2 is not reached
        _, scrs = add_scrutineers(s, 3, lambda i, t: Scrutineer(client, t, decrypt=i == 0))
        stack.callback(lambda: [sc.close() for sc in scrs[:2]])
        assert run_ceremony(s, 2)["state"] == "done"
        kiosks = connect_kiosks(s, stack)
        pid = open_motion(s, kiosks)
        for k in kiosks:
            assert isinstance(k.cast(pid, k.ballot(pid, [[0, 1, 0, 0]])), m.Ack)
        s.post(f"/api/polls/{pid}/close")
        message = _wait_message(s, pid, "partial decryptions", "1 of 2")
        assert "scrutineer 2 at" in message and "scrutineer 3 at" in message
        scrs[2].close()  # scrutineer 3 leaves: the message says so, and since when
        message = _wait_message(s, pid, "scrutineer 3 is not connected (since")
        assert s.get(f"/api/polls/{pid}")["state"] == "closed"


def test_shuffle_moves_on_from_a_hung_scrutineer(tmp_path: Path) -> None:
    data = tmp_path / "s"
    config = dataclasses.replace(scrutineer_config(data), scrutineer_timeout=1.0)
    with TestClient(create_app(config)) as client, ExitStack() as stack:
        s = checked_in(client, data, 6)
        # scrutineer 1 (asked first) never answers its shuffle request
        _, scrs = add_scrutineers(s, 3, lambda i, t: Scrutineer(client, t, shuffle=i != 0), stack)
        assert run_ceremony(s, 2)["state"] == "done"
        kiosks = connect_kiosks(s, stack)
        body = {"title": "选举", "kind": "election", "template": TEMPLATE, "rules": RULES}
        pid = open_poll(s, kiosks, body)
        for k, v in zip(kiosks, BALLOTS, strict=True):
            assert isinstance(k.cast(pid, k.ballot(pid, [v])), m.Ack)
        s.post(f"/api/polls/{pid}/close")
        done = wait_state(s, pid, "tallied", tries=3000)
        assert done["message"] == ""
        asked = [
            [r.trustee_id for r in sc.requests if isinstance(r, m.ShuffleRequest)] for sc in scrs
        ]
        assert asked[0] == [2]  # asked once, then passed over
        archive = read_archive(data / "archives" / f"{pid}.bel")
        owners = [o.owner for _e, o, _r in archive.owned_items("Shuffle")]
        assert owners == [1, 3, 4]  # the server, then scrutineers 2 and 3


def test_ceremony_interrupted_by_a_server_stop_says_failed(tmp_path: Path) -> None:
    data = tmp_path / "s"
    config = scrutineer_config(data)
    with TestClient(create_app(config)) as client, ExitStack() as stack:
        s = checked_in(client, data, 3)
        tokens = [s.post("/api/scrutineers", {"name": f"监票人{i}"})["token"] for i in range(2)]
        stop = threading.Event()

        def step_one(token: str) -> None:  # answers step 1, then holds the connection
            from keys.group import group_by_name
            from keys.threshold import generate_cert

            with client.websocket_connect("/ws/trustee") as ws:
                ws.send_text(m.dump(m.Auth(id=mid(), token=token)))
                m.parse_server_message(ws.receive_text())
                req = m.parse_server_message(ws.receive_text())
                assert isinstance(req, m.CeremonyRequest) and req.step == 1
                _seed, cert = generate_cert(group_by_name(req.group, allow_test=True))
                reply = m.CeremonyReply(
                    id=mid(), ceremony_id=req.ceremony_id, step=1, data=cert.serialize()
                )
                ws.send_text(m.dump(reply))
                stop.wait(30)

        threads = [threading.Thread(target=step_one, args=(t,), daemon=True) for t in tokens]
        for t in threads:
            t.start()
        for _ in range(200):
            r = client.post("/api/ceremony", json={"threshold": 2}, headers=s.h())
            if r.status_code == 200:
                break
            time.sleep(0.05)
        state: dict[str, Any] = {}
        for _ in range(400):
            state = s.get("/api/ceremony")
            if state["state"] == "step3":
                break
            time.sleep(0.05)
        assert state["state"] == "step3", state
        assert "waiting for scrutineer(s) 1, 2" in state["message"]
        stack.callback(stop.set)
        stop.set()
        for t in threads:
            t.join(10)
    # the server is gone mid-ceremony; a new one on the same folder says why it cannot finish
    with TestClient(create_app(config)) as client:
        staff = {"Authorization": f"Bearer {read_tokens(data)['secretariat']}"}
        state = client.get("/api/ceremony", headers=staff).json()
        assert state["state"] == "failed"
        assert "stopped during step3" in state["message"]
