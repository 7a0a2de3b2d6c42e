"""The session server's logic: roster, enrolment, attendance, polls, ballot box, tally.

HTTP routes and websockets (voting/app.py) call this class; it owns the database, the keys,
the archives and the live connections (voting/hub.py). Database work runs in threads
(``asyncio.to_thread``), ballot checks in a process pool.

No row, log line or file written here links a deputy to a credential or a choice: while a poll
collects credentials the deputy → credential map lives in memory only, and when collection ends
the issuances (by deputy) and the credentials (sorted by value) are inserted separately.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from gmpy2 import mpz
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from keys.group import Group, GroupError, group_by_name
from keys.hashing import sha256_hex
from tally import messages as m
from tally import statements as st
from tally.archive import ArchiveWriter, read_archive
from voting import lifecycle
from voting.checker import check_cast
from voting.config import ServerConfig, write_private
from voting.db import make_engine, migrate, session_factory
from voting.hub import Connection, Hub, server_id
from voting.models import (
    AuditLog,
    BallotRow,
    Ceremony,
    Credential,
    Deputy,
    Device,
    Issuance,
    Meta,
    Poll,
    Staff,
    Vote,
    Voter,
)
from voting.roster import RosterError, new_enrolment_code, parse_roster

log = logging.getLogger("renda.server")
T = TypeVar("T")

ROLES = ("secretariat", "chair", "scrutineer", "display")


class ActionError(Exception):
    """A refused action: error code, plain words, HTTP status."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def token_hash(token: str) -> str:
    return sha256_hex("renda-token|" + token)


@dataclass(frozen=True)
class Principal:
    role: str
    name: str
    trustee_index: int | None = None


@dataclass
class PollRuntime:
    """In-memory state of a poll that is collecting, open or being tallied."""

    poll_id: str
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    voters: set[int] = field(default_factory=set)
    collected: dict[int, str] = field(default_factory=dict)  # memory only, never stored
    credentials: set[str] = field(default_factory=set)
    writer: ArchiveWriter | None = None
    timer: asyncio.TimerHandle | None = None
    archive_unsure: bool = False  # an archive append may have failed half-way


