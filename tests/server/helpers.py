"""A tiny synchronous kiosk and scrutineer for server tests (Starlette TestClient websockets)."""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TypeVar

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient

from keys.credentials import generate_private_credential, public_credential
from keys.group import group_by_name, to_str
from tally import messages as m
from tally import statements as st
from tally.ballot import create_ballot
from tally.election import parse_election
from voting.api.app import create_app
from voting.config import ServerConfig, read_tokens

MOTION = {
    "description": "表决",
    "name": "议案",
    "questions": [
        {"answers": ["赞成", "反对", "弃权"], "blank": True, "min": 1, "max": 1, "question": "议案"}
    ],
}

_ids = itertools.count(1)


def mid() -> str:
    return f"t{next(_ids)}"


def roster_csv(n: int) -> str:
    return "name,delegation,seat\n" + "".join(
        f"代表{i},第{i % 3}代表团,{i:03d}\n" for i in range(1, n + 1)
    )


@dataclass
class Session:
    client: TestClient
    data: Path
    tokens: dict[str, Any]
    deputies: list[dict[str, Any]] = field(default_factory=list)

    def h(self, role: str = "secretariat") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}

    def post(self, path: str, body: Any = None, role: str = "secretariat") -> Any:
        r = self.client.post(path, json=body, headers=self.h(role))
        assert r.status_code == 200, (r.status_code, r.text)
        return r.json()

    def get(self, path: str, role: str = "secretariat") -> Any:
        r = self.client.get(path, headers=self.h(role))
        assert r.status_code == 200, (r.status_code, r.text)
        return r.json()


def config_for(
    data: Path, database_url: str | None = None, schema: str | None = None, workers: int = 0
) -> ServerConfig:
    return ServerConfig(
        data_dir=data,
        database_url=database_url,
        schema=schema,
        group="RENDA-TEST-256",
        allow_test_group=True,
        workers=workers,
        archive_sync=True,
        collect_timeout=0,
    )


def checked_in(client: TestClient, data: Path, n: int, present: int | None = None) -> Session:
    """A session with a roster of ``n`` deputies, the first ``present`` (all) checked in."""
    s = Session(client, data, read_tokens(data))
    s.deputies = s.post("/api/roster", {"csv": roster_csv(n)})["deputies"]
    for d in s.deputies[: n if present is None else present]:
        s.post(f"/api/deputies/{d['deputy_id']}/checkin")
    return s


@contextmanager
def session(data: Path, n: int = 4, present: int | None = None, **kw: Any) -> Iterator[Session]:
    app = create_app(config_for(data, **kw))
    with TestClient(app) as client:
        s = checked_in(client, data, n, present)
        s.post("/api/ceremony", {"threshold": 0})
        yield s


def scrutineer_config(
    data: Path, group: str = "RENDA-TEST-256", workers: int = 0, **db: Any
) -> ServerConfig:
    """The configuration of the sessions with scrutineers (no archive_sync, unlike config_for)."""
    return ServerConfig(
        data_dir=data,
        group=group,
        allow_test_group=True,
        workers=workers,
        collect_timeout=0,
        **db,
    )


class ScrutineerLike(Protocol):
    ready: threading.Event

    def close(self) -> None: ...


ScrutineerT = TypeVar("ScrutineerT", bound=ScrutineerLike)


def add_scrutineers(
    s: Session, n: int, make: Callable[[int, str], ScrutineerT], stack: ExitStack | None = None
) -> tuple[list[str], list[ScrutineerT]]:
    """Adds ``n`` scrutineers, connects ``make(i, token)`` for each and waits until they are
    ready; with ``stack``, each is closed when the stack is."""
    tokens = [s.post("/api/scrutineers", {"name": f"监票人{i}"})["token"] for i in range(n)]
    scrs = [make(i, t) for i, t in enumerate(tokens)]
    for sc in scrs:
        assert sc.ready.wait(30)
        if stack is not None:
            stack.callback(sc.close)
    return tokens, scrs


def run_ceremony(s: Session, threshold: int) -> dict[str, Any]:
    """Starts the key ceremony and waits (up to 30 s) until it is done or failed; its state."""
    s.post("/api/ceremony", {"threshold": threshold})
    state: dict[str, Any] = {}
    for _ in range(600):
        state = s.get("/api/ceremony")
        if state["state"] in ("done", "failed"):
            break
        time.sleep(0.05)
    return state


