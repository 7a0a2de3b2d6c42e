"""Batch check-in (POST /api/attendance/checkin): a delegation or a list of seats in one request,
one audit row per deputy, the displays told once; bad input refused in the documented error
shape, changing nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from tally import messages as m
from tests.server.helpers import MOTION, Kiosk, Session, session
from voting.models import AuditLog, Deputy


def _attendance(s: Session) -> dict[str, str]:
    service = s.client.app.state.service  # type: ignore[attr-defined]
    with service.ctx.Session() as db:
        return {d.seat: d.attendance for d in db.scalars(select(Deputy))}


def _audit(s: Session) -> list[tuple[str, str]]:
    service = s.client.app.state.service  # type: ignore[attr-defined]
    with service.ctx.Session() as db:
        rows = db.execute(
            select(AuditLog.action, AuditLog.detail)
            .where(AuditLog.action.like("attendance_%"))
            .order_by(AuditLog.id)
        ).all()
    return [(a, d) for a, d in rows]


def test_a_delegation_and_a_list_of_seats(tmp_path: Path, db: dict[str, Any]) -> None:
    # 9 deputies, none checked in; delegations 第0/第1/第2代表团 (seat i: 第{i % 3})
    with session(tmp_path / "s", n=9, present=0, **db) as s:
        ids = {d["seat"]: d["deputy_id"] for d in s.deputies}
        s.post(f"/api/deputies/{ids['003']}/leave")  # 请假: a batch checks them in too
        out = s.post("/api/attendance/checkin", {"delegation": "第0代表团"})
        assert out["checked_in"] == ["003", "006", "009"] and out["unchanged"] == []
        assert out["late"] is False
        assert out["attendance"]["present"] == 3 and out["attendance"]["total"] == 9
        # seats: duplicates and spaces ignored; those already present are left as they are
        out = s.post("/api/attendance/checkin", {"seats": ["001", " 002", "002", "003"]})
        assert out["checked_in"] == ["001", "002"]
        assert out["unchanged"] == [{"seat": "003", "attendance": "present"}]
        assert out["attendance"]["present"] == 5
        assert s.get("/api/attendance")["present"] == 5
        present = {seat for seat, a in _attendance(s).items() if a == "present"}
        assert present == {"001", "002", "003", "006", "009"}
        # one audit row per deputy, in the desk's form (its sheet reads them)
        rows = _audit(s)
        assert rows[0] == ("attendance_leave", f"deputy {ids['003']}")
        assert rows[1:] == [
            ("attendance_present", f"deputy {ids[seat]}")
            for seat in ("003", "006", "009", "001", "002")
        ]


def test_after_a_vote_opened_it_is_a_late_check_in(tmp_path: Path, db: dict[str, Any]) -> None:
    with (
        session(tmp_path / "s", n=4, present=3, **db) as s,
        Kiosk(s, s.deputies[0]["enrolment_code"]).connect(),
    ):
        pid = s.post("/api/polls", {"title": "议案", "kind": "motion", "template": MOTION})[
            "poll_id"
        ]
        s.post(f"/api/polls/{pid}/open")
        out = s.post("/api/attendance/checkin", {"seats": ["004"]})
        assert out["checked_in"] == ["004"] and out["late"] is True
        assert _audit(s)[-1] == ("attendance_late", f"deputy {s.deputies[3]['deputy_id']}")


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"seats": ["001", "099"]}, 404, "not_found"),  # one unknown seat: nobody checked in
        ({"delegation": "第九代表团"}, 404, "not_found"),
        ({"seats": []}, 422, "bad_message"),
        ({"seats": ["  "]}, 422, "bad_message"),
        ({"seats": ["001"], "delegation": "第1代表团"}, 422, "bad_message"),
        ({}, 422, "bad_message"),
        ({"seats": ["x"] * 5001}, 422, "bad_message"),
        ({"seats": "001"}, 422, "bad_message"),
        ({"seats": ["001"], "extra": 1}, 422, "bad_message"),
    ],
)
def test_bad_input_is_refused_and_changes_nothing(
    tmp_path: Path, body: dict[str, Any], status: int, code: str
) -> None:
    with session(tmp_path / "s", n=3, present=0) as s:
        before_audit = _audit(s)
        r = s.client.post("/api/attendance/checkin", json=body, headers=s.h("secretariat"))
        assert r.status_code == status, r.text
        detail = r.json()["detail"]
        assert detail["code"] == code and isinstance(detail["message"], str)
        assert set(detail) == {"code", "message"}
        assert set(_attendance(s).values()) == {"absent"}
        assert _audit(s) == before_audit


def test_only_the_secretariat(tmp_path: Path) -> None:
    with session(tmp_path / "s", n=3, present=0) as s:
        for role in ("chair", "display"):
            r = s.client.post("/api/attendance/checkin", json={"seats": ["001"]}, headers=s.h(role))
            assert r.status_code == 403 and r.json()["detail"]["code"] == "forbidden"
        assert set(_attendance(s).values()) == {"absent"}


def test_the_tablets_of_those_checked_in_are_welcomed_again(tmp_path: Path) -> None:
    with session(tmp_path / "s", n=3, present=0) as s:
        kiosks = [Kiosk(s, d["enrolment_code"]) for d in s.deputies[:2]]
        with kiosks[0].connect() as k1, kiosks[1].connect() as k2:
            assert not k1.welcome.present and not k2.welcome.present
            s.post("/api/attendance/checkin", {"seats": ["001", "002"]})
            assert k1.recv_until(m.Welcome).present and k2.recv_until(m.Welcome).present
