"""Wrong roles, bad messages, replays, ineligible deputies and closed polls are refused."""

from __future__ import annotations

import json
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest

from tally import messages as m
from tests.server.helpers import Kiosk, connect_kiosks, mid, open_motion, session, wait_state

YES = [[0, 1, 0, 0]]
NO = [[0, 0, 1, 0]]


def test_roles_are_checked(tmp_path: Path, db: dict[str, Any]) -> None:
    with session(tmp_path / "s", n=3, **db) as s:
        c = s.client
        assert c.post("/api/roster", json={"csv": "x"}).status_code == 401
        bad = {"Authorization": "Bearer " + "x" * 40}
        assert c.get("/api/attendance", headers=bad).status_code == 401
        for role in ("chair", "display"):
            r = c.post(
                "/api/roster", json={"csv": "name,delegation,seat\na,b,c\n"}, headers=s.h(role)
            )
            assert r.status_code == 403 and r.json()["detail"]["code"] == "forbidden"
            r = c.post("/api/deputies/1/checkin", headers=s.h(role))
            assert r.status_code == 403
        r = c.post("/api/polls/p1/open", headers=s.h("display"))
        assert r.status_code == 403
        assert c.get("/api/attendance", headers=s.h("display")).status_code == 200
        assert c.get("/api/deputies", headers=s.h("display")).status_code == 403
        # a display token cannot act as a scrutineer
        with c.websocket_connect("/ws/trustee") as ws:
            ws.send_text(json.dumps({"type": "auth", "id": "a1", "token": s.tokens["display"]}))
            err = m.parse_server_message(ws.receive_text())
            assert isinstance(err, m.Error) and err.code == m.ErrorCode.FORBIDDEN
        # nothing changed
        assert len(s.get("/api/deputies")) == 3


def test_enrolment_code_is_single_use_and_never_read_back(
    tmp_path: Path, db: dict[str, Any]
) -> None:
    with session(tmp_path / "s", n=2, **db) as s:
        d = s.deputies[0]
        # the code was in the import's answer only: no list, no card shows it again
        assert all("enrolment_code" not in x for x in s.get("/api/deputies"))
        r = s.client.get(f"/api/deputies/{d['deputy_id']}/card.png", headers=s.h())
        assert r.status_code in (404, 405)
        # typed in lower case with spaces, as a person reads the card
        Kiosk(s, d["enrolment_code"].lower().replace("-", " "))
        r = s.client.post(
            "/api/enrol", json={"code": d["enrolment_code"], "device_public_key": "ab" * 32}
        )
        assert r.status_code == 409 and r.json()["detail"]["code"] == "code_used"
        r = s.client.post("/api/enrol", json={"code": "NOPE", "device_public_key": "ab" * 32})
        assert r.status_code == 404


