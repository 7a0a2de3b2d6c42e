from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path
from typing import Any

from tally import messages as m
from tally import statements as st
from tests.server.helpers import Kiosk, open_motion, session, wait_state


def test_motion_session_end_to_end(tmp_path: Path, db: dict[str, Any]) -> None:
    with session(tmp_path / "s", n=3, **db) as s, ExitStack() as stack:
        kiosks = [Kiosk(s, d["enrolment_code"]) for d in s.deputies]
        for k in kiosks:
            stack.enter_context(k.connect())
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
