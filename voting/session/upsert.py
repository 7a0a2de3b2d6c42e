"""Inserts whose uniqueness the database decides (no check-then-insert), SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from voting.models import Vote


def _insert(s: Session, table: Any) -> Any:
    name = s.get_bind().dialect.name
    if name == "postgresql":
        return postgresql.insert(table)
    if name == "sqlite":
        return sqlite.insert(table)
    raise RuntimeError(f"unsupported database {name}")


def insert_ignore(s: Session, model: Any, values: dict[str, Any], keys: list[str]) -> bool:
    """INSERT … ON CONFLICT (keys) DO NOTHING; True when a row was inserted."""
    table = model.__table__
    pk = next(iter(table.primary_key.columns))
    stmt = (
        _insert(s, table).values(**values).on_conflict_do_nothing(index_elements=keys).returning(pk)
    )
    return s.execute(stmt).first() is not None


def upsert_vote(
    s: Session, poll_id: str, credential: str, ballot_id: int, *, replace: bool
) -> bool:
    """Make ``ballot_id`` the counted ballot of ``credential``.

    First press valid (``replace=False``): only if the credential has none yet. Last press
    valid: replace it. Returns True when the ballot now counts.
    """
    stmt = _insert(s, Vote.__table__).values(
        poll_id=poll_id, credential=credential, ballot_id=ballot_id
    )
    if replace:
        stmt = stmt.on_conflict_do_update(
            index_elements=["poll_id", "credential"], set_={"ballot_id": ballot_id}
        )
    else:
        stmt = stmt.on_conflict_do_nothing(index_elements=["poll_id", "credential"])
    return s.execute(stmt.returning(Vote.__table__.c.id)).first() is not None
