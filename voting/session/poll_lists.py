"""The server's signed list of polls, a new version at every change (tally/poll_list.py).

Hooked into the database sessions rather than into each action: any transaction that
inserts, updates or deletes a poll (ORM flush or ``UPDATE polls``) gets, just before it
commits and inside it, a new signed version of the list if the list changed — so that no
action (today's or a later one) changes a poll without the chain saying so, and the version
commits or rolls back with the change itself. On PostgreSQL a transaction-scoped advisory
lock orders concurrent versions (SQLite has one writer). The latest version is also kept in
memory for the messages to the kiosks.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import event, select, text
from sqlalchemy.orm import ORMExecuteState, Session, sessionmaker

from tally import statements as st
from tally.poll_list import poll_list_payload, statement_hash
from voting.models import Meta, Poll, PollListVersion

_CHANGED = "renda_polls_changed"
_NEW = "renda_poll_list_new"
_PG_LOCK = 0x52454E44  # "REND": the advisory lock of the list's versions


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def current_entries(s: Session) -> list[dict[str, Any]]:
    """Every poll's fields the list names (tally.session_trustees.POLL_FIELDS), in order."""
    rows = s.execute(
        select(Poll.id, Poll.uuid, Poll.kind, Poll.state, Poll.parent_id, Poll.relation).order_by(
            Poll.seq
        )
    )
    return [
        {
            "poll_id": pid,
            "uuid": uuid,
            "kind": kind,
            "state": state,
            "parent_id": parent,
            "relation": relation,
        }
        for pid, uuid, kind, state, parent, relation in rows
    ]


def chain(s: Session) -> list[dict[str, Any]]:
    """Every signed version, oldest first (the record's ``poll_lists``)."""
    return [json.loads(v) for v in s.scalars(select(PollListVersion.statement).order_by("seq"))]


class PollLists:
    def __init__(self, key: Ed25519PrivateKey) -> None:
        self.key = key
        self._latest: st.SignedStatement | None = None

    def install(self, factory: sessionmaker[Session]) -> None:
        event.listen(factory, "do_orm_execute", self._on_execute)
        event.listen(factory, "after_flush", self._on_flush)
        event.listen(factory, "before_commit", self._before_commit)
        event.listen(factory, "after_commit", self._after_commit)
        event.listen(factory, "after_rollback", self._after_rollback)

    # -- the hooks --------------------------------------------------------------------------

    @staticmethod
    def _on_execute(state: ORMExecuteState) -> None:
        if state.is_update or state.is_insert or state.is_delete:
            table = getattr(state.statement, "table", None)
            if getattr(table, "name", None) == Poll.__tablename__:
                state.session.info[_CHANGED] = True

    @staticmethod
    def _on_flush(s: Session, _context: Any) -> None:
        if any(isinstance(o, Poll) for o in (*s.new, *s.dirty, *s.deleted)):
            s.info[_CHANGED] = True

    def _before_commit(self, s: Session) -> None:
        s.flush()
        if s.info.pop(_CHANGED, False):
            self.append(s)

    def _after_commit(self, s: Session) -> None:
        new = s.info.pop(_NEW, None)
        if new is not None and (
            self._latest is None or self._latest.statement["seq"] < new.statement["seq"]
        ):
            self._latest = new

    @staticmethod
    def _after_rollback(s: Session) -> None:
        s.info.pop(_NEW, None)
        s.info.pop(_CHANGED, None)

    # -- versions ---------------------------------------------------------------------------

    def append(self, s: Session, *, first: bool = False) -> st.SignedStatement | None:
        """Sign the list as it stands in ``s`` as the next version, unless it is the latest
        version's already (or there is no poll and no version yet, unless ``first``: the
        record of a session without polls still carries a signed, empty list)."""
        if s.get_bind().dialect.name == "postgresql":
            s.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK})
        polls = current_entries(s)
        last = s.scalar(select(PollListVersion).order_by(PollListVersion.seq.desc()).limit(1))
        previous = json.loads(last.statement) if last is not None else None
        if previous is not None and previous["statement"].get("polls") == polls:
            return None
        if previous is None and not polls and not first:
            return None
        meta = s.get(Meta, "session")
        signed = st.sign_statement(
            self.key,
            poll_list_payload(
                meta.value if meta is not None else "",
                last.seq + 1 if last is not None else 1,
                statement_hash(previous) if previous is not None else "",
                polls,
            ),
        )
        seq = last.seq + 1 if last is not None else 1
        s.add(PollListVersion(seq=seq, statement=json.dumps(signed.model_dump()), signed_at=_now()))
        s.flush()
        s.info[_NEW] = signed
        return signed

    def current(self) -> st.SignedStatement | None:
        """The latest version this process signed or read (for the kiosks' messages)."""
        return self._latest

    def latest(self, s: Session) -> st.SignedStatement | None:
        """The latest version (from memory once known; another process may be ahead: the
        kiosk keeps the highest it sees)."""
        if self._latest is None:
            raw = s.scalar(
                select(PollListVersion.statement).order_by(PollListVersion.seq.desc()).limit(1)
            )
            if raw is not None:
                self._latest = st.SignedStatement.model_validate_json(raw)
        return self._latest
