"""Server settings and the session folder (``renda serve --data DIR``).

DIR/session.db          SQLite database (WAL), unless a database URL is given
DIR/server.key          the server's Ed25519 signing key (raw seed, mode 0600)
DIR/trustee.key         the server's Belenios trustee private key (decimal, mode 0600)
DIR/trustee-GROUP.key   the same in the election group, when it is another group
DIR/tokens.json         staff bearer tokens (mode 0600)
DIR/archives/<poll>.bel one Belenios archive per poll
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class ServerConfig:
    data_dir: Path
    database_url: str | None = None  # None: SQLite file in data_dir
    schema: str | None = None  # PostgreSQL schema (search_path), for tests
    group: str = "BELENIOS-2048"  # the homomorphic group (motions, project votes)
    # the group of polls with a non-homomorphic question (elections): None is ``group`` when
    # it has an embedding, else RFC-3526-2048 (tally.session_groups)
    election_group: str | None = None
    allow_test_group: bool = False  # RENDA-TEST-256: fast tests only, never a real session
    session_name: str = "人民代表大会会议"
    workers: int = 2  # processes checking ballots
    archive_sync: bool = True  # fsync archive events (only benchmarks turn it off)
    collect_timeout: float = 30.0  # seconds to wait for credentials before issuing anyway
    # seconds a scrutineer has to answer a shuffle (or decryption) request before the
    # request goes to another one (a decryption request is sent again)
    scrutineer_timeout: float = 600.0
    # the address deputies' phones and auditors reach the server at (QR codes, printed
    # documents); None: the address the page's browser used (renda serve --public-url)
    public_url: str | None = None

    @property
    def url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'session.db'}"

    @property
    def archives(self) -> Path:
        return self.data_dir / "archives"


def write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` with mode 0600, durably."""
    tmp = path.with_suffix(path.suffix + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, text.encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)


def is_session_folder(data_dir: Path) -> bool:
    """Has ``renda serve --init`` (or a first start) made a session in ``data_dir``?"""
    d = Path(data_dir)
    return (d / "tokens.json").is_file() and (d / "server.key").is_file()


def read_tokens(data_dir: Path) -> dict[str, Any]:
    """The staff tokens written at the first start: secretariat, chair, display, scrutineers."""
    data: dict[str, Any] = json.loads((Path(data_dir) / "tokens.json").read_text("utf-8"))
    return data