class SessionService:
    def __init__(self, config: ServerConfig) -> None:
        self.config = config
        config.data_dir.mkdir(parents=True, exist_ok=True)
        config.archives.mkdir(exist_ok=True)
        self.group: Group = group_by_name(config.group, allow_test=config.allow_test_group)
        self.engine = make_engine(config)
        migrate(self.engine)
        self.Session = session_factory(self.engine)
        self.server_key = st.load_or_create_key(config.data_dir / "server.key")
        self.server_public_key = st.public_key_hex(self.server_key)
        self.hub = Hub()
        self.runtimes: dict[str, PollRuntime] = {}
        self.pool: ProcessPoolExecutor | None = None
        self.ceremony_lock = asyncio.Lock()
        # Poll numbers are max(seq) + 1: one transaction that creates polls at a time, or
        # concurrent creations collide (unique seq) on SQLite and, more often, on PostgreSQL.
        self.poll_create_lock = asyncio.Lock()
        self.tasks: set[asyncio.Task[Any]] = set()
        self._status_pending: set[str] = set()
        self._init_session()

    # -- setup ------------------------------------------------------------------------------

    def _init_session(self) -> None:
        from keys.trustee_key import generate_trustee_key

        with self.Session.begin() as s:
            meta = {row.key: row.value for row in s.scalars(select(Meta))}
            if "group" in meta and meta["group"] != self.group.name:
                raise ActionError(
                    "config", f"this session uses the group {meta['group']}, not {self.group.name}"
                )
            s.merge(Meta(key="group", value=self.group.name))
            if "session" not in meta:
                s.merge(Meta(key="session", value=self.config.session_name))
            tkey = self.config.data_dir / "trustee.key"
            if "server_trustee" not in meta:
                priv, tpk = generate_trustee_key(self.group)
                write_private(tkey, priv.digits(10))
                s.merge(Meta(key="server_trustee", value=tpk.serialize()))
            if s.scalar(select(func.count()).select_from(Staff)) == 0:
                tokens: dict[str, Any] = {}
                for role in ("secretariat", "chair", "display"):
                    token = secrets.token_urlsafe(32)
                    s.add(Staff(role=role, name=role, token_hash=token_hash(token)))
                    tokens[role] = token
                tokens["scrutineers"] = {}
                write_private(self.config.data_dir / "tokens.json", json.dumps(tokens, indent=2))
        self.server_trustee_private = mpz(
            (self.config.data_dir / "trustee.key").read_text().strip()
        )

    def meta(self, key: str) -> str | None:
        with self.Session() as s:
            row = s.get(Meta, key)
            return row.value if row else None

    @property
    def session_name(self) -> str:
        return self.meta("session") or self.config.session_name

    async def startup(self) -> None:
        if self.config.workers > 0:
            import multiprocessing

            from voting.tally_jobs import warm_up

            self.pool = ProcessPoolExecutor(
                self.config.workers,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=warm_up,
            )
        await self.db(self._recover)
        for poll_id in list(self.runtimes):
            poll = await self.db(partial(_get_poll, poll_id))
            if poll is not None and poll.state == "closed":
                self._spawn(self._advance_tally(poll_id))

    async def shutdown(self) -> None:
        for task in list(self.tasks):
            task.cancel()
        for rt in self.runtimes.values():
            if rt.timer:
                rt.timer.cancel()
            if rt.writer:
                rt.writer.close()
        if self.pool:
            self.pool.shutdown(wait=False, cancel_futures=True)
        self.engine.dispose()

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def db(self, fn: Callable[[Session], T]) -> T:
        """Run ``fn(session)`` in a thread inside one transaction (committed on success)."""

        def run() -> T:
            with self.Session.begin() as s:
                return fn(s)

        return await asyncio.to_thread(run)

    def audit(self, s: Session, role: str, action: str, detail: str = "") -> None:
        s.add(AuditLog(at=now(), role=role, action=action, detail=detail))

    # -- recovery after a restart -----------------------------------------------------------

    def _archive_path(self, poll_id: str) -> Path:
        return self.config.archives / f"{poll_id}.bel"

    def _recover(self, s: Session) -> None:
        for poll in s.scalars(select(Poll).where(Poll.state.in_(["collecting", "open", "closed"]))):
            rt = PollRuntime(poll.id)
            rt.voters = set(s.scalars(select(Voter.deputy_id).where(Voter.poll_id == poll.id)))
            if poll.state == "collecting":
                self._discard_archive(poll.id)  # collected credentials were in memory only
            else:
                rt.credentials = set(
                    s.scalars(select(Credential.credential).where(Credential.poll_id == poll.id))
                )
                rt.writer = ArchiveWriter.open(self._archive_path(poll.id), recover=True)
                self._sync_archive(s, poll, rt)
            self.runtimes[poll.id] = rt

    def _discard_archive(self, poll_id: str) -> None:
        path = self._archive_path(poll_id)
        if path.exists():
            path.rename(path.with_suffix(f".stale-{int(time.time() * 1000)}"))

    def _sync_archive(
        self, s: Session, poll: Poll, rt: PollRuntime, *, check_archive: bool = True
    ) -> None:
        """Append to the archive every stored ballot not yet in it (DB order), fill receipts."""
        assert rt.writer is not None
        pending = list(
            s.scalars(
                select(BallotRow)
                .where(BallotRow.poll_id == poll.id, BallotRow.event_hash.is_(None))
                .order_by(BallotRow.id)
            )
        )
        if not pending:
            return
        in_archive: dict[str, str] = {}
        if check_archive:  # after a restart: the archive may hold what the DB does not know
            for event, _raw in read_archive(rt.writer.path).ballots():
                if event.payload:
                    in_archive[event.payload] = event.hash
        for row in pending:
            digest = sha256_hex(row.raw)
            event_hash = in_archive.get(digest)
            if event_hash is None:
                event_hash = rt.writer.add_ballot(row.raw).hash
            row.event_hash = event_hash
            row.receipt = self._receipt(poll, row).model_dump_json()
        s.flush()

    def _receipt(self, poll: Poll, row: BallotRow) -> st.SignedStatement:
        return st.make_statement(
            self.server_key,
            st.RECEIPT,
            session=self.session_name,
            poll_id=poll.id,
            uuid=poll.uuid,
            tracker=row.tracker,
            event_hash=row.event_hash,
            received_at=row.received_at,
        )

    # -- authentication ---------------------------------------------------------------------

    def authenticate(self, token: str | None) -> Principal:
        if not token:
            raise ActionError("unauthenticated", "a bearer token is required", 401)
        with self.Session() as s:
            staff = s.scalar(select(Staff).where(Staff.token_hash == token_hash(token)))
        if staff is None:
            raise ActionError("unauthenticated", "unknown token", 401)
        return Principal(staff.role, staff.name, staff.trustee_index)

    @staticmethod
    def require(principal: Principal, *roles: str) -> None:
        if principal.role not in roles:
            raise ActionError(
                "forbidden", f"the {principal.role} may not do this (needs {', '.join(roles)})", 403
            )

    # -- roster, enrolment, attendance ------------------------------------------------------

    async def import_roster(self, text: str) -> list[dict[str, Any]]:
        try:
            entries = parse_roster(text)
        except RosterError as exc:
            raise ActionError("bad_roster", str(exc), 422) from None

        def run(s: Session) -> list[dict[str, Any]]:
            if s.scalar(select(func.count()).select_from(Poll).where(Poll.state != "draft")):
                raise ActionError("forbidden", "the roster cannot change once a poll opened", 409)
            existing = set(s.scalars(select(Deputy.seat)))
            clash = [e.seat for e in entries if e.seat in existing]
            if clash:
                raise ActionError("bad_roster", f"seat {clash[0]!r} is already on the roster", 422)
            rows = [
                Deputy(
                    name=e.name,
                    delegation=e.delegation,
                    seat=e.seat,
                    enrolment_code=new_enrolment_code(),
                    code_used=False,
                    attendance="absent",
                )
                for e in entries
            ]
            s.add_all(rows)
            s.flush()
            self.audit(s, "secretariat", "roster_import", f"{len(rows)} deputies")
            return [self._deputy_json(d, with_code=True) for d in rows]

        return await self.db(run)

    @staticmethod
    def _deputy_json(d: Deputy, *, with_code: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {
            "deputy_id": d.id,
            "name": d.name,
            "delegation": d.delegation,
            "seat": d.seat,
            "attendance": d.attendance,
            "enrolled": d.code_used,
        }
        if with_code:
            out["enrolment_code"] = None if d.code_used else d.enrolment_code
        return out

    async def list_deputies(self) -> list[dict[str, Any]]:
        def run(s: Session) -> list[dict[str, Any]]:
            return [
                self._deputy_json(d, with_code=True)
                for d in s.scalars(select(Deputy).order_by(Deputy.id))
            ]

        return await self.db(run)

    async def enrolment_code(self, deputy_id: int) -> str:
        def run(s: Session) -> str:
            d = s.get(Deputy, deputy_id)
            if d is None:
                raise ActionError("not_found", f"no deputy {deputy_id}", 404)
            if d.code_used:
                raise ActionError("code_used", "this deputy's code was already used", 409)
            return d.enrolment_code

        return await self.db(run)

    async def new_enrolment_code(self, deputy_id: int, role: str) -> dict[str, Any]:
        """A replacement tablet: revoke the deputy's devices and give a fresh one-time code."""

        def run(s: Session) -> dict[str, Any]:
            d = s.get(Deputy, deputy_id)
            if d is None:
                raise ActionError("not_found", f"no deputy {deputy_id}", 404)
            d.enrolment_code = new_enrolment_code()
            d.code_used = False
            s.execute(update(Device).where(Device.deputy_id == deputy_id).values(revoked=True))
            self.audit(s, role, "new_enrolment_code", f"deputy {deputy_id}")
            return self._deputy_json(d, with_code=True)

        return await self.db(run)

    async def enrol(self, code: str, device_public_key: str) -> dict[str, Any]:
        try:
            st.parse_public_key(device_public_key)
        except st.StatementError as exc:
            raise ActionError("bad_message", str(exc), 422) from None

        def run(s: Session) -> dict[str, Any]:
            d = s.scalar(select(Deputy).where(Deputy.enrolment_code == code))
            if d is None:
                raise ActionError("not_found", "unknown enrolment code", 404)
            # single use, enforced by the database: only one UPDATE can flip the flag
            res = s.execute(
                update(Deputy)
                .where(Deputy.id == d.id, Deputy.code_used.is_(False))
                .values(code_used=True)
            )
            if res.rowcount != 1:  # type: ignore[attr-defined]
                raise ActionError("code_used", "this enrolment code was already used", 409)
            device_id = secrets.token_urlsafe(12).replace("-", "A").replace("_", "B")
            s.add(
                Device(
                    id=device_id,
                    deputy_id=d.id,
                    public_key=device_public_key,
                    revoked=False,
                    enrolled_at=now(),
                )
            )
            try:
                s.flush()
            except IntegrityError:
                raise ActionError(
                    "bad_message", "this device key is already enrolled", 409
                ) from None
            self.audit(s, "public", "enrol", f"seat {d.seat}")
            return {
                "device_id": device_id,
                "deputy": {
                    "deputy_id": d.id,
                    "name": d.name,
                    "delegation": d.delegation,
                    "seat": d.seat,
                },
                "server_public_key": self.server_public_key,
                "session": self.session_name,
            }

        return await self.db(run)

    async def set_attendance(self, deputy_id: int, status: str, role: str) -> dict[str, int | bool]:
        def run(s: Session) -> None:
            res = s.execute(update(Deputy).where(Deputy.id == deputy_id).values(attendance=status))
            if res.rowcount != 1:  # type: ignore[attr-defined]
                raise ActionError("not_found", f"no deputy {deputy_id}", 404)
            self.audit(s, role, f"attendance_{status}", f"deputy {deputy_id}")

        await self.db(run)
        att = await self.attendance()
        await self.hub.to_displays(lambda: m.Attendance(id=server_id(), **att))  # type: ignore[arg-type]
        present = status == "present"
        await self._notify_presence(deputy_id, present)
        return att

    async def _notify_presence(self, deputy_id: int, present: bool) -> None:
        for conn in list(self.hub.kiosks.get(deputy_id, ())):
            await self._welcome(conn)

    async def attendance(self) -> dict[str, int | bool]:
        def run(s: Session) -> dict[str, int | bool]:
            counts = dict(
                s.execute(select(Deputy.attendance, func.count()).group_by(Deputy.attendance)).all()
            )
            total = sum(counts.values())
            present = counts.get("present", 0)
            leave = counts.get("leave", 0)
            return {
                "total": total,
                # 应到 is every seated deputy (npc-rules §7.3-7.4: "大会应到代表327人，实到314人");
                # those on leave are counted apart, never subtracted from the denominator.
                "expected": total,
                "present": present,
                "on_leave": leave,
                "absent": total - present - leave,
                "quorum": total > 0 and present * 3 >= total * 2,
            }

        return await self.db(run)

    # -- scrutineers and the key ceremony ---------------------------------------------------

    async def add_scrutineer(self, name: str) -> dict[str, Any]:
        token = secrets.token_urlsafe(32)

        def run(s: Session) -> dict[str, Any]:
            if s.scalar(select(Ceremony).where(Ceremony.state == "done")) is not None:
                raise ActionError("forbidden", "the key ceremony is already done", 409)
            index = (s.scalar(select(func.max(Staff.trustee_index))) or 0) + 1
            staff = Staff(
                role="scrutineer", name=name, token_hash=token_hash(token), trustee_index=index
            )
            s.add(staff)
            s.flush()
            self.audit(s, "secretariat", "add_scrutineer", f"index {index}")
            return {"scrutineer_id": staff.id, "index": index, "name": name, "token": token}

        # One at a time, and not while a ceremony starts: indexes are max + 1 (unique), and
        # tokens.json is read, changed and written back.
        async with self.ceremony_lock:
            out = await self.db(run)
            path = self.config.data_dir / "tokens.json"
            tokens = json.loads(path.read_text("utf-8"))
            tokens.setdefault("scrutineers", {})[name] = token
            write_private(path, json.dumps(tokens, indent=2))
        return out

    async def start_ceremony(self, threshold: int) -> dict[str, Any]:
        from voting.ceremony import start

        return await start(self, threshold)

    async def ceremony_status(self) -> dict[str, Any]:
        def run(s: Session) -> dict[str, Any]:
            c = s.scalar(select(Ceremony).order_by(Ceremony.id.desc()).limit(1))
            if c is None:
                return {"state": "none"}
            return {
                "ceremony_id": c.id,
                "state": c.state,
                "threshold": c.threshold,
                "count": c.count,
                "trustees": c.trustees,
                "message": c.message,
            }

        return await self.db(run)

    # -- polls ------------------------------------------------------------------------------

    async def create_poll(
        self,
        title: str,
        kind: str,
        template: dict[str, Any],
        rules: dict[str, Any] | None,
        last_press_valid: bool,
        parent_id: str | None = None,
        relation: str | None = None,
    ) -> dict[str, Any]:
        self.check_template(template)

        def run(s: Session) -> dict[str, Any]:
            poll = self._insert_poll(
                s, title, kind, template, rules, last_press_valid, parent_id, relation
            )
            return self._poll_json(s, poll)

        async with self.poll_create_lock:
            return await self.db(run)

    def check_template(self, template: dict[str, Any]) -> None:
        """The template must make an election: try it with a throw-away key and uuid."""
        from tally.election import make_election

        try:
            make_election(template, uuid="1" * 14, group=self.group, public_key=self.group.g)
        except (ValueError, TypeError, KeyError) as exc:
            raise ActionError(
                "bad_template", f"the election template is invalid: {exc}", 422
            ) from None

    def _insert_poll(
        self,
        s: Session,
        title: str,
        kind: str,
        template: dict[str, Any],
        rules: dict[str, Any] | None,
        last_press_valid: bool,
        parent_id: str | None,
        relation: str | None,
    ) -> Poll:
        seq = (s.scalar(select(func.max(Poll.seq))) or 0) + 1
        poll = Poll(
            id=f"p{seq}",
            seq=seq,
            title=title[:500],
            kind=kind,
            state="draft",
            template=json.dumps(template, ensure_ascii=False),
            rules=None if rules is None else json.dumps(rules, ensure_ascii=False),
            last_press_valid=last_press_valid,
            parent_id=parent_id,
            relation=relation,
            created_at=now(),
            message="",
        )
        s.add(poll)
        s.flush()
        self.audit(s, "secretariat" if relation is None else "server", "poll_create", poll.id)
        return poll

    def _poll_json(self, s: Session, poll: Poll) -> dict[str, Any]:
        issued = s.scalar(
            select(func.count()).select_from(Issuance).where(Issuance.poll_id == poll.id)
        )
        received = s.scalar(select(func.count()).select_from(Vote).where(Vote.poll_id == poll.id))
        followups = list(s.scalars(select(Poll.id).where(Poll.parent_id == poll.id)))
        published = poll.state == "published"
        from voting.report_signing import report_json

        return {
            "poll_id": poll.id,
            "title": poll.title,
            "kind": poll.kind,
            "state": poll.state,
            "uuid": poll.uuid,
            "group": poll.group_name,
            "last_press_valid": poll.last_press_valid,
            "parent_id": poll.parent_id,
            "relation": poll.relation,
            "voters": len(self.runtimes[poll.id].voters) if poll.id in self.runtimes else None,
            "issued": issued,
            "received": received,
            "result": json.loads(poll.result)
            if poll.result and poll.state in ("tallied", "published")
            else None,
            "counts": json.loads(poll.counts) if poll.counts else None,
            "outcome": json.loads(poll.outcome) if poll.outcome else None,
            "statement": json.loads(poll.statement) if published and poll.statement else None,
            "report": report_json(self, s, poll),
            "followups": followups,
            "template": json.loads(poll.template),
            "rules": json.loads(poll.rules) if poll.rules else None,
            "message": poll.message,
        }

    def _poll_info(self, poll: Poll) -> m.PollInfo:
        kind = (
            poll.kind
            if poll.kind in ("motion", "projects", "election", "confirmation")
            else "other"
        )
        return m.PollInfo(
            poll_id=poll.id,
            title=poll.title[:1000],
            kind=kind,  # type: ignore[arg-type]
            state=poll.state,  # type: ignore[arg-type]
            uuid=poll.uuid,
            group=poll.group_name,
            last_press_valid=poll.last_press_valid,
            template=poll.template,
        )

    async def get_poll(self, poll_id: str) -> dict[str, Any]:
        def run(s: Session) -> dict[str, Any]:
            return self._poll_json(s, self._poll(s, poll_id))

        return await self.db(run)

    async def list_polls(self) -> list[dict[str, Any]]:
        def run(s: Session) -> list[dict[str, Any]]:
            return [self._poll_json(s, p) for p in s.scalars(select(Poll).order_by(Poll.seq))]

        return await self.db(run)

    @staticmethod
    def _poll(s: Session, poll_id: str) -> Poll:
        poll = s.get(Poll, poll_id)
        if poll is None:
            raise ActionError("poll_not_found", f"no poll {poll_id!r}", 404)
        return poll

    def _transition(self, s: Session, poll: Poll, action: str, **values: Any) -> str:
        """Guarded transition done by the database: UPDATE ... WHERE state = <expected>."""
        try:
            target = lifecycle.next_state(action, poll.state)
        except lifecycle.TransitionError as exc:
            raise ActionError("bad_state", str(exc), 409) from None
        res = s.execute(
            update(Poll)
            .where(Poll.id == poll.id, Poll.state == poll.state)
            .values(state=target, **values)
        )
        if res.rowcount != 1:  # type: ignore[attr-defined]
            raise ActionError("bad_state", "the poll changed state meanwhile; try again", 409)
        poll.state = target
        for k, v in values.items():
            setattr(poll, k, v)
        return target

    def _trustees_raw(self, s: Session) -> str:
        row = s.get(Meta, "trustees")
        if row is None:
            raise ActionError("no_ceremony", "the scrutineers' key ceremony is not done yet", 409)
        return row.value

    async def open_poll(self, poll_id: str, role: str) -> dict[str, Any]:
        from tally.election import generate_uuid, make_election
        from tally.trustees import combined_public_key, parse_trustees

        def run(s: Session) -> tuple[dict[str, Any], list[int], Poll]:
            poll = self._poll(s, poll_id)
            if poll.state != "draft":
                raise ActionError("bad_state", f"cannot open a poll that is {poll.state}", 409)
            trustees_raw = self._trustees_raw(s)
            total = s.scalar(select(func.count()).select_from(Deputy)) or 0
            voters = list(
                s.scalars(
                    select(Deputy.id)
                    .where(Deputy.attendance == "present", Deputy.code_used.is_(True))
                    .order_by(Deputy.id)
                )
            )
            present = (
                s.scalar(
                    select(func.count()).select_from(Deputy).where(Deputy.attendance == "present")
                )
                or 0
            )
            if total == 0 or present * 3 < total * 2:
                raise ActionError(
                    "no_quorum", f"no quorum: {present} present of {total} deputies", 409
                )
            if not voters:
                raise ActionError("no_voters", "no present deputy has an enrolled tablet", 409)
            trustees = parse_trustees(self.group, trustees_raw)
            uuid = generate_uuid()
            election = make_election(
                json.loads(poll.template),
                uuid=uuid,
                group=self.group,
                public_key=combined_public_key(self.group, trustees),
            )
            self._transition(
                s,
                poll,
                "open",
                uuid=uuid,
                group_name=self.group.name,
                election=election.raw,
                trustees=trustees_raw,
                opened_at=now(),
            )
            s.add_all([Voter(poll_id=poll.id, deputy_id=d) for d in voters])
            self.audit(s, role, "poll_open", f"{poll.id}: {len(voters)} voters")
            return self._poll_json(s, poll), voters, poll

        out, voters, poll = await self.db(run)
        rt = PollRuntime(poll_id, voters=set(voters))
        self.runtimes[poll_id] = rt
        if self.config.collect_timeout > 0:
            rt.timer = asyncio.get_running_loop().call_later(
                self.config.collect_timeout, lambda: self._spawn(self._collect_timeout(poll_id))
            )
        for deputy_id in voters:
            await self.hub.to_deputy(deputy_id, self._credential_request(poll))
        await self._status_to_displays(poll_id)
        return out

    def _credential_request(self, poll: Poll) -> m.CredentialRequest:
        assert poll.uuid is not None and poll.group_name is not None
        return m.CredentialRequest(
            id=server_id(), poll=self._poll_info(poll), uuid=poll.uuid, group=poll.group_name
        )

    async def _collect_timeout(self, poll_id: str) -> None:
        rt = self.runtimes.get(poll_id)
        if rt is not None and rt.collected:
            try:
                await self.finish_collection(poll_id, "timer")
            except ActionError as exc:
                log.warning("collection of %s: %s", poll_id, exc.message)

    async def receive_credential(
        self, conn: Connection, msg: m.CredentialMsg, device_key: str
    ) -> None:
        rt = self.runtimes.get(msg.poll_id)
        poll = await self.db(lambda s: s.get(Poll, msg.poll_id))
        if poll is None:
            raise ActionError(m.ErrorCode.POLL_NOT_FOUND, f"no poll {msg.poll_id!r}")
        if poll.state not in lifecycle.ACCEPTS_CREDENTIALS or rt is None:
            raise ActionError(m.ErrorCode.POLL_NOT_OPEN, f"poll {poll.id} is {poll.state}")
        if msg.uuid != poll.uuid:
            raise ActionError(m.ErrorCode.WRONG_POLL, "the uuid is not this poll's election uuid")
        assert conn.deputy_id is not None
        if conn.deputy_id not in rt.voters:
            raise ActionError(
                m.ErrorCode.NOT_ELIGIBLE, "this deputy was not present when the poll opened"
            )
        try:
            st.verify(
                device_key,
                st.credential_payload(msg.poll_id, msg.uuid, msg.public_credential),
                msg.signature,
            )
        except st.StatementError as exc:
            raise ActionError(m.ErrorCode.BAD_SIGNATURE, str(exc)) from None
        try:
            self.group.parse_element(msg.public_credential, "public credential")
        except GroupError as exc:
            raise ActionError(m.ErrorCode.BAD_MESSAGE, str(exc)) from None
        async with rt.lock:
            if poll.id not in self.runtimes or self.runtimes[poll.id] is not rt or rt.credentials:
                raise ActionError(m.ErrorCode.POLL_NOT_OPEN, "credential collection has ended")
            previous = rt.collected.get(conn.deputy_id)
            if previous is not None and previous != msg.public_credential:
                raise ActionError(
                    m.ErrorCode.ALREADY_SENT,
                    "a different credential was already sent for this poll",
                )
            if previous is None and msg.public_credential in rt.collected.values():
                raise ActionError(m.ErrorCode.BAD_MESSAGE, "this public credential is already used")
            rt.collected[conn.deputy_id] = msg.public_credential
            complete = set(rt.collected) >= rt.voters
        if complete:
            await self.finish_collection(poll.id, "complete")

    async def finish_collection(self, poll_id: str, role: str) -> dict[str, Any]:
        from tally.credentials import PublicCredential, serialize_public_credentials

        rt = self.runtimes.get(poll_id)
        if rt is None:
            poll = await self.db(lambda s: self._poll(s, poll_id))
            raise ActionError("bad_state", f"the poll is {poll.state}, not collecting", 409)
        async with rt.lock:
            if rt.credentials:
                return await self.get_poll(poll_id)
            if not rt.collected:
                raise ActionError("no_credentials", "no kiosk has sent a credential yet", 409)
            if rt.timer:
                rt.timer.cancel()
            collected = rt.collected
            rt.collected = {}
            credentials = sorted(collected.values(), key=mpz)
            issued = sorted(collected)
            del collected
            public_raw = serialize_public_credentials(
                [PublicCredential(mpz(c), 1) for c in credentials]
            )
            poll0 = await self.db(lambda s: self._poll(s, poll_id))
            assert poll0.election and poll0.trustees
            path = self._archive_path(poll_id)
            self._discard_archive(poll_id)
            writer = await asyncio.to_thread(
                partial(ArchiveWriter.create, path, sync=self.config.archive_sync)
            )
            await asyncio.to_thread(writer.add_setup, poll0.election, poll0.trustees, public_raw)
            issued_at = now()

            def run(s: Session) -> tuple[Poll, dict[int, str]]:
                poll = self._poll(s, poll_id)
                self._transition(s, poll, "start", public_credentials=public_raw)
                # credentials sorted by value, in one statement; nothing names a deputy
                s.execute(
                    insert(Credential),
                    [{"poll_id": poll_id, "credential": c} for c in credentials],
                )
                seats = dict(
                    s.execute(select(Deputy.id, Deputy.seat).where(Deputy.id.in_(issued))).all()
                )
                statements: dict[int, str] = {}
                rows = []
                for deputy_id in issued:
                    stmt = st.make_statement(
                        self.server_key,
                        st.BALLOT_ISSUED,
                        session=self.session_name,
                        poll_id=poll_id,
                        uuid=poll.uuid,
                        seat=seats[deputy_id],
                        issued_at=issued_at,
                    ).model_dump_json()
                    statements[deputy_id] = stmt
                    rows.append(
                        {
                            "poll_id": poll_id,
                            "deputy_id": deputy_id,
                            "seat": seats[deputy_id],
                            "issued_at": issued_at,
                            "statement": stmt,
                        }
                    )
                s.execute(insert(Issuance), rows)
                self.audit(s, role, "poll_start", f"{poll_id}: {len(rows)} ballots issued")
                return poll, statements

            try:
                poll, statements = await self.db(run)
            except BaseException:
                writer.close()
                self._discard_archive(poll_id)
                raise
            rt.writer = writer
            rt.credentials = set(credentials)
        for deputy_id, stmt in statements.items():
            await self.hub.to_deputy(
                deputy_id,
                m.BallotIssued(
                    id=server_id(),
                    poll_id=poll_id,
                    issuance=st.SignedStatement.model_validate_json(stmt),
                ),
            )
            await self.hub.to_deputy(deputy_id, self._poll_ready(poll))
        await self._status_to_displays(poll_id)
        return await self.get_poll(poll_id)

    def _poll_ready(self, poll: Poll) -> m.PollReady:
        assert poll.uuid and poll.election and poll.trustees and poll.public_credentials
        return m.PollReady(
            id=server_id(),
            poll_id=poll.id,
            uuid=poll.uuid,
            election=poll.election,
            trustees=poll.trustees,
            public_credentials=poll.public_credentials,
            last_press_valid=poll.last_press_valid,
        )

    # -- casting ----------------------------------------------------------------------------

    async def cast(self, msg: m.Cast) -> m.Ack:
        rt = self.runtimes.get(msg.poll_id)
        poll = await self.db(lambda s: s.get(Poll, msg.poll_id))
        if poll is None:
            raise ActionError(m.ErrorCode.POLL_NOT_FOUND, f"no poll {msg.poll_id!r}")
        if poll.state not in lifecycle.ACCEPTS_BALLOTS or rt is None or rt.writer is None:
            raise ActionError(m.ErrorCode.POLL_NOT_OPEN, f"poll {poll.id} is {poll.state}")
        assert poll.election is not None
        args = (poll.election, self.config.allow_test_group, msg.ballot)
        if self.pool is not None:
            loop = asyncio.get_running_loop()
            status, detail, credential = await loop.run_in_executor(self.pool, check_cast, *args)
        else:
            status, detail, credential = await asyncio.to_thread(check_cast, *args)
        if status != "ok":
            raise ActionError(status, detail)
        tracker = detail
        if credential not in rt.credentials:
            raise ActionError(
                m.ErrorCode.WRONG_CREDENTIAL, "the ballot's credential is not one of this poll's"
            )
        async with rt.lock:
            if self.runtimes.get(poll.id) is not rt or rt.writer is None:
                raise ActionError(m.ErrorCode.POLL_NOT_OPEN, f"poll {poll.id} is closed")
            # 1. database commit (uniqueness decided by the database) …
            again = await self.db(
                partial(self._store_ballot, poll.id, tracker, credential, msg.ballot)
            )
            # 2. … then the archive event (fsync) and the signed receipt, still in order
            try:
                row = await self.db(partial(self._sync_and_get, poll.id, tracker, rt))
            except Exception:
                rt.archive_unsure = True  # next time, compare with the archive before appending
                raise
        receipt = st.SignedStatement.model_validate_json(row.receipt or "")
        self._status_soon(poll.id)
        return m.Ack(
            id=server_id(),
            reply_to=msg.id,
            poll_id=poll.id,
            tracker=tracker,
            receipt=receipt,
            again=again,
        )

    def _store_ballot(
        self, poll_id: str, tracker: str, credential: str, raw: str, s: Session
    ) -> bool:
        """Insert the ballot and its vote in one transaction; True if it was already there."""
        from voting.upsert import insert_ignore, upsert_vote

        poll = self._poll(s, poll_id)
        if poll.state != "open":
            raise ActionError(m.ErrorCode.POLL_NOT_OPEN, f"poll {poll_id} is {poll.state}")
        inserted = insert_ignore(
            s,
            BallotRow,
            {
                "poll_id": poll_id,
                "tracker": tracker,
                "credential": credential,
                "raw": raw,
                "received_at": now(),
            },
            ["poll_id", "tracker"],
        )
        if inserted:
            ballot_id = s.scalar(
                select(BallotRow.id).where(
                    BallotRow.poll_id == poll_id, BallotRow.tracker == tracker
                )
            )
            assert ballot_id is not None
            if not upsert_vote(s, poll_id, credential, ballot_id, replace=poll.last_press_valid):
                raise ActionError(
                    m.ErrorCode.DUPLICATE,
                    "this credential has already voted; the first ballot counts in this poll",
                )
        return not inserted

    def _sync_and_get(self, poll_id: str, tracker: str, rt: PollRuntime, s: Session) -> BallotRow:
        poll = self._poll(s, poll_id)
        self._sync_archive(s, poll, rt, check_archive=rt.archive_unsure)
        rt.archive_unsure = False
        row = s.scalar(
            select(BallotRow).where(BallotRow.poll_id == poll_id, BallotRow.tracker == tracker)
        )
        assert row is not None and row.receipt is not None
        return row

    # -- closing and the tally ---------------------------------------------------------------

    async def close_poll(self, poll_id: str, role: str) -> dict[str, Any]:
        rt = self.runtimes.get(poll_id)
        lock = rt.lock if rt else asyncio.Lock()
        async with lock:

            def run(s: Session) -> Poll:
                poll = self._poll(s, poll_id)
                self._transition(s, poll, "close", closed_at=now())
                self.audit(s, role, "poll_close", poll_id)
                return poll

            await self.db(run)
        await self.hub.to_all_kiosks(
            lambda: m.PollClosed(id=server_id(), poll_id=poll_id, state="closed")
        )
        await self._status_to_displays(poll_id)
        self._spawn(self._advance_tally(poll_id))
        return await self.get_poll(poll_id)

    async def _advance_tally(self, poll_id: str) -> None:
        from voting.tallying import advance

        try:
            await advance(self, poll_id)
        except Exception as exc:  # keep the server up; the poll says what went wrong
            log.exception("tally of %s failed", poll_id)
            msg = f"the tally failed: {exc}"
            await self.db(
                lambda s: s.execute(update(Poll).where(Poll.id == poll_id).values(message=msg))
            )

    async def receive_partial_decryption(
        self, principal: Principal, msg: m.PartialDecryptionMsg
    ) -> None:
        from voting.tallying import receive_partial

        await receive_partial(self, principal, msg)

    async def publish(self, poll_id: str, role: str) -> dict[str, Any]:
        def run(s: Session) -> Poll:
            poll = self._poll(s, poll_id)
            if poll.state != "tallied":
                raise ActionError("bad_state", f"cannot publish a poll that is {poll.state}", 409)
            stmt = st.make_statement(
                self.server_key,
                st.RESULT,
                session=self.session_name,
                poll_id=poll.id,
                uuid=poll.uuid,
                result_hash=sha256_hex(poll.result) if poll.result else None,
                counts=json.loads(poll.counts or "null"),
                outcome=json.loads(poll.outcome or "null"),
            )
            self._transition(s, poll, "publish", statement=stmt.model_dump_json())
            self.audit(s, role, "poll_publish", poll_id)
            return poll

        poll = await self.db(run)
        assert poll.statement
        stmt = st.SignedStatement.model_validate_json(poll.statement)
        await self.hub.to_all_kiosks(
            lambda: m.ResultMsg(id=server_id(), poll_id=poll_id, statement=stmt)
        )
        await self.hub.to_displays(
            lambda: m.ResultMsg(id=server_id(), poll_id=poll_id, statement=stmt)
        )
        return await self.get_poll(poll_id)

    async def withdraw(self, poll_id: str, role: str) -> dict[str, Any]:
        return await self._stop(poll_id, "withdraw", role)

    async def void(self, poll_id: str, role: str) -> dict[str, Any]:
        return await self._stop(poll_id, "void", role)

    async def _stop(self, poll_id: str, action: str, role: str) -> dict[str, Any]:
        rt = self.runtimes.get(poll_id)
        lock = rt.lock if rt else asyncio.Lock()
        async with lock:

            def run(s: Session) -> None:
                poll = self._poll(s, poll_id)
                self._transition(s, poll, action)
                self.audit(s, role, f"poll_{action}", poll_id)

            await self.db(run)
            if rt is not None:
                rt.collected = {}
                if rt.timer:
                    rt.timer.cancel()
                if rt.writer:
                    rt.writer.close()
                self.runtimes.pop(poll_id, None)
        state = "withdrawn" if action == "withdraw" else "void"
        await self.hub.to_all_kiosks(
            lambda: m.PollClosed(id=server_id(), poll_id=poll_id, state=state)
        )
        await self._status_to_displays(poll_id)
        return await self.get_poll(poll_id)

    async def rerun(self, poll_id: str, role: str) -> dict[str, Any]:
        poll = await self.db(lambda s: self._poll(s, poll_id))
        if not lifecycle.can_rerun(poll.state):
            raise ActionError(
                "bad_state", f"only a void or withdrawn poll is re-run, not {poll.state}", 409
            )
        return await self.create_poll(
            poll.title,
            poll.kind,
            json.loads(poll.template),
            json.loads(poll.rules) if poll.rules else None,
            poll.last_press_valid,
            parent_id=poll.id,
            relation="rerun",
        )

    # -- live status --------------------------------------------------------------------------

    def _status_soon(self, poll_id: str, delay: float = 0.25) -> None:
        """Coalesce the screens' 已投 updates while many ballots arrive (one per ``delay``)."""
        if not self.hub.displays or poll_id in self._status_pending:
            return
        self._status_pending.add(poll_id)

        async def later() -> None:
            await asyncio.sleep(delay)
            self._status_pending.discard(poll_id)
            await self._status_to_displays(poll_id)

        self._spawn(later())

    async def _status_to_displays(self, poll_id: str) -> None:
        if not self.hub.displays:
            return

        def run(s: Session) -> m.PollStatus:
            poll = self._poll(s, poll_id)
            data = self._poll_json(s, poll)
            return m.PollStatus(
                id=server_id(),
                poll=self._poll_info(poll),
                issued=data["issued"],
                received=data["received"],
            )

        status = await self.db(run)
        await self.hub.to_displays(lambda: status)

    # -- kiosk connection ---------------------------------------------------------------------

    async def kiosk_hello(self, msg: m.Hello, nonce: str) -> tuple[int, str]:
        """Check the device's answer to the challenge; (deputy_id, device public key)."""

        def run(s: Session) -> Device | None:
            return s.get(Device, msg.device_id)

        device = await self.db(run)
        if device is None or device.revoked:
            raise ActionError(m.ErrorCode.UNKNOWN_DEVICE, "this tablet is not enrolled")
        try:
            st.verify(device.public_key, st.hello_payload(msg.device_id, nonce), msg.signature)
        except st.StatementError as exc:
            raise ActionError(m.ErrorCode.BAD_SIGNATURE, str(exc)) from None
        return device.deputy_id, device.public_key

    async def _welcome(self, conn: Connection, reply_to: str | None = None) -> None:
        deputy_id = conn.deputy_id
        assert deputy_id is not None

        def run(s: Session) -> tuple[Deputy, list[Poll], dict[str, str]]:
            deputy = s.get(Deputy, deputy_id)
            assert deputy is not None
            polls = list(s.scalars(select(Poll).order_by(Poll.seq)))
            issued = dict(
                s.execute(
                    select(Issuance.poll_id, Issuance.statement).where(
                        Issuance.deputy_id == deputy_id
                    )
                ).all()
            )
            return deputy, polls, issued

        deputy, polls, issued = await self.db(run)
        await conn.send(
            m.Welcome(
                id=server_id(),
                reply_to=reply_to,
                deputy=m.DeputyInfo(
                    deputy_id=deputy.id,
                    name=deputy.name[:1000],
                    delegation=deputy.delegation[:1000],
                    seat=deputy.seat,
                ),
                present=deputy.attendance == "present",
                session=self.session_name[:1000],
                polls=[self._poll_info(p) for p in polls],
            )
        )
        for poll in polls:
            rt = self.runtimes.get(poll.id)
            if (
                poll.state == "collecting"
                and rt is not None
                and deputy_id in rt.voters
                and deputy_id not in rt.collected
            ):
                await conn.send(self._credential_request(poll))
            elif poll.state == "open" and poll.id in issued:
                await conn.send(
                    m.BallotIssued(
                        id=server_id(),
                        poll_id=poll.id,
                        issuance=st.SignedStatement.model_validate_json(issued[poll.id]),
                    )
                )
                await conn.send(self._poll_ready(poll))

    def session_info(self) -> dict[str, Any]:
        return {
            "session": self.session_name,
            "server_public_key": self.server_public_key,
            "group": self.group.name,
        }

    # -- tokens for websockets -------------------------------------------------------------------

    async def deputies_count(self) -> int:
        return await self.db(lambda s: s.scalar(select(func.count()).select_from(Deputy)) or 0)


def _get_poll(poll_id: str, s: Session) -> Poll | None:
    return s.get(Poll, poll_id)


def delete_poll_runtime(service: SessionService, poll_id: str) -> None:
    rt = service.runtimes.pop(poll_id, None)
    if rt and rt.writer:
        rt.writer.close()


__all__ = ["ActionError", "Principal", "SessionService", "delete", "delete_poll_runtime"]
