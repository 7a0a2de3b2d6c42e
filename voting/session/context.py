"""What every job of the session shares: configuration, database, audit log, keys, live
connections (the hub), the polls' in-memory runtimes, the process pool, locks and tasks.

Database work runs in threads (:meth:`SessionContext.db`), pure computations (ballot checks,
the tally) in the process pool (:meth:`SessionContext.compute`).
"""

from __future__ import annotations

import asyncio
import json
import secrets
import stat
from collections.abc import Callable, Coroutine
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from gmpy2 import mpz
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from keys.group import Group, group_by_name
from keys.hashing import sha256_hex
from keys.trustee_key import generate_trustee_key
from tally import statements as st
from tally.archive import ArchiveWriter
from tally.poll_setup import make_setup_statement
from tally.session_groups import SessionGroups, election_group_for
from voting.config import ServerConfig, write_private
from voting.db import make_engine, migrate, session_factory
from voting.models import AuditLog, Meta, Staff
from voting.session import oplog
from voting.session.codes import code_key, hash_clear_codes
from voting.session.errors import ActionError, Code
from voting.session.hub import Hub
from voting.session.poll_lists import PollLists
from voting.session.states import Role

T = TypeVar("T")

# Kiosk messages handled at once, server-wide (a device check, a credential, a proof, a cast
# until its ack is ready; voting/api/ws_kiosk.py): 3,000 tablets sending together wait here,
# not as thousands of callbacks and thread jobs on the event loop ahead of the staff's
# requests. Far more than the process pool needs to stay busy (and to fill a group commit).
KIOSK_WORK = 32


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def iso_time(moment: datetime) -> str:
    """A moment as the server writes times (UTC, milliseconds, ``Z``): such strings compare
    in time order."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_time(text: str) -> datetime:
    """A time written by :func:`now` (or any ISO 8601 time with a zone) as a datetime."""
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def seconds_after(start: str, seconds: int) -> str:
    """The moment ``seconds`` after ``start`` (both as the server writes times)."""
    return iso_time(parse_time(start) + timedelta(seconds=seconds))


def token_hash(token: str) -> str:
    return sha256_hex("renda-token|" + token)


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
    # the scrutineers' signed archive checks (trustee id -> check), passed on to the others
    checks: dict[int, Any] = field(default_factory=dict)
    received: int = 0  # ballots stored (counted from the database at a restart), for the log

    def close(self) -> None:
        """Stop the collection timer and close the archive."""
        if self.timer:
            self.timer.cancel()
        if self.writer:
            self.writer.close()


def private_tree(folder: Path) -> None:
    """The session folder 0700 and every file in it 0600 (database, WAL, archives, keys)."""
    for path in [folder, *folder.rglob("*")]:
        try:
            if path.is_symlink():
                continue
            want = 0o700 if path.is_dir() else 0o600
            if stat.S_IMODE(path.stat().st_mode) != want:
                path.chmod(want)
        except FileNotFoundError:  # a temporary file that went away
            continue


class SessionContext:
    def __init__(self, config: ServerConfig) -> None:
        self.config = config
        config.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        config.archives.mkdir(mode=0o700, exist_ok=True)
        private_tree(config.data_dir)  # a folder made by an older version, or by hand
        self.group: Group = group_by_name(config.group, allow_test=config.allow_test_group)
        election = (
            group_by_name(config.election_group, allow_test=config.allow_test_group)
            if config.election_group
            else election_group_for(self.group)
        )
        # motions in ``group``, polls with a non-homomorphic question in ``groups.election``
        self.groups = SessionGroups(self.group, election)
        self.server_trustees: dict[str, mpz] = {}  # group name -> the server's trustee key
        self.engine = make_engine(config)
        migrate(self.engine)
        self.Session = session_factory(self.engine)
        self.server_key = st.load_or_create_key(config.data_dir / "server.key")
        self.server_public_key = st.public_key_hex(self.server_key)
        self.code_key = code_key(st.private_key_bytes(self.server_key))  # enrolment codes
        # the signed list of polls: a new version in every transaction that changes a poll
        self.poll_lists = PollLists(self.server_key)
        self.poll_lists.install(self.Session)
        self._setups: dict[str, st.SignedStatement] = {}  # uuid -> signed poll_setup
        self.hub = Hub()
        self.runtimes: dict[str, PollRuntime] = {}
        self.pool: ProcessPoolExecutor | None = None
        self.ceremony_lock = asyncio.Lock()
        # Poll numbers are max(seq) + 1: one transaction that creates polls at a time, or
        # concurrent creations collide (unique seq) on SQLite and, more often, on PostgreSQL.
        self.poll_create_lock = asyncio.Lock()
        self.tasks: set[asyncio.Task[Any]] = set()
        self.kiosk_gate = asyncio.Semaphore(KIOSK_WORK)
        self._kiosk_threads: ThreadPoolExecutor | None = None  # see db(kiosk=True)
        self._init_session()
        with self.Session() as s:
            self.poll_lists.latest(s)  # the list's latest version, for the kiosks' messages

    def trustee_key_path(self, group: Group) -> Path:
        """The server's trustee private key in ``group``: ``trustee.key`` for the homomorphic
        group (as sessions of one group have it), ``trustee-GROUP.key`` for the other."""
        if group == self.groups.homomorphic:
            return self.config.data_dir / "trustee.key"
        return self.config.data_dir / f"trustee-{group.name}.key"

    def _init_session(self) -> None:
        """The session's groups, name and server trustee keys; the staff tokens (first run)."""
        with self.Session.begin() as s:
            meta = {row.key: row.value for row in s.scalars(select(Meta))}
            for key, group in (("group", self.group), ("election_group", self.groups.election)):
                if key in meta and meta[key] != group.name:
                    what = "group" if key == "group" else "election group"
                    raise ActionError(
                        Code.CONFIG,
                        f"this session uses the {what} {meta[key]}, not {group.name}",
                    )
                s.merge(Meta(key=key, value=group.name))
            if "session" not in meta:
                s.merge(Meta(key="session", value=self.config.session_name))
            for group in self.groups.all:
                if self.groups.key("server_trustee", group) not in meta:
                    priv, tpk = generate_trustee_key(group)
                    write_private(self.trustee_key_path(group), priv.digits(10))
                    key = self.groups.key("server_trustee", group)
                    s.merge(Meta(key=key, value=tpk.serialize()))
            hash_clear_codes(s, self.code_key)  # a folder made before codes were hashed
            if s.scalar(select(func.count()).select_from(Staff)) == 0:
                tokens: dict[str, Any] = {}
                for role in (Role.SECRETARIAT, Role.CHAIR, Role.DISPLAY):
                    token = secrets.token_urlsafe(32)
                    s.add(Staff(role=role.value, name=role.value, token_hash=token_hash(token)))
                    tokens[role.value] = token
                tokens["scrutineers"] = {}
                write_private(self.config.data_dir / "tokens.json", json.dumps(tokens, indent=2))
        for group in self.groups.all:
            tkey = self.trustee_key_path(group)
            mode = stat.S_IMODE(tkey.stat().st_mode)
            if mode & 0o077:  # checked like server.key
                raise ActionError(
                    Code.CONFIG, f"key file {tkey} is readable by others (mode {mode:o}); chmod 600"
                )
            self.server_trustees[group.name] = mpz(tkey.read_text().strip())
        self.server_trustee_private = self.server_trustees[self.group.name]

    def poll_group(self, poll: Any) -> Group:
        """The group of an opened poll (its trustees are that group's); a poll never opened
        (a draft, a count by hand, whose report the homomorphic group's trustees sign) has
        the homomorphic group. A draft is opened in ``groups.for_template`` of its template."""
        if poll.group_name:
            return self.groups.by_name(poll.group_name)
        return self.groups.homomorphic

    # -- the session's identity -------------------------------------------------------------

    def meta(self, key: str) -> str | None:
        with self.Session() as s:
            row = s.get(Meta, key)
            return row.value if row else None

    @property
    def session_name(self) -> str:
        return self.meta("session") or self.config.session_name

    def session_info(self) -> dict[str, Any]:
        return {
            "session": self.session_name,
            "server_public_key": self.server_public_key,
            "group": self.group.name,
            "election_group": self.groups.election.name,
        }

    def poll_setup(self, poll: Any) -> st.SignedStatement:
        """The server-signed ``poll_setup`` of an open poll: what the kiosks encrypt to
        (statements.poll_setup_payload), signed once per poll."""
        assert poll.uuid and poll.election and poll.trustees and poll.public_credentials
        setup = self._setups.get(poll.uuid)
        if setup is None:
            setup = self._setups[poll.uuid] = make_setup_statement(
                self.server_key,
                session=self.session_name,
                poll_id=poll.id,
                uuid=poll.uuid,
                group=self.poll_group(poll).name,
                election=poll.election,
                trustees=poll.trustees,
                public_credentials=poll.public_credentials,
                last_press_valid=poll.last_press_valid,
                deadline=poll.deadline,
            )
        return setup

    def archive_path(self, poll_id: str) -> Path:
        return self.config.archives / f"{poll_id}.bel"

    # -- running things ---------------------------------------------------------------------

    async def db(self, fn: Callable[[Session], T], *, kiosk: bool = False) -> T:
        """Run ``fn(session)`` in a thread inside one transaction (committed on success).

        ``kiosk=True`` for the work of the kiosks' messages (a cast, a device check): it
        runs in threads of its own, so that 3,000 tablets sending together do not queue the
        staff's requests (the secretariat's screens, the chair's buttons) behind them."""

        def run() -> T:
            with self.Session.begin() as s:
                result = fn(s)
            for line in s.info.pop("oplog", ()):  # committed: now it happened
                oplog.log.info("%s", line)
            return result

        if kiosk:
            if self._kiosk_threads is None:
                self._kiosk_threads = ThreadPoolExecutor(4, thread_name_prefix="kiosk-db")
            return await asyncio.get_running_loop().run_in_executor(self._kiosk_threads, run)
        return await asyncio.to_thread(run)

    def stop_threads(self) -> None:
        """End the kiosks' database threads (at shutdown; they are made again if needed)."""
        threads, self._kiosk_threads = self._kiosk_threads, None
        if threads is not None:
            threads.shutdown(wait=False, cancel_futures=True)

    def audit(self, s: Session, role: str, action: str, detail: str = "") -> None:
        s.add(AuditLog(at=now(), role=str(role), action=action, detail=detail))
        line = oplog.audit_line(action, detail)
        if line is not None:
            s.info.setdefault("oplog", []).append(line)

    def audit_many(self, s: Session, role: str, action: str, details: list[str]) -> None:
        """One audit row per detail (a batch: each deputy of a delegation checked in), in one
        statement."""
        if not details:
            return
        at = now()
        s.execute(
            insert(AuditLog),
            [{"at": at, "role": str(role), "action": action, "detail": d} for d in details],
        )
        lines = [oplog.audit_line(action, d) for d in details]
        s.info.setdefault("oplog", []).extend(x for x in lines if x is not None)

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        """Run ``coro`` as a task of the session (cancelled when the session stops)."""
        task = asyncio.get_running_loop().create_task(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def compute(self, fn: Callable[..., T], *args: Any) -> T:
        """Run a pure function (a ballot check, a tally step) in one process of the pool, off
        the event loop (concurrent requests use both cores); in a thread without a pool.
        Exceptions (RecordError, ValueError) come back as raised."""
        if self.pool is None:
            return await asyncio.to_thread(fn, *args)
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.pool, fn, *args)

    async def split(self, fn: Callable[..., T], *args: Any) -> T:
        """Run a shuffle or its check in a thread that splits the work over the process pool
        (tally.shuffle takes an executor: the ciphertexts are cut in slices, one per process)."""
        return await asyncio.to_thread(fn, *args, self.pool)

    def forget(self, poll_id: str) -> None:
        """The poll has no runtime any more (stopped or tallied)."""
        rt = self.runtimes.pop(poll_id, None)
        if rt is not None:
            rt.close()
