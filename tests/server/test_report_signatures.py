"""The scrutineers sign the count report (计票结果报告单): 3 scrutineers, k = 2."""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest

from keys.group import group_by_name
from keys.pki import derive_sk
from tally import messages as m
from tally.archive import parse_archive
from tally.errors import RecordError
from tally.report_signatures import (
    check_report_signatures,
    parse_report_text,
    report_text,
    sign_report,
)
from tests.server.helpers import Session as TSession
from tests.server.helpers import (
    add_scrutineers,
    checked_in,
    connect_kiosks,
    mid,
    open_motion,
    run_ceremony,
    scrutineer_config,
    wait_state,
)
from tests.server.test_scrutineers import Scrutineer as FakeScrutineer
from voting.cli_trustee import GroupShare, KeyFile, TrusteeError
from voting.cli_trustee import Scrutineer as TrusteeClient

GROUP = "RENDA-TEST-256"


class _Response:
    def __init__(self, content: bytes) -> None:
        self.content = content


def _client_for(s: TSession, token: str, sc: FakeScrutineer, tmp: Path) -> TrusteeClient:
    """The real `renda trustee` client's signing logic, reading the record through the test
    client instead of HTTP."""
    trustees = s.get("/api/ceremony")["trustees"]
    seed, dkey = sc.keys[GROUP]
    share = GroupShare(seed=seed, dkey=dkey, trustees=trustees)
    kf = KeyFile(server="http://testserver", token=token, shares={GROUP: share})
    client = TrusteeClient(tmp / f"{token[:8]}.json", kf)
    client.session = s.get("/api/session")["session"]

    def fetch(poll_id: str, uuid: str) -> _Response:
        r = s.client.get(f"/record/polls/{poll_id}/{uuid}.bel")
        assert r.status_code == 200
        return _Response(r.content)

    client._fetch_record = fetch  # type: ignore[method-assign]
    return client


def _report_request(ws: Any) -> m.ReportRequest:
    while True:
        msg = m.parse_server_message(ws.receive_text())
        if isinstance(msg, m.ReportRequest):
            return msg


def _reply(ws: Any, msg_id: str) -> Any:
    """The server's error for ``msg_id``, or None once a ping shows it was accepted."""
    ws.send_text(m.dump(m.Ping(id="after-" + msg_id)))
    while True:
        msg = m.parse_server_message(ws.receive_text())
        if isinstance(msg, m.Error) and msg.reply_to == msg_id:
            return msg
        if isinstance(msg, m.Pong) and msg.reply_to == "after-" + msg_id:
            return None