class Kiosk:
    """Enrols with a code, answers the challenge, makes credentials, casts ballots."""

    def __init__(self, s: Session, code: str) -> None:
        self.s = s
        self.key = Ed25519PrivateKey.generate()
        r = s.client.post(
            "/api/enrol", json={"code": code, "device_public_key": st.public_key_hex(self.key)}
        )
        assert r.status_code == 200, r.text
        info = r.json()
        self.device_id = info["device_id"]
        self.server_key = info["server_public_key"]
        self.private: dict[str, str] = {}
        self.elections: dict[str, Any] = {}
        self.ws: Any = None

    @contextmanager
    def connect(self) -> Iterator[Kiosk]:
        with self.s.client.websocket_connect("/ws/kiosk") as ws:
            self.ws = ws
            ch = m.parse_server_message(ws.receive_text())
            assert isinstance(ch, m.Challenge)
            sig = st.sign(self.key, st.hello_payload(self.device_id, ch.nonce))
            self.send(m.Hello(id=mid(), device_id=self.device_id, signature=sig))
            welcome = self.recv()
            assert isinstance(welcome, m.Welcome), welcome
            self.welcome = welcome
            yield self
            self.ws = None

    def send(self, msg: Any) -> None:
        self.ws.send_text(m.dump(msg))

    def recv(self) -> Any:
        return m.parse_server_message(self.ws.receive_text())

    def recv_until(self, kind: type) -> Any:
        for _ in range(50):
            msg = self.recv()
            if isinstance(msg, kind):
                return msg
            if isinstance(msg, m.Error) and kind is not m.Error:
                raise AssertionError(f"error {msg.code}: {msg.message}")
        raise AssertionError(f"no {kind.__name__}")

    def answer_request(self, req: m.CredentialRequest) -> None:
        group = group_by_name(req.group, allow_test=True)
        cred = generate_private_credential()
        self.private[req.poll.poll_id] = cred
        pub = to_str(public_credential(group, req.uuid, cred))
        sig = st.sign(self.key, st.credential_payload(req.poll.poll_id, req.uuid, pub))
        self.send(
            m.CredentialMsg(
                id=mid(),
                poll_id=req.poll.poll_id,
                uuid=req.uuid,
                public_credential=pub,
                signature=sig,
            )
        )

    def ready(self, poll_id: str) -> m.PollReady:
        issued = self.recv_until(m.BallotIssued)
        st.verify_statement(issued.issuance, expected_signer=self.server_key, kind="ballot_issued")
        ready = self.recv_until(m.PollReady)
        assert ready.poll_id == poll_id
        self.elections[poll_id] = parse_election(ready.election, allow_test_group=True)
        return ready

    def ballot(self, poll_id: str, choice: list[list[int]], cred: str | None = None) -> str:
        election = self.elections[poll_id]
        return create_ballot(election, cred or self.private[poll_id], choice).raw

    def cast(self, poll_id: str, raw: str) -> Any:
        msg_id = mid()
        self.send(m.Cast(id=msg_id, poll_id=poll_id, ballot=raw))
        while True:
            reply = self.recv()
            if isinstance(reply, m.Ack | m.Error) and reply.reply_to == msg_id:
                return reply


def connect_kiosks(s: Session, stack: ExitStack) -> list[Kiosk]:
    """A connected kiosk for every deputy on the roster, disconnected when ``stack`` closes."""
    kiosks = [Kiosk(s, d["enrolment_code"]) for d in s.deputies]
    for k in kiosks:
        stack.enter_context(k.connect())
    return kiosks


def open_motion(s: Session, kiosks: list[Kiosk], **poll_kw: Any) -> str:
    return open_poll(
        s, kiosks, {"title": "议案一", "kind": "motion", "template": MOTION, **poll_kw}
    )


def open_poll(s: Session, kiosks: list[Kiosk], body: dict[str, Any]) -> str:
    """Creates the poll ``body`` and opens it; the kiosks make their credentials and are ready."""
    pid = s.post("/api/polls", body)["poll_id"]
    s.post(f"/api/polls/{pid}/open")
    for k in kiosks:
        k.answer_request(k.recv_until(m.CredentialRequest))
    for k in kiosks:
        k.ready(pid)
    return str(pid)


def db_tables(data: Path, db: dict[str, Any]) -> dict[str, tuple[list[str], list[tuple[Any, ...]]]]:
    """Every table of the session's database (the SQLite file in ``data``, or the PostgreSQL
    schema named in ``db``): its column names and its rows in storage (insertion) order."""
    import sqlalchemy

    url = db.get("database_url") or f"sqlite:///{data / 'session.db'}"
    schema = db.get("schema")
    engine = sqlalchemy.create_engine(url)
    order = "rowid" if url.startswith("sqlite") else "ctid"
    out: dict[str, tuple[list[str], list[tuple[Any, ...]]]] = {}
    try:
        with engine.connect() as conn:
            insp = sqlalchemy.inspect(conn)
            for name in insp.get_table_names(schema=schema):
                cols = [c["name"] for c in insp.get_columns(name, schema=schema)]
                full = f'"{schema}"."{name}"' if schema else f'"{name}"'
                rows = conn.execute(sqlalchemy.text(f"select * from {full} order by {order}"))
                out[name] = (cols, [tuple(r) for r in rows])
    finally:
        engine.dispose()
    return out


def table_dump(data: Path, db: dict[str, Any] | None = None) -> str:
    out = []
    for name, (_cols, rows) in db_tables(data, db or {}).items():
        for row in rows:
            out.append(f"{name}: {json.dumps(row, ensure_ascii=False, default=str)}")
    return "\n".join(out)


def wait_state(s: Session, pid: str, state: str, tries: int = 400) -> dict[str, Any]:
    poll: dict[str, Any] = {}
    for _ in range(tries):
        poll = s.get(f"/api/polls/{pid}")
        if poll["state"] == state:
            return poll
        # what a tally waits for is said in the message; a failure is a failure
        assert "failed" not in poll["message"], poll["message"]
        time.sleep(0.05)
    raise AssertionError(f"poll {pid} stayed {poll.get('state')}: {poll.get('message')}")
