"""A poll held by show of hands or on paper (tally.manual_count) through the HTTP API: the
figures entered, the rules engine's outcome, the scrutineers' signatures (the real trustee
tool's check), publication, and the record verified as a manual count."""

from __future__ import annotations

import asyncio
import json
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest

from keys.embedding import max_values
from keys.group import TEST_256
from tally import messages as m
from tally.manual_count import check_manual_report
from tally.poll_description import (
    ElectionDescription,
    MotionDescription,
    derive,
)
from tally.report_signatures import parse_report_text, report_text
from tally.rules.model import Organ, PostType
from tally.session_record import verify_session
from tests.server.helpers import Session as TSession
from tests.server.helpers import (
    add_scrutineers,
    checked_in,
    mid,
    run_ceremony,
    scrutineer_config,
)
from tests.server.test_report_signatures import GROUP, _client_for, _reply, _report_request
from tests.server.test_scrutineers import Scrutineer as FakeScrutineer
from voting.cli_trustee import TrusteeError
from voting.session.record import export_record

MANUAL = "polls counted by hand (举手表决 / 纸质选票)"


def _draft(s: TSession, desc: Any, entry_id: str) -> str:
    d = derive(
        desc,
        entry_id=entry_id,
        session_name=s.get("/api/session")["session"],
        roster_max=len(s.deputies),
        max_ints=max_values(TEST_256),  # the test server's election group
    )
    body = {"title": d.title, "kind": d.kind, "template": d.template, "rules": d.rules}
    return str(s.post("/api/polls", body)["poll_id"])


def _refused(s: TSession, pid: str, body: dict[str, Any]) -> dict[str, Any]:
    r = s.client.post(f"/api/polls/{pid}/manual", json=body, headers=s.h())
    assert r.status_code in (409, 422), r.text
    detail: dict[str, Any] = r.json()
    return detail


def _sign_all(s: TSession, client: Any, tokens: list[str], scrs: list[Any], tmp: Path) -> None:
    """Scrutineers 1 and 2 sign both count reports with the real trustee tool's checks."""
    for i, token in enumerate(tokens[:2]):
        with client.websocket_connect("/ws/trustee") as ws:
            ws.send_text(m.dump(m.Auth(id=mid(), token=token)))
            assert isinstance(m.parse_server_message(ws.receive_text()), m.Authenticated)
            trustee = _client_for(s, token, scrs[i], tmp)
            ceremony = s.get("/api/ceremony")  # the session's trustees, signed for the record
            done = m.CeremonyDone(
                id=mid(), ceremony_id=ceremony["ceremony_id"], trustees=ceremony["trustees"]
            )
            for signed in trustee.trustees_signatures(done):
                ws.send_text(m.dump(signed))
            for req in [_report_request(ws), _report_request(ws)]:
                parsed = parse_report_text(req.report)
                if i == 0 and parsed["counts"]["method"] == "show_of_hands":
                    # figures changed after the count: the outcome no longer follows
                    counts = dict(parsed["counts"], totals={"yes": 1, "no": 2, "abstain": 0})
                    forged = dict(parsed, counts=counts)
                    with pytest.raises(TrusteeError, match="outcome is not what the rules"):
                        trustee.sign_report(req.model_copy(update={"report": report_text(forged)}))
                    hands = dict(parsed, counts=dict(parsed["counts"], issued=2, received=2))
                    with pytest.raises(TrusteeError, match="every deputy present"):
                        trustee.sign_report(req.model_copy(update={"report": report_text(hands)}))
                signature = trustee.sign_report(req)
                ws.send_text(
                    m.dump(
                        m.ReportSignature(
                            id="sig",
                            poll_id=req.poll_id,
                            trustee_id=req.trustee_id,
                            signature=signature,
                        )
                    )
                )
                assert _reply(ws, "sig") is None