def test_unknown_device_and_bad_signature(tmp_path: Path, db: dict[str, Any]) -> None:
    with session(tmp_path / "s", n=2, **db) as s:
        k = Kiosk(s, s.deputies[0]["enrolment_code"])
        with s.client.websocket_connect("/ws/kiosk") as ws:
            m.parse_server_message(ws.receive_text())
            ws.send_text(m.dump(m.Hello(id="h1", device_id="nobody", signature="00" * 64)))
            err = m.parse_server_message(ws.receive_text())
            assert isinstance(err, m.Error) and err.code == m.ErrorCode.UNKNOWN_DEVICE
        with s.client.websocket_connect("/ws/kiosk") as ws:
            m.parse_server_message(ws.receive_text())
            ws.send_text(m.dump(m.Hello(id="h1", device_id=k.device_id, signature="00" * 64)))
            err = m.parse_server_message(ws.receive_text())
            assert isinstance(err, m.Error) and err.code == m.ErrorCode.BAD_SIGNATURE


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ("{not json", m.ErrorCode.BAD_JSON),
        ("[1,2]", m.ErrorCode.BAD_JSON),
        ('{"type":"vote","id":"x1"}', m.ErrorCode.BAD_TYPE),
        ('{"type":"cast","id":"x1","poll_id":"p1","ballot":5}', m.ErrorCode.BAD_MESSAGE),
        (
            '{"type":"cast","id":"x1","poll_id":"p1","ballot":"{}","extra":1}',
            m.ErrorCode.BAD_MESSAGE,
        ),
        (
            '{"type":"cast","id":"x1","poll_id":"p1","ballot":"' + "a" * 300_000 + '"}',
            m.ErrorCode.TOO_LARGE,
        ),
        (
            '{"type":"cast","id":"x1","poll_id":"p1","ballot":"{\\"x\\":1}"}',
            m.ErrorCode.INVALID_BALLOT,
        ),
        ('{"type":"cast","id":"x1","poll_id":"p9","ballot":"{}"}', m.ErrorCode.POLL_NOT_FOUND),
    ],
)
def test_bad_messages_get_a_code_and_change_nothing(
    tmp_path: Path, db: dict[str, Any], frame: str, code: str
) -> None:
    with session(tmp_path / "s", n=2, **db) as s, ExitStack() as stack:
        kiosks = connect_kiosks(s, stack)
        pid = open_motion(s, kiosks)
        assert pid == "p1"
        k = kiosks[0]
        k.ws.send_text(frame)
        err = k.recv_until(m.Error)
        assert err.code == code, err
        # the connection still works and nothing was stored
        assert s.get(f"/api/polls/{pid}")["received"] == 0
        ack = k.cast(pid, k.ballot(pid, YES))
        assert isinstance(ack, m.Ack) and not ack.again
        other = kiosks[1].cast(pid, kiosks[1].ballot(pid, NO))  # other kiosks unaffected
        assert isinstance(other, m.Ack)
        assert s.get(f"/api/polls/{pid}")["received"] == 2


def test_invalid_proof_and_element_outside_group(tmp_path: Path, db: dict[str, Any]) -> None:
    with session(tmp_path / "s", n=2, **db) as s, ExitStack() as stack:
        kiosks = connect_kiosks(s, stack)
        pid = open_motion(s, kiosks)
        k = kiosks[0]
        good = json.loads(k.ballot(pid, YES))
        tampered = json.loads(json.dumps(good))
        ch = tampered["answers"][0]["choices"][1]
        ch["alpha"], ch["beta"] = ch["beta"], ch["alpha"]
        outside = json.loads(json.dumps(good))
        outside["answers"][0]["choices"][0]["alpha"] = "0"
        for bad in (tampered, outside):
            err = k.cast(pid, json.dumps(bad, separators=(",", ":")))
            assert isinstance(err, m.Error) and err.code == m.ErrorCode.INVALID_BALLOT, err
        assert s.get(f"/api/polls/{pid}")["received"] == 0


def test_resend_counted_once_and_first_press_valid(tmp_path: Path, db: dict[str, Any]) -> None:
    with session(tmp_path / "s", n=2, **db) as s, ExitStack() as stack:
        kiosks = connect_kiosks(s, stack)
        pid = open_motion(s, kiosks)
        k = kiosks[0]
        raw = k.ballot(pid, YES)
        first = k.cast(pid, raw)
        again = k.cast(pid, raw)
        assert isinstance(first, m.Ack) and isinstance(again, m.Ack)
        assert again.again and again.tracker == first.tracker
        assert again.receipt == first.receipt
        other = k.cast(pid, k.ballot(pid, NO))
        assert isinstance(other, m.Error) and other.code == m.ErrorCode.DUPLICATE
        assert s.get(f"/api/polls/{pid}")["received"] == 1
        s.post(f"/api/polls/{pid}/close")
        poll = wait_state(s, pid, "tallied")
        assert poll["result"] == {"result": [[0, 1, 0, 0]]}


def test_last_press_valid_replaces(tmp_path: Path, db: dict[str, Any]) -> None:
    with session(tmp_path / "s", n=2, **db) as s, ExitStack() as stack:
        kiosks = connect_kiosks(s, stack)
        pid = open_motion(s, kiosks, last_press_valid=True)
        k = kiosks[0]
        assert isinstance(k.cast(pid, k.ballot(pid, YES)), m.Ack)
        second = k.cast(pid, k.ballot(pid, NO))
        assert isinstance(second, m.Ack) and not second.again
        assert s.get(f"/api/polls/{pid}")["received"] == 1
        s.post(f"/api/polls/{pid}/close")
        assert wait_state(s, pid, "tallied")["result"] == {"result": [[0, 0, 1, 0]]}