def test_scrutineers_sign_the_count_report(tmp_path: Path, db: dict[str, Any]) -> None:
    from fastapi.testclient import TestClient

    from voting.api.app import create_app

    data = tmp_path / "s"
    config = scrutineer_config(data, GROUP, **db)
    group = group_by_name(GROUP, allow_test=True)
    with TestClient(create_app(config)) as client, ExitStack() as stack:
        s = checked_in(client, data, 3)
        tokens, scrs = add_scrutineers(s, 3, lambda _, t: FakeScrutineer(client, t), stack)
        state = run_ceremony(s, 2)
        assert state["state"] == "done", state
        kiosks = connect_kiosks(s, stack)
        pid = open_motion(s, kiosks)
        for k, v in zip(kiosks, [[[0, 1, 0, 0]], [[0, 0, 1, 0]], [[0, 1, 0, 0]]], strict=True):
            assert isinstance(k.cast(pid, k.ballot(pid, v)), m.Ack)
        s.post(f"/api/polls/{pid}/close", role="chair")
        poll = wait_state(s, pid, "tallied", tries=2000)
        # published at once: publication does not wait for the signatures
        poll = s.post(f"/api/polls/{pid}/publish", role="chair")
        report = poll["report"]
        assert report["signatures"] == [] and report["needed"] == 2
        assert report["complete"] is False
        parsed = parse_report_text(report["text"])
        assert parsed["counts"]["result"] == [[0, 2, 1, 0]]
        assert parsed["poll_id"] == pid

        for i in (0, 2, 1):  # scrutineers 1 and 3 sign; 2 is asked to sign a forged report
            with client.websocket_connect("/ws/trustee") as ws:
                ws.send_text(m.dump(m.Auth(id=mid(), token=tokens[i])))
                assert isinstance(m.parse_server_message(ws.receive_text()), m.Authenticated)
                req = _report_request(ws)  # sent on connection: this one has not signed
                assert req.poll_id == pid and req.trustee_id == i + 2
                assert req.report == report["text"]
                trustee = _client_for(s, tokens[i], scrs[i], tmp_path)
                if i == 1:
                    forged = dict(parsed, counts={**parsed["counts"], "result": [[0, 3, 0, 0]]})
                    bad = req.model_copy(update={"report": report_text(forged)})
                    with pytest.raises(TrusteeError, match="differ from the Belenios result"):
                        trustee.sign_report(bad)
                    other = req.model_copy(update={"poll_id": "other"})
                    with pytest.raises(TrusteeError, match="another poll"):
                        trustee.sign_report(other)
                    # a signature by a key that is not its certificate's: refused, not stored
                    wrong = sign_report(group, derive_sk(scrs[0].keys[GROUP][0]), req.report)
                    ws.send_text(
                        m.dump(
                            m.ReportSignature(
                                id="forged", poll_id=pid, trustee_id=i + 2, signature=wrong
                            )
                        )
                    )
                    err = _reply(ws, "forged")
                    assert err is not None and err.code == m.ErrorCode.INVALID_REPORT_SIGNATURE
                    # nor may a scrutineer sign in another's name
                    ws.send_text(
                        m.dump(
                            m.ReportSignature(
                                id="other", poll_id=pid, trustee_id=2, signature=wrong
                            )
                        )
                    )
                    err = _reply(ws, "other")
                    assert err is not None and err.code == m.ErrorCode.FORBIDDEN
                    continue
                signature = trustee.sign_report(req)
                ws.send_text(
                    m.dump(
                        m.ReportSignature(
                            id="sig", poll_id=pid, trustee_id=req.trustee_id, signature=signature
                        )
                    )
                )
                assert _reply(ws, "sig") is None

        poll = s.get(f"/api/polls/{pid}")
        report = poll["report"]
        assert [x["trustee_id"] for x in report["signatures"]] == [2, 4]
        assert report["complete"] is True
        # an auditor: the signatures check against the trustees of the poll's archive
        blob = client.get(f"/record/polls/{pid}/{poll['uuid']}.bel").content
        _setup, _election, trustees_raw, _creds = parse_archive(blob, "record").setup()
        assert check_report_signatures(
            group, trustees_raw, report["text"], report["signatures"]
        ) == ([2, 4], 2)
        index = client.get("/record/index.json").json()
        published = next(p for p in index["polls"] if p["poll_id"] == pid)
        assert published["report"] == report
        # a report changed after signing, or a signature moved to another signer: refused
        changed = report["text"].replace('"received":3', '"received":4')
        assert changed != report["text"]
        with pytest.raises(RecordError, match="trustee 2"):
            check_report_signatures(group, trustees_raw, changed, report["signatures"])
        swapped = [{"trustee_id": 3, "signature": report["signatures"][0]["signature"]}]
        with pytest.raises(RecordError, match="trustee 3"):
            check_report_signatures(group, trustees_raw, report["text"], swapped)
        twice = [report["signatures"][0], report["signatures"][0]]
        with pytest.raises(RecordError, match="twice"):
            check_report_signatures(group, trustees_raw, report["text"], twice)
        # the server's own key (trustee 1, Single) is not a scrutineer
        with pytest.raises(RecordError, match="not a scrutineer"):
            check_report_signatures(
                group, trustees_raw, report["text"], [dict(swapped[0], trustee_id=1)]
            )