def test_show_of_hands_and_paper_polls_are_counted_signed_published_and_verified(
    tmp_path: Path, db: dict[str, Any]
) -> None:
    from fastapi.testclient import TestClient

    from voting.api.app import create_app

    data = tmp_path / "s"
    with TestClient(create_app(scrutineer_config(data, GROUP, **db))) as client, ExitStack() as st:
        s = checked_in(client, data, 4, present=3)
        tokens, scrs = add_scrutineers(s, 3, lambda _, t: FakeScrutineer(client, t), st)
        assert run_ceremony(s, 2)["state"] == "done"
        motion = _draft(s, MotionDescription("关于议程的决定"), "agenda")
        # wrong figures are refused in words, and change nothing
        err = _refused(
            s, motion, {"method": "show_of_hands", "totals": {"yes": 3, "no": 1, "abstain": 0}}
        )
        assert "多于" in json.dumps(err, ensure_ascii=False) or "不一致" in json.dumps(
            err, ensure_ascii=False
        ), err
        assert s.get(f"/api/polls/{motion}")["state"] == "draft"
        poll = s.post(
            f"/api/polls/{motion}/manual",
            {"method": "show_of_hands", "totals": {"yes": 3, "no": 0, "abstain": 0}},
        )
        assert poll["state"] == "tallied" and poll["uuid"] is None
        assert poll["counts"]["method"] == "show_of_hands"
        assert poll["counts"]["present"] == 3 and poll["counts"]["issued"] == 3
        assert poll["outcome"]["items"][0]["status"] == "passed"  # 3 of 4: 全体代表过半数
        assert poll["report"]["needed"] == 2 and poll["report"]["signatures"] == []
        # the hall screen's token sees no figure before publication
        hall = s.get(f"/api/polls/{motion}", role="display")
        assert hall["outcome"] is None and "totals" not in hall["counts"]
        # an election is a secret ballot: never by show of hands
        election = _draft(
            s,
            ElectionDescription(
                "选举镇长", "镇长", PostType.HEAD, Organ.GOVERNMENT, 1, ("甲", "乙")
            ),
            "mayor",
        )
        err = _refused(s, election, {"method": "show_of_hands", "totals": {}})
        assert "第二十八条" in json.dumps(err, ensure_ascii=False)
        paper = s.post(
            f"/api/polls/{election}/manual",
            {
                "method": "paper",
                "issued": 3,
                "received": 3,
                "void": 0,
                "totals": {"c1": {"yes": 3}, "c2": {"yes": 0, "no": 2}},
                "write_ins": {"004": 0},
            },
        )
        assert paper["counts"]["method"] == "paper"
        elected = [i["name"] for i in paper["outcome"]["items"] if i["status"] == "elected"]
        assert elected == ["甲"]
        name = s.get("/api/session")["session"]
        parsed = parse_report_text(paper["report"]["text"])
        assert check_manual_report(parsed, paper["rules"], session=name).value == "paper"
        # the presidium's screen shows the steps of a hand count, not of a tally
        from voting.session.display import View

        service = client.app.state.service  # type: ignore[attr-defined]
        state = asyncio.run(service.display.state(View.PRESIDIUM))
        assert (
            state["poll"]["poll_id"] == election and state["result"]["method_label"] == "纸质选票"
        )
        steps = state["process"]["steps"]
        assert [x["key"] for x in steps] == ["counted", "entered", "signed", "published"]
        assert steps[0]["label"] == "纸质选票：人工清点" and steps[2]["detail"] == "0 / 2"
        _sign_all(s, client, tokens, scrs, tmp_path)
        for pid in (motion, election):
            assert s.get(f"/api/polls/{pid}")["report"]["complete"] is True
            s.post(f"/api/polls/{pid}/publish", role="chair")
        # a second count of the same poll: refused
        assert _refused(s, motion, {"method": "show_of_hands", "totals": {}})
        record = asyncio.run(export_record(service, tmp_path / "record"))
    report = verify_session(record, allow_test_group=True, workers=1)
    assert report.ok, [(c.name, c.status, c.detail) for c in report.checks if c.status == "fail"]
    details = {c.name: (c.status, c.detail) for c in report.checks}
    assert details[MANUAL][0] == "pass" and "not verifiable cryptographically" in details[MANUAL][1]
    assert any("cannot be verified cryptographically" in w for w in report.warnings)
    assert not (record / "polls" / motion).exists()
    # a changed figure, a changed outcome, a poll that claims to be manual with an archive
    outcomes = json.loads((record / "outcomes.json").read_text("utf-8"))
    for change, words in (
        (lambda e: e["counts"].update(present=4), "statement's counts"),
        (lambda e: e["outcome"]["items"][0].update(status="not_passed"), "statement's outcome"),
        (lambda e: e["report"].update(signatures=e["report"]["signatures"][:1]), "only 1 of"),
    ):
        changed = json.loads(json.dumps(outcomes))
        entry = next(e for e in changed if e["poll_id"] == motion)
        change(entry)
        (record / "outcomes.json").write_text(json.dumps(changed, ensure_ascii=False), "utf-8")
        failed = verify_session(record, allow_test_group=True, workers=1, check_archives=False)
        assert not failed.ok
        bad = [c for c in failed.checks if c.status == "fail"]
        assert any(words in c.detail for c in bad), [(c.name, c.detail) for c in bad]