def test_absent_deputy_gets_no_ballot_and_foreign_credential_refused(
    tmp_path: Path, db: dict[str, Any]
) -> None:
    # 3 deputies, 2 present (quorum 2*3 >= 3*2); the third is enrolled but absent
    with session(tmp_path / "s", n=3, present=2, **db) as s, ExitStack() as stack:
        kiosks = connect_kiosks(s, stack)
        pid = open_motion(s, kiosks[:2])
        absent = kiosks[2]
        from keys.credentials import generate_private_credential, public_credential
        from keys.group import TEST_256, to_str
        from tally import statements as st

        poll = s.get(f"/api/polls/{pid}")
        assert poll["issued"] == 2
        cred = generate_private_credential()
        pub = to_str(public_credential(TEST_256, poll["uuid"], cred))
        sig = st.sign(absent.key, st.credential_payload(pid, poll["uuid"], pub))
        absent.send(
            m.CredentialMsg(
                id=mid(), poll_id=pid, uuid=poll["uuid"], public_credential=pub, signature=sig
            )
        )
        err = absent.recv_until(m.Error)
        assert err.code == m.ErrorCode.POLL_NOT_OPEN  # collection ended; and not a voter anyway
        # a ballot made with a credential that is not in the list
        absent.elections[pid] = kiosks[0].elections[pid]
        err = absent.cast(pid, absent.ballot(pid, YES, cred=cred))
        assert isinstance(err, m.Error) and err.code == m.ErrorCode.WRONG_CREDENTIAL
        assert s.get(f"/api/polls/{pid}")["received"] == 0


def test_not_eligible_during_collection(tmp_path: Path, db: dict[str, Any]) -> None:
    with session(tmp_path / "s", n=3, present=2, **db) as s, ExitStack() as stack:
        kiosks = connect_kiosks(s, stack)
        from keys.credentials import generate_private_credential, public_credential
        from keys.group import TEST_256, to_str
        from tally import statements as st
        from tests.server.helpers import MOTION

        pid = s.post("/api/polls", {"title": "t", "kind": "motion", "template": MOTION})["poll_id"]
        s.post(f"/api/polls/{pid}/open")
        poll = s.get(f"/api/polls/{pid}")
        absent = kiosks[2]
        pub = to_str(public_credential(TEST_256, poll["uuid"], generate_private_credential()))
        sig = st.sign(absent.key, st.credential_payload(pid, poll["uuid"], pub))
        absent.send(
            m.CredentialMsg(
                id=mid(), poll_id=pid, uuid=poll["uuid"], public_credential=pub, signature=sig
            )
        )
        assert absent.recv_until(m.Error).code == m.ErrorCode.NOT_ELIGIBLE
        # a credential signed by another device's key
        sig2 = st.sign(absent.key, st.credential_payload(pid, poll["uuid"], pub))
        kiosks[0].send(
            m.CredentialMsg(
                id=mid(), poll_id=pid, uuid=poll["uuid"], public_credential=pub, signature=sig2
            )
        )
        assert kiosks[0].recv_until(m.Error).code == m.ErrorCode.BAD_SIGNATURE


def test_closed_poll_takes_no_ballot(tmp_path: Path, db: dict[str, Any]) -> None:
    with session(tmp_path / "s", n=2, **db) as s, ExitStack() as stack:
        kiosks = connect_kiosks(s, stack)
        pid = open_motion(s, kiosks)
        raw = kiosks[1].ballot(pid, NO)
        assert isinstance(kiosks[0].cast(pid, kiosks[0].ballot(pid, YES)), m.Ack)
        s.post(f"/api/polls/{pid}/close")
        err = kiosks[1].cast(pid, raw)
        assert isinstance(err, m.Error) and err.code == m.ErrorCode.POLL_NOT_OPEN
        poll = wait_state(s, pid, "tallied")
        assert poll["received"] == 1
        # guarded transitions
        r = s.client.post(f"/api/polls/{pid}/open", headers=s.h())
        assert r.status_code == 409 and r.json()["detail"]["code"] == "bad_state"
        r = s.client.post(f"/api/polls/{pid}/close", headers=s.h())
        assert r.status_code == 409


