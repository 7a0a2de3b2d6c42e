"""Database engine (SQLite WAL or PostgreSQL) and the migrations run on start."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.orm import Session, sessionmaker

from voting.config import ServerConfig

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
SCHEMA_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")


class DatabaseSettingError(ValueError):
    """A database setting (URL, schema) the server cannot use, in plain words."""


def make_engine(config: ServerConfig) -> Engine:
    url = config.url
    if url.startswith("sqlite"):
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30}, pool_size=8
        )

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=FULL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        return engine
    connect_args: dict[str, Any] = {}
    if config.schema:
        if not SCHEMA_NAME.fullmatch(config.schema):
            raise DatabaseSettingError(
                f"schema {config.schema!r}: use lower-case letters, digits and _ "
                "(at most 63, not starting with a digit)"
            )
        connect_args["options"] = f"-csearch_path={config.schema}"
    engine = create_engine(url, connect_args=connect_args, pool_size=10, max_overflow=20)
    if config.schema:  # created if new, like the session folder
        with engine.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{config.schema}"'))
    return engine


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest revision (Alembic, shipped in voting/migrations)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)