def test_wrong_poll(tmp_path: Path, db: dict[str, Any]) -> None:
    with session(tmp_path / "s", n=2, **db) as s, ExitStack() as stack:
        kiosks = connect_kiosks(s, stack)
        p1 = open_motion(s, kiosks)
        p2 = open_motion(s, kiosks)
        err = kiosks[0].cast(p2, kiosks[0].ballot(p1, YES))
        assert isinstance(err, m.Error) and err.code == m.ErrorCode.WRONG_POLL


def test_withdraw_void_and_rerun(tmp_path: Path, db: dict[str, Any]) -> None:
    with session(tmp_path / "s", n=2, **db) as s, ExitStack() as stack:
        kiosks = connect_kiosks(s, stack)
        pid = open_motion(s, kiosks)
        s.post(f"/api/polls/{pid}/withdraw")
        closed = kiosks[0].recv_until(m.PollClosed)
        assert closed.state == "withdrawn"
        new = s.post(f"/api/polls/{pid}/rerun")
        assert new["parent_id"] == pid and new["relation"] == "rerun" and new["state"] == "draft"
        assert s.get(f"/api/polls/{pid}")["followups"] == [new["poll_id"]]


def test_attendance_and_quorum(tmp_path: Path, db: dict[str, Any]) -> None:
    with session(tmp_path / "s", n=6, present=3, **db) as s:
        att = s.get("/api/attendance", role="display")
        assert att == {
            "total": 6,
            "expected": 6,
            "present": 3,
            "on_leave": 0,
            "absent": 3,
            "quorum": False,
        }
        s.post(f"/api/deputies/{s.deputies[5]['deputy_id']}/leave")
        att = s.post(f"/api/deputies/{s.deputies[4]['deputy_id']}/checkin")
        assert (
            att["present"] == 4 and att["on_leave"] == 1 and att["expected"] == 6 and att["quorum"]
        )
        pid = (
            s.post(
                "/api/polls",
                {"title": "t", "kind": "motion", "template": {"x": 1}},
            )
            if False
            else None
        )
        r = s.client.post(
            "/api/polls", json={"title": "t", "kind": "motion", "template": {"x": 1}}, headers=s.h()
        )
        assert r.status_code == 422 and r.json()["detail"]["code"] == "bad_template"
        del pid


def test_replacement_tablet_revokes_the_old_one(tmp_path: Path, db: dict[str, Any]) -> None:
    with session(tmp_path / "s", n=2, **db) as s:
        d = s.deputies[0]
        old = Kiosk(s, d["enrolment_code"])
        fresh = s.post(f"/api/deputies/{d['deputy_id']}/new_code")
        assert fresh["enrolment_code"] and fresh["enrolment_code"] != d["enrolment_code"]
        with s.client.websocket_connect("/ws/kiosk") as ws:
            from tally import statements as st

            ch = m.parse_server_message(ws.receive_text())
            sig = st.sign(old.key, st.hello_payload(old.device_id, ch.nonce))
            ws.send_text(m.dump(m.Hello(id="h1", device_id=old.device_id, signature=sig)))
            err = m.parse_server_message(ws.receive_text())
            assert isinstance(err, m.Error) and err.code == m.ErrorCode.UNKNOWN_DEVICE
        new = Kiosk(s, fresh["enrolment_code"])
        with new.connect():
            assert new.welcome.deputy.deputy_id == d["deputy_id"]


def test_oversized_http_body_refused(tmp_path: Path, db: dict[str, Any]) -> None:
    with session(tmp_path / "s", n=2, **db) as s:
        r = s.client.post("/api/roster", content=b"x" * (5 * 1024 * 1024), headers=s.h())
        assert r.status_code == 413 and r.json()["detail"]["code"] == "too_large"
        assert len(s.get("/api/deputies")) == 2
